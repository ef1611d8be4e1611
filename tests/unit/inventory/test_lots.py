"""Lots (``erp.inventory.lot``) through the inventory mutations on a plain SQLite database: a
receipt registers a lot with its expiry, lot on-hand follows every move, holds and releases
follow their state machine, a held lot is refused on a device and at HQ but stands (flagged)
when a device's move reaches the server, and a lot-tracked move without a lot is flagged."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select

from erp.inventory import errors
from erp.inventory.inventory_exception import inventory_exceptions
from erp.inventory.lot import is_held, lot_on_hand, lots, place_hold, release_hold
from erp.inventory.stock_move import stock_moves
from sync.context import Actor, MutationContext, MutationRef, Side
from sync.errors import MutationRejected
from tests.unit.inventory.test_inventory_handlers import HQ, WHEN, World, build_world
from tests.unit.manufacturing.test_manufacturing_handlers import T0, Plant, plant  # noqa: F401 (a fixture)
from tests.unit.handler_runner import apply_in_savepoint

DOCK, BIN = "loc-flag-01", "loc-flag-02"
MILK, BOLT = "item-milk", "item-bolt"
SHELF_LIFE = 21


@pytest.fixture
def world() -> Iterator[World]:
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        world = build_world(conn)
        world.run("inventory.create_item", HQ, item_id=MILK, sku="MILK-1", name="鲜牛奶 𠮷", unit_code="PCS",
                  tracking="lot", shelf_life_days=SHELF_LIFE)
        world.run("inventory.create_item", HQ, item_id=BOLT, sku="BOLT-1", name="螺栓", unit_code="PCS")
        yield world
    engine.dispose()


def on_edge(world: World, name: str, /, **args: Any) -> None:
    """Run a mutation as the device runs it optimistically (Side.EDGE), rolled back if refused."""
    definition = world.registry.resolve_latest(name)
    world.seq += 1
    ctx = MutationContext(world.conn, world.registry, Side.EDGE, world.device,
                          MutationRef("dev1", world.seq, name, 1, f"{world.seq:015d}-edge"), commit_version=0)
    apply_in_savepoint(world.conn, definition, ctx, args)


def receive(world: World, quantity: str, lot: str | None, *, expires: date | None = None,
            location: str = DOCK, item: str = MILK, actor: Actor | None = None) -> str:
    move_id = world.new_id("move")
    world.run("inventory.receive", actor or world.device, move_id=move_id, item_id=item, location_id=location,
              quantity=Decimal(quantity), occurred_at=WHEN, lot_no=lot, expires_on=expires)
    return move_id


def issue_args(world: World, quantity: str, lot: str | None, *, location: str = DOCK, item: str = MILK) -> dict:
    return dict(move_id=world.new_id("move"), item_id=item, location_id=location, quantity=Decimal(quantity),
                occurred_at=WHEN, lot_no=lot)


def lot_row(world: World, lot: str, item: str = MILK) -> Any:
    return world.conn.execute(select(lots).where(lots.c.site_id == world.site, lots.c.item_id == item,
                                                 lots.c.lot_no == lot)).mappings().first()


def lot_qty(world: World, lot: str, location: str = DOCK, item: str = MILK) -> Decimal | None:
    row = world.conn.execute(select(lot_on_hand.c.quantity).where(
        lot_on_hand.c.item_id == item, lot_on_hand.c.location_id == location, lot_on_hand.c.lot_no == lot)).first()
    return None if row is None else row.quantity


def ctx_for(world: World, actor: Actor) -> MutationContext:
    return world.context(actor, "quality.test")


# -- registration and expiry ----------------------------------------------------------------------------


def test_a_receipt_registers_its_lot_with_the_expiry_on_the_goods(world: World) -> None:
    receive(world, "40", "L-2024-05-𠮷", expires=date(2024, 6, 1))
    row = lot_row(world, "L-2024-05-𠮷")
    assert row["expires_on"] == date(2024, 6, 1)
    assert row["status"] == "released"
    assert row["received_at"] == WHEN
    assert lot_qty(world, "L-2024-05-𠮷") == Decimal(40)


def test_without_an_expiry_the_shelf_life_counts_from_the_receipt(world: World) -> None:
    receive(world, "5", "L-A")
    assert lot_row(world, "L-A")["expires_on"] == date(2024, 5, 1 + SHELF_LIFE)


def test_a_later_receipt_keeps_the_expiry_first_registered(world: World) -> None:
    receive(world, "5", "L-A", expires=date(2024, 6, 1))
    receive(world, "5", "L-A", expires=date(2024, 7, 1), location=BIN)
    assert lot_row(world, "L-A")["expires_on"] == date(2024, 6, 1)
    assert (lot_qty(world, "L-A"), lot_qty(world, "L-A", BIN)) == (Decimal(5), Decimal(5))


def test_an_untracked_item_without_shelf_life_registers_a_lot_without_expiry(world: World) -> None:
    receive(world, "3", "B-1", item=BOLT)
    assert lot_row(world, "B-1", BOLT)["expires_on"] is None
    assert world.open_exceptions() == []


def test_lot_on_hand_follows_issues_transfers_and_reversals(world: World) -> None:
    receive(world, "10", "L-A")
    world.run("inventory.issue", world.device, **issue_args(world, "3", "L-A"))
    world.run("inventory.transfer", world.device, transfer_id="t-1", out_move_id="t-1-out", in_move_id="t-1-in",
              item_id=MILK, from_location_id=DOCK, to_location_id=BIN, quantity=Decimal("4"), occurred_at=WHEN,
              lot_no="L-A")
    assert (lot_qty(world, "L-A"), lot_qty(world, "L-A", BIN)) == (Decimal(3), Decimal(4))
    world.run("inventory.reverse", world.device, reversal_id="rev-1", move_id="t-1-in", occurred_at=WHEN,
              reason="wrong bin")
    assert lot_qty(world, "L-A", BIN) == Decimal(0)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["L-1", "L-2", "批次-3"]), st.sampled_from([DOCK, BIN]),
                          st.integers(-20, 20).filter(lambda n: n != 0)), max_size=12))
def test_lot_on_hand_equals_the_sum_of_the_lots_moves(world: World, moves: list) -> None:
    for lot, location, quantity in moves:
        if quantity > 0:
            receive(world, str(quantity), lot, location=location)
        else:
            world.run("inventory.issue", world.device, **issue_args(world, str(-quantity), lot, location=location))
    ledger: dict[tuple, Decimal] = {}
    for move in world.moves(item_id=MILK):
        key = (move["location_id"], move["lot_no"])
        ledger[key] = ledger.get(key, Decimal(0)) + move["quantity"]
    derived = {(r.location_id, r.lot_no): r.quantity
               for r in world.conn.execute(select(lot_on_hand).where(lot_on_hand.c.item_id == MILK))}
    assert {k: v for k, v in derived.items() if v} == {k: v for k, v in ledger.items() if v}


# -- holds --------------------------------------------------------------------------------------------


def test_hold_and_release_follow_the_state_machine(world: World) -> None:
    receive(world, "10", "L-A")
    world.run("inventory.hold_lot", HQ, site_id=world.site, item_id=MILK, lot_no="L-A", reason="微生物超标")
    row = lot_row(world, "L-A")
    assert (row["status"], row["hold_reason"], row["held_by"]) == ("held", "微生物超标", "hq-admin")
    with pytest.raises(MutationRejected) as twice:
        world.run("inventory.hold_lot", HQ, site_id=world.site, item_id=MILK, lot_no="L-A", reason="again")
    assert twice.value.code == errors.LOT_ALREADY_HELD
    world.run("inventory.release_lot", HQ, site_id=world.site, item_id=MILK, lot_no="L-A", reason="复检合格")
    row = lot_row(world, "L-A")
    assert (row["status"], row["release_reason"], row["hold_reason"]) == ("released", "复检合格", "微生物超标")
    with pytest.raises(MutationRejected) as again:
        world.run("inventory.release_lot", HQ, site_id=world.site, item_id=MILK, lot_no="L-A", reason="again")
    assert again.value.code == errors.LOT_NOT_HELD


def test_the_functions_other_modules_call(world: World) -> None:
    receive(world, "10", "L-A")
    ctx = ctx_for(world, HQ)
    assert not is_held(ctx, site_id=world.site, item_id=MILK, lot_no="L-A")
    place_hold(ctx, site_id=world.site, item_id=MILK, lot_no="L-A", reason="来料检验不合格")
    assert is_held(ctx, site_id=world.site, item_id=MILK, lot_no="L-A")
    assert not is_held(ctx, site_id=world.other_site, item_id=MILK, lot_no="L-A")  # holds are per site
    release_hold(ctx, site_id=world.site, item_id=MILK, lot_no="L-A", reason="让步接收")
    assert not is_held(ctx, site_id=world.site, item_id=MILK, lot_no="L-A")


def test_a_recall_can_hold_a_lot_before_it_arrives(world: World) -> None:
    world.run("inventory.hold_lot", HQ, site_id=world.site, item_id=MILK, lot_no="RECALL-1", reason="供应商召回")
    assert lot_row(world, "RECALL-1")["received_at"] is None
    receive(world, "6", "RECALL-1")
    row = lot_row(world, "RECALL-1")
    assert (row["status"], row["received_at"], row["expires_on"]) == ("held", WHEN, date(2024, 5, 1 + SHELF_LIFE))


def test_releasing_an_unknown_lot_or_holding_an_unknown_item_is_refused(world: World) -> None:
    with pytest.raises(MutationRejected) as unknown_lot:
        world.run("inventory.release_lot", HQ, site_id=world.site, item_id=MILK, lot_no="nope", reason="x")
    assert unknown_lot.value.code == errors.UNKNOWN_LOT
    with pytest.raises(MutationRejected) as unknown_item:
        world.run("inventory.hold_lot", HQ, site_id=world.site, item_id="no-item", lot_no="L", reason="x")
    assert unknown_item.value.code == errors.UNKNOWN_ITEM


@pytest.mark.parametrize("mutation", ["inventory.issue", "inventory.transfer"])
def test_a_held_lot_cannot_be_picked_on_a_device(world: World, mutation: str) -> None:
    receive(world, "10", "L-A")
    world.run("inventory.hold_lot", HQ, site_id=world.site, item_id=MILK, lot_no="L-A", reason="待检")
    if mutation == "inventory.issue":
        args = issue_args(world, "2", "L-A")
    else:
        args = dict(transfer_id="t-9", out_move_id="t-9-out", in_move_id="t-9-in", item_id=MILK,
                    from_location_id=DOCK, to_location_id=BIN, quantity=Decimal(2), occurred_at=WHEN, lot_no="L-A")
    with pytest.raises(MutationRejected) as refused:
        on_edge(world, mutation, **args)
    assert refused.value.code == errors.LOT_ON_HOLD
    assert lot_qty(world, "L-A") == Decimal(10)  # nothing of it was written


def test_a_held_lot_cannot_be_issued_at_hq(world: World) -> None:
    receive(world, "10", "L-A")
    world.run("inventory.hold_lot", HQ, site_id=world.site, item_id=MILK, lot_no="L-A", reason="待检")
    with pytest.raises(MutationRejected) as refused:
        world.run("inventory.issue", HQ, **issue_args(world, "2", "L-A"))
    assert refused.value.code == errors.LOT_ON_HOLD
    assert world.moves(kind="issue") == []


def test_a_devices_pick_of_a_held_lot_stands_on_the_server_and_is_flagged(world: World) -> None:
    receive(world, "10", "L-A")
    world.run("inventory.hold_lot", HQ, site_id=world.site, item_id=MILK, lot_no="L-A", reason="待检")
    args = issue_args(world, "4", "L-A")
    world.run("inventory.issue", world.device, **args)  # the server applying the device's push
    assert lot_qty(world, "L-A") == Decimal(6)
    [flagged] = world.open_exceptions()
    assert (flagged["kind"], flagged["item_id"], flagged["quantity"]) == ("held_lot_moved", MILK, Decimal(6))
    assert '"lot_no": "L-A"' in flagged["involved_json"] and args["move_id"] in flagged["involved_json"]


def test_counting_or_scrapping_a_held_lot_is_not_refused(world: World) -> None:
    receive(world, "10", "L-A")
    world.run("inventory.hold_lot", HQ, site_id=world.site, item_id=MILK, lot_no="L-A", reason="变质")
    world.run("inventory.adjust", HQ, move_id="scrap-1", item_id=MILK, location_id=DOCK, quantity=Decimal(-10),
              occurred_at=WHEN, reason="报废")
    assert world.on_hand(MILK, DOCK) == Decimal(0)


def test_a_released_lot_can_be_picked_again(world: World) -> None:
    receive(world, "10", "L-A")
    world.run("inventory.hold_lot", HQ, site_id=world.site, item_id=MILK, lot_no="L-A", reason="待检")
    world.run("inventory.release_lot", HQ, site_id=world.site, item_id=MILK, lot_no="L-A", reason="合格")
    on_edge(world, "inventory.issue", **issue_args(world, "2", "L-A"))
    assert lot_qty(world, "L-A") == Decimal(8)


# -- lot-tracked items without a lot --------------------------------------------------------------------


def test_a_lot_tracked_move_without_a_lot_is_recorded_and_flagged(world: World) -> None:
    receive(world, "10", None)
    on_edge(world, "inventory.issue", **issue_args(world, "1", None))  # not refused on the device either
    assert world.on_hand(MILK, DOCK) == Decimal(9)
    [flagged] = world.open_exceptions()
    assert flagged["kind"] == "missing_lot"
    assert world.conn.execute(select(stock_moves.c.lot_no).where(stock_moves.c.item_id == MILK)).scalars().all() \
        == [None, None]


def test_untracked_items_without_a_lot_raise_nothing(world: World) -> None:
    receive(world, "10", None, item=BOLT)
    world.run("inventory.issue", world.device, **issue_args(world, "1", None, item=BOLT))
    assert world.open_exceptions() == []
    assert world.conn.execute(select(lots)).all() == []


# -- work-order material (the shop floor picks lots too) --------------------------------------------------

def test_a_held_lot_is_not_issued_to_a_work_order_at_hq_but_a_tablets_issue_stands(plant: Plant) -> None:
    plant.run("inventory.receive", move_id="rcv-lot", item_id="housing", location_id="line", quantity=Decimal(20),
              occurred_at=T0, lot_no="壳体-H1")
    plant.run("inventory.hold_lot", site_id=plant.site, item_id="housing", lot_no="壳体-H1", reason="尺寸超差")
    order = plant.work_order("10")
    refusal = plant.refused(errors.LOT_ON_HOLD, "manufacturing.issue_material", move_id="wo-1", work_order_id=order,
                            item_id="housing", quantity=Decimal(5), occurred_at=T0, lot_no="壳体-H1")
    assert refusal.details["item_id"] == "housing"
    plant.run("manufacturing.issue_material", plant.tablet, move_id="wo-2", work_order_id=order, item_id="housing",
              quantity=Decimal(5), occurred_at=T0, lot_no="壳体-H1")
    [row] = plant.rows(lot_on_hand, item_id="housing", lot_no="壳体-H1")
    assert row["quantity"] == Decimal(15)
    [flagged] = plant.rows(inventory_exceptions, kind="held_lot_moved")
    assert "wo-2" in flagged["involved_json"]
