"""The device's sync client: local mutations, push, pull, bootstrap, status and the inbox.

Invariants:
- A user's action is applied locally and queued in one local transaction (``rebase.run_local``).
- No local transaction is open while the client talks to the server: it reads what to send,
  commits, exchanges messages, then applies the answer in a new transaction.
- Outbox entries leave only through a pull page showing the server processed them.
- Pushes are retried as they are: the server acknowledges repeats, so a lost response costs a
  round trip, never a duplicate.
- A CA pinned at enrollment (``server_ca_pem`` in ``edge_meta``) is the only CA every transport
  made from the replica trusts, from the enrollment request itself onwards.
- ``sync.device_revoked`` in answer to any request wipes the device (``revocation.py``) and
  raises ``DeviceRevoked``; a wiped home is never opened as a replica again.
- A mutation records the user signed in on the device (``sign_in.py``) unless the caller names
  another; what the signed-in user's roles do not allow is refused before it runs.
"""

from __future__ import annotations

import functools
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import msgspec
from sqlalchemy import event, func, select, update

from edge_client.device_key import DeviceSignature, ensure_device_key, load_device_key
from edge_client.local_tables import edge_outbox
from edge_client.rebase import DeviceIdentity, apply_pull_page, open_args, pending_count, run_local
from edge_client.replica import Replica, get_meta, replace_rows, set_meta
from edge_client.revocation import DeviceRevoked, refuse_if_revoked, wipe
from edge_client.sign_in import SignInRefused, TabletUser, UserSessions, acting_user
from edge_client.state import StateChange, SyncState, SyncStateMachine
from edge_client.transport import HttpTransport, ServerRefused, Unreachable, server_verification
from protocol import PROTOCOL_VERSION
from protocol.bootstrap import BootstrapChunk, BootstrapDone, BootstrapPosition, BootstrapRequest, BootstrapStart
from protocol.checksum import ChecksumRequest
from protocol.enroll import EnrollRequest
from protocol.pull import PullRequest
from protocol.push import MutationEnvelope, PushRequest
from protocol.sign_in import SignInRequest
from protocol.signing import public_key_text
from sync.builtin import AcknowledgeConflict, ResolveRejection, sync_conflicts, sync_rejections
from sync.checksum import TableChecksum, differing_tables, scope_checksum
from sync.errors import JcerpError
from sync.hlc import HybridLogicalClock, Timestamp
from sync.registry import Registry, discover
from sync.schema import SCHEMA_VERSION

PUSH_BATCH = 500
PULL_PAGE = 5000

ProgressCallback = Callable[[int, int], None]


class NotEnrolled(JcerpError):
    code = "edge.not_enrolled"


def _wipes_if_revoked(method):
    """A method that talks to the server: if the server says this device is revoked, wipe it."""

    @functools.wraps(method)
    def wrapper(self: "EdgeClient", *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except ServerRefused as refusal:
            if refusal.code != "sync.device_revoked":
                raise
            raise self._wipe(refusal) from None

    return wrapper


@dataclass
class SyncReport:
    pushed: int = 0
    applied: int = 0
    rejected: int = 0
    duplicates: int = 0
    pages: int = 0
    bootstrapped_rows: int = 0
    pending: int = 0


@dataclass(frozen=True)
class EdgeStatus:
    device_id: str
    site_id: str
    server_url: str
    state: str  # the last state a sync on this device reached (see edge_client/state.py)
    state_reason: str | None
    pending: int
    pending_with_local_errors: int
    open_rejections: int
    open_conflicts: int
    cursor: int
    last_applied_seq: int
    last_sync_at: str | None
    bootstrapped: bool
    signed_in_user: str | None = None  # who signed in on this device (edge_client/sign_in.py)


@dataclass(frozen=True)
class InboxEntry:
    kind: str  # rejection | conflict | local_error
    id: str
    title: str
    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class VerifyReport:
    """The replica's fingerprints against the server's, for the device's scope."""

    local_cursor: int
    server_version: int
    pending: int
    local: dict[str, TableChecksum]
    server: dict[str, TableChecksum]

    @property
    def comparable(self) -> bool:
        """Only a replica with nothing pending, pulled to the server's version, must match."""
        return self.pending == 0 and self.local_cursor == self.server_version

    @property
    def differing(self) -> list[str]:
        return differing_tables(self.local, self.server)

    @property
    def matches(self) -> bool:
        return self.comparable and not self.differing


class EdgeClient:
    def __init__(self, home: Path | str, *, transport: HttpTransport | None = None,
                 registry: Registry | None = None) -> None:
        refuse_if_revoked(home)  # before the replica is opened: that would create an empty one
        self.registry = registry or discover()
        self.replica = Replica(Path(home), self.registry)
        self.engine = self.replica.engine
        # Once this home is wiped (by this process or another), no connection may recreate the file.
        event.listen(self.engine, "do_connect", lambda *_: refuse_if_revoked(home))
        self.users = UserSessions(self.engine)
        with self.engine.begin() as conn:
            self._meta = {key: get_meta(conn, key)
                          for key in ("device_id", "site_id", "token", "server_url", "hlc", "server_ca_pem")}
        self.transport = transport
        key = load_device_key(home)
        signer = DeviceSignature(key) if key is not None else None
        if self.transport is None and self._meta["server_url"]:
            self.transport = HttpTransport(self._meta["server_url"], token=self._meta["token"],
                                           ca_pem=self._meta["server_ca_pem"], signer=signer)
        elif self.transport is not None and self._meta["token"]:
            self.transport.token = self._meta["token"]
            self.transport.signer = signer
        self.clock = HybridLogicalClock(node=(self._meta["device_id"] or "unenrolled")[-12:])
        if self._meta["hlc"]:
            self.clock.receive(Timestamp.parse(self._meta["hlc"]))
        self.state = SyncStateMachine(on_change=self._remember_state)
        self.wake = threading.Event()  # set by local mutations and live events
        self._sync_lock = threading.Lock()

    def _remember_state(self, change: StateChange) -> None:
        # Kept in the replica so `jcerp edge status` in another process sees a running sync's state.
        try:
            with self.engine.begin() as conn:
                set_meta(conn, "sync_state", str(change.current))
                set_meta(conn, "sync_state_reason", change.reason or None)
        except DeviceRevoked:
            pass  # wiped: there is no replica to remember a state in

    def _wipe(self, refusal: ServerRefused) -> DeviceRevoked:
        """The server says this device is revoked: close the replica, delete it and the keys,
        leave ``REVOKED``. Returns the error to raise."""
        self.replica.close()
        return wipe(self.replica.home, device_id=self._meta["device_id"], reason=f"{refusal.code}: {refusal.detail}",
                    revoked_at=refusal.details.get("revoked_at"))

    # -- enrollment ----------------------------------------------------------------------

    @classmethod
    def enroll(cls, home: Path | str, *, server_url: str, site_id: str, device_name: str,
               enrollment_code: str | None = None, transport: HttpTransport | None = None,
               ca_pem: str | None = None) -> "EdgeClient":
        """Enroll a new device in ``home`` with a one-time code from HQ (it fixes the device's
        site and role). ``ca_pem`` pins the server's CA (PEM text) for good: the enrollment
        itself and every later exchange trust that CA only."""
        if ca_pem is not None:
            try:
                server_verification(server_url, ca_pem)
            except ValueError as error:
                raise JcerpError(str(error), code="edge.bad_ca") from None
        refuse_if_revoked(home)
        replica = Replica(Path(home), discover())
        with replica.engine.begin() as conn:
            existing = get_meta(conn, "device_id")
        replica.close()
        if existing:
            raise JcerpError(f"{home} already holds device {existing}; use another --home to enroll a new device",
                             code="edge.already_enrolled")
        transport = transport or HttpTransport(server_url, ca_pem=ca_pem)
        # Made before asking, kept if the answer is lost: asking again registers the same key.
        key = ensure_device_key(home)
        answer = transport.enroll(EnrollRequest(protocol_version=PROTOCOL_VERSION, schema_version=SCHEMA_VERSION,
                                                site_id=site_id, device_name=device_name,
                                                enrollment_code=enrollment_code, public_key=public_key_text(key)))
        replica = Replica(Path(home), discover())
        with replica.engine.begin() as conn:
            for key, value in (("device_id", answer.device_id), ("site_id", answer.site_id), ("token", answer.token),
                               ("server_url", server_url), ("device_name", device_name), ("next_seq", 1),
                               ("cursor", 0), ("last_applied_seq", 0), ("server_ca_pem", ca_pem),
                               ("role", answer.role or None)):
                set_meta(conn, key, value)
        replica.close()
        transport.token = answer.token
        transport.signer = DeviceSignature(key)
        return cls(home, transport=transport)

    @property
    def identity(self) -> DeviceIdentity:
        if not self._meta["device_id"]:
            raise NotEnrolled("this device is not enrolled; run `jcerp edge init` first")
        return DeviceIdentity(self._meta["device_id"], self._meta["site_id"])

    # -- users on a shared device --------------------------------------------------------

    @_wipes_if_revoked
    def sign_in(self, username: str, password: str) -> TabletUser:
        """Sign ``username`` in on this device. HQ checks the password when it can be reached
        (and this device refreshes its verifier of it); when it cannot, the device's verifier
        does, with its own lockout (``edge_client/sign_in.py``). Raises ``SignInRefused``."""
        identity = self.identity
        request = SignInRequest(**self._versions(), device_id=identity.device_id, username=username,
                                password=password)
        try:
            answer = self.transport.sign_in(request)
        except Unreachable:
            return self.users.check_offline(username, password)
        except ServerRefused as refusal:
            if refusal.code == "sync.device_revoked":
                raise
            if refusal.status >= 500:  # a failing server is no better than an absent one
                return self.users.check_offline(username, password)
            self.users.refused_online(username, password, refusal.code, refusal.details)
            raise SignInRefused.from_server(refusal.status, refusal.code, refusal.detail, refusal.details) from None
        return self.users.accept_online(answer, password)

    def sign_out(self) -> str | None:
        """Sign the current user out; their verifier stays for their next sign-in. Returns who it was."""
        return self.users.sign_out()

    def current_user(self) -> TabletUser | None:
        return self.users.current()

    # -- local work ----------------------------------------------------------------------

    def run(self, name: str, args: Any, *, user: str | None = None) -> int:
        """Apply a mutation now (offline or not) and queue it for the server. Returns its seq.

        ``user``: who acts; by default the user signed in on this device, whose roles must
        allow the mutation (``UserForbidden`` otherwise, and nothing is queued)."""
        definition = self.registry.resolve_latest(name)
        with self.engine.begin() as conn:
            user = acting_user(self.users.current_in(conn), user, definition.name)
            hlc = self.clock.tick().text()
            seq = run_local(conn, self.registry, self.identity, definition, args, hlc=hlc, user=user)
            set_meta(conn, "hlc", hlc)
        self.wake.set()
        return seq

    # -- sync ----------------------------------------------------------------------------

    def _versions(self) -> dict[str, int]:
        return {"protocol_version": PROTOCOL_VERSION, "schema_version": SCHEMA_VERSION}

    @_wipes_if_revoked
    def push(self, report: SyncReport | None = None) -> SyncReport:
        """Send every pending mutation, in batches, until the server has seen all of them."""
        report = report or SyncReport()
        identity = self.identity
        while True:
            with self.engine.begin() as conn:
                acknowledged = int(get_meta(conn, "last_applied_seq", "0"))
                rows = conn.execute(
                    select(edge_outbox).where(edge_outbox.c.seq > acknowledged).order_by(edge_outbox.c.seq).limit(PUSH_BATCH)
                ).all()
            if not rows:
                return report
            request = PushRequest(
                **self._versions(), device_id=identity.device_id,
                mutations=[MutationEnvelope(seq=r.seq, name=r.name, version=r.version,
                                            args=msgspec.Raw(open_args(self.engine.dialect, r.seq, r.args)),
                                            hlc=r.hlc, user=r.user_name) for r in rows],
            )
            answer = self.transport.push(request)
            for result in answer.results:
                if result.status == "applied":
                    report.applied += 1
                elif result.status == "rejected":
                    report.rejected += 1
                else:
                    report.duplicates += 1
            report.pushed += len(rows)
            with self.engine.begin() as conn:
                conn.execute(update(edge_outbox).where(edge_outbox.c.seq <= answer.last_applied_seq).values(pushed=1))
                if answer.last_applied_seq > int(get_meta(conn, "last_applied_seq", "0")):
                    set_meta(conn, "last_applied_seq", answer.last_applied_seq)

    @_wipes_if_revoked
    def pull(self, report: SyncReport | None = None, *, page_rows: int = PULL_PAGE) -> SyncReport:
        """Pull pages (of about ``page_rows`` rows) until caught up, rebasing pending work onto each."""
        report = report or SyncReport()
        identity = self.identity
        while True:
            with self.engine.begin() as conn:
                cursor = int(get_meta(conn, "cursor", "0"))
            page = self.transport.pull(PullRequest(**self._versions(), device_id=identity.device_id,
                                                   site_id=identity.site_id, cursor=cursor, limit=page_rows))
            with self.engine.begin() as conn:
                report.pending = apply_pull_page(conn, self.registry, identity, page)
                set_meta(conn, "last_sync_at", datetime.now(timezone.utc).isoformat())
            report.pages += 1
            if not page.has_more:
                return report

    @_wipes_if_revoked
    def bootstrap(self, progress: ProgressCallback | None = None, chunk_rows: int = 20000) -> int:
        """Download the scope snapshot in resumable chunks. Returns rows received."""
        identity = self.identity
        with self.engine.begin() as conn:
            saved = get_meta(conn, "bootstrap_position")
        resume = msgspec.json.decode(saved, type=BootstrapPosition) if saved else None
        received, estimated = 0, 0
        request = BootstrapRequest(**self._versions(), device_id=identity.device_id, resume=resume,
                                   chunk_rows=chunk_rows)
        for frame in self.transport.bootstrap(request):
            match frame:
                case BootstrapStart(estimated_rows=total):
                    estimated = total
                case BootstrapChunk(table=table, columns=columns, rows=rows, position=position):
                    with self.engine.begin() as conn:
                        replace_rows(conn, table, columns, rows)
                        set_meta(conn, "bootstrap_position", msgspec.json.encode(position).decode())
                    received += len(rows)
                case BootstrapDone(cursor=cursor):
                    with self.engine.begin() as conn:
                        set_meta(conn, "cursor", max(cursor, int(get_meta(conn, "cursor", "0"))))
                        set_meta(conn, "bootstrap_position", None)
                        set_meta(conn, "bootstrapped", 1)
            if progress is not None:
                progress(received, max(estimated, received))
        return received

    @property
    def bootstrapped(self) -> bool:
        with self.engine.begin() as conn:
            return get_meta(conn, "bootstrapped") == "1"

    @_wipes_if_revoked
    def sync_once(self, progress: ProgressCallback | None = None) -> SyncReport:
        """Bootstrap if needed, push everything pending, pull until caught up."""
        with self._sync_lock:
            report = SyncReport()
            try:
                if not self.bootstrapped:
                    self.state.transition(SyncState.BOOTSTRAPPING, "first sync")
                    report.bootstrapped_rows = self.bootstrap(progress)
                self.state.transition(SyncState.SYNCING)
                self.push(report)
                self.pull(report)
            except Unreachable as error:
                self.state.transition(SyncState.RETRYING, f"server unreachable: {error}")
                raise
            self.state.transition(SyncState.LIVE, "caught up")
            return report

    def local_checksum(self) -> tuple[int, int, dict[str, TableChecksum]]:
        """(cursor, pending mutations, fingerprints) of the replica, read in one transaction."""
        identity = self.identity
        with self.engine.begin() as conn:
            cursor = int(get_meta(conn, "cursor", "0"))
            pending = pending_count(conn)
            tables = scope_checksum(conn, self.registry, site_id=identity.site_id, device_id=identity.device_id)
        return cursor, pending, tables

    @_wipes_if_revoked
    def verify(self) -> VerifyReport:
        """Compare the replica with the server's fingerprint of this device's scope."""
        cursor, pending, local = self.local_checksum()
        answer = self.transport.checksum(ChecksumRequest(**self._versions(), device_id=self.identity.device_id))
        server = {name: TableChecksum(t.rows, t.digest) for name, t in answer.tables.items()}
        return VerifyReport(cursor, answer.version, pending, local, server)

    # -- what the user sees --------------------------------------------------------------

    def status(self) -> EdgeStatus:
        with self.engine.begin() as conn:
            meta = {key: get_meta(conn, key) for key in ("cursor", "last_applied_seq", "last_sync_at", "bootstrapped",
                                                         "sync_state", "sync_state_reason")}
            local_errors = conn.execute(
                select(func.count()).select_from(edge_outbox).where(edge_outbox.c.local_error.is_not(None))
            ).scalar_one()
            rejections = conn.execute(select(func.count()).select_from(sync_rejections).where(
                sync_rejections.c.status == "open")).scalar_one()
            conflicts = conn.execute(select(func.count()).select_from(sync_conflicts).where(
                sync_conflicts.c.status == "open")).scalar_one()
            pending = pending_count(conn)
            signed_in = self.users.current_in(conn)
        identity = self.identity
        return EdgeStatus(
            device_id=identity.device_id, site_id=identity.site_id, server_url=self._meta["server_url"] or "",
            state=meta["sync_state"] or str(self.state.state), state_reason=meta["sync_state_reason"], pending=pending, pending_with_local_errors=local_errors,
            open_rejections=rejections, open_conflicts=conflicts, cursor=int(meta["cursor"] or 0),
            last_applied_seq=int(meta["last_applied_seq"] or 0), last_sync_at=meta["last_sync_at"],
            bootstrapped=meta["bootstrapped"] == "1", signed_in_user=signed_in.username if signed_in else None,
        )

    def inbox(self) -> list[InboxEntry]:
        """Everything that needs the user: rejections, field conflicts, and pending work that no
        longer applies locally (the server will decide it; the user may want to know)."""
        entries: list[InboxEntry] = []
        with self.engine.begin() as conn:
            for r in conn.execute(select(sync_rejections).where(sync_rejections.c.status == "open")
                                  .order_by(sync_rejections.c.seq)):
                entries.append(InboxEntry("rejection", r.id, f"{r.mutation} #{r.seq}", r.code, r.message,
                                          {"args": json.loads(r.args_json), **json.loads(r.details_json)}))
            for c in conn.execute(select(sync_conflicts).where(sync_conflicts.c.status == "open")):
                entries.append(InboxEntry(
                    "conflict", c.id, f"{c.table_name}.{c.field}", "sync.field_conflict",
                    f"changed on both sides; kept the {c.kept}'s value",
                    {"yours": json.loads(c.device_value_json), "server": json.loads(c.server_value_json)}))
            for o in conn.execute(select(edge_outbox).where(edge_outbox.c.local_error.is_not(None))):
                code, _, message = o.local_error.partition(": ")
                entries.append(InboxEntry("local_error", str(o.seq), f"{o.name} #{o.seq}", code, message))
        return entries

    def discard(self, rejection_id: str) -> int:
        return self.run("sync.resolve_rejection", ResolveRejection(rejection_id=rejection_id, resolution="discarded"))

    def resubmit(self, rejection_id: str, changes: dict[str, Any] | None = None, *, user: str | None = None) -> int:
        """Queue the rejected mutation again with ``changes`` applied to its arguments, and close
        the rejection, both in one local transaction."""
        with self.engine.begin() as conn:
            row = conn.execute(select(sync_rejections).where(sync_rejections.c.id == rejection_id)).first()
        if row is None:
            raise JcerpError("no such rejection in the inbox", code="edge.unknown_rejection")
        definition = self.registry.resolve(row.mutation, row.mutation_version)
        args = definition.convert({**json.loads(row.args_json), **(changes or {})})
        with self.engine.begin() as conn:
            identity = self.identity
            signed_in = self.users.current_in(conn)
            acting_user(signed_in, user, "sync.resolve_rejection")
            user = acting_user(signed_in, user, definition.name)
            hlc = self.clock.tick().text()
            seq = run_local(conn, self.registry, identity, definition, args, hlc=hlc, user=user)
            resolve = self.registry.resolve_latest("sync.resolve_rejection")
            resolve_hlc = self.clock.tick().text()
            run_local(conn, self.registry, identity, resolve,
                      ResolveRejection(rejection_id=rejection_id, resolution="resubmitted", resubmitted_seq=seq),
                      hlc=resolve_hlc, user=user)
            set_meta(conn, "hlc", resolve_hlc)
        self.wake.set()
        return seq

    def acknowledge(self, conflict_id: str) -> int:
        return self.run("sync.acknowledge_conflict", AcknowledgeConflict(conflict_id=conflict_id))

    def close(self) -> None:
        self.replica.close()
        if self.transport is not None:
            self.transport.close()


