"""``sync.server_apply.apply_push`` on its own: a batch with rejections in the middle ends
exactly as if every mutation had been pushed alone, rejections leave no writes behind, and
every processed sequence is logged once."""

from __future__ import annotations

import tempfile
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import given, settings, strategies as st
from sqlalchemy import insert, select

from edge_client.replica import open_engine
from erp.inventory.on_hand import on_hand
from erp.inventory.stock_move import stock_moves
from protocol.base import encode
from protocol.push import MutationEnvelope
from sync.builtin import sync_rejections
from sync.registry import discover
from sync.schema import metadata, sync_clock, sync_devices, sync_mutation_log
from sync.server_apply import apply_hq, apply_push, decode_batch

WHEN = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)
REGISTRY = discover()


def _world(path: Path):
    """A server database with one site, item, two locations (policy 'reject') and a device."""
    engine = open_engine(path)
    with engine.begin() as conn:
        metadata.create_all(conn)
        conn.execute(insert(sync_clock).values(id=1, version=0))

        def hq(mutation_name: str, /, **args: Any) -> None:
            definition = REGISTRY.resolve_latest(mutation_name)
            apply_hq(conn, REGISTRY, definition, definition.convert(args))

        hq("org.create_site", site_id="S", code="S", name="仓", kind="warehouse")
        hq("inventory.create_unit", code="PCS", name="件")
        hq("inventory.create_item", item_id="I", sku="I", name="件", unit_code="PCS")
        hq("inventory.create_warehouse", warehouse_id="W", site_id="S", code="W", name="W",
           negative_stock_policy="reject")
        hq("inventory.create_location", location_id="L1", warehouse_id="W", code="L1", name="L1")
        hq("inventory.create_location", location_id="L2", warehouse_id="W", code="L2", name="L2")
        conn.execute(insert(sync_devices).values(id="D", site_id="S", name="d", token_hash="x",
                                                 last_applied_seq=0, enrolled_at=WHEN))
    return engine


def _envelope(seq: int, name: str, **args: Any) -> MutationEnvelope:
    definition = REGISTRY.resolve_latest(name)
    payload = encode(definition.convert({**args, "occurred_at": WHEN.isoformat()}))
    return MutationEnvelope(seq=seq, name=name, version=definition.version, args=msgspec.Raw(payload),
                            hlc=f"{seq:015d}-00000-D")


def _state(engine) -> tuple:
    with engine.connect() as conn:
        balances = sorted((r.location_id, r.quantity) for r in conn.execute(select(on_hand)))
        moves = sorted((r.id, r.kind, r.quantity) for r in conn.execute(select(stock_moves)))
        rejected = sorted((r.seq, r.code) for r in conn.execute(select(sync_rejections)))
        logged = sorted((r.seq, r.status) for r in conn.execute(select(sync_mutation_log)))
    return balances, moves, rejected, logged


def _push(engine, envelopes: list[MutationEnvelope]) -> list[str]:
    with engine.begin() as conn:
        outcome = apply_push(conn, REGISTRY, "D", decode_batch(REGISTRY, envelopes, "application/msgpack"))
    return [result.status for result in outcome.response.results]


def test_a_batch_with_rejections_in_the_middle(tmp_path):
    engine = _world(tmp_path / "server.db")
    batch = [
        _envelope(1, "inventory.receive", move_id="m1", item_id="I", location_id="L1", quantity="5"),
        _envelope(2, "inventory.issue", move_id="m2", item_id="I", location_id="L1", quantity="100"),
        _envelope(3, "inventory.receive", move_id="m3", item_id="I", location_id="nowhere", quantity="1"),
        _envelope(4, "inventory.issue", move_id="m4", item_id="I", location_id="L1", quantity="3"),
        _envelope(5, "inventory.receive", move_id="m5", item_id="I", location_id="L1", quantity="10"),
        _envelope(6, "inventory.reverse", reversal_id="r1", move_id="m1", reason="错"),
        _envelope(7, "inventory.reverse", reversal_id="r2", move_id="m1", reason="again"),
    ]
    assert _push(engine, batch) == ["applied", "rejected", "rejected", "applied", "applied", "applied", "rejected"]
    balances, moves, rejected, logged = _state(engine)
    assert balances == [("L1", Decimal(7))]
    assert [m[0] for m in moves] == ["m1", "m4", "m5", "r1"]
    assert rejected == [(2, "inventory.negative_stock"), (3, "inventory.unknown_location"),
                        (7, "inventory.already_reversed")]
    assert logged == [(seq, status) for seq, status in zip(range(1, 8), ["applied", "rejected", "rejected",
                                                                          "applied", "applied", "applied",
                                                                          "rejected"])]
    # The same batch again is acknowledged and changes nothing.
    assert _push(engine, batch) == ["duplicate"] * 7
    assert _state(engine) == (balances, moves, rejected, logged)


operation = st.tuples(
    st.sampled_from(["receive", "issue", "transfer", "reverse"]),
    st.sampled_from(["L1", "L2", "nowhere"]),
    st.integers(1, 12),
)


@settings(max_examples=30, deadline=None)
@given(operations=st.lists(operation, min_size=1, max_size=25))
def test_one_batch_ends_exactly_like_one_push_per_mutation(operations):
    envelopes = []
    for seq, (kind, location, quantity) in enumerate(operations, start=1):
        if kind == "receive":
            envelopes.append(_envelope(seq, "inventory.receive", move_id=f"m{seq}", item_id="I",
                                       location_id=location, quantity=str(quantity)))
        elif kind == "issue":
            envelopes.append(_envelope(seq, "inventory.issue", move_id=f"m{seq}", item_id="I",
                                       location_id=location, quantity=str(quantity)))
        elif kind == "transfer":
            envelopes.append(_envelope(seq, "inventory.transfer", transfer_id=f"t{seq}", out_move_id=f"m{seq}o",
                                       in_move_id=f"m{seq}i", item_id="I", from_location_id="L1",
                                       to_location_id=location, quantity=str(quantity)))
        else:
            envelopes.append(_envelope(seq, "inventory.reverse", reversal_id=f"m{seq}",
                                       move_id=f"m{max(1, seq - quantity)}", reason="r"))
    with tempfile.TemporaryDirectory() as directory:
        together, alone = _world(Path(directory) / "a.db"), _world(Path(directory) / "b.db")
        statuses_together = _push(together, envelopes)
        statuses_alone = [status for envelope in envelopes for status in _push(alone, [envelope])]
        assert statuses_together == statuses_alone
        assert _state(together) == _state(alone)
        together.dispose()
        alone.dispose()
