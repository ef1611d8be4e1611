"""Inventory mutation handlers (``erp.inventory``) run through ``sync.context.MutationContext``
on a plain synchronous SQLite database, as the server applies them: HQ creates the master data,
a device of one site records moves. Covers on-hand upkeep, the negative-stock policies and the
exceptions they raise, site scope, ledger idempotency, reversals, counts, field-level merge of
master data, quantity validation, and the invariant on_hand = sum of stock moves."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, create_engine, func, select

from erp.inventory import errors
from erp.inventory.inventory_exception import inventory_exceptions
from erp.inventory.item import items
from erp.inventory.on_hand import on_hand
from erp.inventory.stock_move import stock_moves
from erp.inventory.warehouse import locations, warehouses
from sync.context import Actor, Edit, FieldConflict, MutationContext, MutationRef, Side
from sync.errors import MutationRejected, OutOfScope
from sync.registry import Registry, discover
from sync.schema import metadata, sync_clock, sync_devices, sync_mutation_log, sync_tombstones
from tests.unit.handler_runner import apply_in_savepoint

HQ = Actor(None, None, "hq-admin")
WHEN = datetime(2024, 5, 1, 8, 30, tzinfo=timezone.utc)


@dataclass
class World:
    """One database with two sites, an item catalogue, and warehouses of each policy."""

    conn: Connection
    registry: Registry
    site: str = "site-A"
    other_site: str = "site-B"
    version: int = 0
    seq: int = 0
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def device(self) -> Actor:
        return Actor("dev1", self.site, "clerk")

    def new_id(self, prefix: str = "id") -> str:
        return f"{prefix}-{next(self.ids)}"

    def context(self, actor: Actor, name: str = "test") -> MutationContext:
        self.version += 1
        self.seq += 1
        ref = MutationRef(actor.device_id, self.seq, name, 1, f"{self.version:015d}-00000-{actor.device_id}")
        return MutationContext(self.conn, self.registry, Side.SERVER, actor, ref, commit_version=self.version)

    def run(self, mutation_name: str, actor: Actor, /, **args: Any) -> MutationContext:
        """Apply one mutation in its own savepoint, rolled back if it fails (as the server does)."""
        definition = self.registry.resolve_latest(mutation_name)
        ctx = self.context(actor, mutation_name)
        apply_in_savepoint(self.conn, definition, ctx, args)
        return ctx

    # -- shortcuts for the moves a device records ----------------------------------------------

    def receive(self, quantity: Any, *, location: str, item: str, actor: Actor | None = None,
                move_id: str | None = None) -> str:
        move_id = move_id or self.new_id("move")
        self.run("inventory.receive", actor or self.device, move_id=move_id, item_id=item, location_id=location,
                 quantity=Decimal(str(quantity)), occurred_at=WHEN)
        return move_id

    def issue(self, quantity: Any, *, location: str, item: str, actor: Actor | None = None) -> str:
        move_id = self.new_id("move")
        self.run("inventory.issue", actor or self.device, move_id=move_id, item_id=item, location_id=location,
                 quantity=Decimal(str(quantity)), occurred_at=WHEN)
        return move_id

    def on_hand(self, item: str, location: str) -> Decimal | None:
        row = self.conn.execute(
            select(on_hand.c.quantity).where(on_hand.c.item_id == item, on_hand.c.location_id == location)
        ).first()
        return None if row is None else row.quantity

    def moves(self, **where: Any) -> list[Any]:
        query = select(stock_moves).where(*(stock_moves.c[name] == value for name, value in where.items()))
        return self.conn.execute(query.order_by(stock_moves.c._version, stock_moves.c.id)).mappings().all()

    def open_exceptions(self) -> list[Any]:
        return self.conn.execute(
            select(inventory_exceptions).where(inventory_exceptions.c.status == "open")
        ).mappings().all()


def build_world(conn: Connection) -> World:
    registry = discover()
    tables = [spec.table for spec in registry.ordered_specs()]
    tables += [sync_clock, sync_devices, sync_mutation_log, sync_tombstones]
    tables += [metadata.tables[name] for name in ("item_costs", "fifo_layers", "valuation_months")]  # server-only valuation
    metadata.create_all(conn, tables=tables)
    world = World(conn, registry)
    world.run("org.create_site", HQ, site_id=world.site, code="WH-A", name="汉阳仓", kind="warehouse")
    world.run("org.create_site", HQ, site_id=world.other_site, code="WH-B", name="武昌仓", kind="warehouse")
    world.run("inventory.create_unit", HQ, code="PCS", name="件")
    for item in ("item-1", "item-2", "item-3"):
        world.run("inventory.create_item", HQ, item_id=item, sku=item.upper(), name=f"螺栓 {item}", unit_code="PCS")
    for policy in ("flag", "reject", "allow"):
        world.run("inventory.create_warehouse", HQ, warehouse_id=f"wh-{policy}", site_id=world.site,
                  code=f"W-{policy}", name=f"{policy} warehouse", negative_stock_policy=policy)
        for bin_code in ("01", "02", "03"):
            world.run("inventory.create_location", HQ, location_id=f"loc-{policy}-{bin_code}",
                      warehouse_id=f"wh-{policy}", code=bin_code, name=f"{policy} {bin_code}")
    world.run("inventory.create_warehouse", HQ, warehouse_id="wh-other", site_id=world.other_site, code="W-B",
              name="other site", negative_stock_policy="flag")
    world.run("inventory.create_location", HQ, location_id="loc-other", warehouse_id="wh-other", code="01",
              name="other 01")
    return world


@pytest.fixture
def world() -> Iterator[World]:
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        yield build_world(conn)
    engine.dispose()


FLAG, REJECT, ALLOW = "loc-flag-01", "loc-reject-01", "loc-allow-01"
ITEM = "item-1"


# -- master data set-up ----------------------------------------------------------------------------


def test_hq_creates_the_master_data(world: World) -> None:
    site_rows = world.conn.execute(select(locations.c.id, locations.c.site_id)).all()
    assert dict(site_rows)[FLAG] == world.site
    assert dict(site_rows)["loc-other"] == world.other_site
    item = world.conn.execute(select(items).where(items.c.id == ITEM)).mappings().one()
    assert item["_version"] > 0
    assert set(json.loads(item["_fv"])) == {"name", "barcode", "active"}
    policies = dict(world.conn.execute(select(warehouses.c.id, warehouses.c.negative_stock_policy)).all())
    assert policies["wh-reject"] == "reject"


# -- receive / issue / negative stock --------------------------------------------------------------


def test_receive_increases_on_hand(world: World) -> None:
    assert world.on_hand(ITEM, FLAG) is None
    first = world.receive("5", location=FLAG, item=ITEM)
    assert world.on_hand(ITEM, FLAG) == Decimal(5)
    world.receive("2.125", location=FLAG, item=ITEM)
    assert world.on_hand(ITEM, FLAG) == Decimal("7.125")
    move = world.moves(id=first)[0]
    assert move["kind"] == "receipt"
    assert move["quantity"] == Decimal(5)
    assert move["site_id"] == world.site
    assert move["device_id"] == "dev1"
    assert move["user_name"] == "clerk"
    assert move["occurred_at"] == WHEN
    assert move["_version"] > 0
    assert world.on_hand("item-2", FLAG) is None  # other items untouched


def test_issue_decreases_on_hand(world: World) -> None:
    world.receive("10", location=FLAG, item=ITEM)
    move_id = world.issue("3.5", location=FLAG, item=ITEM)
    assert world.on_hand(ITEM, FLAG) == Decimal("6.5")
    assert world.moves(id=move_id)[0]["quantity"] == Decimal("-3.5")
    assert world.open_exceptions() == []


def test_negative_issue_with_policy_flag_opens_one_exception_and_later_ones_join_it(world: World) -> None:
    world.receive("3", location=FLAG, item=ITEM)
    first_ctx_seq = world.seq + 1
    first = world.issue("5", location=FLAG, item=ITEM)
    assert world.on_hand(ITEM, FLAG) == Decimal(-2)
    [exception] = world.open_exceptions()
    assert exception["kind"] == "negative_stock"
    assert (exception["item_id"], exception["location_id"], exception["site_id"]) == (ITEM, FLAG, world.site)
    assert exception["quantity"] == Decimal(-2)
    assert json.loads(exception["involved_json"]) == [{"device_id": "dev1", "seq": first_ctx_seq, "move_id": first}]

    second = world.issue("1", location=FLAG, item=ITEM)
    [joined] = world.open_exceptions()
    assert joined["id"] == exception["id"]
    involved = json.loads(joined["involved_json"])
    assert [entry["move_id"] for entry in involved] == [first, second]
    assert joined["quantity"] == Decimal(-3)
    assert world.on_hand(ITEM, FLAG) == Decimal(-3)


def test_negative_issue_on_another_item_opens_its_own_exception(world: World) -> None:
    world.issue("1", location=FLAG, item=ITEM)
    world.issue("1", location=FLAG, item="item-2")
    assert sorted(row["item_id"] for row in world.open_exceptions()) == [ITEM, "item-2"]


def test_issue_that_stays_non_negative_raises_no_exception(world: World) -> None:
    world.receive("2", location=FLAG, item=ITEM)
    world.issue("2", location=FLAG, item=ITEM)
    assert world.on_hand(ITEM, FLAG) == 0
    assert world.open_exceptions() == []


def test_negative_issue_with_policy_reject_is_refused(world: World) -> None:
    world.receive("1", location=REJECT, item=ITEM)
    with pytest.raises(MutationRejected) as caught:
        world.issue("4", location=REJECT, item=ITEM)
    assert caught.value.code == errors.NEGATIVE_STOCK == "inventory.negative_stock"
    assert caught.value.details["on_hand"] == "1"
    assert caught.value.details["requested"] == "4"
    assert world.on_hand(ITEM, REJECT) == Decimal(1)
    assert world.open_exceptions() == []
    assert [move["kind"] for move in world.moves(location_id=REJECT)] == ["receipt"]


def test_negative_issue_with_policy_allow_raises_no_exception(world: World) -> None:
    world.issue("4", location=ALLOW, item=ITEM)
    world.issue("1", location=ALLOW, item=ITEM)
    assert world.on_hand(ITEM, ALLOW) == Decimal(-5)
    assert world.open_exceptions() == []


def test_transfer_moves_stock_between_locations(world: World) -> None:
    world.receive("8", location=FLAG, item=ITEM)
    world.run("inventory.transfer", world.device, transfer_id="doc-1", out_move_id="out-1", in_move_id="in-1",
              item_id=ITEM, from_location_id=FLAG, to_location_id="loc-flag-02", quantity=Decimal(3), occurred_at=WHEN)
    assert world.on_hand(ITEM, FLAG) == Decimal(5)
    assert world.on_hand(ITEM, "loc-flag-02") == Decimal(3)
    legs = world.moves(document_id="doc-1")
    assert sorted((leg["kind"], leg["quantity"]) for leg in legs) == [("transfer_in", 3), ("transfer_out", -3)]
    with pytest.raises(MutationRejected) as caught:
        world.run("inventory.transfer", world.device, transfer_id="doc-2", out_move_id="out-2", in_move_id="in-2",
                  item_id=ITEM, from_location_id=FLAG, to_location_id=FLAG, quantity=Decimal(1), occurred_at=WHEN)
    assert caught.value.code == errors.SAME_LOCATION


def test_unknown_item_and_location_are_rejected(world: World) -> None:
    with pytest.raises(MutationRejected) as caught:
        world.receive("1", location=FLAG, item="no-such-item")
    assert caught.value.code == errors.UNKNOWN_ITEM
    with pytest.raises(MutationRejected) as caught:
        world.receive("1", location="no-such-location", item=ITEM)
    assert caught.value.code == errors.UNKNOWN_LOCATION
    assert world.moves() == []


# -- scope -----------------------------------------------------------------------------------------


def test_device_cannot_write_a_move_into_another_sites_location(world: World) -> None:
    with pytest.raises(OutOfScope) as caught:
        world.receive("5", location="loc-other", item=ITEM)
    assert caught.value.code == "sync.out_of_scope"
    assert isinstance(caught.value, MutationRejected)
    assert caught.value.details["row_scope"] == world.other_site
    assert caught.value.details["device_scope"] == world.site
    assert world.moves() == []
    assert world.on_hand(ITEM, "loc-other") is None


def test_device_cannot_issue_from_another_sites_location(world: World) -> None:
    world.receive("5", location="loc-other", item=ITEM, actor=HQ)
    with pytest.raises(OutOfScope):
        world.issue("1", location="loc-other", item=ITEM)
    assert world.on_hand(ITEM, "loc-other") == Decimal(5)


def test_device_cannot_create_a_warehouse(world: World) -> None:
    with pytest.raises(OutOfScope) as caught:
        world.run("inventory.create_warehouse", world.device, warehouse_id="wh-new", site_id=world.site,
                  code="W-NEW", name="mine")
    assert caught.value.code == "sync.out_of_scope"
    assert world.conn.execute(select(warehouses).where(warehouses.c.id == "wh-new")).first() is None


def test_device_creates_locations_only_in_its_own_site(world: World) -> None:
    world.run("inventory.create_location", world.device, location_id="loc-new", warehouse_id="wh-flag",
              code="99", name="new bin")
    row = world.conn.execute(select(locations).where(locations.c.id == "loc-new")).mappings().one()
    assert row["site_id"] == world.site
    with pytest.raises(OutOfScope):
        world.run("inventory.create_location", world.device, location_id="loc-bad", warehouse_id="wh-other",
                  code="99", name="not mine")
    assert world.conn.execute(select(locations).where(locations.c.id == "loc-bad")).first() is None


def test_device_cannot_edit_another_sites_warehouse(world: World) -> None:
    with pytest.raises(OutOfScope):
        world.run("inventory.update_warehouse", world.device, warehouse_id="wh-other",
                  name={"value": "renamed", "base_version": 99})
    name = world.conn.execute(select(warehouses.c.name).where(warehouses.c.id == "wh-other")).scalar_one()
    assert name == "other site"


def test_delete_leaves_a_tombstone_and_respects_scope(world: World) -> None:
    with pytest.raises(OutOfScope):
        world.context(world.device).delete(locations, {"id": "loc-other"})
    assert world.conn.execute(select(locations).where(locations.c.id == "loc-other")).first() is not None

    ctx = world.context(HQ)
    ctx.delete(locations, {"id": "loc-allow-03"})
    assert world.conn.execute(select(locations).where(locations.c.id == "loc-allow-03")).first() is None
    tombstone = world.conn.execute(select(sync_tombstones)).mappings().one()
    assert tombstone["table_name"] == "locations"
    assert json.loads(tombstone["row_key"]) == ["loc-allow-03"]
    assert tombstone["scope_value"] == world.site
    assert tombstone["_version"] == ctx.commit_version
    assert ctx.touched_scopes == {world.site}


def test_hq_writes_in_every_site(world: World) -> None:
    world.receive("2", location="loc-other", item=ITEM, actor=HQ)
    world.receive("3", location=FLAG, item=ITEM, actor=HQ)
    assert world.on_hand(ITEM, "loc-other") == 2
    assert world.on_hand(ITEM, FLAG) == 3


# -- ledger idempotency ----------------------------------------------------------------------------


def test_insert_ledger_with_an_existing_id_returns_false_and_writes_nothing(world: World) -> None:
    move_id = world.receive("5", location=FLAG, item=ITEM)
    before = world.moves()
    ctx = world.context(world.device)
    replay = dict(before[0])
    replay.update(quantity=Decimal(999), kind="adjustment", reference="tampered")
    replay.pop("_version")
    assert ctx.insert_ledger(stock_moves, replay) is False
    assert world.moves() == before
    assert world.moves(id=move_id)[0]["quantity"] == Decimal(5)
    assert ctx.touched_scopes == set()


def test_insert_ledger_with_a_new_id_returns_true(world: World) -> None:
    ctx = world.context(world.device)
    row = {"id": "fresh", "site_id": world.site, "kind": "adjustment", "item_id": ITEM, "location_id": FLAG,
           "quantity": Decimal("1.5"), "occurred_at": WHEN, "hlc": ctx.ref.hlc}
    assert ctx.insert_ledger(stock_moves, row) is True
    stored = world.moves(id="fresh")[0]
    assert stored["_version"] == ctx.commit_version
    assert ctx.touched_scopes == {world.site}


def test_a_replayed_receive_does_not_count_twice(world: World) -> None:
    move_id = world.receive("5", location=FLAG, item=ITEM)
    world.receive("5", location=FLAG, item=ITEM, move_id=move_id)
    assert world.on_hand(ITEM, FLAG) == Decimal(5)
    assert len(world.moves()) == 1


def test_ledger_rows_cannot_be_updated(world: World) -> None:
    move_id = world.receive("5", location=FLAG, item=ITEM)
    with pytest.raises(TypeError):
        world.context(HQ).update(stock_moves, {"id": move_id}, {"quantity": Decimal(1)})
    with pytest.raises(TypeError):
        world.context(HQ).insert(stock_moves, {"id": "x"})


# -- reversal --------------------------------------------------------------------------------------


def test_reverse_negates_and_a_second_reversal_is_rejected(world: World) -> None:
    move_id = world.receive("5.25", location=FLAG, item=ITEM)
    world.run("inventory.reverse", world.device, reversal_id="rev-1", move_id=move_id, occurred_at=WHEN,
              reason="wrong item")
    [reversal] = world.moves(id="rev-1")
    assert reversal["kind"] == "reversal"
    assert reversal["quantity"] == Decimal("-5.25")
    assert reversal["reverses_id"] == move_id
    assert (reversal["item_id"], reversal["location_id"]) == (ITEM, FLAG)
    assert world.on_hand(ITEM, FLAG) == 0
    assert world.moves(id=move_id)[0]["quantity"] == Decimal("5.25")  # the original stays

    with pytest.raises(MutationRejected) as caught:
        world.run("inventory.reverse", world.device, reversal_id="rev-2", move_id=move_id, occurred_at=WHEN,
                  reason="again")
    assert caught.value.code == errors.ALREADY_REVERSED == "inventory.already_reversed"
    assert world.moves(id="rev-2") == []
    assert world.on_hand(ITEM, FLAG) == 0


def test_a_reversal_cannot_be_reversed(world: World) -> None:
    move_id = world.receive("1", location=FLAG, item=ITEM)
    world.run("inventory.reverse", world.device, reversal_id="rev-1", move_id=move_id, occurred_at=WHEN, reason="x")
    with pytest.raises(MutationRejected) as caught:
        world.run("inventory.reverse", world.device, reversal_id="rev-2", move_id="rev-1", occurred_at=WHEN,
                  reason="y")
    assert caught.value.code == errors.ALREADY_REVERSED


def test_a_replayed_reversal_is_a_no_op(world: World) -> None:
    move_id = world.receive("4", location=FLAG, item=ITEM)
    for _ in range(2):
        world.run("inventory.reverse", world.device, reversal_id="rev-1", move_id=move_id, occurred_at=WHEN,
                  reason="x")
    assert world.on_hand(ITEM, FLAG) == 0
    assert len(world.moves(reverses_id=move_id)) == 1


def test_reversing_an_unknown_move_is_rejected(world: World) -> None:
    with pytest.raises(MutationRejected) as caught:
        world.run("inventory.reverse", world.device, reversal_id="rev-1", move_id="nope", occurred_at=WHEN,
                  reason="x")
    assert caught.value.code == errors.UNKNOWN_MOVE


# -- count -----------------------------------------------------------------------------------------


def count(world: World, counted: str, *, location: str = FLAG) -> list[Any]:
    move_id = world.new_id("count")
    world.run("inventory.count", world.device, move_id=move_id, item_id=ITEM, location_id=location,
              counted_quantity=Decimal(counted), occurred_at=WHEN)
    return world.moves(id=move_id)


def test_count_turns_the_counted_quantity_into_the_difference(world: World) -> None:
    world.receive("10", location=FLAG, item=ITEM)
    [move] = count(world, "7.5")
    assert move["kind"] == "count"
    assert move["quantity"] == Decimal("-2.5")
    assert world.on_hand(ITEM, FLAG) == Decimal("7.5")
    assert "7.5" in move["reference"]

    [more] = count(world, "9")
    assert more["quantity"] == Decimal("1.5")
    assert world.on_hand(ITEM, FLAG) == Decimal(9)


def test_a_matching_count_leaves_a_zero_move(world: World) -> None:
    world.receive("4", location=FLAG, item=ITEM)
    [move] = count(world, "4")
    assert move["quantity"] == 0
    assert world.on_hand(ITEM, FLAG) == Decimal(4)


def test_count_without_prior_stock_records_the_counted_quantity(world: World) -> None:
    [move] = count(world, "3")
    assert move["quantity"] == Decimal(3)
    assert world.on_hand(ITEM, FLAG) == Decimal(3)


def test_count_of_zero_on_negative_stock_brings_it_back(world: World) -> None:
    world.issue("2", location=FLAG, item=ITEM)
    [move] = count(world, "0")
    assert move["quantity"] == Decimal(2)
    assert world.on_hand(ITEM, FLAG) == 0


# -- field-level merge of master data --------------------------------------------------------------


def item_row(world: World, item: str = ITEM) -> Any:
    return world.conn.execute(select(items).where(items.c.id == item)).mappings().one()


def test_merge_master_different_fields_edited_on_both_sides_both_win(world: World) -> None:
    base = json.loads(item_row(world)["_fv"])
    device_ctx = world.run("inventory.update_item", world.device, item_id=ITEM,
                           name={"value": "螺栓 M8", "base_version": base["name"]})
    hq_ctx = world.run("inventory.update_item", HQ, item_id=ITEM,
                       barcode={"value": "6900000000017", "base_version": base["barcode"]})
    assert device_ctx.conflicts == [] and hq_ctx.conflicts == []
    row = item_row(world)
    assert row["name"] == "螺栓 M8"
    assert row["barcode"] == "6900000000017"
    versions = json.loads(row["_fv"])
    assert versions["name"] == device_ctx.commit_version
    assert versions["barcode"] == hq_ctx.commit_version
    assert versions["active"] == base["active"]
    assert row["_version"] == hq_ctx.commit_version


def test_merge_master_same_field_with_a_stale_base_keeps_the_server_value(world: World) -> None:
    base = json.loads(item_row(world)["_fv"])["name"]
    hq_ctx = world.run("inventory.update_item", HQ, item_id=ITEM, name={"value": "HQ name", "base_version": base})
    version_before = item_row(world)["_version"]

    ctx = world.context(world.device)
    found = ctx.merge_master(items, {"id": ITEM}, {"name": Edit("device name", base), "barcode": None})
    assert found == [
        FieldConflict(table="items", row_key=(ITEM,), field="name", base_version=base,
                      device_value="device name", server_value="HQ name", kept="server")
    ]
    assert ctx.conflicts == found
    row = item_row(world)
    assert row["name"] == "HQ name"
    assert json.loads(row["_fv"])["name"] == hq_ctx.commit_version
    assert row["_version"] == version_before  # nothing was written


def test_merge_master_stale_edit_of_one_field_still_applies_the_other(world: World) -> None:
    base = json.loads(item_row(world)["_fv"])
    world.run("inventory.update_item", HQ, item_id=ITEM, name={"value": "HQ name", "base_version": base["name"]})
    ctx = world.run("inventory.update_item", world.device, item_id=ITEM,
                    name={"value": "device name", "base_version": base["name"]},
                    barcode={"value": "123", "base_version": base["barcode"]})
    assert [conflict.field for conflict in ctx.conflicts] == ["name"]
    assert ctx.conflicts[0].kept == "server"
    row = item_row(world)
    assert (row["name"], row["barcode"]) == ("HQ name", "123")


def test_merge_master_stale_edit_with_the_same_value_is_no_conflict(world: World) -> None:
    base = json.loads(item_row(world)["_fv"])["name"]
    world.run("inventory.update_item", HQ, item_id=ITEM, name={"value": "same", "base_version": base})
    ctx = world.run("inventory.update_item", world.device, item_id=ITEM, name={"value": "same", "base_version": base})
    assert ctx.conflicts == []
    assert item_row(world)["name"] == "same"


def test_merge_master_refuses_fields_that_are_not_mergeable(world: World) -> None:
    ctx = world.context(world.device)
    with pytest.raises(MutationRejected) as caught:
        ctx.merge_master(items, {"id": ITEM}, {"sku": Edit("NEW-SKU", 0)})
    assert caught.value.code == "sync.field_not_editable"
    assert item_row(world)["sku"] == "ITEM-1"


def test_merge_master_on_a_missing_row_is_rejected(world: World) -> None:
    with pytest.raises(MutationRejected) as caught:
        world.context(HQ).merge_master(items, {"id": "ghost"}, {"name": Edit("x", 0)})
    assert caught.value.code == "sync.row_missing"


# -- quantity validation ---------------------------------------------------------------------------

INVALID = ["0", "-1", "-0.000000001", "1.0000000001", "0.0000000001", "NaN", "Infinity"]


@pytest.mark.parametrize("quantity", INVALID)
def test_receive_rejects_invalid_quantities(world: World, quantity: str) -> None:
    with pytest.raises(MutationRejected) as caught:
        world.receive(quantity, location=FLAG, item=ITEM)
    assert caught.value.code == errors.INVALID_QUANTITY == "inventory.invalid_quantity"
    assert world.moves() == []
    assert world.on_hand(ITEM, FLAG) is None


@pytest.mark.parametrize("quantity", INVALID)
def test_issue_rejects_invalid_quantities(world: World, quantity: str) -> None:
    with pytest.raises(MutationRejected) as caught:
        world.issue(quantity, location=FLAG, item=ITEM)
    assert caught.value.code == errors.INVALID_QUANTITY
    assert world.moves() == []


@pytest.mark.parametrize("quantity", ["0", "1.0000000001", "NaN"])
def test_adjust_rejects_zero_and_over_precise_quantities(world: World, quantity: str) -> None:
    with pytest.raises(MutationRejected) as caught:
        world.run("inventory.adjust", world.device, move_id="adj", item_id=ITEM, location_id=ALLOW,
                  quantity=Decimal(quantity), occurred_at=WHEN, reason="damage")
    assert caught.value.code == errors.INVALID_QUANTITY
    assert world.moves() == []


def test_adjust_accepts_negative_corrections(world: World) -> None:
    world.run("inventory.adjust", world.device, move_id="adj", item_id=ITEM, location_id=ALLOW,
              quantity=Decimal("-1.000000001"), occurred_at=WHEN, reason="damage")
    assert world.on_hand(ITEM, ALLOW) == Decimal("-1.000000001")


@pytest.mark.parametrize("counted", ["-1", "1.0000000001"])
def test_count_rejects_negative_and_over_precise_counts(world: World, counted: str) -> None:
    with pytest.raises(MutationRejected) as caught:
        count(world, counted)
    assert caught.value.code == errors.INVALID_QUANTITY


def test_transfer_rejects_invalid_quantities(world: World) -> None:
    with pytest.raises(MutationRejected) as caught:
        world.run("inventory.transfer", world.device, transfer_id="d", out_move_id="o", in_move_id="i",
                  item_id=ITEM, from_location_id=FLAG, to_location_id="loc-flag-02", quantity=Decimal(-2),
                  occurred_at=WHEN)
    assert caught.value.code == errors.INVALID_QUANTITY


def test_nine_decimals_are_accepted(world: World) -> None:
    world.receive("0.000000001", location=FLAG, item=ITEM)
    world.receive("12345678.123456789", location=FLAG, item=ITEM)
    assert world.on_hand(ITEM, FLAG) == Decimal("12345678.123456790")


# -- invariant: on_hand is the sum of the ledger ---------------------------------------------------

PROPERTY_ITEMS = ["item-1", "item-2"]
PROPERTY_LOCATIONS = ["loc-allow-01", "loc-allow-02", "loc-allow-03"]
QUANTITIES = st.decimals(min_value=Decimal("0.000000001"), max_value=Decimal(1000), places=9,
                         allow_nan=False, allow_infinity=False)
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("receive"), st.sampled_from(PROPERTY_ITEMS), st.sampled_from(PROPERTY_LOCATIONS),
                  st.none(), QUANTITIES),
        st.tuples(st.just("issue"), st.sampled_from(PROPERTY_ITEMS), st.sampled_from(PROPERTY_LOCATIONS),
                  st.none(), QUANTITIES),
        st.tuples(st.just("adjust"), st.sampled_from(PROPERTY_ITEMS), st.sampled_from(PROPERTY_LOCATIONS),
                  st.none(), st.one_of(QUANTITIES, QUANTITIES.map(lambda q: -q))),
        st.tuples(st.just("transfer"), st.sampled_from(PROPERTY_ITEMS), st.sampled_from(PROPERTY_LOCATIONS),
                  st.sampled_from(PROPERTY_LOCATIONS), QUANTITIES).filter(lambda op: op[2] != op[3]),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(OPERATIONS)
def test_on_hand_equals_the_sum_of_stock_moves(operations) -> None:
    engine = create_engine("sqlite://")
    try:
        with engine.connect() as conn:
            world = build_world(conn)
            expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
            for kind, item, location, target, quantity in operations:
                common = {"item_id": item, "quantity": quantity, "occurred_at": WHEN}
                if kind == "receive":
                    world.run("inventory.receive", world.device, move_id=world.new_id(), location_id=location, **common)
                    expected[item, location] += quantity
                elif kind == "issue":
                    world.run("inventory.issue", world.device, move_id=world.new_id(), location_id=location, **common)
                    expected[item, location] -= quantity
                elif kind == "adjust":
                    world.run("inventory.adjust", world.device, move_id=world.new_id(), location_id=location,
                              reason="property", **common)
                    expected[item, location] += quantity
                else:
                    world.run("inventory.transfer", world.device, transfer_id=world.new_id(),
                              out_move_id=world.new_id(), in_move_id=world.new_id(), from_location_id=location,
                              to_location_id=target, **common)
                    expected[item, location] -= quantity
                    expected[item, target] += quantity

            ledger: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
            for move in world.moves():
                ledger[move["item_id"], move["location_id"]] += move["quantity"]
            stored = {
                (row.item_id, row.location_id): row.quantity
                for row in conn.execute(select(on_hand.c.item_id, on_hand.c.location_id, on_hand.c.quantity))
            }
            assert stored == dict(ledger)
            assert stored == {key: value for key, value in expected.items() if key in stored}
            assert set(stored) == set(expected)
            assert world.open_exceptions() == []  # policy 'allow' never raises exceptions
            moves_count = conn.execute(select(func.count()).select_from(stock_moves)).scalar_one()
            assert moves_count == sum(2 if op[0] == "transfer" else 1 for op in operations)
    finally:
        engine.dispose()
