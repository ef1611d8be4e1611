"""Typed errors of sign-in and authorization, each with a stable code.

Sign-in failures say as little as possible: a wrong password, an unknown user and a disabled
user all answer ``auth.invalid_credentials``. Only a lockout is told apart, with its end, since
the user must know to wait.
"""

from __future__ import annotations

from sync.errors import JcerpError


class Unauthenticated(JcerpError):
    code = "auth.unauthenticated"
    http_status = 401


class InvalidCredentials(Unauthenticated):
    code = "auth.invalid_credentials"


class TokenExpired(Unauthenticated):
    code = "auth.token_expired"


class AccountLocked(JcerpError):
    code = "auth.account_locked"
    http_status = 403


class Forbidden(JcerpError):
    """The signed-in user lacks the permission, or acts outside their site."""

    code = "auth.forbidden"
    http_status = 403


class AccessAdminError(JcerpError):
    """A user or role change that cannot be made as asked."""

    code = "access.invalid"
    http_status = 422


class Conflict(AccessAdminError):
    code = "access.conflict"
    http_status = 409


class UserOutOfSite(Forbidden):
    """Sign-in on a device of another site than the one the user is bound to."""

    code = "auth.user_out_of_site"


class NothingUsableOnDevice(Forbidden):
    """Sign-in on a device whose role allows none of the user's business mutations."""

    code = "auth.no_usable_permission"
