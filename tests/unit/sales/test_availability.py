"""Availability = on-hand − open reservations: the pure rule, and its reading of the tables."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine, insert

from erp.inventory.on_hand import on_hand
from erp.sales.availability import availability, compute
from erp.sales.reservation import reserved_stock, to_reserve
from sync.schema import metadata

quantity = st.decimals(min_value=-1000, max_value=10**6, places=3, allow_nan=False, allow_infinity=False)
positive = st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False)


@given(held=st.lists(quantity, max_size=6), reserved=st.lists(positive, max_size=10))
def test_available_is_on_hand_minus_reserved_and_a_shortage_is_what_is_missing(held, reserved):
    stock = compute(held, reserved)
    assert stock.on_hand == sum(held, Decimal(0)) and stock.reserved == sum(reserved, Decimal(0))
    assert stock.available == stock.on_hand - stock.reserved
    assert stock.shortage == max(stock.reserved - stock.on_hand, Decimal(0))
    assert compute(reversed(held), reversed(reserved)) == stock  # the order of rows does not matter


@given(held=st.lists(quantity, max_size=6), reserved=st.lists(positive, max_size=10), more=positive)
def test_a_reservation_takes_exactly_its_quantity_and_releasing_it_gives_it_back(held, reserved, more):
    before = compute(held, reserved)
    after = compute(held, [*reserved, more])
    assert after.available == before.available - more
    assert compute(held, [*reserved, Decimal(0)]) == before  # a released reservation holds 0


@given(ordered=positive.filter(lambda q: q > 0), delivered=positive)
def test_a_line_reserves_what_is_still_to_deliver(ordered, delivered):
    assert to_reserve(ordered, delivered) == max(ordered - delivered, Decimal(0))
    assert to_reserve(ordered, Decimal(0)) == ordered


def test_the_lookup_counts_the_sites_locations_and_its_reserved_total():
    engine = create_engine("sqlite://")
    metadata.create_all(engine, tables=[on_hand, reserved_stock])
    with engine.begin() as conn:
        conn.execute(insert(on_hand), [
            {"item_id": "bolt", "location_id": "A-01", "site_id": "wh1", "quantity": Decimal("60.5")},
            {"item_id": "bolt", "location_id": "A-02", "site_id": "wh1", "quantity": Decimal("40")},
            {"item_id": "bolt", "location_id": "B-01", "site_id": "wh2", "quantity": Decimal("999")},
            {"item_id": "nut", "location_id": "A-01", "site_id": "wh1", "quantity": Decimal("7")},
        ])
        conn.execute(insert(reserved_stock), [
            {"item_id": "bolt", "site_id": "wh1", "quantity": Decimal("30")},
            {"item_id": "bolt", "site_id": "wh2", "quantity": Decimal("5")},
            {"item_id": "nut", "site_id": "wh1", "quantity": Decimal("9")},
        ])
    with engine.connect() as conn:
        bolt = availability(conn, "bolt", "wh1")
        assert (bolt.on_hand, bolt.reserved, bolt.available, bolt.shortage) == (Decimal("100.5"), 30,
                                                                              Decimal("70.5"), 0)
        nut = availability(conn, "nut", "wh1")
        assert (nut.available, nut.shortage) == (-2, 2)
        nothing = availability(conn, "washer", "wh1")
        assert (nothing.on_hand, nothing.reserved, nothing.available) == (0, 0, 0)
