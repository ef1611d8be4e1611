"""Quality mutation handlers run through ``sync.context.MutationContext`` on a plain synchronous
SQLite database, as the server applies them: HQ writes plans and decides, a QC tablet of one
site records results. Covers plan versioning and validation, results (verdict, flags,
corrections, replays), nonconformances with their holds and dispositions, manual holds, and the
pending-inspection query."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, select

from erp.inventory.lot import lots
from erp.inventory.on_hand import on_hand
from erp.inventory.stock_move import stock_moves
from erp.quality import errors, queries
from erp.quality.nonconformance import ncr_id_for, nonconformances
from erp.quality.plan import inspection_plans
from erp.quality.result import inspection_results
from sync.context import Actor, Edit, MutationContext, MutationRef, Side
from sync.errors import MutationRejected, OutOfScope
from sync.registry import Registry, discover
from sync.schema import metadata, sync_clock, sync_devices, sync_mutation_log, sync_tombstones
from tests.unit.handler_runner import apply_in_savepoint

HQ = Actor(None, None, "质量工程师")
T0 = datetime.now(timezone.utc) - timedelta(hours=12)  # receipts happen after the plans exist
D = Decimal
DIAMETER = {"name": "外径𠮷", "kind": "measured", "nominal": D("10.00"), "lower": D("9.95"), "upper": D("10.05"),
            "unit": "mm"}
LOOKS = {"name": "外观", "kind": "attribute"}


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
        return Actor("qc-tablet", self.site, "质检员李四")

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

    def one(self, table, **where: Any) -> Any:
        [row] = self.rows(table, **where)
        return row

    def lot_status(self, lot_no: str, item: str = "bolt") -> str | None:
        found = self.rows(lots, site_id=self.site, item_id=item, lot_no=lot_no)
        return found[0]["status"] if found else None

    # -- shortcuts ----------------------------------------------------------------------------

    def plan(self, stage: str = "incoming", *characteristics: dict, item: str = "bolt", code: str | None = None,
             **extra: Any) -> str:
        plan_id = self.new_id("plan")
        self.run("quality.create_plan", plan_id=plan_id, code=code or plan_id.upper(), name="螺栓来料检验",
                 item_id=item, stage=stage, sample_kind=extra.pop("sample_kind", "fixed"),
                 sample_value=extra.pop("sample_value", D(5)),
                 characteristics=list(characteristics) or [DIAMETER, LOOKS], **extra)
        return plan_id

    def receive(self, quantity: str = "100", lot_no: str = "L-2026-001") -> tuple[str, str]:
        receipt_id, move_id = self.new_id("rcpt"), self.new_id("mv")
        self.run("purchasing.receive_po", self.tablet, receipt_id=receipt_id, move_id=move_id, po_line_id="po-line",
                 location_id="dock", quantity=D(quantity), occurred_at=T0 + timedelta(days=1), lot_no=lot_no)
        return receipt_id, move_id

    def inspect(self, plan_id: str, *, diameter: str = "10.01", looks: bool = True, stage: str = "incoming",
                item: str = "bolt", actor: Actor | None = None, **extra: Any) -> str:
        result_id = extra.pop("result_id", None) or self.new_id("res")
        measurements = [{"characteristic": "外径𠮷", "value": D(diameter)}, {"characteristic": "外观", "ok": looks}]
        self.run("quality.record_result", actor or self.tablet, result_id=result_id, plan_id=plan_id, stage=stage,
                 item_id=item, site_id=self.site, sample_size=extra.pop("sample_size", 5),
                 measurements=extra.pop("measurements", measurements), occurred_at=T0 + timedelta(days=1, hours=2),
                 **extra)
        return result_id


@pytest.fixture
def plant() -> Plant:
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        registry = discover()
        tables = [spec.table for spec in registry.ordered_specs()]
        tables += [metadata.tables[name] for name in ("item_costs", "fifo_layers", "valuation_months")]
        metadata.create_all(conn, tables=tables + [sync_clock, sync_devices, sync_mutation_log, sync_tombstones])
        world = Plant(conn, registry)
        world.run("org.create_site", site_id=world.site, code="F1", name="汉阳工厂", kind="factory")
        world.run("org.create_site", site_id=world.other_site, code="F2", name="武昌工厂", kind="factory")
        world.run("inventory.create_unit", code="PCS", name="件")
        for item in ("bolt", "gearbox"):
            world.run("inventory.create_item", item_id=item, sku=item.upper(), name=f"{item} 𠮷", unit_code="PCS",
                      tracking="lot")
        world.run("inventory.create_warehouse", warehouse_id="wh", site_id=world.site, code="WH", name="一号库",
                  negative_stock_policy="flag")
        world.run("inventory.create_warehouse", warehouse_id="wh-b", site_id=world.other_site, code="WHB", name="二号库")
        for location, warehouse in (("dock", "wh"), ("line", "wh"), ("fg", "wh"), ("b-dock", "wh-b")):
            world.run("inventory.create_location", location_id=location, warehouse_id=warehouse, code=location,
                      name=location)
        world.run("purchasing.create_supplier", supplier_id="sup", code="S1", name="汉口五金 𠮷")
        world.run("purchasing.create_supplier", supplier_id="sup-2", code="S2", name="武汉标准件")
        world.run("purchasing.create_po", po_id="po", site_id=world.site, number="PO-1", supplier_id="sup",
                  lines=[{"line_id": "po-line", "item_id": "bolt", "quantity": D(1000), "unit_price": D("0.5")}])
        world.run("purchasing.approve_po", po_id="po")
        yield world


# -- plans --------------------------------------------------------------------------------------


def test_a_plan_is_versioned_its_revision_deactivates_the_previous_one(plant):
    first = plant.plan(code="IQC-BOLT")
    plant.refused(errors.PLAN_CODE_TAKEN, "quality.create_plan", plan_id="again", code="IQC-BOLT", name="x",
                  item_id="bolt", stage="incoming", sample_kind="fixed", sample_value=D(1), characteristics=[LOOKS])
    plant.run("quality.revise_plan", plan_id="plan-v2", supersedes_id=first, name="螺栓来料检验 v2",
              sample_kind="percent", sample_value=D(10), characteristics=[DIAMETER])
    old, new = plant.one(inspection_plans, id=first), plant.one(inspection_plans, id="plan-v2")
    assert (old["version"], old["active"]) == (1, False)
    assert (new["version"], new["active"], new["supersedes_id"], new["code"]) == (2, True, first, "IQC-BOLT")
    assert [c.name for c in queries.get_plan(plant.conn, first).characteristics] == ["外径𠮷", "外观"]
    assert [c.name for c in queries.get_plan(plant.conn, "plan-v2").characteristics] == ["外径𠮷"]
    plant.refused(errors.PLAN_INACTIVE, "quality.revise_plan", plan_id="plan-v3", supersedes_id=first, name="x",
                  sample_kind="fixed", sample_value=D(1), characteristics=[LOOKS])
    plant.refused(errors.PLAN_INACTIVE, "quality.update_plan", plan_id=first, active=Edit(True, 0))
    plant.run("quality.update_plan", plan_id="plan-v2", name=Edit("螺栓 IQC", plant.version))
    assert plant.one(inspection_plans, id="plan-v2")["name"] == "螺栓 IQC"


@pytest.mark.parametrize("change, code", [
    ({"sample_value": D("2.5")}, errors.INVALID_SAMPLING),
    ({"sample_kind": "percent", "sample_value": D(101)}, errors.INVALID_SAMPLING),
    ({"sample_value": D(0)}, errors.INVALID_SAMPLING),
    ({"characteristics": []}, errors.INVALID_CHARACTERISTIC),
    ({"characteristics": [LOOKS, LOOKS]}, errors.DUPLICATE_CHARACTERISTIC),
    ({"characteristics": [{**DIAMETER, "lower": D("10.1")}]}, errors.INVALID_LIMITS),
    ({"characteristics": [{**LOOKS, "upper": D(1)}]}, errors.INVALID_LIMITS),
    ({"stage": "in_process"}, errors.INVALID_STAGE),  # no operation named
    ({"stage": "final", "supplier_id": "sup"}, errors.INVALID_STAGE),
    ({"operation_seq": 10}, errors.INVALID_STAGE),  # an incoming plan names no operation
])
def test_a_plan_that_cannot_be_applied_is_refused(plant, change, code):
    args = dict(plan_id="p", code="P", name="x", item_id="bolt", stage="incoming", sample_kind="fixed",
                sample_value=D(5), characteristics=[DIAMETER])
    plant.refused(code, "quality.create_plan", **{**args, **change})
    assert plant.rows(inspection_plans) == []


def test_a_device_cannot_create_plans(plant):
    with pytest.raises(OutOfScope):
        plant.run("quality.create_plan", plant.tablet, plan_id="p", code="P", name="x", item_id="bolt",
                  stage="final", sample_kind="fixed", sample_value=D(1), characteristics=[LOOKS])


# -- results ------------------------------------------------------------------------------------


def test_a_passing_result_is_recorded_with_its_verdict_and_inspector_and_raises_nothing(plant):
    plan = plant.plan()
    receipt, _ = plant.receive()
    result = plant.inspect(plan, source_id=receipt, lot_quantity=D(100))
    row = plant.one(inspection_results, id=result)
    assert (row["verdict"], row["failed"], row["flags"], row["inspector"]) == ("pass", None, None, "质检员李四")
    assert row["lot_no"] == "L-2026-001"  # taken from the receipt's stock move
    assert plant.rows(nonconformances) == []
    assert plant.lot_status("L-2026-001") == "released"


def test_a_failed_incoming_result_raises_a_nonconformance_and_holds_the_lot_once(plant):
    plan = plant.plan()
    receipt, _ = plant.receive("200")
    result = plant.inspect(plan, diameter="10.2", source_id=receipt, lot_quantity=D(200))
    assert plant.one(inspection_results, id=result)["failed"] == "外径𠮷"
    ncr = plant.one(nonconformances, id=ncr_id_for(result))
    assert (ncr["status"], ncr["held"], ncr["stage"], ncr["quantity"], ncr["source_id"]) == \
        ("open", True, "incoming", D(200), receipt)
    assert plant.lot_status("L-2026-001") == "held"
    # The same result again (a retried push) adds nothing; a second failure of a held lot is recorded.
    plant.inspect(plan, diameter="10.2", source_id=receipt, result_id=result)
    second = plant.inspect(plan, looks=False, source_id=receipt)
    assert len(plant.rows(inspection_results)) == 2 and len(plant.rows(nonconformances)) == 2
    assert plant.one(nonconformances, id=ncr_id_for(second))["held"] is True


def test_a_failed_in_process_result_raises_a_nonconformance_without_holding(plant):
    plan = plant.plan("in_process", item="gearbox", operation_seq=10)
    result = plant.inspect(plan, stage="in_process", item="gearbox", looks=False, lot_no="WO-LOT",
                           operation_seq=10)
    ncr = plant.one(nonconformances, id=ncr_id_for(result))
    assert ncr["held"] is False and plant.lot_status("WO-LOT", "gearbox") is None


def test_a_result_that_cannot_be_judged_is_refused(plant):
    plan = plant.plan()
    plant.refused(errors.MEASUREMENT_MISSING, "quality.record_result", plant.tablet, result_id="r", plan_id=plan,
                  stage="incoming", item_id="bolt", site_id=plant.site, sample_size=5, occurred_at=T0,
                  measurements=[{"characteristic": "外观", "ok": True}])
    plant.refused(errors.INVALID_MEASUREMENT, "quality.record_result", plant.tablet, result_id="r", plan_id=plan,
                  stage="incoming", item_id="bolt", site_id=plant.site, sample_size=5, occurred_at=T0,
                  measurements=[{"characteristic": "外观", "ok": True}, {"characteristic": "外径𠮷", "ok": True}])
    plant.refused(errors.UNKNOWN_PLAN, "quality.record_result", plant.tablet, result_id="r", plan_id="nope",
                  stage="incoming", item_id="bolt", site_id=plant.site, sample_size=5, occurred_at=T0,
                  measurements=[])
    plant.refused(errors.STAGE_MISMATCH, "quality.record_result", plant.tablet, result_id="r", plan_id=plan,
                  stage="final", item_id="bolt", site_id=plant.site, sample_size=5, occurred_at=T0, measurements=[])
    plant.refused(errors.ITEM_MISMATCH, "quality.record_result", plant.tablet, result_id="r", plan_id=plan,
                  stage="incoming", item_id="gearbox", site_id=plant.site, sample_size=5, occurred_at=T0,
                  measurements=[])
    assert plant.rows(inspection_results) == []


def test_a_result_against_what_hq_changed_meanwhile_is_kept_and_flagged(plant):
    plan = plant.plan(sample_kind="percent", sample_value=D(10))
    receipt, move = plant.receive("100")
    plant.run("inventory.reverse", reversal_id="rev", move_id=move, occurred_at=T0 + timedelta(days=1, hours=1),
              reason="录错")
    plant.run("quality.revise_plan", plan_id="plan-v2", supersedes_id=plan, name="v2", sample_kind="fixed",
              sample_value=D(3), characteristics=[LOOKS])
    result = plant.inspect(plan, source_id=receipt, lot_quantity=D(100), sample_size=4)
    row = plant.one(inspection_results, id=result)
    assert row["verdict"] == "pass"
    assert set(row["flags"].split(",")) == {"source_reversed", "plan_inactive", "sample_short"}
    unknown = plant.inspect("plan-v2", source_id="no-such-receipt", measurements=[{"characteristic": "外观", "ok": True}])
    assert plant.one(inspection_results, id=unknown)["flags"] == "source_unknown"
    assert [r.id for r in queries.list_results(plant.conn, flagged=True)] == sorted([result, unknown])


def test_a_correction_supersedes_the_original_once(plant):
    plan = plant.plan()
    original = plant.inspect(plan, diameter="10.2")
    correction = plant.inspect(plan, supersedes_id=original, note="量具未校准，复测")
    assert plant.one(inspection_results, id=correction)["supersedes_id"] == original
    assert plant.one(inspection_results, id=original)["verdict"] == "fail"  # the ledger keeps what was recorded
    plant.refused(errors.ALREADY_SUPERSEDED, "quality.record_result", plant.tablet, result_id="again", plan_id=plan,
                  stage="incoming", item_id="bolt", site_id=plant.site, sample_size=5, occurred_at=T0,
                  supersedes_id=original, measurements=[{"characteristic": "外径𠮷", "value": D(10)},
                                                        {"characteristic": "外观", "ok": True}])
    plant.refused(errors.UNKNOWN_RESULT, "quality.record_result", plant.tablet, result_id="again", plan_id=plan,
                  stage="incoming", item_id="bolt", site_id=plant.site, sample_size=5, occurred_at=T0,
                  supersedes_id="no-such-result", measurements=[{"characteristic": "外径𠮷", "value": D(10)},
                                                                {"characteristic": "外观", "ok": True}])


def test_a_tablet_records_for_its_own_site_only(plant):
    plan = plant.plan()
    with pytest.raises(OutOfScope):
        plant.run("quality.record_result", plant.tablet, result_id="r", plan_id=plan, stage="incoming",
                  item_id="bolt", site_id=plant.other_site, sample_size=1, occurred_at=T0,
                  measurements=[{"characteristic": "外径𠮷", "value": D(10)}, {"characteristic": "外观", "ok": True}])


# -- nonconformances ----------------------------------------------------------------------------


def failed_lot(plant: Plant, quantity: str = "100", lot_no: str = "L-2026-001") -> tuple[str, str]:
    plan = plant.plan()
    receipt, _ = plant.receive(quantity, lot_no)
    result = plant.inspect(plan, looks=False, source_id=receipt, lot_quantity=D(quantity))
    return ncr_id_for(result), receipt


def test_use_as_is_releases_the_lot_at_once_and_the_lot_can_be_issued_again(plant):
    ncr, _ = failed_lot(plant)
    plant.refused("inventory.lot_on_hold", "inventory.issue", move_id="pick-1", item_id="bolt", location_id="dock",
                  quantity=D(10), occurred_at=T0 + timedelta(days=2), lot_no="L-2026-001")
    plant.run("quality.disposition_ncr", ncr_id=ncr, disposition="use_as_is", note="让步接收：外观轻微划痕")
    row = plant.one(nonconformances, id=ncr)
    assert (row["status"], row["disposition"], row["dispositioned_by"]) == ("dispositioned", "use_as_is", "质量工程师")
    assert plant.lot_status("L-2026-001") == "released"
    plant.run("inventory.issue", move_id="pick-2", item_id="bolt", location_id="dock", quantity=D(10),
              occurred_at=T0 + timedelta(days=2), lot_no="L-2026-001")
    plant.run("quality.close_ncr", ncr_id=ncr, note="已入库")
    assert plant.one(nonconformances, id=ncr)["status"] == "closed"


def test_rework_keeps_the_lot_held_until_the_rework_is_done(plant):
    ncr, _ = failed_lot(plant)
    plant.run("quality.disposition_ncr", ncr_id=ncr, disposition="rework")
    assert plant.lot_status("L-2026-001") == "held"
    plant.run("quality.close_ncr", ncr_id=ncr, note="返工完成")
    assert plant.lot_status("L-2026-001") == "released"


def test_scrap_issues_the_scrapped_quantity_of_the_held_lot(plant):
    ncr, _ = failed_lot(plant, "100")
    plant.refused(errors.SCRAP_NEEDS_LOCATION, "quality.disposition_ncr", ncr_id=ncr, disposition="scrap")
    plant.refused(errors.SITE_MISMATCH, "quality.disposition_ncr", ncr_id=ncr, disposition="scrap", quantity=D(30),
                  location_id="b-dock", move_id="scrap-1")
    plant.run("quality.disposition_ncr", ncr_id=ncr, disposition="scrap", quantity=D(30), location_id="dock",
              move_id="scrap-1", occurred_at=T0 + timedelta(days=2))
    move = plant.one(stock_moves, id="scrap-1")
    assert (move["kind"], move["quantity"], move["lot_no"], move["document_id"]) == ("issue", D(-30), "L-2026-001", ncr)
    assert move["reference"] == f"NCR {ncr} scrap"
    assert plant.one(on_hand, item_id="bolt", location_id="dock")["quantity"] == D(70)
    assert plant.one(nonconformances, id=ncr)["disposition_quantity"] == D(30)
    assert plant.lot_status("L-2026-001") == "held"
    plant.run("quality.close_ncr", ncr_id=ncr)
    assert plant.lot_status("L-2026-001") == "released"


def test_return_to_supplier_is_for_incoming_goods_only(plant):
    ncr, _ = failed_lot(plant)
    plan = plant.plan("final", item="gearbox")
    final = ncr_id_for(plant.inspect(plan, stage="final", item="gearbox", looks=False, lot_no="FG-1"))
    plant.refused(errors.DISPOSITION_NOT_ALLOWED, "quality.disposition_ncr", ncr_id=final,
                  disposition="return_to_supplier")
    plant.run("quality.disposition_ncr", ncr_id=ncr, disposition="return_to_supplier", note="退回汉口五金")
    # The decision is recorded; the goods leave through the dock's own purchase return.
    assert plant.lot_status("L-2026-001") == "held"
    plant.run("purchasing.return_to_supplier", plant.tablet, return_id="ret", move_id="ret-mv", po_line_id="po-line",
              location_id="dock", quantity=D(100), occurred_at=T0 + timedelta(days=3), lot_no="L-2026-001")
    plant.run("quality.close_ncr", ncr_id=ncr)
    assert plant.lot_status("L-2026-001") == "released"


def test_the_state_machine_refuses_skipping_or_repeating_a_step(plant):
    ncr, _ = failed_lot(plant)
    plant.refused(errors.TRANSITION_FORBIDDEN, "quality.close_ncr", ncr_id=ncr)
    plant.run("quality.disposition_ncr", ncr_id=ncr, disposition="rework")
    plant.refused(errors.TRANSITION_FORBIDDEN, "quality.disposition_ncr", ncr_id=ncr, disposition="use_as_is")
    plant.run("quality.close_ncr", ncr_id=ncr)
    plant.refused(errors.TRANSITION_FORBIDDEN, "quality.close_ncr", ncr_id=ncr)
    plant.refused(errors.UNKNOWN_NCR, "quality.close_ncr", ncr_id="nope")


def test_a_lot_held_by_two_nonconformances_is_released_by_the_last_decision(plant):
    first, receipt = failed_lot(plant)
    plan = plant.rows(inspection_plans)[0]["id"]
    second = ncr_id_for(plant.inspect(plan, diameter="9", source_id=receipt))
    plant.run("quality.disposition_ncr", ncr_id=first, disposition="use_as_is")
    assert plant.lot_status("L-2026-001") == "held"  # the second still holds it
    plant.run("quality.disposition_ncr", ncr_id=second, disposition="rework")
    plant.run("quality.close_ncr", ncr_id=second)
    assert plant.lot_status("L-2026-001") == "released"


def test_a_nonconformance_raised_by_hand_holds_its_lot(plant):
    plant.run("quality.raise_ncr", plant.tablet, ncr_id="ncr-hand", site_id=plant.site, stage="incoming",
              item_id="bolt", description="包装破损，受潮 𠮷", lot_no="L-RAIN", quantity=D(20))
    assert plant.lot_status("L-RAIN") == "held"
    plant.refused(errors.REASON_REQUIRED, "quality.raise_ncr", ncr_id="x", site_id=plant.site,
                  stage="final", item_id="bolt", description="  ")


# -- manual holds -------------------------------------------------------------------------------


def test_an_inspector_holds_and_releases_a_lot_by_hand_but_not_one_a_nonconformance_holds(plant):
    plant.receive("50", "L-MANUAL")
    plant.run("quality.hold_lot", plant.tablet, site_id=plant.site, item_id="bolt", lot_no="L-MANUAL",
              reason="供应商质量通知")
    assert plant.lot_status("L-MANUAL") == "held"
    plant.refused(errors.REASON_REQUIRED, "quality.release_lot", plant.tablet, site_id=plant.site, item_id="bolt",
                  lot_no="L-MANUAL", reason=" ")
    plant.run("quality.release_lot", plant.tablet, site_id=plant.site, item_id="bolt", lot_no="L-MANUAL",
              reason="复检合格")
    assert plant.lot_status("L-MANUAL") == "released"
    ncr, _ = failed_lot(plant)
    refusal = plant.refused(errors.LOT_HELD_BY_NCR, "quality.release_lot", site_id=plant.site, item_id="bolt",
                            lot_no="L-2026-001", reason="急用")
    assert refusal.details["ncr_id"] == ncr


# -- pending inspections ------------------------------------------------------------------------


def test_pending_lists_receipts_operations_and_completions_a_plan_covers_until_inspected(plant):
    assert queries.pending(plant.conn) == []
    plan = plant.plan(sample_kind="percent", sample_value=D(10))
    own = plant.plan(code="IQC-S2", supplier_id="sup-2")  # another supplier's plan does not apply to PO-1
    receipt, _ = plant.receive("95")
    reversed_receipt, move = plant.receive("5", "L-X")
    plant.run("inventory.reverse", reversal_id="rev", move_id=move, occurred_at=T0 + timedelta(days=1), reason="x")
    [due] = queries.pending(plant.conn, stage="incoming")
    assert (due.source_id, due.plan_id, due.document, due.quantity, due.required_sample, due.lot_no) == \
        (receipt, plan, "PO-1", D(95), 10, "L-2026-001")
    assert own != due.plan_id and reversed_receipt != due.source_id
    plant.inspect(plan, source_id=receipt)
    assert queries.pending(plant.conn, stage="incoming") == []
    assert queries.pending(plant.conn, site_id=plant.other_site) == []


def test_pending_lists_work_order_operations_and_completions_until_inspected(plant):
    plant.run("manufacturing.create_working_calendar", calendar_id="cal", code="CAL", name="2026")
    plant.run("manufacturing.create_work_centre", work_centre_id="asm", site_id=plant.site, code="ASM", name="装配",
              calendar_id="cal", capacity_hours_per_day=D(16))
    plant.run("manufacturing.create_routing", routing_id="routing", site_id=plant.site, item_id="gearbox",
              code="RT-1", name="减速机")
    for sequence in (10, 20):
        plant.run("manufacturing.add_routing_operation", operation_id=f"op-{sequence}", routing_id="routing",
                  sequence=sequence, name=f"工序{sequence}", work_centre_id="asm")
    plant.run("manufacturing.create_bom", bom_id="bom", item_id="gearbox")
    plant.run("manufacturing.add_bom_line", line_id="bl", bom_id="bom", component_item_id="bolt", quantity_per=D(4))
    plant.run("manufacturing.release_bom", bom_id="bom")
    in_process = plant.plan("in_process", item="gearbox", operation_seq=10)
    final = plant.plan("final", item="gearbox", sample_kind="percent", sample_value=D(50))
    plant.run("manufacturing.create_work_order", work_order_id="wo", site_id=plant.site, number="WO-𠮷-1",
              item_id="gearbox", quantity=D(10), due_date=date(2026, 12, 1), issue_location_id="line",
              receipt_location_id="fg", routing_id="routing")
    plant.run("manufacturing.release_work_order", work_order_id="wo")
    assert queries.pending(plant.conn) == []  # nothing reported, nothing completed
    for event, good in (("start", "0"), ("finish", "8")):
        plant.run("manufacturing.report_operation", plant.tablet, report_id=f"rep-{event}", work_order_id="wo",
                  operation_seq=10, event=event, operator="张三", occurred_at=T0 + timedelta(days=1),
                  good_quantity=D(good))
    plant.run("manufacturing.report_completion", plant.tablet, completion_id="done", work_order_id="wo",
              quantity=D(8), occurred_at=T0 + timedelta(days=1))
    due = {(p.stage, p.operation_seq): p for p in queries.pending(plant.conn)}
    assert set(due) == {("in_process", 10), ("final", None)}  # operation 20 has no plan
    assert (due["in_process", 10].plan_id, due["in_process", 10].quantity, due["in_process", 10].document) == \
        (in_process, D(8), "WO-𠮷-1")
    assert (due["final", None].plan_id, due["final", None].required_sample) == (final, 4)
    plant.inspect(in_process, stage="in_process", item="gearbox", source_id="wo", operation_seq=10)
    assert [p.stage for p in queries.pending(plant.conn)] == ["final"]
    plant.inspect(final, stage="final", item="gearbox", source_id="wo", lot_no="WO-𠮷-1")
    assert queries.pending(plant.conn) == []


def test_an_in_process_result_is_for_its_plan_s_operation(plant):
    plan = plant.plan("in_process", item="gearbox", operation_seq=20)
    plant.refused(errors.STAGE_MISMATCH, "quality.record_result", plant.tablet, result_id="r", plan_id=plan,
                  stage="in_process", item_id="gearbox", site_id=plant.site, sample_size=1, occurred_at=T0,
                  operation_seq=10, measurements=[{"characteristic": "外径𠮷", "value": D(10)},
                                                  {"characteristic": "外观", "ok": True}])
    result = plant.inspect(plan, stage="in_process", item="gearbox")  # the plan names the operation
    assert plant.one(inspection_results, id=result)["operation_seq"] == 20
