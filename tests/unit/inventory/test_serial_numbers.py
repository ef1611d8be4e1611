"""Serial numbers (``erp.inventory.serial_number``) and put-away (``erp.inventory.putaway``) through
the inventory mutations on a plain SQLite database: a unit's location follows its moves; a
second receipt, an issue of a unit not on the shelf, or a serial move of more than one unit is
refused on a device and at HQ and recorded and flagged on the server; put-away suggests the bin
that already holds the item, else an empty storage bin."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterator

import pytest
from sqlalchemy import create_engine, select

from erp.inventory import errors
from erp.inventory.putaway import suggest_putaway
from erp.inventory.serial_number import serial_numbers
from sync.context import Actor
from sync.errors import MutationRejected
from tests.unit.inventory.test_inventory_handlers import HQ, WHEN, World, build_world
from tests.unit.inventory.test_lots import on_edge

DOCK, BIN, OTHER_BIN = "loc-flag-01", "loc-flag-02", "loc-flag-03"
PUMP = "item-pump"


@pytest.fixture
def world() -> Iterator[World]:
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        world = build_world(conn)
        world.run("inventory.create_item", HQ, item_id=PUMP, sku="PUMP-1", name="离心泵 𠮷", unit_code="PCS",
                  tracking="serial")
        yield world
    engine.dispose()


def move_args(world: World, serial: str | None, *, quantity: str = "1", location: str = DOCK) -> dict:
    return dict(move_id=world.new_id("move"), item_id=PUMP, location_id=location, quantity=Decimal(quantity),
                occurred_at=WHEN, serial_no=serial)


def serial(world: World, serial_no: str) -> Any:
    return world.conn.execute(select(serial_numbers).where(serial_numbers.c.serial_no == serial_no)).mappings().first()


def test_a_units_location_follows_its_moves(world: World) -> None:
    receipt = move_args(world, "SN-𠮷-001")
    world.run("inventory.receive", world.device, **receipt)
    row = serial(world, "SN-𠮷-001")
    assert (row["site_id"], row["location_id"], row["status"], row["last_move_id"]) == (
        world.site, DOCK, "in_stock", receipt["move_id"])
    world.run("inventory.transfer", world.device, transfer_id="t-1", out_move_id="t-1-out", in_move_id="t-1-in",
              item_id=PUMP, from_location_id=DOCK, to_location_id=BIN, quantity=Decimal(1), occurred_at=WHEN,
              serial_no="SN-𠮷-001")
    assert (serial(world, "SN-𠮷-001")["location_id"], serial(world, "SN-𠮷-001")["status"]) == (BIN, "in_stock")
    world.run("inventory.issue", world.device, **move_args(world, "SN-𠮷-001", location=BIN))
    row = serial(world, "SN-𠮷-001")
    assert (row["location_id"], row["status"]) == (None, "issued")
    world.run("inventory.reverse", world.device, reversal_id="rev-1", move_id=row["last_move_id"],
              occurred_at=WHEN, reason="客户未提货")
    assert (serial(world, "SN-𠮷-001")["location_id"], serial(world, "SN-𠮷-001")["status"]) == (BIN, "in_stock")
    assert world.open_exceptions() == []


@pytest.mark.parametrize("where", ["edge", "hq"])
def test_a_serial_in_stock_cannot_be_received_again_on_a_device_or_at_hq(world: World, where: str) -> None:
    world.run("inventory.receive", world.device, **move_args(world, "SN-1"))
    with pytest.raises(MutationRejected) as refused:
        if where == "edge":
            on_edge(world, "inventory.receive", **move_args(world, "SN-1", location=BIN))
        else:
            world.run("inventory.receive", HQ, **move_args(world, "SN-1", location=BIN))
    assert refused.value.code == errors.SERIAL_IN_STOCK
    assert serial(world, "SN-1")["location_id"] == DOCK


def test_a_serial_not_on_the_shelf_cannot_be_issued_on_a_device(world: World) -> None:
    world.run("inventory.receive", world.device, **move_args(world, "SN-1"))
    for serial_no, location in (("SN-unknown", DOCK), ("SN-1", BIN)):
        with pytest.raises(MutationRejected) as refused:
            on_edge(world, "inventory.issue", **move_args(world, serial_no, location=location))
        assert refused.value.code == errors.SERIAL_NOT_IN_STOCK


@pytest.mark.parametrize("quantity", ["2", "0.5"])
def test_a_serial_names_one_unit(world: World, quantity: str) -> None:
    with pytest.raises(MutationRejected) as refused:
        on_edge(world, "inventory.receive", **move_args(world, "SN-1", quantity=quantity))
    assert refused.value.code == errors.SERIAL_QUANTITY


def test_on_the_server_a_devices_serial_facts_stand_and_are_flagged(world: World) -> None:
    world.run("inventory.receive", world.device, **move_args(world, "SN-1"))
    world.run("inventory.receive", world.device, **move_args(world, "SN-1", location=BIN))  # scanned twice
    world.run("inventory.issue", world.device, **move_args(world, "SN-9", location=BIN))  # never received
    world.run("inventory.receive", world.device, **move_args(world, "SN-5", quantity="3"))
    kinds = sorted(row["kind"] for row in world.open_exceptions())
    assert kinds == ["serial_in_stock", "serial_not_in_stock", "serial_quantity"]
    assert serial(world, "SN-1")["location_id"] == BIN  # where the latest fact puts it
    assert serial(world, "SN-9")["status"] == "issued"
    assert world.on_hand(PUMP, DOCK) == Decimal(4)


def test_a_serial_tracked_receipt_without_a_serial_is_flagged_not_refused(world: World) -> None:
    on_edge(world, "inventory.receive", **move_args(world, None, quantity="5"))
    world.run("inventory.receive", world.device, **move_args(world, None, quantity="5"))
    [flagged] = world.open_exceptions()
    assert flagged["kind"] == "missing_serial"
    assert world.conn.execute(select(serial_numbers)).all() == []


def test_serials_are_kept_per_site(world: World) -> None:
    other_device = Actor("dev2", world.other_site, "clerk-b")
    world.run("inventory.receive", world.device, **move_args(world, "SN-1"))
    world.run("inventory.issue", world.device, **move_args(world, "SN-1"))  # shipped to the other site
    world.run("inventory.receive", other_device, **move_args(world, "SN-1", location="loc-other"))
    rows = world.conn.execute(select(serial_numbers.c.site_id, serial_numbers.c.status)
                              .order_by(serial_numbers.c.site_id)).all()
    assert [tuple(r) for r in rows] == [(world.site, "issued"), (world.other_site, "in_stock")]
    assert world.open_exceptions() == []


# -- put-away -----------------------------------------------------------------------------------------


def test_putaway_suggests_the_bin_holding_the_item_else_an_empty_storage_bin(world: World) -> None:
    world.run("inventory.create_warehouse", HQ, warehouse_id="wh-put", site_id=world.site, code="W-PUT",
              name="上架仓")
    for code, kind in (("A-DOCK", "receiving"), ("B-01", "storage"), ("B-02", "storage"), ("B-03", "storage")):
        world.run("inventory.create_location", world.device, location_id=f"put-{code}", warehouse_id="wh-put",
                  code=code, name=f"库位 {code}", kind=kind)
    # Every older bin of the site (kind storage by default) holds something, so only new ones are empty.
    for location in ("loc-flag-01", "loc-flag-02", "loc-flag-03", "loc-reject-01", "loc-reject-02",
                     "loc-reject-03", "loc-allow-01", "loc-allow-02", "loc-allow-03"):
        world.run("inventory.receive", world.device, move_id=world.new_id("m"), item_id="item-2",
                  location_id=location, quantity=Decimal(1), occurred_at=WHEN)
    empty = suggest_putaway(world.conn, site_id=world.site, item_id="item-1")
    assert (empty.code, empty.reason, empty.on_hand) == ("B-01", "empty", 0)
    world.run("inventory.receive", world.device, move_id="m-dock", item_id="item-1", location_id="put-A-DOCK",
              quantity=Decimal(9), occurred_at=WHEN)  # the dock is not a storage bin
    world.run("inventory.receive", world.device, move_id="m-b2", item_id="item-1", location_id="put-B-02",
              quantity=Decimal(3), occurred_at=WHEN)
    holding = suggest_putaway(world.conn, site_id=world.site, item_id="item-1")
    assert (holding.location_id, holding.reason, holding.on_hand) == ("put-B-02", "holds_item", 3)
    assert suggest_putaway(world.conn, site_id=world.other_site, item_id="item-1").location_id == "loc-other"
