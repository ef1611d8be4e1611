"""Push batches: how the push throughput of one server process depends on the batch size.

What it measures: mutations/s applied by one server process (``server.process.ServerProcess``)
on 127.0.0.1 when a device pushes ``inventory.receive`` mutations in batches of 1, 10, 100, 500
and 1,000 (``protocol.push.MAX_BATCH``), on SQLite and on PostgreSQL. Every batch is one
request and one server transaction, so the sweep shows how far batching amortizes the cost of
a request and a commit.

How: per batch size, a freshly enrolled device sends 20 batches, and at least 1,000 mutations
(quick: 4 batches, at least 200): 1,000 mutations in batches of 1 and of 10, 2,000 of 100,
10,000 of 500 and 20,000 of 1,000. The mutations are built beforehand (valid arguments encoded
as the device encodes them, ``bench.common.receipt_envelopes``, rotating over 4 items × 5
locations), not timed; only the loop of ``HttpTransport.push`` calls is. That is the device's
transport and the server's whole push path, without the device's outbox bookkeeping, which
``bench/push.py`` includes. Every answer must report all its mutations applied and
``last_applied_seq`` at the batch's last one. One server per backend serves the whole sweep,
after a warm-up push of 100 mutations from another device; PostgreSQL gets master data with the
same ids and the very same mutations, in a database of its own, dropped afterwards.

Baseline (same run, same server): the batch of 500 (``edge_client.client.PUSH_BATCH``), the
size the device sends; the ratio is each batch size's throughput against it.

Target (spec, as for ``push``): ≥ 10,000 mutations/s on SQLite and ≥ 5,000 on PostgreSQL,
attached to the batch of 500, the device's operating point.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.common import (
    Figure, MasterData, Session, create_master_data, enrollment_codes, postgres_database, receipt_envelopes,
    running_server, skipped, sqlite_url, stopwatch,
)
from bench.push import TARGETS
from edge_client.client import PUSH_BATCH
from edge_client.device_key import DeviceSignature
from edge_client.transport import HttpTransport
from protocol import PROTOCOL_VERSION
from protocol.enroll import EnrollRequest
from protocol.push import MAX_BATCH, MutationEnvelope, PushRequest
from protocol.signing import public_key_text
from server.process import ServerProcess
from sync.hlc import HybridLogicalClock
from sync.ids import new_id
from sync.schema import SCHEMA_VERSION

NAME = "push_batches"
BATCH_SIZES = (1, 10, 100, PUSH_BATCH, MAX_BATCH)
WARM_UP_MUTATIONS = 100
_VERSIONS = {"protocol_version": PROTOCOL_VERSION, "schema_version": SCHEMA_VERSION}


def mutations_for(batch: int, quick: bool) -> int:
    """Enough batches to average over, and enough mutations that small batches are not a blip."""
    return max(batch * 4, 200) if quick else max(batch * 20, 1_000)


def push_all(transport: HttpTransport, device_id: str, envelopes: list[MutationEnvelope], batch: int) -> float:
    """Seconds to push ``envelopes`` in batches of ``batch``; every one must come back applied."""
    elapsed = stopwatch()
    for start in range(0, len(envelopes), batch):
        chunk = envelopes[start:start + batch]
        answer = transport.push(PushRequest(**_VERSIONS, device_id=device_id, mutations=chunk))
        if answer.last_applied_seq != chunk[-1].seq or any(r.status != "applied" for r in answer.results):
            raise AssertionError(f"batch of {batch} from seq {chunk[0].seq}: last_applied_seq "
                                 f"{answer.last_applied_seq}, statuses {sorted({r.status for r in answer.results})}")
    return elapsed()


def enrolled(server: ServerProcess, site_id: str, name: str) -> tuple[HttpTransport, str]:
    key = Ed25519PrivateKey.generate()
    transport = HttpTransport(server.url)
    answer = transport.enroll(EnrollRequest(**_VERSIONS, site_id=site_id, device_name=name,
                                            enrollment_code=enrollment_codes(server, site_id)[0],
                                            public_key=public_key_text(key)))
    transport.token = answer.token
    transport.signer = DeviceSignature(key)
    return transport, answer.device_id


def sweep(session: Session, backend: str, db_url: str, work: Path, master: MasterData,
          streams: dict[int, list[MutationEnvelope]]) -> dict[int, dict[str, Any]]:
    results: dict[int, dict[str, Any]] = {}
    with running_server(db_url, work / "server.log") as server:
        create_master_data(server, items=4, locations=5, like=master)
        transport, device_id = enrolled(server, master.site_id, "预热平板")
        try:
            warm_up = receipt_envelopes(master.item_ids, master.location_ids, first_seq=1, count=WARM_UP_MUTATIONS,
                                        clock=HybridLogicalClock(node=device_id[-12:]))
            push_all(transport, device_id, warm_up, WARM_UP_MUTATIONS)
        finally:
            transport.close()
        for batch, envelopes in streams.items():
            transport, device_id = enrolled(server, master.site_id, f"基准平板 {batch}")
            try:
                seconds = push_all(transport, device_id, envelopes, batch)
            finally:
                transport.close()
            results[batch] = {"rate": len(envelopes) / seconds, "seconds": seconds, "mutations": len(envelopes)}
            session.log(f"push_batches/{backend}: batches of {batch:,}: {len(envelopes):,} mutations in "
                        f"{seconds:.2f} s = {results[batch]['rate']:,.0f}/s")
    return results


def _figures(backend: str, results: dict[int, dict[str, Any]]) -> list[Figure]:
    base = results[PUSH_BATCH]
    return [
        Figure(NAME, f"mutations/s in batches of {batch:,}", backend, "mutations/s", result["rate"],
               baseline_name=f"batches of {PUSH_BATCH}", baseline_value=base["rate"],
               target=TARGETS[backend] if batch == PUSH_BATCH else None,
               details={"batch": batch, "mutations": result["mutations"], "pushes": -(-result["mutations"] // batch),
                        "seconds": round(result["seconds"], 3)})
        for batch, result in results.items()
    ]


def run(session: Session) -> list[Figure]:
    master = MasterData(new_id(), [new_id() for _ in range(4)], [new_id() for _ in range(5)])
    # Built once and sent unchanged to both servers; the hlc's node is free text to the server.
    clock = HybridLogicalClock(node=new_id()[-12:])
    streams = {batch: receipt_envelopes(master.item_ids, master.location_ids, first_seq=1,
                                        count=mutations_for(batch, session.quick), clock=clock)
               for batch in BATCH_SIZES}
    work = session.scratch(f"{NAME}/sqlite")
    figures = _figures("SQLite", sweep(session, "SQLite", sqlite_url(work / "server.db"), work, master, streams))
    reason = session.postgres_unavailable()
    if reason is not None:
        return figures + [skipped(NAME, f"mutations/s in batches of {batch:,}", "PostgreSQL", "mutations/s", reason,
                                  TARGETS["PostgreSQL"] if batch == PUSH_BATCH else None) for batch in BATCH_SIZES]
    with postgres_database(session.pg_url) as (server_url, _dsn):
        figures += _figures("PostgreSQL", sweep(session, "PostgreSQL", server_url, session.scratch(f"{NAME}/postgres"),
                                                master, streams))
    return figures
