"""This number's own profile, and the actions that read and change it."""

from __future__ import annotations

from dataclasses import dataclass

from sendmako.model.actions import Action


@dataclass(frozen=True, slots=True)
class Profile:
    phone: str  # digits with the country code
    name: str | None  # the push name contacts see
    about: str | None  # the "about" status line
    picture_url: str | None


@dataclass(frozen=True, slots=True)
class GetProfile(Action[Profile]):
    pass


@dataclass(frozen=True, slots=True)
class UpdateProfile(Action[None]):
    """Change the name and/or the about line (None: keep)."""

    name: str | None = None
    about: str | None = None


@dataclass(frozen=True, slots=True)
class SetProfilePicture(Action[None]):
    """A JPEG, already checked and sized by us."""

    jpeg: bytes
