"""Manufacturing mutation handlers run through ``sync.context.MutationContext`` on a plain
synchronous SQLite database, as the server applies them: HQ keeps the master data and decides
about orders, a shop-floor device of one site records facts. Covers BOM versions and their
immutability, cycles, work-order creation (explosion, routing copy), material moves,
completions with backflush (rounding, idempotency, negative-stock policies), reports and their
reversal, facts against orders not open for them, and site scope."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, select

from erp.inventory.on_hand import on_hand
from erp.inventory.stock_move import stock_moves
from erp.manufacturing import errors
from erp.manufacturing.bom import bom_lines, boms
from erp.manufacturing.completion import completion_move_id
from erp.manufacturing.operation_report import wo_operation_reports
from erp.manufacturing.work_order import wo_materials, wo_operations, work_orders
from erp.manufacturing.work_order_exception import wo_exceptions
from sync.context import Actor, Edit, MutationContext, MutationRef, Side
from sync.errors import MutationRejected, OutOfScope
from sync.registry import Registry, discover
from sync.schema import metadata, sync_clock, sync_devices, sync_mutation_log, sync_tombstones
from tests.unit.handler_runner import apply_in_savepoint

HQ = Actor(None, None, "planner")
T0 = datetime(2026, 3, 2, 0, 30, tzinfo=timezone.utc)
D = Decimal


@dataclass
class Plant:
    conn: Connection
    registry: Registry
    site: str = "site-A"
    other_site: str = "site-B"
    version: int = 0
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def tablet(self) -> Actor:
        return Actor("tablet-1", self.site, None)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self.ids)}"

    def run(self, name: str, actor: Actor = HQ, /, **args: Any) -> MutationContext:
        """Apply one mutation in its own savepoint, rolled back if it fails (as the server does)."""
        definition = self.registry.resolve_latest(name)
        self.version += 1
        ref = MutationRef(actor.device_id, self.version, name, 1, f"{self.version:015d}-00000-x")
        ctx = MutationContext(self.conn, self.registry, Side.SERVER, actor, ref, commit_version=self.version)
        apply_in_savepoint(self.conn, definition, ctx, args)
        return ctx

    def refused(self, code: str, name: str, actor: Actor = HQ, /, **args: Any) -> MutationRejected:
        with pytest.raises(MutationRejected) as refusal:
            self.run(name, actor, **args)
        assert refusal.value.code == code, refusal.value.message
        return refusal.value

    def rows(self, table, **where: Any) -> list[Any]:
        query = select(table).where(*(table.c[name] == value for name, value in where.items()))
        return self.conn.execute(query).mappings().all()

    def order(self, work_order_id: str) -> Any:
        [row] = self.rows(work_orders, id=work_order_id)
        return row

    def on_hand(self, item: str, location: str = "line") -> Decimal:
        rows = self.rows(on_hand, item_id=item, location_id=location)
        return rows[0]["quantity"] if rows else D(0)

    # -- shortcuts ----------------------------------------------------------------------------

    def bom(self, item: str, *lines: tuple, release: bool = True) -> str:
        bom_id = self.new_id("bom")
        self.run("manufacturing.create_bom", bom_id=bom_id, item_id=item)
        for component, quantity, *rest in lines:
            options = dict(zip(("scrap_factor", "phantom", "backflush"), rest))
            self.run("manufacturing.add_bom_line", line_id=self.new_id("line"), bom_id=bom_id,
                     component_item_id=component, quantity_per=D(quantity), **options)
        if release:
            self.run("manufacturing.release_bom", bom_id=bom_id)
        return bom_id

    def work_order(self, quantity: str = "10", *, release: bool = True, **extra: Any) -> str:
        work_order_id = self.new_id("wo")
        self.run("manufacturing.create_work_order", work_order_id=work_order_id, site_id=self.site,
                 number=work_order_id.upper(), item_id="gearbox", quantity=D(quantity), due_date=date(2026, 3, 6),
                 issue_location_id="line", receipt_location_id="fg", routing_id="routing", **extra)
        if release:
            self.run("manufacturing.release_work_order", work_order_id=work_order_id)
        return work_order_id

    def complete(self, work_order_id: str, quantity: str, actor: Actor | None = None,
                 completion_id: str | None = None) -> str:
        completion_id = completion_id or self.new_id("done")
        self.run("manufacturing.report_completion", actor or self.tablet, completion_id=completion_id,
                 work_order_id=work_order_id, quantity=D(quantity), occurred_at=T0)
        return completion_id

    def report(self, work_order_id: str, seq: int, event: str, minutes: int, good: str = "0", operator: str = "张三",
               actor: Actor | None = None) -> str:
        report_id = self.new_id("rep")
        self.run("manufacturing.report_operation", actor or self.tablet, report_id=report_id,
                 work_order_id=work_order_id, operation_seq=seq, event=event, operator=operator,
                 occurred_at=T0 + timedelta(minutes=minutes), good_quantity=D(good))
        return report_id


@pytest.fixture
def plant() -> Plant:
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        registry = discover()
        tables = [spec.table for spec in registry.ordered_specs()]
        tables += [metadata.tables[name] for name in ("item_costs", "fifo_layers", "valuation_months")]  # server-only valuation
        metadata.create_all(conn, tables=tables + [sync_clock, sync_devices, sync_mutation_log, sync_tombstones])
        world = Plant(conn, registry)
        world.run("org.create_site", site_id=world.site, code="F1", name="汉阳工厂", kind="factory")
        world.run("org.create_site", site_id=world.other_site, code="F2", name="武昌工厂", kind="factory")
        world.run("inventory.create_unit", code="PCS", name="件")
        for item in ("gearbox", "housing", "bolt", "gear", "nameplate", "kit"):
            world.run("inventory.create_item", item_id=item, sku=item.upper(), name=item, unit_code="PCS")
        for warehouse, site, policy in (("wh", world.site, "flag"), ("wh-strict", world.site, "reject"),
                                        ("wh-b", world.other_site, "flag")):
            world.run("inventory.create_warehouse", warehouse_id=warehouse, site_id=site, code=warehouse.upper(),
                      name=warehouse, negative_stock_policy=policy)
        for location, warehouse in (("line", "wh"), ("fg", "wh"), ("strict", "wh-strict"), ("b-line", "wh-b")):
            world.run("inventory.create_location", location_id=location, warehouse_id=warehouse, code=location,
                      name=location)
        world.run("manufacturing.create_working_calendar", calendar_id="cal", code="CAL", name="2026")
        world.run("manufacturing.create_work_centre", work_centre_id="asm", site_id=world.site, code="ASM",
                  name="装配", calendar_id="cal", capacity_hours_per_day=D(16), labour_rate=D(36), overhead_rate=D(20))
        world.run("manufacturing.create_work_centre", work_centre_id="asm-b", site_id=world.other_site, code="ASM",
                  name="装配", calendar_id="cal", capacity_hours_per_day=D(8))
        world.run("manufacturing.create_routing", routing_id="routing", site_id=world.site, item_id="gearbox",
                  code="RT-1", name="减速机")
        world.run("manufacturing.add_routing_operation", operation_id="op-10", routing_id="routing", sequence=10,
                  name="装配", work_centre_id="asm", run_hours_per_unit=D("0.2"))
        world.bom("kit", ("bolt", "4", D(0), False, True), ("gear", "2", D("0.1"), False, True))
        world.bom("gearbox", ("housing", "1", D("0.05"), False, True), ("kit", "1", D(0), True),
                  ("nameplate", "1"))
        for item, quantity in (("housing", 100), ("bolt", 500), ("gear", 200), ("nameplate", 100)):
            world.run("inventory.receive", move_id=world.new_id("rcv"), item_id=item, location_id="line",
                      quantity=D(quantity), occurred_at=T0)
        yield world


# -- BOMs ---------------------------------------------------------------------------------------


def test_bom_versions_count_up_per_item_and_a_released_one_is_immutable(plant):
    [released] = plant.rows(boms, item_id="gearbox")
    assert (released["version"], released["status"], released["released_by"]) == (1, "released", "planner")
    [line] = plant.rows(bom_lines, bom_id=released["id"], component_item_id="nameplate")
    refusals = [
        plant.refused(errors.BOM_NOT_EDITABLE, "manufacturing.add_bom_line", line_id="x", bom_id=released["id"],
                      component_item_id="bolt", quantity_per=D(1)),
        plant.refused(errors.BOM_NOT_EDITABLE, "manufacturing.update_bom_line", line_id=line["id"],
                      quantity_per=Edit(D(2), 0)),
        plant.refused(errors.BOM_NOT_EDITABLE, "manufacturing.remove_bom_line", line_id=line["id"]),
    ]
    assert all(r.details == {"bom_id": released["id"], "status": "released"} for r in refusals)
    plant.refused(errors.INVALID_TRANSITION, "manufacturing.release_bom", bom_id=released["id"])

    plant.run("manufacturing.new_bom_version", bom_id="bom-v2", from_bom_id=released["id"])
    copy = plant.rows(bom_lines, bom_id="bom-v2")
    assert [(r["line_no"], r["component_item_id"], r["quantity_per"]) for r in sorted(copy, key=lambda r: r["line_no"])] \
        == [(1, "housing", D(1)), (2, "kit", D(1)), (3, "nameplate", D(1))]
    [copied] = [r for r in copy if r["component_item_id"] == "nameplate"]
    plant.run("manufacturing.update_bom_line", line_id=copied["id"], quantity_per=Edit(D(2), 0))
    plant.run("manufacturing.remove_bom_line", line_id=[r for r in copy if r["component_item_id"] == "kit"][0]["id"])
    assert plant.rows(bom_lines, id=line["id"])[0]["quantity_per"] == 1  # version 1 untouched
    assert plant.rows(boms, id="bom-v2")[0]["version"] == 2


def test_a_release_that_would_close_a_loop_through_released_boms_is_refused(plant):
    draft = plant.bom("bolt", ("gearbox", "1"), release=False)  # a bolt made of gearboxes...
    refusal = plant.refused(errors.BOM_CYCLE, "manufacturing.release_bom", bom_id=draft)
    assert refusal.details["cycle"][0] == refusal.details["cycle"][-1]
    plant.refused(errors.BOM_EMPTY, "manufacturing.release_bom", bom_id=plant.bom("housing", release=False))
    plant.refused(errors.BOM_CYCLE, "manufacturing.add_bom_line", line_id="self", bom_id=draft,
                  component_item_id="bolt", quantity_per=D(1))
    plant.refused(errors.INVALID_QUANTITY, "manufacturing.add_bom_line", line_id="neg", bom_id=draft,
                  component_item_id="gear", quantity_per=D(0))


def test_master_data_is_kept_at_hq(plant):
    with pytest.raises(OutOfScope):
        plant.run("manufacturing.create_bom", plant.tablet, bom_id="b", item_id="gear")
    with pytest.raises(OutOfScope):
        plant.run("manufacturing.create_work_order", plant.tablet, work_order_id="w", site_id=plant.site,
                  number="W", item_id="gearbox", quantity=D(1), due_date=date(2026, 3, 6), issue_location_id="line",
                  receipt_location_id="fg")
    plant.refused(errors.SITE_MISMATCH, "manufacturing.add_routing_operation", operation_id="op-x",
                  routing_id="routing", sequence=20, name="x", work_centre_id="asm-b")
    plant.refused(errors.INVALID_CALENDAR, "manufacturing.create_working_calendar", calendar_id="bad", code="BAD",
                  name="bad", working_weekdays=[])
    plant.refused(errors.INVALID_AMOUNT, "manufacturing.create_work_centre", work_centre_id="wc", site_id=plant.site,
                  code="WC", name="wc", calendar_id="cal", capacity_hours_per_day=D(-1))


# -- work orders --------------------------------------------------------------------------------


def test_creating_an_order_explodes_the_bom_through_the_phantom_and_copies_the_routing(plant):
    work_order_id = plant.work_order("10", release=False)
    order = plant.order(work_order_id)
    assert (order["status"], order["material_lines"], order["due_date"]) == ("planned", 4, "2026-03-06")
    lines = {(r["item_id"], r["backflush"]): (r["gross_quantity_per"], r["required_quantity"])
             for r in plant.rows(wo_materials, work_order_id=work_order_id)}
    assert lines == {("bolt", True): (D(4), D(40)), ("gear", True): (D("2.2"), D(22)),
                     ("housing", True): (D("1.05"), D("10.5")), ("nameplate", False): (D(1), D(10))}
    [operation] = plant.rows(wo_operations, work_order_id=work_order_id)
    assert (operation["sequence"], operation["work_centre_id"], operation["status"]) == (10, "asm", "pending")

    plant.refused(errors.CODE_TAKEN, "manufacturing.create_work_order", work_order_id="dup", site_id=plant.site,
                  number=work_order_id.upper(), item_id="gearbox", quantity=D(1), due_date=date(2026, 3, 6),
                  issue_location_id="line", receipt_location_id="fg")
    plant.refused(errors.SITE_MISMATCH, "manufacturing.create_work_order", work_order_id="b", site_id=plant.site,
                  number="B", item_id="gearbox", quantity=D(1), due_date=date(2026, 3, 6),
                  issue_location_id="b-line", receipt_location_id="fg")
    plant.refused(errors.BOM_NOT_RELEASED, "manufacturing.create_work_order", work_order_id="n", site_id=plant.site,
                  number="N", item_id="bolt", quantity=D(1), due_date=date(2026, 3, 6), issue_location_id="line",
                  receipt_location_id="fg")


def test_a_phantom_without_a_released_bom_refuses_the_order(plant):
    plant.run("manufacturing.obsolete_bom", bom_id=plant.rows(boms, item_id="kit")[0]["id"])
    plant.refused(errors.PHANTOM_WITHOUT_BOM, "manufacturing.create_work_order", work_order_id="w",
                  site_id=plant.site, number="W", item_id="gearbox", quantity=D(1), due_date=date(2026, 3, 6),
                  issue_location_id="line", receipt_location_id="fg")


def test_decisions_follow_the_state_machine(plant):
    work_order_id = plant.work_order(release=False)
    plant.refused(errors.INVALID_TRANSITION, "manufacturing.close_work_order", work_order_id=work_order_id)
    plant.run("manufacturing.release_work_order", work_order_id=work_order_id, note="urgent")
    plant.report(work_order_id, 10, "start", 0)
    assert plant.order(work_order_id)["status"] == "in_progress"
    refusal = plant.refused(errors.INVALID_TRANSITION, "manufacturing.cancel_work_order", work_order_id=work_order_id)
    assert refusal.details == {"status": "in_progress", "event": "cancel"}
    plant.run("manufacturing.finish_work_order", work_order_id=work_order_id)
    plant.run("manufacturing.close_work_order", work_order_id=work_order_id)
    assert plant.order(work_order_id)["status"] == "closed"


# -- completion with backflush ------------------------------------------------------------------


def test_a_completion_backflushes_rounds_up_and_receives_in_one_mutation(plant):
    work_order_id = plant.work_order("3")
    completion = plant.complete(work_order_id, "1.5")
    moves = {m["kind"] + ":" + m["item_id"]: m["quantity"] for m in plant.rows(stock_moves, document_id=work_order_id)}
    assert moves == {"wo_receipt:gearbox": D("1.5"), "wo_backflush:housing": D("-1.575"),
                     "wo_backflush:bolt": D(-6), "wo_backflush:gear": D("-3.3")}
    assert plant.on_hand("gearbox", "fg") == D("1.5") and plant.on_hand("bolt") == 494
    assert plant.order(work_order_id)["status"] == "in_progress"
    # Replayed (a retry after a lost answer): nothing twice.
    plant.complete(work_order_id, "1.5", completion_id=completion)
    assert len(plant.rows(stock_moves, document_id=work_order_id)) == 4
    assert plant.order(work_order_id)["completed_quantity"] == D("1.5")
    assert plant.rows(stock_moves, id=completion_move_id(completion, "receipt"))[0]["kind"] == "wo_receipt"

    plant.complete(work_order_id, "1.5")
    order = plant.order(work_order_id)
    assert (order["status"], order["completed_quantity"], order["completed_at"]) == ("completed", 3, T0)
    issued = {r["item_id"]: r["issued_quantity"] for r in plant.rows(wo_materials, work_order_id=work_order_id)}
    assert issued == {"housing": D("3.15"), "bolt": D(12), "gear": D("6.6"), "nameplate": D(0)}

    plant.run("manufacturing.create_bom", bom_id="odd", item_id="gear")
    plant.run("manufacturing.add_bom_line", line_id="odd-1", bom_id="odd", component_item_id="bolt",
              quantity_per=D("0.333333333"), scrap_factor=D("0.05"), backflush=True)
    plant.run("manufacturing.release_bom", bom_id="odd")
    plant.run("manufacturing.create_work_order", work_order_id="odd-wo", site_id=plant.site, number="ODD",
              item_id="gear", quantity=D(1), due_date=date(2026, 3, 6), issue_location_id="line",
              receipt_location_id="fg")
    plant.run("manufacturing.release_work_order", work_order_id="odd-wo")
    plant.complete("odd-wo", "7")  # 7 × 0.35 (0.34999999965 rounded up when stored)
    assert [m["quantity"] for m in plant.rows(stock_moves, document_id="odd-wo", kind="wo_backflush")] == [D("-2.45")]


def test_a_strict_warehouse_refuses_a_completion_that_would_take_stock_below_zero(plant):
    plant.run("manufacturing.create_work_order", work_order_id="strict", site_id=plant.site, number="STRICT",
              item_id="gearbox", quantity=D(1), due_date=date(2026, 3, 6), issue_location_id="strict",
              receipt_location_id="fg")
    plant.run("manufacturing.release_work_order", work_order_id="strict")
    plant.refused("inventory.negative_stock", "manufacturing.report_completion", plant.tablet, completion_id="c",
                  work_order_id="strict", quantity=D(1), occurred_at=T0)
    assert plant.rows(stock_moves, document_id="strict") == []  # nothing half-done
    # With the default policy (flag) it is applied and raises an inventory exception.
    work_order_id = plant.work_order("1000")
    plant.complete(work_order_id, "1000")
    assert plant.on_hand("bolt") == 500 - 4000


# -- facts against orders not open for them -----------------------------------------------------


def test_facts_against_a_cancelled_order_are_applied_and_flagged_once(plant):
    work_order_id = plant.work_order("5")
    plant.run("manufacturing.cancel_work_order", work_order_id=work_order_id)
    plant.report(work_order_id, 10, "start", 0)
    plant.report(work_order_id, 10, "finish", 90, good="2")
    plant.complete(work_order_id, "2")
    plant.run("manufacturing.issue_material", plant.tablet, move_id="np", work_order_id=work_order_id,
              item_id="nameplate", quantity=D(2), occurred_at=T0)
    order = plant.order(work_order_id)
    assert (order["status"], order["completed_quantity"]) == ("cancelled", 2)
    [exception] = plant.rows(wo_exceptions)
    assert (exception["kind"], exception["order_status"], exception["status"]) == ("after_cancel", "cancelled", "open")
    assert exception["involved_json"].count("tablet-1") == 4
    [operation] = plant.rows(wo_operations, work_order_id=work_order_id)
    assert (operation["good_quantity"], operation["worked_hours"], operation["status"]) == (2, D("1.5"), "finished")
    plant.run("manufacturing.review_exception", exception_id=exception["id"], note="ok")
    plant.refused(errors.EXCEPTION_CLOSED, "manufacturing.review_exception", exception_id=exception["id"])


def test_a_report_before_release_is_flagged_and_does_not_start_the_order(plant):
    work_order_id = plant.work_order(release=False)
    plant.report(work_order_id, 10, "start", 0)
    assert plant.order(work_order_id)["status"] == "planned"
    assert [e["kind"] for e in plant.rows(wo_exceptions)] == ["before_release"]


def test_reports_are_refused_only_for_what_the_tablet_can_see_is_wrong(plant):
    work_order_id = plant.work_order()
    plant.refused(errors.UNKNOWN_OPERATION, "manufacturing.report_operation", plant.tablet, report_id="r",
                  work_order_id=work_order_id, operation_seq=99, event="start", operator="张三", occurred_at=T0)
    plant.refused(errors.BLANK_FIELD, "manufacturing.report_operation", plant.tablet, report_id="r",
                  work_order_id=work_order_id, operation_seq=10, event="start", operator="  ", occurred_at=T0)
    plant.refused(errors.INVALID_QUANTITY, "manufacturing.report_operation", plant.tablet, report_id="r",
                  work_order_id=work_order_id, operation_seq=10, event="finish", operator="张三", occurred_at=T0,
                  good_quantity=D(-1))
    plant.refused(errors.UNKNOWN_WORK_ORDER, "manufacturing.report_completion", plant.tablet, completion_id="c",
                  work_order_id="nope", quantity=D(1), occurred_at=T0)
    plant.refused(errors.NOT_A_COMPONENT, "manufacturing.issue_material", plant.tablet, move_id="m",
                  work_order_id=work_order_id, item_id="kit", quantity=D(1), occurred_at=T0)


def test_a_reversed_report_counts_for_nothing_and_is_reversed_once(plant):
    work_order_id = plant.work_order()
    plant.report(work_order_id, 10, "start", 0)
    wrong = plant.report(work_order_id, 10, "finish", 60, good="100")
    plant.run("manufacturing.reverse_report", report_id=wrong, reversal_id="rev", occurred_at=T0, reason="typo")
    [operation] = plant.rows(wo_operations, work_order_id=work_order_id)
    assert (operation["good_quantity"], operation["worked_hours"], operation["status"]) == (0, 0, "running")
    [reversal] = plant.rows(wo_operation_reports, id="rev")
    assert (reversal["reverses_id"], reversal["good_quantity"], reversal["event"]) == (wrong, D(-100), "reversal")
    plant.refused(errors.ALREADY_REVERSED, "manufacturing.reverse_report", report_id=wrong, reversal_id="again",
                  occurred_at=T0, reason="x")
    plant.refused(errors.ALREADY_REVERSED, "manufacturing.reverse_report", report_id="rev", reversal_id="again",
                  occurred_at=T0, reason="x")


def test_a_device_of_another_site_cannot_touch_the_order(plant):
    work_order_id = plant.work_order()
    stranger = Actor("tablet-b", plant.other_site, None)
    with pytest.raises(OutOfScope):
        plant.report(work_order_id, 10, "start", 0, actor=stranger)
    with pytest.raises(OutOfScope):
        plant.complete(work_order_id, "1", actor=stranger)
    assert plant.rows(wo_operation_reports) == [] and plant.rows(stock_moves, document_id=work_order_id) == []
