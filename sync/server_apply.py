"""Apply mutations authoritatively on the server: device pushes and HQ commands.

Runs on a synchronous SQLAlchemy ``Connection`` (the async server calls it through
``AsyncConnection.run_sync``) so mutation handlers have one definition for both sides.

Invariants kept here:
- One push batch is one transaction. It first advances ``sync_clock`` (whose row lock orders
  commits), then locks the device row and re-reads ``last_applied_seq``; so two workers racing
  the same batch apply each mutation once, and the second sees the first's result.
- A rejection rolls back only that mutation's writes, is stored (``sync_rejections``) and
  counts as processed, so it never blocks later mutations. The outcome is exactly that of a
  savepoint per mutation; consecutive mutations share one savepoint, and a run that meets a
  failure is rolled back and replayed with the failing mutation in a savepoint of its own
  (``_apply_in_order``), which saves two statements per mutation in the common case.
- ``last_applied_seq`` advances in the same transaction as the effects it acknowledges.
- Every processed (device, seq) gets one ``sync_mutation_log`` row; its primary key makes a
  second application impossible even if the checks above had a hole.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

import msgspec
from sqlalchemy import Connection, event, insert, select, update

from protocol.base import decode
from protocol.push import MutationEnvelope, MutationResult, PushResponse
from sync.builtin import sync_conflicts, sync_rejections
from sync.context import BY_KEY, Actor, FieldConflict, MutationContext, MutationRef, RowCache, Side
from sync.errors import InvalidArguments, MutationRejected, ProtocolError, SequenceGap, UnknownDevice
from sync.ids import new_id
from sync.registry import MutationDef, Registry
from sync.validation import first_problem
from sync.schema import sync_clock, sync_devices, sync_mutation_log

log = logging.getLogger(__name__)

Permits = Callable[[str], bool]  # does the actor hold this permission?


@dataclass(frozen=True)
class DecodedMutation:
    envelope: MutationEnvelope
    definition: MutationDef
    args: Any
    # What the device and its user may do, from the authorization check: the personal-field
    # rule of ``MutationContext`` asks it. None: not checked.
    permits: Callable[[str], bool] | None = None


@dataclass
class PushOutcome:
    response: PushResponse
    touched_scopes: set[str] = field(default_factory=set)


def advance_clock(conn: Connection) -> int:
    """Take the next change version. Holds the clock row lock until the transaction ends."""
    return conn.execute(
        update(sync_clock).where(sync_clock.c.id == 1).values(version=sync_clock.c.version + 1).returning(sync_clock.c.version)
    ).scalar_one()


def current_version(conn: Connection) -> int:
    return conn.execute(select(sync_clock.c.version).where(sync_clock.c.id == 1)).scalar_one()


_json_encoder = msgspec.json.Encoder(enc_hook=str, decimal_format="string")


def _json(value: Any) -> str:
    return _json_encoder.encode(value).decode()


def record_conflicts(
    conn: Connection, conflicts: list[FieldConflict], *, device_id: str | None, site_id: str | None,
    seq: int | None, version: int, now: datetime,
) -> None:
    if not conflicts:
        return
    conn.execute(
        insert(sync_conflicts),
        [
            {
                "id": new_id(),
                "device_id": device_id,
                "site_id": site_id,
                "seq": seq,
                "table_name": conflict.table,
                "row_key": _json(list(conflict.row_key)),
                "field": conflict.field,
                "base_version": conflict.base_version,
                "device_value_json": _json(conflict.device_value),
                "server_value_json": _json(conflict.server_value),
                "kept": conflict.kept,
                "detected_at": now,
                "status": "open",
                "_version": version,
            }
            for conflict in conflicts
        ],
    )


def apply_push(
    conn: Connection,
    registry: Registry,
    device_id: str,
    batch: list[DecodedMutation],
    *,
    now: datetime | None = None,
    authorize: Callable[[Connection, Mapping[str, Any]], Callable[[MutationEnvelope], Permits | None]] | None = None,
) -> PushOutcome:
    """Apply one contiguous batch from one device inside the caller's transaction.

    ``authorize(conn, device row)`` returns a check for each mutation that raises
    ``MutationRejected`` when the device or its user may not do it: that mutation is then
    rejected like any other (stored, reported, never blocking the rest). The check returns
    what the device and user hold (``permits(permission)``), which bounds the personal fields
    the mutation may write, or None for no such bound."""
    now = now or datetime.now(timezone.utc)
    version = advance_clock(conn)
    device = conn.execute(
        select(sync_devices).where(sync_devices.c.id == device_id).with_for_update()
    ).mappings().first()
    if device is None or device["revoked_at"] is not None:
        raise UnknownDevice("this device is not enrolled", device_id=device_id)
    last = device["last_applied_seq"]
    if batch and batch[0].envelope.seq > last + 1:
        raise SequenceGap(
            f"expected mutation {last + 1} next, got {batch[0].envelope.seq}",
            expected_seq=last + 1,
            received_seq=batch[0].envelope.seq,
        )
    results: list[MutationResult] = []
    log_rows: list[dict[str, Any]] = []
    touched: set[str] = set()
    duplicates = [item.envelope.seq for item in batch if item.envelope.seq <= last]
    earlier = _earlier_outcomes(conn, device_id, duplicates)
    # Rows shared by the batch's mutations (see sync.context); rejections and conflicts are
    # written here, outside any context, so they are never cached.
    cache = RowCache(uncached=frozenset({sync_rejections.name, sync_conflicts.name}))
    fresh = [item for item in batch if item.envelope.seq > last]
    if authorize is not None:
        fresh = _authorized(fresh, authorize(conn, device))
    for item in batch:
        if item.envelope.seq <= last:
            results.append(MutationResult(seq=item.envelope.seq, status="duplicate", code=earlier.get(item.envelope.seq)))

    def context(item: DecodedMutation) -> MutationContext:
        envelope = item.envelope
        actor = Actor(device_id=device_id, site_id=device["site_id"], user=envelope.user, permits=item.permits)
        ref = MutationRef(device_id, envelope.seq, envelope.name, envelope.version, envelope.hlc)
        return MutationContext(conn, registry, Side.SERVER, actor, ref, commit_version=version, cache=cache)

    def applied(item: DecodedMutation, ctx: MutationContext) -> None:
        record_conflicts(conn, ctx.conflicts, device_id=device_id, site_id=device["site_id"],
                         seq=item.envelope.seq, version=version, now=now)

    for item, result, ctx in _apply_in_order(conn, fresh, context, applied, cache, now):
        envelope = item.envelope
        if result.status == "applied":
            touched |= ctx.touched_scopes
        results.append(result)
        log_rows.append(
            {
                "device_id": device_id,
                "seq": envelope.seq,
                "mutation": f"{envelope.name}@{envelope.version}",
                "status": result.status,
                "code": result.code,
                "hlc": envelope.hlc,
                "user_name": envelope.user,
                "commit_version": version,
                "processed_at": now,
            }
        )
        last = envelope.seq
    if log_rows:
        conn.execute(insert(sync_mutation_log), log_rows)
    conn.execute(
        update(sync_devices).where(sync_devices.c.id == device_id).values(last_applied_seq=last, last_seen_at=now)
    )
    return PushOutcome(
        PushResponse(last_applied_seq=last, server_version=version if log_rows else 0, results=results),
        touched,
    )


def _authorized(items: list[DecodedMutation],
                check: Callable[[MutationEnvelope], Permits | None]) -> list[DecodedMutation]:
    """The batch with every unauthorized mutation's handler replaced by its refusal, so the
    refusal takes the path of any rejection; every authorized one carries what it permits."""
    checked = []
    for item in items:
        try:
            permits = check(item.envelope)
            checked.append(item if permits is None else replace(item, permits=permits))
        except MutationRejected as refusal:
            checked.append(replace(item, definition=replace(item.definition, handler=_refuse(refusal))))
    return checked


def _refuse(refusal: MutationRejected) -> Callable[[MutationContext, Any], None]:
    def handler(ctx: MutationContext, args: Any) -> None:
        raise refusal

    return handler


def _earlier_outcomes(conn: Connection, device_id: str, seqs: list[int]) -> dict[int, str | None]:
    """For repeated entries: the rejection code of each earlier outcome (None if applied)."""
    if not seqs:
        return {}
    rows = conn.execute(
        select(sync_mutation_log.c.seq, sync_mutation_log.c.code).where(
            sync_mutation_log.c.device_id == device_id, sync_mutation_log.c.seq.in_(seqs)
        )
    )
    return {row.seq: row.code for row in rows}


def _apply_in_order(
    conn: Connection,
    items: list[DecodedMutation],
    context: Callable[[DecodedMutation], MutationContext],
    applied: Callable[[DecodedMutation, MutationContext], None],
    cache: RowCache,
    now: datetime,
) -> list[tuple[DecodedMutation, MutationResult, MutationContext]]:
    """Run ``items`` in order, each on the effects of those applied before it; a rejected one
    leaves no write behind, and its rejection is stored.

    The result is the one a savepoint per mutation gives; the way there is cheaper. A run of
    mutations shares one savepoint. If one of them raises, the run's savepoint rolls back
    (nothing of the run remains, the cached rows are dropped), that mutation is marked to run
    in a savepoint of its own (``_apply_one``), and the run starts again from its first
    mutation, ending right after the marked one. Handlers are deterministic functions of the
    database state, so the mutations before the marked one apply again as they did; should
    one raise anyway, it is marked too. Each mutation thus runs at most a few times, and only
    the last run's writes and contexts are kept.
    """
    # Updates the cache holds back are written before any statement that might see their
    # rows runs (sync.context.RowCache).
    def flush(_conn: Any, _statement: Any, _multiparams: Any, _params: Any, options: Any) -> None:
        if not options.get(BY_KEY):
            cache.flush(conn)

    event.listen(conn, "before_execute", flush)
    try:
        done = _runs(conn, items, context, applied, cache, now)
        cache.flush(conn)
    finally:
        event.remove(conn, "before_execute", flush)
    return done


def _runs(
    conn: Connection,
    items: list[DecodedMutation],
    context: Callable[[DecodedMutation], MutationContext],
    applied: Callable[[DecodedMutation, MutationContext], None],
    cache: RowCache,
    now: datetime,
) -> list[tuple[DecodedMutation, MutationResult, MutationContext]]:
    done: list[tuple[DecodedMutation, MutationResult, MutationContext]] = []
    isolated: set[int] = set()
    start = 0
    while start < len(items):
        run = conn.begin_nested()
        outcomes: list[tuple[DecodedMutation, MutationResult, MutationContext]] = []
        failed = False
        for index in range(start, len(items)):
            item = items[index]
            ctx = context(item)
            if index in isolated:
                result = _apply_one(conn, ctx, item, now)
                if result.status == "applied":
                    applied(item, ctx)
                outcomes.append((item, result, ctx))
                break  # end the run here, so a later failure never repeats this one
            try:
                item.definition.handler(ctx, item.args)
                applied(item, ctx)
            except Exception:  # decided again below, in a savepoint of its own
                isolated.add(index)
                failed = True
                break
            outcomes.append((item, MutationResult(seq=item.envelope.seq, status="applied"), ctx))
        if failed:
            cache.clear()  # first: held updates must not be written, cached rows are stale
            run.rollback()
            continue
        run.commit()
        done.extend(outcomes)
        start += len(outcomes)
    return done


def _drop_cache(ctx: MutationContext) -> None:
    """Before a rollback: held updates must not be written, and cached rows read after a
    rolled-back write may no longer be what the database holds."""
    if ctx.cache is not None:
        ctx.cache.clear()


def _without_personal_args(item: DecodedMutation) -> Any:
    """The arguments a rejection keeps: personal ones (``MutationDef.personal_args``) emptied,
    since rejection lists at HQ and the device's inbox have no field rules of their own."""
    personal = item.definition.personal_args
    if not personal or not isinstance(item.args, msgspec.Struct):
        return item.args
    return msgspec.structs.replace(item.args, **{name: None for name in personal})


def _apply_one(conn: Connection, ctx: MutationContext, item: DecodedMutation, now: datetime) -> MutationResult:
    envelope = item.envelope
    savepoint = conn.begin_nested()
    try:
        item.definition.handler(ctx, item.args)
        savepoint.commit()
        return MutationResult(seq=envelope.seq, status="applied")
    except MutationRejected as rejection:
        _drop_cache(ctx)
        savepoint.rollback()
        code, message, details = rejection.code, rejection.message, rejection.details
    except Exception as error:  # a handler bug must not lose the work: reject it visibly
        _drop_cache(ctx)
        savepoint.rollback()
        # The device gets a reference, not database internals; the server log has the details.
        reference = new_id()
        log.exception("mutation %s@%s seq %s failed, reference %s", envelope.name, envelope.version,
                      envelope.seq, reference)
        code, message, details = ("sync.handler_failed",
                                  f"the server could not apply this ({type(error).__name__}); "
                                  f"reference {reference}", {"reference": reference})
    ctx.touched_scopes.clear()
    conn.execute(
        insert(sync_rejections).values(
            id=new_id(),
            device_id=ctx.actor.device_id,
            site_id=ctx.actor.site_id,
            seq=envelope.seq,
            mutation=envelope.name,
            mutation_version=envelope.version,
            args_json=_json(_without_personal_args(item)),
            code=code,
            message=message,
            details_json=_json(details),
            hlc=envelope.hlc,
            user_name=envelope.user,
            rejected_at=now,
            status="open",
            _version=ctx.commit_version,
        )
    )
    return MutationResult(seq=envelope.seq, status="rejected", code=code, message=message, details=details)


def apply_hq(
    conn: Connection, registry: Registry, definition: MutationDef, args: Any, *, user: str | None = None,
    site_id: str | None = None, hlc: str = "", now: datetime | None = None, permits: Permits | None = None,
) -> MutationContext:
    """Run one mutation for headquarters: for every site, or for ``site_id`` only (a user bound
    to one site, checked like a device of that site). ``permits``: the user's permissions, for
    the personal-field rule (None: not checked). A rejection propagates to the caller, whose
    transaction then rolls back: HQ gets the error at once instead of an inbox entry."""
    now = now or datetime.now(timezone.utc)
    version = advance_clock(conn)
    ctx = MutationContext(
        conn, registry, Side.SERVER, Actor(device_id=None, site_id=site_id, user=user, permits=permits),
        MutationRef(None, 0, definition.name, definition.version, hlc or f"{version:015d}-00000-hq"),
        commit_version=version,
    )
    definition.handler(ctx, args)
    record_conflicts(conn, ctx.conflicts, device_id=None, site_id=None, seq=None, version=version, now=now)
    return ctx


def decode_batch(registry: Registry, envelopes: list[MutationEnvelope], media_type: str) -> list[DecodedMutation]:
    """Resolve and validate every mutation of a batch before anything is applied.

    Raises ``UnknownMutation`` or ``InvalidArguments`` naming the offending sequence; the whole
    batch is then refused, so a malformed request leaves nothing half-written.
    """
    decoded = []
    previous: int | None = None
    for envelope in envelopes:
        if previous is not None and envelope.seq != previous + 1:
            raise ProtocolError("mutation sequences in a batch must be contiguous and ascending",
                                code="sync.batch_not_contiguous", seq=envelope.seq)
        previous = envelope.seq
        if envelope.seq < 1:
            raise ProtocolError("mutation sequences start at 1", code="sync.bad_sequence", seq=envelope.seq)
        definition = registry.resolve(envelope.name, envelope.version)
        try:
            args = decode(envelope.args, definition.args_type, media_type)
        except (msgspec.ValidationError, msgspec.DecodeError, RecursionError) as error:
            raise InvalidArguments(f"mutation {envelope.seq} ({definition.key}): {error}", seq=envelope.seq) from error
        problem = first_problem(envelope) or first_problem(args)
        if problem is not None:
            raise InvalidArguments(f"mutation {envelope.seq} ({definition.key}): {problem}", seq=envelope.seq)
        decoded.append(DecodedMutation(envelope, definition, args))
    return decoded


