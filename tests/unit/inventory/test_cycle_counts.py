"""Cycle counts (``erp.inventory.cycle_count``) run through ``MutationContext`` on a plain SQLite
database, as the server applies them: HQ or a branch opens a count, a tablet counts blind, the
count is submitted, approved into count moves or cancelled. Also the pure rules of
``count_policy`` (which items are due, which variances need a look), with property tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Connection, create_engine, select

from erp.inventory import count_errors
from erp.inventory.count_policy import DEFAULT_INTERVALS, ItemCountHistory, due_for_count, exceeds_tolerance
from erp.inventory.count_queries import count_history, get_cycle_count, variances
from erp.inventory.cycle_count import (
    TRANSITIONS, TransitionForbidden, approval_move_id, change_state, cycle_count_entries, cycle_count_lines,
    cycle_counts,
)
from erp.inventory.inventory_exception import inventory_exceptions
from erp.inventory.on_hand import on_hand
from erp.inventory.stock_move import stock_moves
from sync.context import Actor, MutationContext, MutationRef, Side
from sync.errors import MutationRejected, OutOfScope
from sync.registry import Registry, discover
from sync.schema import metadata
from tests.unit.handler_runner import apply_in_savepoint

HQ = Actor(None, None, "hq-盘点主管")
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
ITEM, ITEM2, LOT_ITEM = "item-1", "item-2", "item-lot"
BIN1, BIN2, OTHER_WH_BIN = "bin-1", "bin-2", "bin-w2"


@dataclass
class World:
    conn: Connection
    registry: Registry
    site: str = "site-A"
    other_site: str = "site-B"
    version: int = 0
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def device(self, site: str | None = None) -> Actor:
        return Actor("tablet-1", site or self.site, "盘点员 𠮷")

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self.ids)}"

    def run(self, name: str, actor: Actor, /, **args: Any) -> MutationContext:
        """One mutation in a savepoint, rolled back if refused (as the server applies it)."""
        definition = self.registry.resolve_latest(name)
        self.version += 1
        ref = MutationRef(actor.device_id, self.version, name, 1, f"{self.version:015d}-00000-{actor.device_id}")
        ctx = MutationContext(self.conn, self.registry, Side.SERVER, actor, ref, commit_version=self.version)
        apply_in_savepoint(self.conn, definition, ctx, args)
        return ctx

    def receive(self, quantity: str, *, item: str = ITEM, location: str = BIN1, lot_no: str | None = None) -> None:
        self.run("inventory.receive", self.device(), move_id=self.new_id("move"), item_id=item, location_id=location,
                 quantity=Decimal(quantity), occurred_at=T0 - timedelta(days=1), lot_no=lot_no)

    def issue(self, quantity: str, *, item: str = ITEM, location: str = BIN1) -> None:
        self.run("inventory.issue", self.device(), move_id=self.new_id("move"), item_id=item, location_id=location,
                 quantity=Decimal(quantity), occurred_at=T0 + timedelta(hours=3))

    def open_count(self, lines: list[tuple[str, str] | tuple[str, str, str]], *, actor: Actor = HQ,
                   number: str = "PD-2026-001") -> tuple[str, list[str]]:
        count_id = self.new_id("count")
        line_ids = [self.new_id("line") for _ in lines]
        self.run("inventory.create_cycle_count", actor, count_id=count_id, warehouse_id="wh-1", number=number,
                 lines=[{"line_id": line_id, "item_id": line[0], "location_id": line[1],
                         "lot_no": line[2] if len(line) > 2 else None} for line_id, line in zip(line_ids, lines)],
                 note="月度盘点 𠮷")
        return count_id, line_ids

    def count(self, line_id: str, quantity: str, *, at: datetime = T0, actor: Actor | None = None,
              entry_id: str | None = None) -> str:
        entry_id = entry_id or self.new_id("entry")
        self.run("inventory.record_count", actor or self.device(), entry_id=entry_id, line_id=line_id,
                 counted_quantity=Decimal(quantity), occurred_at=at)
        return entry_id

    def status(self, count_id: str) -> str:
        return self.conn.execute(select(cycle_counts.c.status).where(cycle_counts.c.id == count_id)).scalar_one()

    def line(self, line_id: str) -> Any:
        return self.conn.execute(select(cycle_count_lines).where(cycle_count_lines.c.id == line_id)).mappings().one()

    def on_hand(self, item: str = ITEM, location: str = BIN1) -> Decimal:
        row = self.conn.execute(select(on_hand.c.quantity).where(on_hand.c.item_id == item,
                                                                 on_hand.c.location_id == location)).first()
        return Decimal(0) if row is None else row.quantity

    def count_moves(self) -> list[Any]:
        return self.conn.execute(select(stock_moves).where(stock_moves.c.kind == "count")
                                 .order_by(stock_moves.c.id)).mappings().all()


@pytest.fixture
def world() -> Iterator[World]:
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        registry = discover()
        metadata.create_all(conn)
        w = World(conn, registry)
        w.run("org.create_site", HQ, site_id=w.site, code="WH-A", name="汉阳仓 𠀋", kind="warehouse")
        w.run("org.create_site", HQ, site_id=w.other_site, code="WH-B", name="武昌仓", kind="warehouse")
        w.run("inventory.create_unit", HQ, code="PCS", name="件")
        w.run("inventory.create_item", HQ, item_id=ITEM, sku="SKU-1", name="螺栓 𠮷", unit_code="PCS")
        w.run("inventory.create_item", HQ, item_id=ITEM2, sku="SKU-2", name="垫圈", unit_code="PCS")
        w.run("inventory.create_item", HQ, item_id=LOT_ITEM, sku="SKU-L", name="胶水", unit_code="PCS", tracking="lot")
        for warehouse, site, bins in (("wh-1", w.site, (BIN1, BIN2)), ("wh-2", w.site, (OTHER_WH_BIN,)),
                                      ("wh-b", w.other_site, ("bin-b",))):
            w.run("inventory.create_warehouse", HQ, warehouse_id=warehouse, site_id=site, code=warehouse.upper(),
                  name=f"仓库 {warehouse}")
            for code in bins:
                w.run("inventory.create_location", HQ, location_id=code, warehouse_id=warehouse, code=code.upper(),
                      name=code)
        yield w
    engine.dispose()


def rejected_code(world: World, name: str, actor: Actor, **args: Any) -> str:
    with pytest.raises(MutationRejected) as refused:
        world.run(name, actor, **args)
    return refused.value.code


# -- the state machine -------------------------------------------------------------------------------


def test_the_end_states_are_final_and_every_open_state_can_be_cancelled():
    assert TRANSITIONS["approved"] == TRANSITIONS["cancelled"] == frozenset()
    assert all("cancelled" in TRANSITIONS[state] for state in ("open", "counting", "submitted"))


@pytest.mark.parametrize("current", sorted(TRANSITIONS))
@pytest.mark.parametrize("target", sorted(TRANSITIONS))
def test_change_state_allows_exactly_the_listed_transitions(current, target):
    if target in TRANSITIONS[current]:
        assert change_state(current, target) == target
    else:
        with pytest.raises(TransitionForbidden):
            change_state(current, target)


# -- creating a count --------------------------------------------------------------------------------


def test_hq_opens_a_count_with_numbered_lines_in_the_warehouse_site(world):
    count_id, line_ids = world.open_count([(ITEM, BIN1), (ITEM2, BIN2)])
    document = world.conn.execute(select(cycle_counts).where(cycle_counts.c.id == count_id)).mappings().one()
    assert (document["status"], document["site_id"], document["created_by"]) == ("open", world.site, HQ.user)
    assert [world.line(i)["line_no"] for i in line_ids] == [1, 2]
    assert world.line(line_ids[0])["counted_quantity"] is None


def test_a_branch_device_opens_a_count_of_its_own_site_only(world):
    count_id, _ = world.open_count([(ITEM, BIN1)], actor=world.device())
    assert world.status(count_id) == "open"
    with pytest.raises(OutOfScope):
        world.run("inventory.create_cycle_count", world.device("site-B"), count_id="c-x", warehouse_id="wh-1",
                  number="PD-X", lines=[{"line_id": "l-x", "item_id": ITEM, "location_id": BIN1}])


@pytest.mark.parametrize("lines, code", [
    ([], count_errors.COUNT_HAS_NO_LINES),
    ([("l1", ITEM, BIN1), ("l2", ITEM, BIN1)], count_errors.DUPLICATE_COUNT_LINE),
    ([("l1", ITEM, OTHER_WH_BIN)], count_errors.COUNT_LOCATION_ELSEWHERE),
    ([("l1", "no-such-item", BIN1)], "inventory.unknown_item"),
])
def test_a_count_with_bad_lines_is_refused(world, lines, code):
    assert rejected_code(world, "inventory.create_cycle_count", HQ, count_id="c-1", warehouse_id="wh-1",
                         number="PD-1", lines=[{"line_id": l, "item_id": i, "location_id": loc}
                                               for l, i, loc in lines]) == code
    assert world.conn.execute(select(cycle_counts)).first() is None


def test_count_numbers_are_unique(world):
    world.open_count([(ITEM, BIN1)], number="PD-7")
    assert rejected_code(world, "inventory.create_cycle_count", HQ, count_id="c-2", warehouse_id="wh-1",
                         number="PD-7", lines=[{"line_id": "l-2", "item_id": ITEM, "location_id": BIN1}]
                         ) == count_errors.COUNT_NUMBER_TAKEN


# -- counting ----------------------------------------------------------------------------------------


def test_a_blind_count_records_an_entry_and_the_system_quantity_of_that_moment(world):
    world.receive("40")
    count_id, [line_id] = world.open_count([(ITEM, BIN1)])
    entry_id = world.count(line_id, "37")
    assert world.status(count_id) == "counting"
    line = world.line(line_id)
    assert (line["counted_quantity"], line["system_quantity"], line["counted_at"]) == (37, 40, T0)
    assert line["counted_by"] == "盘点员 𠮷"
    entry = world.conn.execute(select(cycle_count_entries)).mappings().one()
    assert (entry["id"], entry["device_id"], entry["flag"]) == (entry_id, "tablet-1", None)
    assert world.on_hand() == 40  # nothing moves before approval
    assert world.count_moves() == []


def test_a_replayed_count_is_recorded_once_and_a_recount_replaces_it(world):
    world.receive("10")
    _, [line_id] = world.open_count([(ITEM, BIN1)])
    world.count(line_id, "9", entry_id="e-1")
    world.count(line_id, "9", entry_id="e-1")  # the same mutation again
    world.count(line_id, "8", at=T0 + timedelta(minutes=5))
    entries = world.conn.execute(select(cycle_count_entries.c.counted_quantity)
                                 .order_by(cycle_count_entries.c.occurred_at)).scalars().all()
    assert entries == [9, 8]
    assert world.line(line_id)["counted_quantity"] == 8


def test_a_count_that_arrives_late_does_not_replace_a_later_one(world):
    _, [line_id] = world.open_count([(ITEM, BIN1)])
    world.count(line_id, "5", at=T0 + timedelta(hours=1))
    world.count(line_id, "3", at=T0)  # taken earlier on another tablet, synced afterwards
    assert world.line(line_id)["counted_quantity"] == 5
    assert len(world.conn.execute(select(cycle_count_entries)).all()) == 2


def test_a_tablet_of_another_site_cannot_count_this_sites_lines(world):
    _, [line_id] = world.open_count([(ITEM, BIN1)])
    with pytest.raises(OutOfScope):
        world.count(line_id, "1", actor=world.device("site-B"))


def test_a_lot_line_compares_with_that_lots_moves_only(world):
    world.receive("10", item=LOT_ITEM, lot_no="L-2026-01")
    world.receive("6", item=LOT_ITEM, lot_no="L-2026-02")
    count_id, [line_id] = world.open_count([(LOT_ITEM, BIN1, "L-2026-02")])
    world.count(line_id, "4")
    assert world.line(line_id)["system_quantity"] == 6
    world.run("inventory.submit_cycle_count", world.device(), count_id=count_id)
    world.run("inventory.approve_cycle_count", HQ, count_id=count_id)
    [move] = world.count_moves()
    assert (move["lot_no"], move["quantity"]) == ("L-2026-02", -2)
    assert world.on_hand(LOT_ITEM) == 14


# -- approval ----------------------------------------------------------------------------------------


def test_approval_posts_the_differences_and_keeps_moves_made_after_the_count(world):
    world.receive("40")
    world.receive("12", item=ITEM2, location=BIN2)
    count_id, (first, second, third) = world.open_count([(ITEM, BIN1), (ITEM2, BIN2), (ITEM2, BIN1)])
    world.count(first, "37")
    world.count(second, "12")
    world.issue("5")  # picked after the shelf was counted, before the approval
    world.run("inventory.submit_cycle_count", world.device(), count_id=count_id)
    world.run("inventory.approve_cycle_count", HQ, count_id=count_id)
    assert world.status(count_id) == "approved"
    moves = {m["id"]: m for m in world.count_moves()}
    assert moves[approval_move_id(first)]["quantity"] == -3
    assert moves[approval_move_id(second)]["quantity"] == 0  # the record that it was counted
    assert approval_move_id(third) not in moves  # never counted: not adjusted
    assert moves[approval_move_id(first)]["document_id"] == count_id
    assert moves[approval_move_id(first)]["occurred_at"] == T0
    assert world.on_hand() == 40 - 5 - 3
    assert world.line(first)["move_id"] == approval_move_id(first)


def test_approving_twice_or_before_submission_is_refused(world):
    count_id, [line_id] = world.open_count([(ITEM, BIN1)])
    world.count(line_id, "1")
    assert rejected_code(world, "inventory.approve_cycle_count", HQ, count_id=count_id) == \
        count_errors.COUNT_NOT_SUBMITTED
    world.run("inventory.submit_cycle_count", HQ, count_id=count_id)
    world.run("inventory.approve_cycle_count", HQ, count_id=count_id)
    assert rejected_code(world, "inventory.approve_cycle_count", HQ, count_id=count_id) == count_errors.COUNT_APPROVED
    assert rejected_code(world, "inventory.cancel_cycle_count", HQ, count_id=count_id) == count_errors.COUNT_APPROVED
    assert len(world.count_moves()) == 1


# -- cancellation ------------------------------------------------------------------------------------


def test_a_count_on_a_cancelled_document_is_kept_flagged_and_changes_nothing(world):
    world.receive("20")
    count_id, [line_id] = world.open_count([(ITEM, BIN1)])
    world.run("inventory.cancel_cycle_count", HQ, count_id=count_id, reason="盘点计划调整")
    entry_id = world.count(line_id, "18")  # a physical fact: never refused
    entry = world.conn.execute(select(cycle_count_entries)).mappings().one()
    assert (entry["id"], entry["flag"], entry["counted_quantity"]) == (entry_id, "cancelled", 18)
    assert world.line(line_id)["counted_quantity"] is None
    [exception] = world.conn.execute(select(inventory_exceptions)).mappings().all()
    assert (exception["kind"], exception["status"], exception["quantity"]) == ("count_after_cancelled", "open", 18)
    assert world.status(count_id) == "cancelled" and world.on_hand() == 20 and world.count_moves() == []
    assert rejected_code(world, "inventory.approve_cycle_count", HQ, count_id=count_id) == \
        count_errors.COUNT_CANCELLED


def test_unknown_documents_and_lines_are_refused(world):
    assert rejected_code(world, "inventory.record_count", world.device(), entry_id="e", line_id="nope",
                         counted_quantity=Decimal(1), occurred_at=T0) == count_errors.UNKNOWN_COUNT_LINE
    assert rejected_code(world, "inventory.submit_cycle_count", HQ, count_id="nope") == \
        count_errors.UNKNOWN_CYCLE_COUNT


def test_the_direct_count_still_adjusts_at_once(world):
    world.receive("7")
    world.run("inventory.count", world.device(), move_id="m-count", item_id=ITEM, location_id=BIN1,
              counted_quantity=Decimal("5.5"), occurred_at=T0)
    [move] = world.count_moves()
    assert (move["quantity"], move["reference"]) == (Decimal("-1.5"), "counted 5.5, system 7")
    assert world.on_hand() == Decimal("5.5")


# -- review queries ----------------------------------------------------------------------------------


def test_the_variance_list_shows_lines_beyond_the_tolerance_largest_first(world):
    world.receive("100")
    world.receive("10", item=ITEM2, location=BIN2)
    count_id, (big, small) = world.open_count([(ITEM, BIN1), (ITEM2, BIN2)])
    world.count(big, "96")
    world.count(small, "9")
    found = variances(world.conn, count_id=count_id, absolute=Decimal(0), percent=None)
    assert [(v.line_id, v.difference) for v in found] == [(big, -4), (small, -1)]
    assert [v.line_id for v in variances(world.conn, count_id=count_id, absolute=Decimal(1), percent=None)] == [big]
    assert variances(world.conn, count_id=count_id, absolute=Decimal(0), percent=Decimal(10)) == []
    view = get_cycle_count(world.conn, count_id)
    assert [line.difference for line in view.lines] == [-4, -1] and len(view.entries) == 2


def test_count_history_names_the_stocked_items_and_their_last_count(world):
    world.receive("3")
    world.receive("3", item=ITEM2, location=BIN2)
    world.run("inventory.count", world.device(), move_id="m-c", item_id=ITEM, location_id=BIN1,
              counted_quantity=Decimal(3), occurred_at=T0)
    history, stocked = count_history(world.conn, warehouse_id="wh-1", site_id=world.site, classes={ITEM: "A"})
    assert {h.item_id: (h.abc_class, h.last_counted_on) for h in history} == {
        ITEM: ("A", T0.date()), ITEM2: (None, None)}
    assert stocked == {ITEM: [BIN1], ITEM2: [BIN2]}
    assert due_for_count(history, T0.date() + timedelta(days=31)) == [ITEM2, ITEM]


# -- the pure rules ----------------------------------------------------------------------------------

amounts = st.decimals(min_value=-10_000, max_value=10_000, places=3, allow_nan=False, allow_infinity=False)
tolerances = st.decimals(min_value=0, max_value=1_000, places=3, allow_nan=False, allow_infinity=False)
histories = st.lists(st.builds(ItemCountHistory, item_id=st.text("abcdefgh𠮷", min_size=1, max_size=4),
                               abc_class=st.sampled_from(["A", "B", "C", None]),
                               last_counted_on=st.none() | st.dates(date(2020, 1, 1), date(2026, 12, 31))),
                     max_size=20, unique_by=lambda h: h.item_id)


@given(counted=amounts, system=amounts, absolute=tolerances, percent=st.none() | tolerances)
def test_a_tolerance_is_symmetric_and_a_larger_one_flags_less(counted, system, absolute, percent):
    flagged = exceeds_tolerance(counted, system, absolute=absolute, percent=percent)
    assert exceeds_tolerance(system + (system - counted), system, absolute=absolute, percent=percent) == flagged
    if flagged:
        assert abs(counted - system) > absolute
        assert exceeds_tolerance(counted, system, absolute=Decimal(0), percent=None)
    assert not exceeds_tolerance(system, system, absolute=absolute, percent=percent)
    assert not exceeds_tolerance(counted, system, absolute=abs(counted - system), percent=percent)


@given(history=histories, today=st.dates(date(2026, 1, 1), date(2027, 12, 31)))
def test_due_items_are_exactly_the_never_counted_and_the_overdue_most_overdue_first(history, today):
    due = due_for_count(history, today)
    by_id = {h.item_id: h for h in history}
    for h in history:
        interval = DEFAULT_INTERVALS[h.abc_class or "C"]
        expected = h.last_counted_on is None or (today - h.last_counted_on).days >= interval
        assert (h.item_id in due) == expected
    never = [i for i in due if by_id[i].last_counted_on is None]
    assert due[:len(never)] == never  # never counted come first
    overdue = [(today - by_id[i].last_counted_on).days - DEFAULT_INTERVALS[by_id[i].abc_class or "C"]
               for i in due[len(never):]]
    assert overdue == sorted(overdue, reverse=True)
    assert due_for_count(history, today, limit=2) == due[:2]
