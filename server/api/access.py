"""HQ API for signing in and for administering users and roles.

Sign-in answers a bearer token with its expiry; every other HQ route wants it in
``Authorization: Bearer <token>``. Administration needs ``admin.users``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec
from litestar import Controller, Request, get, patch, post, put
from litestar.di import Provide

from erp.access.errors import AccessAdminError, Forbidden
from server.audit import source_of
from server.auth.guard import provide_principal, site_in_scope
from server.auth.service import AuthService, Principal, RoleRecord, UserRecord


def provide_auth(request: Request) -> AuthService:
    return request.app.state.auth


class Credentials(msgspec.Struct):
    username: str
    password: str


class PrincipalView(msgspec.Struct):
    user_id: str
    username: str
    display_name: str
    site_id: str | None
    roles: list[str]
    permissions: list[str]  # grants as stored: exact permissions and patterns (``inventory.*``)


class SignInView(msgspec.Struct):
    token: str
    expires_at: datetime
    user: PrincipalView


class NewUser(msgspec.Struct):
    username: str
    display_name: str
    password: str
    roles: list[str]
    site_id: str | None = None  # None: every site


class UserChange(msgspec.Struct):
    display_name: str | None = None
    roles: list[str] | None = None
    site_id: str | None = None
    all_sites: bool = False  # True: lift the site restriction
    active: bool | None = None
    password: str | None = None
    unlock: bool = False


class NewEnrollmentCode(msgspec.Struct):
    site_id: str
    role: str  # what the device may do at most, whoever signs in on it
    valid_hours: int = 24


class EnrollmentCodeView(msgspec.Struct):
    code: str  # shown once: type it on the device (jcerp edge init --code)
    site_id: str
    role: str
    expires_at: datetime


class RoleBody(msgspec.Struct):
    name: str
    grants: list[str]


class NewRole(RoleBody):
    code: str


def _principal_view(principal: Principal) -> PrincipalView:
    return PrincipalView(principal.user_id, principal.username, principal.display_name, principal.site_id,
                         list(principal.roles), sorted(principal.grants))


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["access"]
    dependencies = {"auth": Provide(provide_auth, sync_to_thread=False),
                    "principal": Provide(provide_principal, sync_to_thread=False)}

    @post("/login", status_code=200, opt={"public": True})
    async def login(self, request: Request, data: Credentials, auth: AuthService) -> SignInView:
        """Sign in; five wrong passwords in a row lock the account for 15 minutes."""
        signed_in = await auth.login(data.username, data.password, source_of(request))
        return SignInView(signed_in.token, signed_in.expires_at, _principal_view(signed_in.principal))

    @post("/logout", status_code=200, opt={"authenticated": True})
    async def logout(self, request: Request, auth: AuthService) -> dict:
        await auth.logout(request.headers["authorization"], source_of(request))
        return {"signed_out": True}

    @get("/me", opt={"authenticated": True})
    async def me(self, principal: Principal) -> PrincipalView:
        return _principal_view(principal)


class AdminController(Controller):
    """Changes are recorded in the audit log with the signed-in administrator and their address."""

    path = "/api/v1/admin"
    tags = ["access"]
    dependencies = {"auth": Provide(provide_auth, sync_to_thread=False),
                    "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/users", opt={"permission": "admin.users"})
    async def list_users(self, auth: AuthService) -> list[UserRecord]:
        return await auth.list_users()

    @post("/users", opt={"permission": "admin.users"})
    async def create_user(self, request: Request, data: NewUser, auth: AuthService, principal: Principal) -> UserRecord:
        return await auth.create_user(data.username, data.display_name, data.password, data.roles, data.site_id,
                                      actor=principal.username, source=source_of(request))

    @patch("/users/{user_id:str}", opt={"permission": "admin.users"})
    async def change_user(self, request: Request, user_id: str, data: UserChange, auth: AuthService,
                          principal: Principal) -> UserRecord:
        """Changing roles, site, password or disabling a user signs them out everywhere."""
        return await auth.update_user(
            user_id, display_name=data.display_name, roles=data.roles, site_id=data.site_id,
            clear_site=data.all_sites, active=data.active, password=data.password, unlock=data.unlock,
            actor=principal.username, source=source_of(request))

    @get("/roles", opt={"permission": "admin.users"})
    async def list_roles(self, auth: AuthService) -> list[RoleRecord]:
        return await auth.list_roles()

    @post("/roles", opt={"permission": "admin.users"})
    async def create_role(self, request: Request, data: NewRole, auth: AuthService, principal: Principal) -> RoleRecord:
        return await auth.save_role(data.code, data.name, data.grants, create=True, actor=principal.username,
                                    source=source_of(request))

    @put("/roles/{code:str}", opt={"permission": "admin.users"})
    async def change_role(self, request: Request, code: str, data: RoleBody, auth: AuthService,
                          principal: Principal) -> RoleRecord:
        return await auth.save_role(code, data.name, data.grants, create=False, actor=principal.username,
                                    source=source_of(request))

    @post("/enrollment-codes", opt={"permission": "admin.devices"})
    async def enrollment_code(self, request: Request, data: NewEnrollmentCode, auth: AuthService,
                              principal: Principal) -> EnrollmentCodeView:
        """A one-time code that enrolls one device for a site and a role, valid ``valid_hours``.
        A user bound to a site issues codes for it only, and nobody issues a role that grants
        more than they hold."""
        site_in_scope(principal, data.site_id)
        if not 1 <= data.valid_hours <= 24 * 30:
            raise AccessAdminError("valid_hours must be within 1..720", code="access.invalid_validity")
        roles = {role.code: role for role in await auth.list_roles()}
        role = roles.get(data.role)
        if role is None:
            raise AccessAdminError(f"unknown role {data.role}", code="access.unknown_role", roles=[data.role])
        beyond = [grant for grant in role.grants if not principal.may(grant)]
        if beyond:
            raise Forbidden("you cannot give a device more than you may do yourself", code="auth.role_beyond_yours",
                            permissions=beyond)
        code, expires_at = await auth.create_enrollment_code(data.site_id, data.role, principal.username,
                                                             timedelta(hours=data.valid_hours),
                                                             source=source_of(request))
        return EnrollmentCodeView(code, data.site_id, data.role, expires_at)

    @get("/permissions", opt={"permission": "admin.users"})
    async def permissions(self, auth: AuthService) -> dict[str, str]:
        """Every permission that exists, with what it allows; roles grant these or patterns of them."""
        return auth.permissions


CONTROLLERS = [AuthController, AdminController]
