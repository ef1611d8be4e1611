"""Who is signed in on a shared device, online or offline, and what they may do here.

A clerk signs in with their HQ user name and password. Online, headquarters checks the password
(``POST /sync/v1/sign-in``) and the device keeps a *verifier* of it; offline, the device checks
the password against that verifier. ``EdgeClient.sign_in`` chooses the path; this module keeps
the cache and the rules::

    sign_in ──► server answers ──► yes: cache verifier, sign in (online)
       │                     └───► no (auth.*): update or drop the cache, refuse
       └──► server unreachable ──► cached, not locked, not expired, password right: sign in (offline)
                                   otherwise: refuse (needs network / locked / wrong password)

Invariants:
- A verifier is scrypt of the password with a salt of its own (``erp/access/passwords.py``),
  made on this device: it never equals HQ's hash, and is never sent anywhere.
- A user can sign in offline only on a device where they signed in online within
  ``OFFLINE_VALIDITY`` (and before the ``valid_until`` HQ gave); expired verifiers are deleted.
- ``MAX_OFFLINE_FAILURES`` wrong passwords in a row offline lock that user on this device for
  ``OFFLINE_LOCKOUT``; a lock HQ reports (``auth.account_locked``) is copied to the device, so
  pulling the network cable does not get round it.
- When HQ refuses a password the cached verifier accepts, the cache is out of date (password
  changed, user disabled) and is dropped: a disabled user cannot go on signing in offline once
  the device has heard of it. A refusal for the site or the device's role drops it too.
- Counters are written in their own transaction before the refusal is raised, and no
  transaction is open while scrypt runs.
- The signed-in user lives in ``edge_meta`` (``signed_in_user``); they stay signed in until
  ``sign_out``, another user signs in, or their verifier is dropped or expires.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from sqlalchemy import Connection, Engine, delete, insert, select, update

from edge_client.local_tables import edge_user_verifiers
from edge_client.replica import get_meta, set_meta
from erp.access.passwords import hash_password, verify_password
from erp.access.permissions import allowed
from protocol.sign_in import SignInResponse
from sync.errors import JcerpError, MutationRejected

MAX_OFFLINE_FAILURES = 5
OFFLINE_LOCKOUT = timedelta(minutes=15)
OFFLINE_VALIDITY = timedelta(days=14)

# Server refusals, after a right password, that mean this user must not sign in here: the verifier goes.
DROPS_CACHE = {"auth.user_out_of_site", "auth.no_usable_permission"}

Clock = Callable[[], datetime]
LOCKED_MESSAGE = "too many wrong passwords: signing in as this user is locked on this tablet for a while"


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class SignInRefused(JcerpError):
    """Sign-in refused. Online it carries the server's code (``auth.invalid_credentials``,
    ``auth.account_locked``, ``auth.user_out_of_site``, ``auth.no_usable_permission``…)."""

    code = "edge.sign_in_refused"
    http_status = 401

    @classmethod
    def from_server(cls, status: int, code: str, detail: str, details: dict[str, Any]) -> "SignInRefused":
        error = cls(detail, code=code, **details)
        error.http_status = status
        return error


class NeedsNetwork(SignInRefused):
    """Offline, and this user never signed in online on this device (or was dropped)."""

    code = "edge.sign_in_needs_network"


class SignInExpired(NeedsNetwork):
    """Offline, and the user's last online sign-in here is too old."""

    code = "edge.sign_in_expired"


class OfflineWrongPassword(SignInRefused):
    code = "edge.offline_wrong_password"


class OfflineLocked(SignInRefused):
    code = "edge.offline_locked"
    http_status = 403


class UserForbidden(MutationRejected):
    """The signed-in user's roles do not allow this mutation: refused on the device at once,
    with the code the server would reject it with."""

    code = "auth.user_forbidden"
    http_status = 403


@dataclass(frozen=True)
class TabletUser:
    """A user signed in on this device."""

    username: str
    user_id: str
    display_name: str
    site_id: str | None  # None: every site
    roles: tuple[str, ...]
    grants: frozenset[str]  # as HQ stores them: exact permissions and patterns
    signed_in_at: str  # UTC ISO 8601
    offline: bool  # True: checked against the device's verifier, not by HQ
    valid_until: str  # until when this device may sign them in offline

    def may(self, permission: str) -> bool:
        return allowed(self.grants, permission)


def _user(row: Any, signed_in_at: str, offline: bool) -> TabletUser:
    return TabletUser(row.username, row.user_id, row.display_name, row.site_id, tuple(json.loads(row.roles_json)),
                      frozenset(json.loads(row.grants_json)), signed_in_at, offline, row.valid_until)


def _text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _parse(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class UserSessions:
    """The device's verifier cache and its signed-in user, on the replica's engine.

    Methods that change state say so; none talks to the network (``EdgeClient.sign_in`` does)."""

    def __init__(self, engine: Engine, *, now: Clock = _utc_now) -> None:
        self.engine = engine
        self.now = now

    # -- reading -------------------------------------------------------------------------

    def current(self) -> TabletUser | None:
        """The signed-in user, or None (nobody, or their verifier was dropped or expired)."""
        with self.engine.begin() as conn:
            return self.current_in(conn)

    def current_in(self, conn: Connection) -> TabletUser | None:
        """``current`` inside the caller's transaction (a mutation reads it with its own writes)."""
        username = get_meta(conn, "signed_in_user")
        if username is None:
            return None
        row = conn.execute(select(edge_user_verifiers).where(edge_user_verifiers.c.username == username)).first()
        now = self.now()
        if row is None or (_parse(row.valid_until) or now) <= now:
            return None
        return _user(row, get_meta(conn, "signed_in_at", ""), get_meta(conn, "signed_in_offline") == "1")

    def cached_usernames(self) -> list[str]:
        with self.engine.begin() as conn:
            return list(conn.execute(select(edge_user_verifiers.c.username).order_by(edge_user_verifiers.c.username))
                        .scalars())

    # -- changing state ------------------------------------------------------------------

    def accept_online(self, answer: SignInResponse, password: str) -> TabletUser:
        """HQ accepted the password: (re)make the verifier and sign the user in. Changes state."""
        verifier = hash_password(password)  # before the transaction: scrypt takes a while
        now = self.now()
        valid_until = min(answer.valid_until.astimezone(timezone.utc), now + OFFLINE_VALIDITY)
        values = dict(user_id=answer.user_id, display_name=answer.display_name, site_id=answer.site_id,
                      roles_json=json.dumps(answer.roles), grants_json=json.dumps(answer.permissions),
                      verifier=verifier, cached_at=_text(now), valid_until=_text(valid_until),
                      failed_attempts=0, locked_until=None)
        with self.engine.begin() as conn:
            self._sweep(conn, now)
            conn.execute(delete(edge_user_verifiers).where(edge_user_verifiers.c.username == answer.username))
            conn.execute(insert(edge_user_verifiers).values(username=answer.username, **values))
            self._set_signed_in(conn, answer.username, now, offline=False)
            row = conn.execute(select(edge_user_verifiers)
                               .where(edge_user_verifiers.c.username == answer.username)).one()
        return _user(row, _text(now), offline=False)

    def refused_online(self, username: str, password: str, code: str, details: dict[str, Any]) -> None:
        """HQ refused this sign-in with ``code``: bring the cache in line with what HQ said. Changes state."""
        with self.engine.begin() as conn:
            row = conn.execute(select(edge_user_verifiers).where(edge_user_verifiers.c.username == username)).first()
        if row is None:
            return
        if code == "auth.account_locked":
            locked_until = _parse(details.get("locked_until")) or self.now() + OFFLINE_LOCKOUT
            with self.engine.begin() as conn:
                conn.execute(update(edge_user_verifiers).where(edge_user_verifiers.c.username == username)
                             .values(locked_until=_text(locked_until)))
            return
        # A right password refused by HQ: it changed there, or the user was disabled. A wrong
        # one says nothing about the account (HQ counted it toward its lockout).
        stale = code == "auth.invalid_credentials" and verify_password(password, row.verifier)
        if stale or code in DROPS_CACHE:
            self.forget(username)

    def check_offline(self, username: str, password: str) -> TabletUser:
        """The server cannot be reached: check the password against this device's verifier,
        counting wrong ones toward the offline lockout. Changes state (the count, the signed-in user)."""
        now = self.now()
        with self.engine.begin() as conn:
            row = conn.execute(select(edge_user_verifiers).where(edge_user_verifiers.c.username == username)).first()
            self._sweep(conn, now)
        if row is None:
            raise NeedsNetwork(f"{username} has not signed in on this tablet before: the first sign-in on this "
                               "tablet needs the network", user=username)
        if (_parse(row.valid_until) or now) <= now:
            raise SignInExpired(f"{username} last signed in with the network on this tablet at {row.cached_at}, "
                                f"more than {OFFLINE_VALIDITY.days} days ago: signing in needs the network again",
                                user=username, cached_at=row.cached_at)
        locked_until = _parse(row.locked_until)
        if locked_until is not None and locked_until > now:
            raise OfflineLocked(LOCKED_MESSAGE, user=username, locked_until=_text(locked_until))
        good = verify_password(password, row.verifier)  # outside any transaction
        with self.engine.begin() as conn:
            if good:
                conn.execute(update(edge_user_verifiers).where(edge_user_verifiers.c.username == username)
                             .values(failed_attempts=0, locked_until=None))
                self._set_signed_in(conn, username, now, offline=True)
                row = conn.execute(select(edge_user_verifiers).where(edge_user_verifiers.c.username == username)).one()
                return _user(row, _text(now), offline=True)
            conn.execute(update(edge_user_verifiers).where(edge_user_verifiers.c.username == username)
                         .values(failed_attempts=edge_user_verifiers.c.failed_attempts + 1))
            failures = conn.execute(select(edge_user_verifiers.c.failed_attempts)
                                    .where(edge_user_verifiers.c.username == username)).scalar_one()
            locked = failures >= MAX_OFFLINE_FAILURES
            if locked:
                locked_until = now + OFFLINE_LOCKOUT
                conn.execute(update(edge_user_verifiers).where(edge_user_verifiers.c.username == username)
                             .values(failed_attempts=0, locked_until=_text(locked_until)))
        # Raised after the commit, so the count stands.
        if locked:
            raise OfflineLocked(LOCKED_MESSAGE, user=username, locked_until=_text(locked_until))
        raise OfflineWrongPassword("wrong user name or password", user=username,
                                   attempts_left=MAX_OFFLINE_FAILURES - failures)

    def forget(self, username: str) -> None:
        """Drop a user's verifier, signing them out if they are signed in. Changes state."""
        with self.engine.begin() as conn:
            conn.execute(delete(edge_user_verifiers).where(edge_user_verifiers.c.username == username))
            if get_meta(conn, "signed_in_user") == username:
                self._set_signed_in(conn, None, None, offline=False)

    def sign_out(self) -> str | None:
        """Sign the current user out (their verifier stays for the next offline sign-in).
        Returns who was signed in. Changes state."""
        with self.engine.begin() as conn:
            username = get_meta(conn, "signed_in_user")
            self._set_signed_in(conn, None, None, offline=False)
        return username

    @staticmethod
    def _set_signed_in(conn: Connection, username: str | None, at: datetime | None, *, offline: bool) -> None:
        set_meta(conn, "signed_in_user", username)
        set_meta(conn, "signed_in_at", _text(at) if at else None)
        set_meta(conn, "signed_in_offline", (1 if offline else 0) if username else None)

    @staticmethod
    def _sweep(conn: Connection, now: datetime) -> None:
        # Times are stored as ``_text``: fixed-width UTC text, which sorts as time does.
        conn.execute(delete(edge_user_verifiers).where(edge_user_verifiers.c.valid_until <= _text(now)))


def acting_user(signed_in: TabletUser | None, named: str | None, permission: str) -> str | None:
    """Whom a mutation records: the user the caller named, else the signed-in user. When that
    is the signed-in user, refuse at once what the server would reject with
    ``auth.user_forbidden``; another named user is left to the server, which knows their roles."""
    if signed_in is None or (named is not None and named != signed_in.username):
        return named
    if not signed_in.may(permission):
        raise UserForbidden(f"{signed_in.username}'s role does not allow {permission}", user=signed_in.username,
                            permission=permission)
    return signed_in.username
