"""QC inspection entry (检验录入): scan the item (a GS1-128 label also gives the lot), choose one of
its active inspection plans (chosen at once when there is one), type a reading per
characteristic → ``quality.record_result``, recorded offline if need be.

A measured characteristic takes numbers, one per piece, separated by spaces (``10.01 9.98``);
an attribute takes ok / ng (also 1 / 0, 合格 / 不合格), one per piece. The sample size is the
number typed in its field, else the plan's fixed sample, else the most readings given for one
characteristic. The verdict is not decided here: the mutation judges the readings against the
plan's limits (on the tablet at once, authoritatively at HQ), and the screen shows what it
judged. An incoming inspection is of the latest receipt of the item (and lot) at this site.

The inspector is the signed-in user; a failed result raises a nonconformance at HQ.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from edge_client.floor_queries import Plan
from mobile.documents import read_label
from mobile.presenter import Form, MissingField, MobileError
from mobile.tablet import ItemRef
from sync.errors import JcerpError
from sync.ids import new_id

OK_WORDS = {"ok", "1", "y", "pass", "合格", "好"}
NG_WORDS = {"ng", "0", "n", "fail", "不合格", "坏"}


class NoPlan(MobileError):
    code = "mobile.no_plan"


class BadReading(MobileError):
    code = "mobile.bad_reading"


class BadSample(MobileError):
    code = "mobile.bad_sample"


def parse_readings(kind: str, name: str, text: str) -> list[tuple[Decimal | None, bool | None]]:
    """A characteristic's typed readings as (value, ok) pairs, one per piece."""
    readings: list[tuple[Decimal | None, bool | None]] = []
    for token in text.replace(",", " ").replace("，", " ").split():
        if kind == "attribute":
            word = token.lower()
            if word not in OK_WORDS | NG_WORDS:
                raise BadReading(f"{token!r} is not ok or ng", characteristic=name, text=token)
            readings.append((None, word in OK_WORDS))
        else:
            try:
                value = Decimal(token)
            except InvalidOperation:
                raise BadReading(f"{token!r} is not a number", characteristic=name, text=token) from None
            if not value.is_finite():
                raise BadReading(f"{token!r} is not a number", characteristic=name, text=token)
            readings.append((value, None))
    return readings


class QcEntryPresenter(Form):
    FIELDS = ("item", "lot", "sample")
    REQUIRED = ("item",)
    STOPS = ("item",)
    LABELS = {"item": "field.item", "lot": "field.lot", "sample": "field.sample"}

    def __init__(self, tablet, t) -> None:
        super().__init__(tablet, t)
        self.item: ItemRef | None = None
        self.plans: list[Plan] = []
        self.plan: Plan | None = None
        self.readings: dict[str, str] = {}
        self.last_seq: int | None = None
        self.verdict: tuple[str, str | None] | None = None

    def fill(self, name: str, text: str) -> None:
        text = text.strip()
        if name == "item":
            key, label = read_label(text)
            self.item = self.tablet.find_item(key)
            self.values["item"] = self.item.label
            if label is not None and label.lot:
                self.values["lot"] = label.lot
            self.plans = self.tablet.inspection_plans(self.item.id)
            self.plan, self.readings, self.verdict = None, {}, None
            self.note = None
            if not self.plans:
                raise NoPlan(f"{self.item.sku} has no active inspection plan", item=self.item.sku)
            if len(self.plans) == 1:
                self._take_plan(self.plans[0])
        elif name == "sample":
            if text and (not text.isdigit() or int(text) < 1):
                raise BadSample(f"{text!r} is not a number of pieces", text=text)
            self.values["sample"] = text
        else:
            self.values[name] = text

    def plan_label(self, plan: Plan) -> str:
        where = f" · {self.t('qc.operation', operation=plan.operation_seq)}" if plan.operation_seq else ""
        return f"{plan.code} v{plan.version}  {plan.name}\n{self.t(f'qc.stage.{plan.stage}')}{where}"

    @property
    def plan_choices(self) -> list[str]:
        return [self.plan_label(plan) for plan in self.plans]

    def choose_plan(self, position: int) -> None:
        self._take_plan(self.plans[position])
        self.focus = self.next_after("sample")
        self.changed()

    def _take_plan(self, plan: Plan) -> None:
        self.plan = plan
        self.readings = {check.name: "" for check in plan.checks}
        if plan.sample_kind == "fixed" and not self.values["sample"]:
            self.values["sample"] = str(int(plan.sample_value))

    def check_label(self, name: str) -> str:
        check = next(c for c in self.plan.checks if c.name == name)
        if check.kind == "attribute":
            return f"{name} ({self.t('qc.ok_ng')})"
        limits = f"{check.lower if check.lower is not None else ''}–{check.upper if check.upper is not None else ''}"
        return f"{name} {limits} {check.unit or ''}".strip()

    def set_reading(self, name: str, text: str) -> None:
        if name not in self.readings:
            raise KeyError(f"{name} is not a characteristic of the chosen plan")
        self.readings[name] = text.strip()

    def next_after(self, name: str) -> str | None:
        """After item, lot or sample: the first empty reading (``reading:<name>``); with several
        plans and none chosen, the lot (a tap on a plan goes on); None when all is typed."""
        if self.item is None:
            return "item"
        if self.plan is None:
            return "lot"
        return next((f"reading:{n}" for n, text in self.readings.items() if not text), None)

    def read(self, name: str, text: str) -> str | None:
        """Enter in a reading field: keep it, answer the next empty reading (None: save)."""
        try:
            check = next(c for c in self.plan.checks if c.name == name)
            parse_readings(check.kind, name, text)
        except JcerpError as error:
            self.focus = f"reading:{name}"
            self.fail(error)
            return self.focus
        self.set_reading(name, text)
        names = list(self.readings)
        later = names[names.index(name) + 1:] + names[:names.index(name)]
        self.focus = next((f"reading:{n}" for n in later if not self.readings[n]), None)
        self.note = None
        self.changed()
        return self.focus

    def save(self) -> int | None:
        """Record the result (queued for sync); the tablet's verdict is shown. Returns its number."""
        from erp.quality.result import Measurement, RecordResult

        try:
            self.require(*self.REQUIRED)
            if self.plan is None:
                raise MissingField("choose the plan", field=self.t("qc.plans"))
            measurements: list[Measurement] = []
            most = 0
            for check in self.plan.checks:
                readings = parse_readings(check.kind, check.name, self.readings.get(check.name, ""))
                if not readings:
                    raise MissingField(f"{check.name} has no reading", field=check.name)
                most = max(most, len(readings))
                measurements += [Measurement(check.name, value, ok) for value, ok in readings]
            sample = int(self.values["sample"]) if self.values["sample"] else most
            lot = self.values["lot"] or None
            source = self.tablet.latest_receipt(self.item.id, lot) if self.plan.stage == "incoming" else None
            result_id = new_id()
            seq = self.tablet.run("quality.record_result", RecordResult(
                result_id=result_id, plan_id=self.plan.id, stage=self.plan.stage, item_id=self.item.id,
                site_id=self.tablet.site_id, sample_size=sample, measurements=measurements,
                occurred_at=self.tablet.now(), lot_no=lot, source_id=source,
                operation_seq=self.plan.operation_seq))
        except JcerpError as error:
            self.fail(error)
            return None
        self.last_seq = seq
        self.verdict = self.tablet.inspection_verdict(result_id)
        self.readings = {name: "" for name in self.readings}
        self.values["sample"] = ""
        if self.plan.sample_kind == "fixed":
            self.values["sample"] = str(int(self.plan.sample_value))
        self.focus = self.next_after("sample")  # the next inspection of the same item
        if self.verdict is None:  # not judged here (cannot happen with the module installed)
            self.say("common.saved", seq=seq)
        elif self.verdict[0] == "fail":
            self.say("qc.saved_fail", kind="warn", seq=seq, failed=self.verdict[1] or "")
        else:
            self.say("qc.saved_pass", seq=seq)
        return seq

    def clear(self, keep: tuple[str, ...] = ()) -> None:
        self.item, self.plans, self.plan, self.readings, self.verdict = None, [], None, {}, None
        super().clear(keep)
