"""Commands about this number's own profile: its name, its about line, its picture."""

from __future__ import annotations

from sendmako.engines.base import performs
from sendmako.engines.neonize.errors import Context
from sendmako.engines.neonize.ffi import FFI, proto_jid
from sendmako.errors import BadRequest, Unavailable
from sendmako.ids import Jid
from sendmako.model.profile import GetProfile, Profile, SetProfilePicture, UpdateProfile

# WhatsApp's own limits, as its apps enforce them.
MAX_NAME_LENGTH = 25
MAX_ABOUT_LENGTH = 139
JPEG_MAGIC = b"\xff\xd8\xff"


class ProfileCommands(FFI):
    _push_name: str | None = None  # the name set through this worker, newer than `own`

    @performs(GetProfile)
    def profile(self, _: GetProfile) -> Profile:
        own = self.own()
        if own.phone is None:
            raise Unavailable(
                f"Session {self.session_id} is not linked to a number yet.",
                code="session_not_connected",
            )
        phone = own.phone
        me = Jid.user_jid(phone)
        infos = self._call(Context.OTHER, lambda: self.client.get_user_info(proto_jid(me)))
        # One answer per JID asked, in Go's map order: find ours by its user.
        about = next((str(info.UserInfo.Status) for info in infos if info.JID.User == phone), "")
        return Profile(
            phone=phone,
            name=self._push_name or own.push_name,
            about=about or None,
            picture_url=self._picture_url(me, Context.OTHER),
        )

    @performs(UpdateProfile)
    def update_profile(self, action: UpdateProfile) -> None:
        name, about = action.name, action.about
        if name is not None:
            name = name.strip()
            if not name or len(name) > MAX_NAME_LENGTH:
                raise BadRequest(f"name: 1 to {MAX_NAME_LENGTH} characters", field="name")
        if about is not None and len(about) > MAX_ABOUT_LENGTH:
            raise BadRequest(f"about: at most {MAX_ABOUT_LENGTH} characters", field="about")
        if name is not None:
            new_name = name
            # An app-state patch: whatsmeow's app-state store exists only once paired.
            self._logged_in_call(Context.OTHER, lambda: self.client.set_profile_name(new_name))
            self._push_name = new_name
        if about is not None:
            text = about
            # set_status_message aborts the process unless the client is in neonize's Go
            # map: _call runs it only while CONNECTED, under the lock stop() also takes.
            self._call(Context.OTHER, lambda: self.client.set_status_message(text))

    @performs(SetProfilePicture)
    def set_profile_picture(self, action: SetProfilePicture) -> None:
        jpeg = action.jpeg
        if not jpeg.startswith(JPEG_MAGIC):
            raise BadRequest("jpeg: not a JPEG image", field="jpeg")
        # Bytes only: given a str, neonize would read a local path or fetch a URL.
        self._call(Context.OTHER, lambda: self.client.set_profile_photo(bytes(jpeg)))
