"""The sync service behind the sync endpoints: enroll, authenticate, push, pull, bootstrap.

Controllers only parse and encode; everything a request means happens here. Every request
is checked for protocol and schema version first, then for the device's identity, then for
its scope, before any database write.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import AsyncIterator, Awaitable, Callable

from sqlalchemy import Connection, delete, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from protocol import PROTOCOL_VERSION
from protocol.bootstrap import BootstrapDone, BootstrapPosition, BootstrapRequest, BootstrapStart, encode_frame
from protocol.checksum import ChecksumRequest, ChecksumResponse, TableFingerprint
from protocol.enroll import EnrollRequest, EnrollResponse
from protocol.signing import MAX_CLOCK_SKEW_SECONDS, load_public_key, parse_signature, signature_valid
from protocol.pull import PullRequest, PullResponse
from protocol.push import MAX_BATCH, PushRequest, PushResponse
from erp.access.role_grants import RoleGrantsCache, read_role_grants
from erp.access.tables import enrollment_codes
from server.audit import device_source, record, record_many
from server.audit.mutations import pushed
from server.auth.device_access import DeviceAccess
from server.auth.service import enrollment_code_digest
from server.db import Database
from server.live import CHANNEL, ChangeFeed
from sync.checksum import scope_checksum
from sync.changes import (
    DeviceScope, count_scope_rows, last_applied_as_of, read_bootstrap_chunk, read_pull_page, visible_specs,
)
from sync.errors import BatchTooLarge, ClientOutdated, NotFound, OutOfScope, ProtocolError, UnknownDevice
from sync.ids import new_id
from sync.registry import Registry
from sync.schema import SCHEMA_VERSION, sync_devices, sync_request_nonces
from sync.server_apply import apply_push, current_version, decode_batch
from sync.validation import first_problem
from erp.org.site import sites


class EnrollmentRefused(UnknownDevice):
    """No valid enrollment code: 401, or 403 when the code is for another site."""

    code = "sync.enrollment_code_invalid"

    def __init__(self, message: str, /, *, code: str, http_status: int = 401, **details) -> None:
        super().__init__(message, code=code, **details)
        self.http_status = http_status


@dataclass(frozen=True)
class SignedRequest:
    """What the signature of a sync request covers, as the server received it."""

    method: str
    target: str  # path with its query string
    signature: str | None  # the Jcerp-Signature header
    body: bytes


@dataclass(frozen=True)
class Device:
    id: str
    site_id: str
    # The role it was enrolled with: what it may push, and which tables and personal fields it
    # receives (``SyncService.scope``).
    role_code: str = "warehouse_clerk"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_versions(protocol_version: int, schema_version: int) -> None:
    if protocol_version != PROTOCOL_VERSION or schema_version != SCHEMA_VERSION:
        raise ClientOutdated(
            f"this server speaks protocol {PROTOCOL_VERSION} with schema {SCHEMA_VERSION}; "
            f"the client sent protocol {protocol_version} with schema {schema_version}. "
            "Update the app, then sync again: pending work is kept.",
            server_protocol_version=PROTOCOL_VERSION,
            server_schema_version=SCHEMA_VERSION,
        )


class SyncService:
    def __init__(self, db: Database, registry: Registry, feed: ChangeFeed) -> None:
        self.db = db
        self.registry = registry
        self.feed = feed
        self._nonces_swept_at = 0.0
        self.role_grants = RoleGrantsCache()

    # -- identity ------------------------------------------------------------------------

    async def enroll(self, request: EnrollRequest) -> EnrollResponse:
        check_versions(request.protocol_version, request.schema_version)
        if first_problem(request) is not None or len(request.device_name) > 200:
            raise ProtocolError("device name and site must be text of at most 200 characters without U+0000",
                                code="sync.invalid_message")
        if not request.device_name.strip():
            raise ProtocolError("a device needs a name", code="sync.device_name_missing")
        if not request.public_key:
            raise ProtocolError("enrolling needs the device's Ed25519 public key (public_key)",
                                code="sync.device_key_required")
        try:
            load_public_key(request.public_key)
        except ValueError as error:
            raise ProtocolError(f"public_key: {error}", code="sync.bad_device_key") from None
        token = secrets.token_urlsafe(32)
        device_id = new_id()

        if not request.enrollment_code:
            raise EnrollmentRefused("enrolling needs a one-time enrollment code from headquarters",
                                    code="sync.enrollment_code_required")

        def register(conn: Connection) -> tuple[str, str, str]:
            # A site's id or its code: people enrolling a tablet know the code, and need no HQ
            # account to look the id up.
            site_id = conn.execute(select(sites.c.id).where(
                or_(sites.c.id == request.site_id, sites.c.code == request.site_id))).scalar()
            if site_id is None:
                raise NotFound("this site does not exist", code="sync.unknown_site", site_id=request.site_id)
            now = datetime.now(timezone.utc)
            grant = conn.execute(select(enrollment_codes).where(
                enrollment_codes.c.code_hash == enrollment_code_digest(request.enrollment_code)).with_for_update()).first()
            if grant is not None and grant.used_at is not None and grant.expires_at > now:
                # The same device asking again (its answer was lost on the way): it gets its
                # enrollment again with a new token, as long as it has never synced.
                earlier = conn.execute(select(sync_devices).where(sync_devices.c.id == grant.device_id)).first()
                if (earlier is not None and earlier.name == request.device_name and earlier.site_id == site_id
                        and earlier.last_seen_at is None and earlier.last_applied_seq == 0):
                    conn.execute(update(sync_devices).where(sync_devices.c.id == earlier.id)
                                 .values(token_hash=token_hash(token), public_key=request.public_key))
                    record(conn, action="device.enrolled", device_id=earlier.id, site_id=site_id,
                           source=device_source(earlier.id), subject=earlier.id, detail={
                               "name": request.device_name, "role": grant.role_code, "code_issued_by": grant.created_by,
                               "enrollment_code": f"code:{grant.code_hash}", "again": True})
                    return earlier.id, site_id, grant.role_code
            if grant is None or grant.used_at is not None or grant.expires_at <= now:
                # One answer for unknown, used and expired codes: a guesser learns nothing.
                raise EnrollmentRefused("this enrollment code is not valid (unknown, used or expired); ask HQ for a new one",
                                        code="sync.enrollment_code_invalid")
            if grant.site_id != site_id:
                raise EnrollmentRefused("this enrollment code is for another site", code="sync.enrollment_code_site",
                                        http_status=403)
            conn.execute(update(enrollment_codes).where(enrollment_codes.c.code_hash == grant.code_hash)
                         .values(used_at=now, device_id=device_id))
            conn.execute(
                insert(sync_devices).values(
                    id=device_id, site_id=site_id, name=request.device_name, token_hash=token_hash(token),
                    last_applied_seq=0, enrolled_at=now, role_code=grant.role_code, public_key=request.public_key,
                )
            )
            record(conn, action="device.enrolled", device_id=device_id, site_id=site_id,
                   source=device_source(device_id), subject=device_id, detail={
                       "name": request.device_name, "role": grant.role_code, "code_issued_by": grant.created_by,
                       "enrollment_code": f"code:{grant.code_hash}", "again": False})
            return device_id, site_id, grant.role_code

        device_id, site_id, role = await self.db.write(register)
        return EnrollResponse(device_id=device_id, token=token, site_id=site_id, role=role,
                              protocol_version=PROTOCOL_VERSION, schema_version=SCHEMA_VERSION)

    async def authenticate(self, authorization: str | None, signed: Callable[[], Awaitable[SignedRequest]]) -> Device:
        """The device a request comes from: its bearer token names it, and the request must be
        signed with the key it registered (protocol/signing.py), fresh, and never seen before.
        ``signed`` reads the request: only after the token named a device is its body read."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise UnknownDevice("send the device token as 'Authorization: Bearer <token>'", code="sync.unauthenticated")
        digest = token_hash(authorization[7:].strip())

        def lookup(conn: Connection):
            return conn.execute(
                select(sync_devices.c.id, sync_devices.c.site_id, sync_devices.c.revoked_at,
                       sync_devices.c.public_key, sync_devices.c.role_code).where(sync_devices.c.token_hash == digest)
            ).first()

        row = await self.db.read(lookup)
        if row is None:
            raise UnknownDevice("this device is not enrolled")
        if row.revoked_at is not None:
            raise UnknownDevice("headquarters revoked this device: stop using it and wipe its replica "
                                "(delete its home directory); enroll again with a new code if it was found",
                                code="sync.device_revoked", revoked_at=row.revoked_at.isoformat())
        if row.public_key is None:
            raise UnknownDevice("this device was enrolled without a signing key (protocol 1): enroll it again "
                                "with a new code from headquarters", code="sync.device_key_missing")
        await self._check_signature(row.id, row.public_key, await signed())
        return Device(id=row.id, site_id=row.site_id, role_code=row.role_code)

    async def _check_signature(self, device_id: str, public_key: str, signed: SignedRequest) -> None:
        parts = parse_signature(signed.signature)
        if parts is None:
            raise UnknownDevice("sign the request with the device key: 'Jcerp-Signature: t=<unix seconds>, "
                                "n=<nonce>, s=<signature>' (docs/protocol.md, section 4)",
                                code="sync.signature_required")
        now = time.time()
        if abs(now - parts.timestamp) > MAX_CLOCK_SKEW_SECONDS:
            # The device learns the server's time from this answer and signs again with it.
            raise UnknownDevice(f"the request is signed at a time more than {MAX_CLOCK_SKEW_SECONDS} s from the "
                                "server's clock (an old, replayed request, or a device clock that is off)",
                                code="sync.clock_skew", server_time=int(now))
        if not signature_valid(load_public_key(public_key), parts, signed.method, signed.target, signed.body):
            raise UnknownDevice("the request's signature does not match its content or this device's key: "
                                "it was changed on the way, or signed by another key", code="sync.bad_signature")
        seen_at = datetime.now(timezone.utc)

        def remember(conn: Connection) -> bool:
            if seen_at.timestamp() - self._nonces_swept_at > MAX_CLOCK_SKEW_SECONDS:
                # Older nonces cannot come back: their timestamps are outside the window now.
                conn.execute(delete(sync_request_nonces).where(
                    sync_request_nonces.c.seen_at < seen_at - timedelta(seconds=3 * MAX_CLOCK_SKEW_SECONDS)))
                self._nonces_swept_at = seen_at.timestamp()
            dialect_insert = postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert
            inserted = conn.execute(dialect_insert(sync_request_nonces).values(
                device_id=device_id, nonce=parts.nonce, seen_at=seen_at).on_conflict_do_nothing())
            return inserted.rowcount == 1

        if not await self.db.write(remember):
            raise UnknownDevice("this request was already received once (same nonce): a replay is refused; "
                                "a retry must be signed again", code="sync.request_replayed")

    async def scope(self, device: Device) -> DeviceScope:
        """What the device receives: its site's and its own rows, of the tables its role may
        read, without the personal fields its role may not see (``sync/visibility.py``)."""
        grants = self.role_grants.get(device.role_code)
        if grants is None:
            grants = await self.db.read(read_role_grants, device.role_code)
            self.role_grants.put(device.role_code, grants)
        return DeviceScope(site_id=device.site_id, device_id=device.id, grants=grants)

    @staticmethod
    def _check_device(device: Device, device_id: str) -> None:
        if device_id != device.id:
            raise OutOfScope("the request names another device than the token's", code="sync.device_mismatch")

    # -- push ----------------------------------------------------------------------------

    async def push(self, device: Device, request: PushRequest, media_type: str) -> PushResponse:
        check_versions(request.protocol_version, request.schema_version)
        self._check_device(device, request.device_id)
        if len(request.mutations) > MAX_BATCH:
            raise BatchTooLarge(f"at most {MAX_BATCH} mutations per push", max_batch=MAX_BATCH,
                                received=len(request.mutations))
        batch = decode_batch(self.registry, request.mutations, media_type)
        notify_in_transaction = not self.db.is_sqlite

        def apply(conn: Connection):
            outcome = apply_push(conn, self.registry, device.id, batch, authorize=lambda c, d: DeviceAccess(c, d).check)
            # Each mutation's outcome, in the push's transaction; last, so the audit head is the last lock taken.
            record_many(conn, pushed(device.id, device.site_id, batch, outcome.response))
            if notify_in_transaction and outcome.touched_scopes:
                conn.execute(text("SELECT pg_notify(:channel, :payload)"),
                             {"channel": CHANNEL, "payload": self.feed.payload(outcome.response.server_version,
                                                                                outcome.touched_scopes)})
            return outcome

        outcome = await self.db.write(apply)
        if not notify_in_transaction and outcome.touched_scopes:
            self.feed.publish(outcome.response.server_version, outcome.touched_scopes)
        return outcome.response

    # -- pull ----------------------------------------------------------------------------

    async def pull(self, device: Device, request: PullRequest) -> PullResponse:
        check_versions(request.protocol_version, request.schema_version)
        self._check_device(device, request.device_id)
        if request.site_id != device.site_id:
            raise OutOfScope("this device is enrolled for another site", code="sync.scope_mismatch",
                             enrolled_site_id=device.site_id)
        if request.cursor < 0 or not 1 <= request.limit <= 100_000:
            raise ProtocolError("cursor must be >= 0 and limit within 1..100000", code="sync.bad_pull")

        scope = await self.scope(device)

        def read(conn: Connection) -> PullResponse:
            tables, cursor, has_more = read_pull_page(conn, self.registry, scope, request.cursor, request.limit)
            last = last_applied_as_of(conn, device.id, cursor if has_more else None)
            return PullResponse(cursor=cursor, last_applied_seq=last, has_more=has_more, tables=tables)

        return await self.db.read(read)

    # -- bootstrap -----------------------------------------------------------------------

    async def bootstrap_start(self, device: Device, request: BootstrapRequest) -> BootstrapPosition:
        """Validate before the stream starts, so errors are still proper problem responses."""
        check_versions(request.protocol_version, request.schema_version)
        self._check_device(device, request.device_id)
        if not 1 <= request.chunk_rows <= 200_000:
            raise ProtocolError("chunk_rows must be within 1..200000", code="sync.bad_bootstrap")
        snapshot = await self.db.read(current_version)

        def start(conn: Connection) -> None:
            # The device has used its enrollment: from now on its code cannot re-issue its token.
            conn.execute(
                update(sync_devices).where(sync_devices.c.id == device.id, sync_devices.c.last_seen_at.is_(None))
                .values(last_seen_at=datetime.now(timezone.utc)))
            # A bootstrap hands the device its whole scope: the one bulk export of data there is.
            record(conn, action="export.bootstrap", device_id=device.id, site_id=device.site_id,
                   source=device_source(device.id), subject=device.id,
                   detail={"snapshot_version": request.resume.snapshot_version if request.resume else snapshot,
                           "resume": request.resume is not None})

        await self.db.write(start)
        if request.resume is not None:
            self._check_resume(await self.scope(device), request.resume, snapshot)
            return request.resume
        return BootstrapPosition(snapshot_version=snapshot, table_index=0, after_key=None)

    def _check_resume(self, scope: DeviceScope, resume: BootstrapPosition, snapshot: int) -> None:
        """A resume position must be one this server could have sent: a known table, and a key
        of that table's shape, so the stream never fails after its 200 status is out."""
        specs = visible_specs(self.registry, scope)

        def refuse(why: str) -> None:
            raise ProtocolError(f"bad resume position: {why}", code="sync.bad_bootstrap")

        if not 0 <= resume.snapshot_version <= snapshot:
            refuse("unknown snapshot version")
        if not 0 <= resume.table_index <= len(specs):
            refuse("unknown table index")
        if resume.after_key is None:
            return
        if resume.table_index == len(specs):
            refuse("no key after the last table")
        columns = [specs[resume.table_index].table.c[name] for name in specs[resume.table_index].key_columns]
        if len(resume.after_key) != len(columns):
            refuse(f"the key has {len(columns)} part(s)")
        for column, value in zip(columns, resume.after_key):
            python_type = column.type.python_type
            if type(value) is not python_type or first_problem(value) is not None:
                refuse(f"{column.name} must be {python_type.__name__} text without U+0000"
                       if python_type is str else f"{column.name} must be {python_type.__name__}")
            if python_type is int and not -2**63 <= value < 2**63:
                refuse(f"{column.name} is out of range")

    # -- checksum ------------------------------------------------------------------------

    async def checksum(self, device: Device, request: ChecksumRequest) -> ChecksumResponse:
        check_versions(request.protocol_version, request.schema_version)
        self._check_device(device, request.device_id)

        scope = await self.scope(device)

        def read(conn: Connection) -> ChecksumResponse:
            # What the device's role receives: the tables it may not read count as empty.
            tables = scope_checksum(conn, self.registry, site_id=device.site_id, device_id=device.id,
                                    grants=scope.grants)
            return ChecksumResponse(version=current_version(conn), tables={
                name: TableFingerprint(rows=t.rows, digest=t.digest) for name, t in tables.items()})

        return await self.db.read(read)

    async def bootstrap_frames(self, device: Device, request: BootstrapRequest,
                               position: BootstrapPosition) -> AsyncIterator[bytes]:
        scope = await self.scope(device)
        if request.resume is None:
            estimate = await self.db.read(count_scope_rows, self.registry, scope)
            yield encode_frame(BootstrapStart(
                snapshot_version=position.snapshot_version, estimated_rows=estimate,
                tables=[spec.name for spec in visible_specs(self.registry, scope)],
            ))
        while True:
            chunk = await self.db.read(read_bootstrap_chunk, self.registry, scope, position, request.chunk_rows)
            if chunk is None:
                break
            position = chunk.position
            yield encode_frame(chunk)
        yield encode_frame(BootstrapDone(cursor=position.snapshot_version))


