"""FEFO (``erp.inventory.fefo``): properties of the pure calculator ``plan_picks`` over random lot
stock, a few worked examples, and ``suggest_picks`` over the derived tables."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine

from erp.inventory.fefo import LotStock, plan_picks, suggest_picks
from tests.unit.inventory.test_inventory_handlers import HQ, WHEN, World, build_world

TODAY = date(2024, 5, 10)

quantities = st.decimals(min_value=Decimal("-5"), max_value=Decimal("500"), places=3, allow_nan=False,
                         allow_infinity=False)
expiries = st.one_of(st.none(), st.dates(min_value=TODAY - timedelta(days=30), max_value=TODAY + timedelta(days=60)))
rows = st.lists(
    st.builds(LotStock, lot_no=st.sampled_from(["L1", "L2", "L3", "批次𠮷"]),
              location_id=st.sampled_from(["A-01", "A-02", "B-01"]), quantity=quantities, expires_on=expiries,
              held=st.booleans()),
    max_size=10,
    unique_by=lambda r: (r.lot_no, r.location_id),  # one lot_on_hand row per (lot, location)
)
asked = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("2000"), places=3, allow_nan=False,
                    allow_infinity=False)


def usable(row: LotStock) -> bool:
    return row.quantity > 0 and not row.held and (row.expires_on is None or row.expires_on >= TODAY)


def order(expires_on: date | None) -> tuple:
    return (expires_on is None, expires_on or date.min)


@given(rows, asked)
def test_the_plan_covers_what_usable_stock_can(stock: list[LotStock], quantity: Decimal) -> None:
    plan = plan_picks(stock, quantity, today=TODAY)
    available = sum((r.quantity for r in stock if usable(r)), Decimal(0))
    picked = sum((p.quantity for p in plan.picks), Decimal(0))
    assert picked == min(quantity, available)
    assert plan.short == quantity - picked


@given(rows, asked)
def test_never_picks_held_expired_or_more_than_a_row_holds(stock: list[LotStock], quantity: Decimal) -> None:
    by_key = {(r.lot_no, r.location_id): r for r in stock}
    plan = plan_picks(stock, quantity, today=TODAY)
    for pick in plan.picks:
        row = by_key[(pick.lot_no, pick.location_id)]
        assert usable(row)
        assert Decimal(0) < pick.quantity <= row.quantity
    assert len({(p.lot_no, p.location_id) for p in plan.picks}) == len(plan.picks)
    skipped = {(s.lot_no, s.location_id, s.reason) for s in plan.skipped}
    for row in stock:
        if row.quantity > 0 and row.held:
            assert (row.lot_no, row.location_id, "held") in skipped
        elif row.quantity > 0 and row.expires_on is not None and row.expires_on < TODAY:
            assert (row.lot_no, row.location_id, "expired") in skipped


@given(rows, asked)
def test_earliest_expiry_goes_first(stock: list[LotStock], quantity: Decimal) -> None:
    plan = plan_picks(stock, quantity, today=TODAY)
    keys = [order(p.expires_on) for p in plan.picks]
    assert keys == sorted(keys)
    if plan.picks:
        # A later-expiring row is picked only once every earlier-expiring usable row is used up.
        latest = max(keys)
        picked = {(p.lot_no, p.location_id): p.quantity for p in plan.picks}
        for row in stock:
            if usable(row) and order(row.expires_on) < latest:
                assert picked.get((row.lot_no, row.location_id)) == row.quantity


@given(rows, asked, st.randoms(use_true_random=False))
def test_the_plan_does_not_depend_on_the_order_rows_are_read(stock, quantity, random) -> None:
    shuffled = list(stock)
    random.shuffle(shuffled)
    assert plan_picks(stock, quantity, today=TODAY) == plan_picks(shuffled, quantity, today=TODAY)


@given(rows)
def test_without_a_quantity_every_usable_row_is_listed_in_pick_order(stock: list[LotStock]) -> None:
    plan = plan_picks(stock, None, today=TODAY)
    assert sorted((p.lot_no, p.location_id, p.quantity) for p in plan.picks) == sorted(
        (r.lot_no, r.location_id, r.quantity) for r in stock if usable(r))
    assert plan.short == 0


def test_a_worked_example() -> None:
    stock = [
        LotStock("L-late", "A-01", Decimal(50), date(2024, 7, 1)),
        LotStock("L-soon", "A-02", Decimal(8), date(2024, 5, 20)),
        LotStock("L-held", "A-01", Decimal(99), date(2024, 5, 11), held=True),
        LotStock("L-gone", "A-01", Decimal(99), date(2024, 5, 9)),
        LotStock("L-today", "B-01", Decimal(2), TODAY),
        LotStock("L-none", "B-01", Decimal(100), None),
    ]
    plan = plan_picks(stock, Decimal(30), today=TODAY)
    assert [(p.lot_no, p.quantity) for p in plan.picks] == [("L-today", 2), ("L-soon", 8), ("L-late", 20)]
    assert plan.short == 0
    assert {(s.lot_no, s.reason) for s in plan.skipped} == {("L-held", "held"), ("L-gone", "expired")}
    assert plan_picks(stock, Decimal(500), today=TODAY).short == Decimal(500 - 160)


# -- suggest_picks over the derived tables --------------------------------------------------------------


@pytest.fixture
def world() -> Iterator[World]:
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        world = build_world(conn)
        world.run("inventory.create_item", HQ, item_id="milk", sku="MILK", name="酸奶 𠮷", unit_code="PCS",
                  tracking="lot", shelf_life_days=30)
        yield world
    engine.dispose()


def _receive(world: World, location: str, quantity: int, lot: str, expires: date) -> None:
    world.run("inventory.receive", world.device, move_id=world.new_id("m"), item_id="milk", location_id=location,
              quantity=Decimal(quantity), occurred_at=WHEN, lot_no=lot, expires_on=expires)


def test_suggest_picks_reads_lots_holds_and_locations(world: World) -> None:
    _receive(world, "loc-flag-01", 10, "L-JUN", date(2024, 6, 1))
    _receive(world, "loc-flag-02", 10, "L-MAY", date(2024, 5, 25))
    _receive(world, "loc-flag-03", 10, "L-HELD", date(2024, 5, 15))
    world.run("inventory.hold_lot", HQ, site_id=world.site, item_id="milk", lot_no="L-HELD", reason="待检")
    plan = suggest_picks(world.conn, site_id=world.site, item_id="milk", quantity=Decimal(15), today=TODAY)
    assert [(p.lot_no, p.location_id, p.quantity) for p in plan.picks] == [
        ("L-MAY", "loc-flag-02", 10), ("L-JUN", "loc-flag-01", 5)]
    assert [s.lot_no for s in plan.skipped] == ["L-HELD"]
    one_bin = suggest_picks(world.conn, site_id=world.site, item_id="milk", quantity=Decimal(15),
                            location_id="loc-flag-01", today=TODAY)
    assert [(p.lot_no, p.quantity) for p in one_bin.picks] == [("L-JUN", 10)] and one_bin.short == 5
    assert suggest_picks(world.conn, site_id=world.other_site, item_id="milk", quantity=Decimal(1)).picks == []
