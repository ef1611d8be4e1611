"""Run mutations locally, and rebase pending ones onto each server patch.

``run_local`` applies a user's action at once: the handler runs in one local transaction that
also appends the mutation to the outbox, so the effect and the record of it are never apart.

``apply_pull_page`` is the other half, in one transaction:
1. refuse a cursor that goes backwards;
2. undo the optimistic effects of pending mutations (the journal);
3. apply the server's rows and deletes;
4. drop outbox entries the server has processed (``seq <= last_applied_seq``);
5. re-run the remaining pending mutations on top, journaling again.
Afterwards local state is server state plus pending work. A pending mutation that no longer
applies locally keeps its place in the outbox (the server decides); its ``local_error`` says why.

The queued arguments of a mutation that carries personal data (``MutationDef.personal_args``)
are kept encrypted under the device's data key (``seal_args``/``open_args``), like the personal
fields of the replica they will change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import msgspec
from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.engine import Dialect

from edge_client.journal import Journal, revert_all
from edge_client.local_tables import edge_outbox
from edge_client.replica import get_meta, replace_rows, set_meta
from protocol.pull import PullResponse
from sync.context import Actor, MutationContext, MutationRef, Side
from sync.errors import CursorRegressed, JcerpError, MutationRejected
from sync.personal import PersonalDataUnreadable, cipher_of, is_sealed_blob
from sync.registry import MutationDef, Registry
from sync.validation import first_problem

_encoder = msgspec.msgpack.Encoder(decimal_format="string")


def _outbox_where(seq: int) -> str:
    return f"edge_outbox.args.{seq}"  # bound to its entry: sealed arguments cannot swap places


def seal_args(dialect: Dialect, definition: MutationDef, seq: int, encoded: bytes) -> bytes:
    """The outbox form of encoded arguments: sealed if they may carry personal data."""
    cipher = cipher_of(dialect)
    if cipher is None or not definition.personal_args:
        return encoded
    return cipher.encrypt_bytes(encoded, _outbox_where(seq))


def open_args(dialect: Dialect, seq: int, stored: bytes) -> bytes:
    """The MessagePack arguments of an outbox entry, as they are sent."""
    if not is_sealed_blob(stored):
        return stored
    cipher = cipher_of(dialect)
    if cipher is None:
        raise PersonalDataUnreadable("this outbox entry is encrypted and the replica has no data key",
                                     field=_outbox_where(seq))
    return cipher.decrypt_bytes(stored, _outbox_where(seq))


@dataclass(frozen=True)
class DeviceIdentity:
    device_id: str
    site_id: str


def _context(conn: Connection, registry: Registry, identity: DeviceIdentity, seq: int, definition: MutationDef,
             hlc: str, user: str | None) -> MutationContext:
    return MutationContext(
        conn, registry, Side.EDGE, Actor(identity.device_id, identity.site_id, user),
        MutationRef(identity.device_id, seq, definition.name, definition.version, hlc),
        commit_version=0, journal=Journal(),
    )


def run_local(conn: Connection, registry: Registry, identity: DeviceIdentity, definition: MutationDef, args: Any,
              *, hlc: str, user: str | None) -> int:
    """Apply a new mutation optimistically and queue it. Returns its sequence number.

    A ``MutationRejected`` raised by the handler propagates: the caller's transaction rolls back
    and nothing is queued, so the user can correct the input at once.
    """
    problem = first_problem(args)
    if problem is not None:
        # The server would refuse the whole push for it and block everything queued behind it:
        # refuse it now, while the user can still correct it.
        raise MutationRejected(problem, code="sync.invalid_arguments")
    seq = int(get_meta(conn, "next_seq", "1"))
    definition.handler(_context(conn, registry, identity, seq, definition, hlc, user), args)
    conn.execute(
        insert(edge_outbox).values(
            seq=seq, name=definition.name, version=definition.version,
            args=seal_args(conn.dialect, definition, seq, _encoder.encode(args)), hlc=hlc,
            user_name=user, created_at=datetime.now(timezone.utc).isoformat(), pushed=0,
        )
    )
    set_meta(conn, "next_seq", seq + 1)
    return seq


def apply_pull_page(conn: Connection, registry: Registry, identity: DeviceIdentity, page: PullResponse) -> int:
    """Apply one pull page and rebase. Returns how many pending mutations remain."""
    cursor = int(get_meta(conn, "cursor", "0"))
    if page.cursor < cursor:
        raise CursorRegressed(f"server cursor {page.cursor} is behind ours ({cursor})", ours=cursor, theirs=page.cursor)
    revert_all(conn, registry)
    for patch in page.tables:
        spec = registry.spec(patch.table)
        for key in patch.deleted:
            conn.execute(delete(spec.table).where(*(spec.table.c[n] == v for n, v in zip(spec.key_columns, key))))
        if patch.rows:
            unknown = set(patch.columns) - set(spec.data_columns)
            if unknown:
                raise JcerpError(f"{patch.table}: unknown columns {sorted(unknown)}", code="sync.schema_mismatch")
            replace_rows(conn, patch.table, patch.columns, patch.rows)
    conn.execute(delete(edge_outbox).where(edge_outbox.c.seq <= page.last_applied_seq))
    set_meta(conn, "cursor", page.cursor)
    set_meta(conn, "last_applied_seq", page.last_applied_seq)
    return rerun_pending(conn, registry, identity)


def rerun_pending(conn: Connection, registry: Registry, identity: DeviceIdentity) -> int:
    pending = conn.execute(select(edge_outbox).order_by(edge_outbox.c.seq)).all()
    for entry in pending:
        definition = registry.resolve(entry.name, entry.version)
        error: str | None = None
        savepoint = conn.begin_nested()
        try:
            args = msgspec.msgpack.decode(open_args(conn.dialect, entry.seq, entry.args), type=definition.args_type)
            definition.handler(_context(conn, registry, identity, entry.seq, definition, entry.hlc, entry.user_name),
                               args)
            savepoint.commit()
        except JcerpError as failure:
            savepoint.rollback()
            error = f"{failure.code}: {failure.message}"
        except Exception as failure:  # a handler bug must not block the pull; the server decides
            savepoint.rollback()
            error = f"edge.rerun_failed: {failure!r}"
        if error != entry.local_error:
            conn.execute(update(edge_outbox).where(edge_outbox.c.seq == entry.seq).values(local_error=error))
    return len(pending)


def pending_count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(edge_outbox)).scalar_one()
