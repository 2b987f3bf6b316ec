"""`/api/profile`: this number's own name, about line and picture."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from sendmako.api.deps import CurrentUser, ServicesDep
from sendmako.api.routes.responses import errors
from sendmako.api.schemas.envelopes import SuccessOut
from sendmako.api.schemas.profile import ProfileIn, ProfileOut, ProfilePictureIn
from sendmako.errors import BadRequest

router = APIRouter(prefix="/api/profile", tags=["profile"])


@router.get("", responses=errors(404, 501, 503))
async def get_profile(
    user: CurrentUser,
    services: ServicesDep,
    session_id: Annotated[
        str | None, Query(description="default: your oldest connected session")
    ] = None,
) -> ProfileOut:
    view, profile = await services.profiles.own(user, session_id)
    return ProfileOut(
        session_id=view.session_id,
        phone_number=profile.phone,
        name=profile.name,
        about=profile.about,
        picture_url=profile.picture_url,
    )


@router.put("", responses=errors(404, 501, 503))
async def update_profile(body: ProfileIn, user: CurrentUser, services: ServicesDep) -> SuccessOut:
    """Change the name contacts see and/or the about line."""
    await services.profiles.update(user, body.session_id, name=body.name, about=body.about)
    return SuccessOut()


@router.put("/picture", responses=errors(404, 422, 501, 503))
async def set_picture(
    body: ProfilePictureIn, user: CurrentUser, services: ServicesDep
) -> SuccessOut:
    """A JPEG, PNG, WebP or GIF by URL or base64; its centre square becomes the picture."""
    if (body.image_url is None) == (body.image_base64 is None):
        raise BadRequest("imageUrl: give imageUrl or imageBase64 (exactly one)", field="imageUrl")
    await services.profiles.set_picture(
        user, body.session_id, url=body.image_url, base64=body.image_base64
    )
    return SuccessOut()
