"""Sign-in: a clerk signs in on the shared tablet, with or without the network.

``EdgeClient.sign_in`` decides online or offline (see edge_client/sign_in.py); this presenter
holds what was typed, shows why a sign-in was refused in the clerk's language, and goes home
on success. The password is kept only until the attempt ends.
"""

from __future__ import annotations

from mobile.presenter import Presenter, error_note
from edge_client.sign_in import TabletUser
from sync.errors import JcerpError


class SignInPresenter(Presenter):
    def __init__(self, tablet, t) -> None:
        super().__init__(tablet, t)
        self.username = ""
        self.user: TabletUser | None = None

    @property
    def device_text(self) -> str:
        identity = self.tablet.client.identity
        return self.t("sign_in.device", device=identity.device_id[-8:], site=identity.site_id[-8:])

    def known_users(self) -> list[str]:
        """Users who signed in on this tablet before (and so may sign in offline)."""
        return self.tablet.client.users.cached_usernames()

    def enter(self) -> None:
        self.user = self.tablet.user()
        self.changed()

    def sign_in(self, username: str, password: str) -> TabletUser | None:
        """Try to sign in; on success go home. Talks to the server when it can (blocking)."""
        self.username = username.strip()
        self.busy = True
        try:
            if not self.username:
                raise JcerpError("no user name", code="mobile.missing_field", field=self.t("field.username"))
            if not password:
                raise JcerpError("no password", code="edge.password_missing")
            user = self.tablet.client.sign_in(self.username, password)
        except JcerpError as error:
            self.busy = False
            self.note = error_note(error)
            self.changed()
            return None
        finally:
            password = ""
        self.busy = False
        self.user = user
        if user.offline:
            self.say("sign_in.offline", name=user.display_name, until=user.valid_until[:10])
        else:
            self.say("sign_in.online", name=user.display_name)
        self.navigate("home")
        return user
