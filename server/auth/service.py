"""Sign-in, bearer tokens, and the administration of users and roles.

Invariants:
- A token is 32 random bytes, shown once at sign-in; the server keeps its SHA-256 only.
- Tokens expire ``TOKEN_TTL`` after sign-in; sign-out, disabling a user or changing their
  password revokes their tokens at once.
- ``MAX_FAILED_LOGINS`` wrong passwords in a row lock the account for ``LOCKOUT``; the count is
  raised in the database, so parallel guesses and several workers count together.
- Password checks (scrypt) run outside any transaction, so a sign-in never holds the writer.
- Built-in roles are written from the code at start (``ensure_builtin_roles``), so their
  grants follow the release; custom roles are the administrators'.
- Every sign-in, refused sign-in, lockout, sign-out, user and role change and enrollment code
  is in the audit log (``server/audit``), recorded in the transaction that makes the change;
  a refusal that changes nothing is recorded in a transaction of its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import Connection, delete, func, insert, select, update

from erp.access.errors import AccessAdminError, AccountLocked, Conflict, InvalidCredentials, TokenExpired, Unauthenticated
from erp.access.passwords import DUMMY_HASH, hash_password, password_problem, verify_password
from erp.access.permissions import BUILTIN_BY_CODE, BUILTIN_ROLES, allowed, catalog, valid_grant
from erp.access.tables import enrollment_codes, hq_roles, hq_sessions, hq_user_roles, hq_users
from erp.org.site import sites
from server.audit.recorder import Event, record, record_many
from server.db import Database
from sync.errors import NotFound
from sync.ids import new_id
from sync.registry import Registry

TOKEN_TTL = timedelta(hours=12)
ENROLLMENT_CODE_TTL = timedelta(hours=24)
# Codes are typed on tablets: upper-case letters and digits without look-alikes (0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Principal:
    """A signed-in user as every request sees them."""

    user_id: str
    username: str
    display_name: str
    site_id: str | None  # None: every site
    roles: tuple[str, ...]
    grants: frozenset[str]

    def may(self, permission: str) -> bool:
        return allowed(self.grants, permission)


@dataclass(frozen=True)
class SignIn:
    token: str
    expires_at: datetime
    principal: Principal


@dataclass(frozen=True)
class UserRecord:
    id: str
    username: str
    display_name: str
    site_id: str | None
    roles: list[str]
    active: bool
    locked_until: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class RoleRecord:
    code: str
    name: str
    grants: list[str]
    builtin: bool


def _grants_of(conn: Connection, user_id: str) -> tuple[tuple[str, ...], frozenset[str]]:
    rows = conn.execute(
        select(hq_roles.c.code, hq_roles.c.grants_json)
        .join(hq_user_roles, hq_user_roles.c.role_code == hq_roles.c.code)
        .where(hq_user_roles.c.user_id == user_id).order_by(hq_roles.c.code)
    ).all()
    grants = frozenset(grant for row in rows for grant in json.loads(row.grants_json))
    return tuple(row.code for row in rows), grants


def _principal(conn: Connection, user) -> Principal:
    roles, grants = _grants_of(conn, user.id)
    return Principal(user.id, user.username, user.display_name, user.site_id, roles, grants)


class AuthService:
    def __init__(self, db: Database, registry: Registry) -> None:
        self.db = db
        self.registry = registry
        self.permissions = catalog(registry)

    # -- start-up ------------------------------------------------------------------------

    async def ensure_builtin_roles(self) -> None:
        def write(conn: Connection) -> None:
            existing = {row.code: row for row in conn.execute(select(hq_roles.c.code, hq_roles.c.name,
                                                                       hq_roles.c.grants_json))}
            changed = []
            for role in BUILTIN_ROLES:
                values = {"name": role.name, "grants_json": json.dumps(list(role.grants)), "builtin": True}
                if role.code in existing:
                    conn.execute(update(hq_roles).where(hq_roles.c.code == role.code).values(**values))
                else:
                    conn.execute(insert(hq_roles).values(code=role.code, **values))
                before = existing.get(role.code)
                if before is None or (before.name, before.grants_json) != (values["name"], values["grants_json"]):
                    # A release that changes what a built-in role grants is a permission change too.
                    changed.append(Event("admin.role_saved", source="release", subject=role.code, detail={
                        "name": role.name, "grants": list(role.grants), "builtin": True, "created": before is None}))
            record_many(conn, changed)

        await self.db.write(write)

    async def bootstrap_admin(self, username: str, password: str) -> bool:
        """Create the first administrator if there is no user at all. True if created."""
        problem = password_problem(password)
        if problem:
            raise AccessAdminError(f"bootstrap administrator: {problem}", code="access.weak_password")
        password_hash = await asyncio.to_thread(hash_password, password)

        def write(conn: Connection) -> bool:
            if conn.execute(select(func.count()).select_from(hq_users)).scalar_one():
                return False
            user_id = self._insert_user(conn, username, "管理员 Administrator", password_hash, None, ["hq_admin"])
            record(conn, action="admin.user_created", source="bootstrap", subject=user_id,
                   detail={"username": username, "roles": ["hq_admin"], "site_id": None, "bootstrap": True})
            return True

        return await self.db.write(write)

    # -- sign-in -------------------------------------------------------------------------

    async def _verified_user(self, username: str, password: str, *, source: str | None = None):
        """The user row whose password this is, or ``InvalidCredentials`` / ``AccountLocked``.
        A wrong password counts toward the lockout; a right one does not reset it (the caller
        does, in its own write). Every refusal is in the audit log (``source``: where from)."""
        user = await self.db.read(lambda conn: conn.execute(select(hq_users).where(hq_users.c.username == username)).first())
        now = _now()
        if user is not None and user.locked_until is not None and user.locked_until > now:
            await self._record_failure(username, user.id, "locked", source)
            raise AccountLocked("too many wrong passwords: this account is locked for a while",
                                locked_until=user.locked_until.isoformat())
        good = await asyncio.to_thread(verify_password, password, user.password_hash if user else DUMMY_HASH)
        if user is None or not user.active:
            await self._record_failure(username, user.id if user else None,
                                       "unknown_user" if user is None else "disabled", source)
            raise InvalidCredentials("wrong user name or password")
        if not good:
            locked = await self.db.write(self._count_failure, user.id, now, username=user.username, source=source)
            if locked:
                raise AccountLocked("too many wrong passwords: this account is locked for a while",
                                    locked_until=(now + LOCKOUT).isoformat())
            raise InvalidCredentials("wrong user name or password")
        return user

    async def check_credentials(self, username: str, password: str, *, source: str | None = None) -> Principal:
        """Who this password belongs to, under the same lockout as ``login``, without opening an
        HQ session: sign-in on a shared device (``server/auth/tablet_sign_in.py``) uses it, so
        guesses made there and at HQ count toward one lockout. ``source``: where the attempt
        came from (a device), for the audit log."""
        user = await self._verified_user(username, password, source=source)

        def succeed(conn: Connection) -> Principal:
            if user.failed_logins or user.locked_until is not None:
                conn.execute(update(hq_users).where(hq_users.c.id == user.id).values(failed_logins=0, locked_until=None))
            record(conn, action="auth.device_sign_in", actor=user.username, site_id=user.site_id, source=source,
                   subject=user.id)
            return _principal(conn, user)

        return await self.db.write(succeed)

    async def _record_failure(self, username: str, user_id: str | None, reason: str, source: str | None) -> None:
        await self.db.write(lambda conn: record(conn, action="auth.login_failed", actor=username, source=source,
                                                subject=user_id, detail={"reason": reason}))

    async def login(self, username: str, password: str, client_address: str | None) -> SignIn:
        user = await self._verified_user(username, password, source=client_address)
        now = _now()
        token = secrets.token_urlsafe(32)
        expires_at = now + TOKEN_TTL

        def start_session(conn: Connection) -> Principal:
            conn.execute(update(hq_users).where(hq_users.c.id == user.id).values(failed_logins=0, locked_until=None))
            conn.execute(insert(hq_sessions).values(token_hash=token_digest(token), user_id=user.id, created_at=now,
                                                    expires_at=expires_at, client_address=client_address))
            principal = _principal(conn, user)
            record(conn, action="auth.login", actor=user.username, site_id=user.site_id, source=client_address,
                   subject=user.id, detail={"roles": list(principal.roles), "expires_at": expires_at})
            return principal

        return SignIn(token, expires_at, await self.db.write(start_session))

    @staticmethod
    def _count_failure(conn: Connection, user_id: str, now: datetime, *, username: str | None = None,
                       source: str | None = None) -> bool:
        conn.execute(update(hq_users).where(hq_users.c.id == user_id)
                     .values(failed_logins=hq_users.c.failed_logins + 1))
        failures = conn.execute(select(hq_users.c.failed_logins).where(hq_users.c.id == user_id)).scalar_one()
        events = [Event("auth.login_failed", username, source=source, subject=user_id,
                        detail={"reason": "wrong_password", "failed_logins": failures})]
        locked = failures >= MAX_FAILED_LOGINS
        if locked:
            conn.execute(update(hq_users).where(hq_users.c.id == user_id)
                         .values(locked_until=now + LOCKOUT, failed_logins=0))
            events.append(Event("auth.lockout", username, source=source, subject=user_id,
                                detail={"locked_until": now + LOCKOUT}))
        record_many(conn, events)
        return locked

    async def authenticate(self, authorization: str | None) -> Principal:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthenticated("sign in first and send 'Authorization: Bearer <token>'")
        digest = token_digest(authorization[7:].strip())

        def read(conn: Connection) -> Principal:
            row = conn.execute(
                select(hq_sessions.c.expires_at, hq_sessions.c.revoked_at, hq_users)
                .join(hq_users, hq_users.c.id == hq_sessions.c.user_id)
                .where(hq_sessions.c.token_hash == digest)
            ).first()
            if row is None or row.revoked_at is not None or not row.active:
                raise Unauthenticated("this token is not valid; sign in again")
            if row.expires_at <= _now():
                raise TokenExpired("this token has expired; sign in again", expired_at=row.expires_at.isoformat())
            return _principal(conn, row)

        return await self.db.read(read)

    async def logout(self, authorization: str, client_address: str | None = None) -> None:
        digest = token_digest(authorization[7:].strip())

        def write(conn: Connection) -> None:
            ended = conn.execute(
                update(hq_sessions).where(hq_sessions.c.token_hash == digest, hq_sessions.c.revoked_at.is_(None))
                .values(revoked_at=_now())).rowcount
            user = conn.execute(select(hq_users.c.id, hq_users.c.username, hq_users.c.site_id)
                                .join(hq_sessions, hq_sessions.c.user_id == hq_users.c.id)
                                .where(hq_sessions.c.token_hash == digest)).first()
            if ended and user is not None:
                record(conn, action="auth.logout", actor=user.username, site_id=user.site_id, source=client_address,
                       subject=user.id)

        await self.db.write(write)

    # -- users ---------------------------------------------------------------------------

    def _check_roles(self, conn: Connection, roles: list[str]) -> None:
        known = {row.code for row in conn.execute(select(hq_roles.c.code))}
        unknown = sorted(set(roles) - known)
        if unknown:
            raise AccessAdminError(f"unknown role(s): {', '.join(unknown)}", code="access.unknown_role", roles=unknown)

    @staticmethod
    def _check_site(conn: Connection, site_id: str | None) -> None:
        if site_id is not None and conn.execute(select(sites.c.id).where(sites.c.id == site_id)).first() is None:
            raise AccessAdminError("no such site", code="access.unknown_site", site_id=site_id)

    def _insert_user(self, conn: Connection, username: str, display_name: str, password_hash: str,
                     site_id: str | None, roles: list[str]) -> str:
        if conn.execute(select(hq_users.c.id).where(hq_users.c.username == username)).first() is not None:
            raise Conflict("this user name is taken", code="access.username_taken", username=username)
        self._check_roles(conn, roles)
        self._check_site(conn, site_id)
        user_id, now = new_id(), _now()
        conn.execute(insert(hq_users).values(id=user_id, username=username, display_name=display_name,
                                             password_hash=password_hash, site_id=site_id, active=True,
                                             failed_logins=0, created_at=now, password_changed_at=now))
        for role in sorted(set(roles)):
            conn.execute(insert(hq_user_roles).values(user_id=user_id, role_code=role))
        return user_id

    async def create_user(self, username: str, display_name: str, password: str, roles: list[str],
                          site_id: str | None, *, actor: str | None = None, source: str | None = None) -> UserRecord:
        """``actor``, ``source``: the administrator doing it and where from, for the audit log."""
        problem = password_problem(password)
        if problem:
            raise AccessAdminError(problem, code="access.weak_password")
        password_hash = await asyncio.to_thread(hash_password, password)

        def write(conn: Connection) -> str:
            user_id = self._insert_user(conn, username, display_name, password_hash, site_id, roles)
            record(conn, action="admin.user_created", actor=actor, site_id=site_id, source=source, subject=user_id,
                   detail={"username": username, "display_name": display_name, "roles": sorted(set(roles)),
                           "site_id": site_id})
            return user_id

        user_id = await self.db.write(write)
        return await self.get_user(user_id)

    async def update_user(self, user_id: str, *, display_name: str | None = None, roles: list[str] | None = None,
                          site_id: str | None = None, clear_site: bool = False, active: bool | None = None,
                          password: str | None = None, unlock: bool = False, actor: str | None = None,
                          source: str | None = None) -> UserRecord:
        """``actor``, ``source``: the administrator doing it and where from, for the audit log."""
        password_hash = None
        if password is not None:
            problem = password_problem(password)
            if problem:
                raise AccessAdminError(problem, code="access.weak_password")
            password_hash = await asyncio.to_thread(hash_password, password)

        def write(conn: Connection) -> None:
            if conn.execute(select(hq_users.c.id).where(hq_users.c.id == user_id)).first() is None:
                raise NotFound("no such user", user_id=user_id)
            values: dict = {}
            if display_name is not None:
                values["display_name"] = display_name
            if clear_site:
                values["site_id"] = None
            elif site_id is not None:
                self._check_site(conn, site_id)
                values["site_id"] = site_id
            if active is not None:
                values["active"] = active
                values["disabled_at"] = None if active else _now()
            if password_hash is not None:
                values.update(password_hash=password_hash, password_changed_at=_now())
            if unlock:
                values.update(locked_until=None, failed_logins=0)
            if values:
                conn.execute(update(hq_users).where(hq_users.c.id == user_id).values(**values))
            if roles is not None:
                self._check_roles(conn, roles)
                conn.execute(delete(hq_user_roles).where(hq_user_roles.c.user_id == user_id))
                for role in sorted(set(roles)):
                    conn.execute(insert(hq_user_roles).values(user_id=user_id, role_code=role))
            # Whoever loses access or a password loses their open sessions with it.
            signed_out = active is False or password_hash is not None or roles is not None or "site_id" in values
            if signed_out:
                conn.execute(update(hq_sessions).where(hq_sessions.c.user_id == user_id,
                                                       hq_sessions.c.revoked_at.is_(None)).values(revoked_at=_now()))
            # What changed, never the password itself.
            change = {key: values[key] for key in ("display_name", "site_id", "active") if key in values}
            if roles is not None:
                change["roles"] = sorted(set(roles))
            if password_hash is not None:
                change["password_changed"] = True
            if unlock:
                change["unlocked"] = True
            change["signed_out"] = signed_out
            record(conn, action="admin.user_updated", actor=actor, site_id=values.get("site_id"), source=source,
                   subject=user_id, detail=change)

        await self.db.write(write)
        return await self.get_user(user_id)

    async def get_user(self, user_id: str) -> UserRecord:
        users = await self.db.read(self._users, user_id)
        if not users:
            raise NotFound("no such user", user_id=user_id)
        return users[0]

    async def list_users(self) -> list[UserRecord]:
        return await self.db.read(self._users, None)

    @staticmethod
    def _users(conn: Connection, user_id: str | None) -> list[UserRecord]:
        query = select(hq_users).order_by(hq_users.c.username)
        if user_id is not None:
            query = query.where(hq_users.c.id == user_id)
        roles: dict[str, list[str]] = {}
        for row in conn.execute(select(hq_user_roles).order_by(hq_user_roles.c.role_code)):
            roles.setdefault(row.user_id, []).append(row.role_code)
        return [UserRecord(u.id, u.username, u.display_name, u.site_id, roles.get(u.id, []), u.active,
                           u.locked_until, u.created_at) for u in conn.execute(query)]

    # -- roles ---------------------------------------------------------------------------

    async def list_roles(self) -> list[RoleRecord]:
        def read(conn: Connection) -> list[RoleRecord]:
            return [RoleRecord(r.code, r.name, json.loads(r.grants_json), r.builtin)
                    for r in conn.execute(select(hq_roles).order_by(hq_roles.c.code))]

        return await self.db.read(read)

    def _check_grants(self, grants: list[str]) -> None:
        bad = [grant for grant in grants if not valid_grant(grant, self.permissions)]
        if bad:
            raise AccessAdminError(f"unknown permission(s): {', '.join(bad)}", code="access.unknown_permission",
                                   permissions=bad)

    async def save_role(self, code: str, name: str, grants: list[str], *, create: bool, actor: str | None = None,
                        source: str | None = None) -> RoleRecord:
        if code in BUILTIN_BY_CODE:
            raise Conflict("built-in roles cannot be changed; make a custom role", code="access.builtin_role")
        self._check_grants(grants)

        def write(conn: Connection) -> None:
            exists = conn.execute(select(hq_roles.c.code).where(hq_roles.c.code == code)).first() is not None
            values = {"name": name, "grants_json": json.dumps(sorted(set(grants))), "builtin": False}
            if create:
                if exists:
                    raise Conflict("a role with this code exists", code="access.role_exists", role=code)
                conn.execute(insert(hq_roles).values(code=code, **values))
            else:
                if not exists:
                    raise NotFound("no such role", role=code)
                conn.execute(update(hq_roles).where(hq_roles.c.code == code).values(**values))
                # Holders of the role keep their sessions: grants are read on every request.
            record(conn, action="admin.role_saved", actor=actor, source=source, subject=code,
                   detail={"name": name, "grants": sorted(set(grants)), "builtin": False, "created": create})

        await self.db.write(write)
        return RoleRecord(code, name, sorted(set(grants)), False)

    # -- enrollment codes ----------------------------------------------------------------

    async def create_enrollment_code(self, site_id: str, role: str, created_by: str,
                                     valid_for: timedelta = ENROLLMENT_CODE_TTL, *,
                                     source: str | None = None) -> tuple[str, datetime]:
        """A one-time code that enrolls one device for ``site_id`` with ``role``. Shown once (the
        audit log names it by its digest, as the enrollment of the device it is used for does)."""
        code = "-".join("".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(4))
        now = _now()

        def write(conn: Connection) -> None:
            self._check_site(conn, site_id)
            self._check_roles(conn, [role])
            digest = enrollment_code_digest(code)
            conn.execute(insert(enrollment_codes).values(
                code_hash=digest, site_id=site_id, role_code=role, created_by=created_by,
                created_at=now, expires_at=now + valid_for))
            record(conn, action="admin.enrollment_code_issued", actor=created_by, site_id=site_id, source=source,
                   subject=f"code:{digest}", detail={"role": role, "expires_at": now + valid_for})

        await self.db.write(write)
        return code, now + valid_for


def enrollment_code_digest(code: str) -> str:
    """Codes are compared without dashes, spaces or case, as people type them."""
    normalized = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(normalized.encode()).hexdigest()
