"""Sales mutation handlers run through ``sync.context.MutationContext`` on a plain SQLite
database, as the server applies them: HQ creates a customer and an order and decides; a dock
device records deliveries and returns, in any order, replayed or not. After every step the
ledger, the written-back quantities, the reservations, on-hand and the order's state agree."""

from __future__ import annotations

import itertools
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, create_engine, select

from erp.inventory.on_hand import on_hand
from erp.sales.delivery import so_deliveries
from erp.sales.reservation import reserved_stock, stock_reservations
from erp.sales.sales_exception import sales_exceptions
from erp.sales.sales_order import DELIVERING_STATES, sales_order_lines, sales_orders, status_from_lines
from sync.context import Actor, MutationContext, MutationRef, Side
from sync.errors import MutationRejected, OutOfScope
from sync.registry import discover
from sync.schema import metadata, sync_clock, sync_devices, sync_mutation_log, sync_tombstones
from tests.unit.handler_runner import apply_in_savepoint

HQ = Actor(None, None, "sales-hq")
DOCK = Actor("dock-1", "site-A", "clerk")
WHEN = datetime(2026, 5, 1, 8, 30, tzinfo=timezone.utc)
LINES = {"line-1": Decimal(10), "line-2": Decimal("2.5")}


class Harness:
    def __init__(self, conn: Connection) -> None:
        self.conn, self.registry, self.version = conn, discover(), 0
        self.ids = itertools.count(1)

    def run(self, name: str, actor: Actor, /, **args: Any) -> None:
        """Apply one mutation in its own savepoint, rolled back if it fails (as the server does)."""
        definition = self.registry.resolve_latest(name)
        self.version += 1
        ref = MutationRef(actor.device_id, self.version, name, 1, f"{self.version:015d}-00000-x")
        ctx = MutationContext(self.conn, self.registry, Side.SERVER, actor, ref, commit_version=self.version)
        apply_in_savepoint(self.conn, definition, ctx, args)

    def rows(self, table, **where: Any) -> list[Any]:
        query = select(table).where(*(table.c[name] == value for name, value in where.items()))
        return list(self.conn.execute(query).mappings())


def harness(conn: Connection) -> Harness:
    h = Harness(conn)
    tables = [spec.table for spec in h.registry.ordered_specs()] + [sync_clock, sync_devices, sync_mutation_log,
                                                                    sync_tombstones]
    tables += [metadata.tables[name] for name in ("item_costs", "fifo_layers", "valuation_months")]  # server-only valuation
    metadata.create_all(conn, tables=tables)
    h.run("org.create_site", HQ, site_id="site-A", code="WH-A", name="汉阳仓", kind="warehouse")
    h.run("org.create_site", HQ, site_id="site-B", code="WH-B", name="武昌仓", kind="warehouse")
    h.run("inventory.create_unit", HQ, code="PCS", name="件")
    for item in ("item-1", "item-2"):
        h.run("inventory.create_item", HQ, item_id=item, sku=item.upper(), name=item, unit_code="PCS")
    for site in ("A", "B"):
        h.run("inventory.create_warehouse", HQ, warehouse_id=f"wh-{site}", site_id=f"site-{site}", code=f"W-{site}",
              name=site, negative_stock_policy="allow")
        h.run("inventory.create_location", HQ, location_id=f"loc-{site}", warehouse_id=f"wh-{site}", code="01",
              name="01")
    h.run("sales.create_customer", HQ, customer_id="cust", code="C1", name="客户", credit_limit=Decimal(1000))
    h.run("sales.create_order", HQ, order_id="so-1", site_id="site-A", number="SO-1", customer_id="cust",
          lines=[{"line_id": line_id, "item_id": f"item-{n}", "quantity": quantity, "unit_price": Decimal(3)}
                 for n, (line_id, quantity) in enumerate(LINES.items(), start=1)])
    return h


@pytest.fixture
def h():
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        yield harness(conn)
    engine.dispose()


def check_invariants(h: Harness, *, off_order: int) -> None:
    order = h.rows(sales_orders, id="so-1")[0]
    lines = h.rows(sales_order_lines, order_id="so-1")
    ledger = h.rows(so_deliveries, order_id="so-1")
    for line in lines:
        mine = [d for d in ledger if d["order_line_id"] == line["id"]]
        delivered = sum((d["quantity"] for d in mine if d["kind"] == "delivery"), Decimal(0))
        returned = sum((d["quantity"] for d in mine if d["kind"] == "return"), Decimal(0))
        assert (line["delivered_quantity"], line["returned_quantity"]) == (delivered, returned)
        held = h.rows(on_hand, item_id=line["item_id"], location_id="loc-A")
        assert (held[0]["quantity"] if held else 0) == returned - delivered
        reservation = h.rows(stock_reservations, order_line_id=line["id"])
        if order["status"] in DELIVERING_STATES and reservation and reservation[0]["status"] == "open":
            assert reservation[0]["quantity"] == line["quantity"] - line["delivered_quantity"] > 0
        elif reservation:
            assert reservation[0]["quantity"] == 0 and reservation[0]["released_reason"] is not None
    if order["status"] in DELIVERING_STATES:
        assert order["status"] == status_from_lines(lines)
    for total in h.rows(reserved_stock):  # each total is the sum of its reservations
        assert total["quantity"] == sum((r["quantity"] for r in h.rows(stock_reservations, item_id=total["item_id"],
                                                                         site_id=total["site_id"])), Decimal(0))
    flagged = [e for e in h.rows(sales_exceptions) if e["kind"].startswith("delivery_on_")]
    assert len(flagged) == off_order


steps = st.lists(st.one_of(
    st.tuples(st.sampled_from(["deliver", "return"]), st.sampled_from(sorted(LINES)),
              st.decimals(min_value="0.5", max_value=6, places=1)),
    st.tuples(st.just("replay"), st.integers(min_value=0, max_value=30), st.none()),
    st.tuples(st.sampled_from(["confirm", "cancel", "close"]), st.none(), st.none()),
), max_size=14)


@settings(max_examples=40, deadline=None)
@given(steps=steps)
def test_any_sequence_of_deliveries_returns_and_decisions_keeps_the_books_straight(steps):
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        h = harness(conn)
        recorded: list[dict] = []
        off_order = 0
        for kind, what, quantity in steps:
            if kind in ("deliver", "return"):
                n = next(h.ids)
                args = {"move_id": f"m-{n}", "order_line_id": what, "location_id": "loc-A", "quantity": quantity,
                        "occurred_at": WHEN}
                args["delivery_id" if kind == "deliver" else "return_id"] = f"d-{n}"
                status = h.rows(sales_orders, id="so-1")[0]["status"]
                name = "sales.deliver" if kind == "deliver" else "sales.return_from_customer"
                h.run(name, DOCK, **args)  # a physical fact is never refused for the order's state
                recorded.append({"name": name, **args})
                off_order += kind == "deliver" and status not in DELIVERING_STATES
            elif kind == "replay" and recorded:
                again = recorded[what % len(recorded)]
                h.run(again["name"], DOCK, **{k: v for k, v in again.items() if k != "name"})  # appends nothing
            elif kind in ("confirm", "cancel", "close"):
                try:
                    h.run(f"sales.{kind}_order", HQ, order_id="so-1")
                except MutationRejected:
                    pass  # a decision the order's state does not allow (or credit) is refused, nothing written
            check_invariants(h, off_order=off_order)
    engine.dispose()


def test_confirming_reserves_and_the_credit_limit_counts_every_site(h):
    h.run("sales.confirm_order", HQ, order_id="so-1")  # 37.50 of 1000
    assert {r["order_line_id"]: r["quantity"] for r in h.rows(stock_reservations)} == LINES
    assert {r["item_id"]: r["quantity"] for r in h.rows(reserved_stock)} == {"item-1": 10, "item-2": Decimal("2.5")}
    h.run("sales.create_order", HQ, order_id="so-2", site_id="site-B", number="SO-2", customer_id="cust",
          lines=[{"line_id": "line-b", "item_id": "item-1", "quantity": Decimal(321), "unit_price": Decimal(3)}])
    with pytest.raises(MutationRejected) as refused:
        h.run("sales.confirm_order", HQ, order_id="so-2")  # 963 + 37.50 > 1000
    assert refused.value.code == "sales.credit_limit_exceeded"
    assert Decimal(refused.value.details["excess"]) == Decimal("0.5")
    assert h.rows(sales_orders, id="so-2")[0]["status"] == "draft" and not h.rows(stock_reservations, order_id="so-2")
    h.run("sales.cancel_order", HQ, order_id="so-1", reason="客户取消")
    assert all(r["status"] == "released" and r["released_reason"] == "cancelled" for r in h.rows(stock_reservations))
    assert {r["item_id"]: r["quantity"] for r in h.rows(reserved_stock)} == {"item-1": 0, "item-2": 0}
    h.run("sales.confirm_order", HQ, order_id="so-2")  # the cancelled order no longer counts


def test_a_delivery_is_refused_only_when_it_cannot_be_recorded_as_asked(h):
    h.run("sales.confirm_order", HQ, order_id="so-1")
    base = {"move_id": "m", "order_line_id": "line-1", "location_id": "loc-A", "quantity": Decimal(1),
            "occurred_at": WHEN}
    for change, code in (({"order_line_id": "nope"}, "sales.unknown_order_line"),
                         ({"location_id": "loc-B"}, "sales.site_mismatch"),
                         ({"quantity": Decimal(0)}, "inventory.invalid_quantity")):
        with pytest.raises(MutationRejected) as refused:
            h.run("sales.deliver", HQ, delivery_id="d", **{**base, **change})
        assert refused.value.code == code
    other_site = Actor("dock-2", "site-B", "clerk")
    with pytest.raises(OutOfScope):  # a device of another site cannot record against this order
        h.run("sales.deliver", other_site, delivery_id="d", **base)
    assert h.rows(so_deliveries) == []
