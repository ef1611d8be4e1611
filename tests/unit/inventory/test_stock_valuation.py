"""Server-side stock valuation (``erp.inventory.stock_valuation``) and its report: moves posted
through the real mutations keep ``item_costs`` / ``fifo_layers`` / ``valuation_months`` in step,
the streaming rebuild from the ledger gives the same state, devices value nothing, and the
report reads the positions with their totals."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, create_engine, func, select

from erp.inventory.on_hand import on_hand
from erp.inventory.stock_move import stock_moves
from erp.inventory.stock_valuation import fifo_layers, item_costs, rebuild_valuation, valuation_months, value_move
from erp.inventory.valuation import Move, fifo, monthly_weighted, moving_average
from erp.inventory.valuation_report import valuation_report
from sync.context import Actor, MutationContext, MutationRef, Side
from sync.registry import discover
from sync.schema import metadata, sync_clock, sync_devices, sync_mutation_log, sync_tombstones
from tests.unit.handler_runner import apply_in_savepoint

D = Decimal
HQ = Actor(None, None, "hq-admin")
DEVICE = Actor("dev-𠮷", "site-A", "仓管员𠮷")
METHODS = {"item-avg": "moving_average", "item-fifo": "fifo", "item-month": "monthly_weighted"}
LOCATIONS = {"site-A": ("loc-A1", "loc-A2"), "site-B": ("loc-B1",)}


class Books:
    """A server database with two sites, one item per valuation method, and a move helper."""

    def __init__(self, conn: Connection) -> None:
        self.conn, self.registry = conn, discover()
        self.version = 0
        self.ids = itertools.count(1)
        tables = [spec.table for spec in self.registry.ordered_specs()]
        tables += [sync_clock, sync_devices, sync_mutation_log, sync_tombstones, item_costs, fifo_layers,
                   valuation_months]
        metadata.create_all(conn, tables=tables)
        for site, code in (("site-A", "汉阳"), ("site-B", "武昌")):
            self.run("org.create_site", HQ, site_id=site, code=code, name=f"{code}仓𠮷", kind="warehouse")
            self.run("inventory.create_warehouse", HQ, warehouse_id=f"wh-{site}", site_id=site, code=f"W-{code}",
                     name=f"{code}仓库", negative_stock_policy="allow")
            for location in LOCATIONS[site]:
                self.run("inventory.create_location", HQ, location_id=location, warehouse_id=f"wh-{site}",
                         code=location, name=f"库位 {location}")
        self.run("inventory.create_unit", HQ, code="PCS", name="件")
        for item, method in METHODS.items():
            self.run("inventory.create_item", HQ, item_id=item, sku=item.upper(), name=f"𠮷螺栓 {method}",
                     unit_code="PCS", valuation_method=method)

    def run(self, name: str, actor: Actor, side: Side = Side.SERVER, /, **args: Any) -> None:
        self.version += 1
        definition = self.registry.resolve_latest(name)
        ref = MutationRef(actor.device_id, self.version, name, 1, f"{self.version:015d}-00000-x")
        ctx = MutationContext(self.conn, self.registry, side, actor, ref, commit_version=self.version)
        apply_in_savepoint(self.conn, definition, ctx, args)

    def move_id(self) -> str:
        return f"move-{next(self.ids)}"

    def receive(self, item: str, quantity: str, cost: str | None, *, location: str = "loc-A1",
                when: datetime = datetime(2026, 3, 5, tzinfo=timezone.utc)) -> str:
        move_id = self.move_id()
        self.run("inventory.receive", HQ, move_id=move_id, item_id=item, location_id=location,
                 quantity=D(quantity), occurred_at=when, unit_cost=None if cost is None else D(cost))
        return move_id

    def issue(self, item: str, quantity: str, *, location: str = "loc-A1",
              when: datetime = datetime(2026, 3, 6, tzinfo=timezone.utc)) -> str:
        move_id = self.move_id()
        self.run("inventory.issue", HQ, move_id=move_id, item_id=item, location_id=location,
                 quantity=D(quantity), occurred_at=when)
        return move_id

    def reverse(self, move_id: str, when: datetime = datetime(2026, 3, 7, tzinfo=timezone.utc)) -> None:
        self.run("inventory.reverse", HQ, reversal_id=self.move_id(), move_id=move_id, occurred_at=when,
                 reason="录错了")

    def cost(self, item: str, site: str = "site-A") -> Any:
        return self.conn.execute(select(item_costs).where(item_costs.c.site_id == site,
                                                          item_costs.c.item_id == item)).mappings().one()

    def snapshot(self) -> dict[str, list[tuple]]:
        return {table.name: sorted(tuple(row) for row in self.conn.execute(select(table)))
                for table in (item_costs, fifo_layers, valuation_months)}


@pytest.fixture
def books() -> Iterator[Books]:
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        yield Books(conn)
    engine.dispose()


def test_receipts_and_issues_keep_each_method_valued(books: Books) -> None:
    for item in METHODS:
        books.receive(item, "10", "2")
        books.receive(item, "10", "4")
        books.issue(item, "15")
    assert (books.cost("item-avg")["quantity"], books.cost("item-avg")["value"]) == (D(5), D("15.00"))
    assert (books.cost("item-fifo")["quantity"], books.cost("item-fifo")["value"]) == (D(5), D("20.00"))
    monthly = books.cost("item-month")
    assert (monthly["quantity"], monthly["value"], monthly["unit_cost"], monthly["month"]) == (
        D(5), D("15.00"), D(3), "2026-03")
    layers = books.conn.execute(select(fifo_layers.c.quantity, fifo_layers.c.unit_cost)).all()
    assert [(q, c) for q, c in layers] == [(D(5), D(4))]


def test_a_receipt_reversal_takes_out_the_receipt_cost(books: Books) -> None:
    for item in METHODS:
        books.receive(item, "10", "3")
        dear = books.receive(item, "5", "9.5")
        books.reverse(dear)
        cost = books.cost(item)
        assert (cost["quantity"], cost["value"]) == (D(10), D("30.00")), item


def test_transfers_within_a_site_leave_the_value_alone(books: Books) -> None:
    books.receive("item-fifo", "8", "1.25")
    before = books.snapshot()
    books.run("inventory.transfer", HQ, transfer_id="t-1", out_move_id=books.move_id(), in_move_id=books.move_id(),
              item_id="item-fifo", from_location_id="loc-A1", to_location_id="loc-A2", quantity=D(3),
              occurred_at=datetime(2026, 3, 8, tzinfo=timezone.utc))
    assert books.snapshot() == before


def test_devices_value_nothing(books: Books) -> None:
    books.run("inventory.receive", DEVICE, Side.EDGE, move_id="m-edge", item_id="item-avg", location_id="loc-A1",
              quantity=D(1), occurred_at=datetime(2026, 3, 5, tzinfo=timezone.utc), unit_cost=D(7))
    assert books.snapshot() == {"item_costs": [], "fifo_layers": [], "valuation_months": []}


def test_a_late_move_from_an_earlier_month_is_booked_into_the_latest_month(books: Books) -> None:
    books.receive("item-month", "10", "2", when=datetime(2026, 3, 5, tzinfo=timezone.utc))
    books.receive("item-month", "10", "4", when=datetime(2026, 4, 2, tzinfo=timezone.utc))
    books.issue("item-month", "5", when=datetime(2026, 3, 30, tzinfo=timezone.utc))  # pushed late, offline
    months = books.conn.execute(select(valuation_months.c.month, valuation_months.c.outgoing_quantity)
                                .order_by(valuation_months.c.month)).all()
    assert [(m, q) for m, q in months] == [("2026-03", D(0)), ("2026-04", D(5))]
    march = valuation_report(books.conn, month="2026-03", today=date(2026, 4, 10))
    assert [(line.quantity, line.value, line.unit_cost, line.rate_status) for line in march.items] == [
        (D(10), D("20.00"), D(2), "final")]


def test_the_report_lists_positions_with_site_totals(books: Books) -> None:
    books.receive("item-avg", "3", "1.5")
    books.receive("item-month", "2", "10", location="loc-B1")
    books.issue("item-fifo", "1")  # negative stock with no cost known yet: quantity -1, value 0
    report = valuation_report(books.conn, today=date(2026, 3, 20))
    assert [(l.site_id, l.item_id, l.quantity, l.value) for l in report.items] == [
        ("site-A", "item-avg", D(3), D("4.50")), ("site-A", "item-fifo", D(-1), D("0.00")),
        ("site-B", "item-month", D(2), D("20.00"))]
    assert report.items[-1].rate_status == "provisional" and report.items[-1].month == "2026-03"
    assert [(s.site_id, s.items, s.value) for s in report.sites] == [
        ("site-A", 2, D("4.50")), ("site-B", 1, D("20.00"))]
    assert report.total_value == D("24.50")
    only_b = valuation_report(books.conn, site_id="site-B", today=date(2026, 3, 20))
    assert [l.item_id for l in only_b.items] == ["item-month"] and only_b.items[0].name == "𠮷螺栓 monthly_weighted"


def test_value_move_ignores_transfer_legs_even_when_called_directly(books: Books) -> None:
    ref = MutationRef(None, 1, "x", 1, "0-0-x")
    ctx = MutationContext(books.conn, books.registry, Side.SERVER, HQ, ref, commit_version=99)
    value_move(ctx, move_id="m", site_id="site-A", item_id="item-avg", kind="transfer_in", quantity=D(1),
               unit_cost=None, reverses_id=None, occurred_at=datetime(2026, 3, 1, tzinfo=timezone.utc))
    assert books.snapshot()["item_costs"] == []


actions = st.lists(
    st.tuples(
        st.sampled_from(["receive", "receive_costless", "issue", "reverse", "adjust", "transfer"]),
        st.sampled_from(sorted(METHODS)),
        st.sampled_from(["loc-A1", "loc-A2", "loc-B1"]),
        st.decimals(min_value=D("0.5"), max_value=D(50), places=1),
        st.decimals(min_value=D(0), max_value=D(99), places=2),
        st.integers(min_value=1, max_value=4),  # month of 2026
    ),
    min_size=1, max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions)
def test_incremental_state_equals_the_rebuild_and_the_calculators(steps) -> None:
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        books = Books(conn)
        receipts: list[str] = []
        for kind, item, location, quantity, cost, month in steps:
            when = datetime(2026, month, 10, tzinfo=timezone.utc)
            if kind == "receive":
                receipts.append(books.receive(item, str(quantity), str(cost), location=location, when=when))
            elif kind == "receive_costless":
                books.receive(item, str(quantity), None, location=location, when=when)
            elif kind == "issue":
                books.issue(item, str(quantity), location=location, when=when)
            elif kind == "reverse" and receipts:
                books.reverse(receipts.pop(0), when=when)
            elif kind == "adjust":
                books.run("inventory.adjust", HQ, move_id=books.move_id(), item_id=item, location_id=location,
                          quantity=-quantity, occurred_at=when, reason="盘亏")
            elif kind == "transfer" and location != "loc-B1":
                other = "loc-A2" if location == "loc-A1" else "loc-A1"
                books.run("inventory.transfer", HQ, transfer_id=books.move_id(), out_move_id=books.move_id(),
                          in_move_id=books.move_id(), item_id=item, from_location_id=location,
                          to_location_id=other, quantity=quantity, occurred_at=when)
        incremental = books.snapshot()
        valued = select(func.count()).select_from(stock_moves).where(
            stock_moves.c.kind.not_in(("transfer_out", "transfer_in")))
        assert rebuild_valuation(conn) == conn.execute(valued).scalar()
        assert books.snapshot() == incremental
        rebuild_valuation(conn, site_id="site-B")
        assert books.snapshot() == incremental
        _assert_matches_calculators(books)
    engine.dispose()


def _assert_matches_calculators(books: Books) -> None:
    for row in books.conn.execute(select(item_costs)).mappings():
        moves = books.conn.execute(
            select(stock_moves).where(stock_moves.c.site_id == row["site_id"], stock_moves.c.item_id == row["item_id"],
                                      stock_moves.c.kind.not_in(("transfer_out", "transfer_in")))
            .order_by(stock_moves.c._version, stock_moves.c.id)).mappings().all()
        as_moves = [Move(m["quantity"], m["unit_cost"], m["id"], m["reverses_id"]) for m in moves]
        if row["method"] == "moving_average":
            closing = moving_average(as_moves).closing
        elif row["method"] == "fifo":
            closing = fifo(as_moves).closing
        else:
            closing = _monthly(moves, as_moves)
        assert (row["quantity"], row["value"]) == (closing.quantity, closing.value)
        held = books.conn.execute(select(on_hand.c.quantity).where(
            on_hand.c.site_id == row["site_id"], on_hand.c.item_id == row["item_id"])).scalars()
        assert sum(held, D(0)) == row["quantity"]  # transfers stay inside a site


def _monthly(rows: list[Any], moves: list[Move]) -> Any:
    grouped: list[list[Move]] = []
    latest = None
    for row, move in zip(rows, moves):
        month = max(latest or "", f"{row['occurred_at']:%Y-%m}")
        if month != latest:
            grouped.append([])
            latest = month
        grouped[-1].append(move)
    return monthly_weighted(grouped)[-1].closing
