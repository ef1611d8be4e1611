"""Purchase suggestions (``erp.purchasing.purchase_suggestion``): the projected stock from on-hand,
open order lines and sales reservations; the order quantity rounded to the supplier's minimum
and pack (property tests); and the plan of draft orders, one per site and supplier, that
``purchasing.create_po`` accepts."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Connection, create_engine, select

from erp.purchasing import errors
from erp.purchasing.purchase_order import purchase_order_lines, purchase_orders
from erp.purchasing.purchase_suggestion import Choice, last_prices, list_suggestions, order_quantity, plan_orders
from sync.context import Actor, MutationContext, MutationRef, Side
from sync.errors import MutationRejected
from sync.registry import discover
from sync.schema import metadata
from tests.unit.handler_runner import apply_in_savepoint

HQ = Actor(None, None, "采购员 𠮷")
WHEN = datetime(2026, 4, 1, 9, 0, tzinfo=timezone.utc)
SITE, OTHER = "site-A", "site-B"


class Runner:
    def __init__(self, conn: Connection) -> None:
        self.conn, self.registry, self.version = conn, discover(), 0

    def __call__(self, name: str, /, **args: Any) -> None:
        definition = self.registry.resolve_latest(name)
        self.version += 1
        ref = MutationRef(None, self.version, name, 1, f"{self.version:015d}-00000-hq")
        ctx = MutationContext(self.conn, self.registry, Side.SERVER, HQ, ref, commit_version=self.version)
        apply_in_savepoint(self.conn, definition, ctx, args)

    def receive(self, item: str, quantity: str, location: str = "bin-a") -> None:
        self("inventory.receive", move_id=f"m-{item}-{quantity}-{location}", item_id=item, location_id=location,
             quantity=Decimal(quantity), occurred_at=WHEN)

    def point(self, item: str, site: str = SITE, **values: Any) -> None:
        self("inventory.set_reorder_point", item_id=item, site_id=site,
             **{k: Decimal(v) if k != "preferred_supplier_id" and isinstance(v, str) else v
                for k, v in values.items()})

    def order(self, po_id: str, item: str, quantity: str, *, supplier: str = "sup-1", price: str = "3.20",
              site: str = SITE) -> None:
        self("purchasing.create_po", po_id=po_id, site_id=site, number=f"PO-{po_id}", supplier_id=supplier,
             lines=[{"line_id": f"{po_id}-1", "item_id": item, "quantity": Decimal(quantity),
                     "unit_price": Decimal(price)}])


@pytest.fixture
def run() -> Iterator[Runner]:
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        runner = Runner(conn)
        metadata.create_all(conn)
        for site, bin_id in ((SITE, "bin-a"), (OTHER, "bin-b")):
            runner("org.create_site", site_id=site, code=site, name=f"仓 {site}", kind="warehouse")
            runner("inventory.create_warehouse", warehouse_id=f"wh-{site}", site_id=site, code=f"W-{site}", name="库")
            runner("inventory.create_location", location_id=bin_id, warehouse_id=f"wh-{site}", code="01", name="01")
        runner("inventory.create_location", location_id="bin-a2", warehouse_id=f"wh-{SITE}", code="02", name="02")
        runner("inventory.create_unit", code="PCS", name="件")
        for item, name in (("bolt", "螺栓 𠮷"), ("nut", "螺母"), ("glue", "胶水")):
            runner("inventory.create_item", item_id=item, sku=item.upper(), name=name, unit_code="PCS")
        for supplier, name in (("sup-1", "汉口五金 𠮷"), ("sup-2", "武昌钢材")):
            runner("purchasing.create_supplier", supplier_id=supplier, code=supplier.upper(), name=name)
        runner("sales.create_customer", customer_id="cust-1", code="C1", name="江城机械")
        yield runner
    engine.dispose()


def test_the_projection_counts_stock_at_every_location_open_orders_and_reservations(run):
    run.receive("bolt", "30")
    run.receive("bolt", "15", location="bin-a2")
    run.receive("bolt", "500", location="bin-b")  # another site's stock does not help
    run.order("po-1", "bolt", "20")  # a draft: still coming
    run.order("po-2", "bolt", "40")
    run("purchasing.approve_po", po_id="po-2")
    run("purchasing.receive_po", receipt_id="r-1", move_id="m-r-1", po_line_id="po-2-1", location_id="bin-a",
        quantity=Decimal(25), occurred_at=WHEN)  # on-hand +25, on order 15 more
    run.order("po-3", "bolt", "99")
    run("purchasing.cancel_po", po_id="po-3")  # brings nothing
    run("sales.create_order", order_id="so-1", site_id=SITE, number="SO-1", customer_id="cust-1",
        lines=[{"line_id": "so-1-1", "item_id": "bolt", "quantity": Decimal(80), "unit_price": Decimal(9)}])
    run("sales.confirm_order", order_id="so-1")
    run.point("bolt", reorder_point="24.999", reorder_quantity="100", preferred_supplier_id="sup-1", lead_time_days=5)
    assert list_suggestions(run.conn, site_id=SITE) == []  # projected 25 is above the point
    run.point("bolt", reorder_point="25", reorder_quantity="100", preferred_supplier_id="sup-1", lead_time_days=5)
    [suggestion] = list_suggestions(run.conn, site_id=SITE)
    assert (suggestion.on_hand, suggestion.on_order, suggestion.reserved) == (70, 35, 80)
    assert suggestion.projected == 70 + 35 - 80 == 25
    assert suggestion.suggested_quantity == 100
    assert (suggestion.preferred_supplier_id, suggestion.lead_time_days) == ("sup-1", 5)
    assert suggestion.sku == "BOLT" and suggestion.name == "螺栓 𠮷"


def test_only_items_at_or_below_their_point_are_suggested(run):
    run.receive("bolt", "21")
    run.receive("nut", "20")
    run.point("bolt", reorder_point="20", reorder_quantity="50")
    run.point("nut", reorder_point="20", reorder_quantity="50")
    run.point("glue", reorder_point="0", reorder_quantity="5")  # nothing at all: 0 is at the point
    assert [s.item_id for s in list_suggestions(run.conn, site_id=SITE)] == ["glue", "nut"]
    assert list_suggestions(run.conn, site_id=OTHER) == []


def test_up_to_the_maximum_level_rounded_to_the_suppliers_pack(run):
    run.receive("nut", "7")
    run.point("nut", reorder_point="10", max_level="60", min_order_quantity="24", order_multiple="12")
    [suggestion] = list_suggestions(run.conn, site_id=SITE)
    assert suggestion.suggested_quantity == 60  # 53 needed, in packs of 12
    run.receive("nut", "2.5")
    assert list_suggestions(run.conn, site_id=SITE)[0].suggested_quantity == 60  # 50.5 → 60
    run.point("nut", reorder_point="10", max_level="30", min_order_quantity="24", order_multiple="12")
    assert list_suggestions(run.conn, site_id=SITE)[0].suggested_quantity == 24  # 20.5 → the minimum


def test_chosen_suggestions_become_one_draft_per_site_and_supplier(run):
    for item in ("bolt", "nut", "glue"):
        run.point(item, reorder_point="5", reorder_quantity="10", preferred_supplier_id="sup-1")
    run.point("bolt", OTHER, reorder_point="5", reorder_quantity="30", preferred_supplier_id="sup-1")
    run.order("po-old", "nut", "1", price="0.88")  # the last price paid becomes the draft's price
    run("purchasing.cancel_po", po_id="po-old")
    suggestions = list_suggestions(run.conn, site_id=None)
    choices = [Choice(SITE, "bolt"), Choice(SITE, "nut", quantity=Decimal("12.5")),
               Choice(SITE, "glue", supplier_id="sup-2"), Choice(OTHER, "bolt")]
    prices = last_prices(run.conn, ["bolt", "nut", "glue"])
    planned = plan_orders(suggestions, choices, prices=prices, today=date(2026, 4, 2))
    shapes = {(p.order.site_id, p.order.supplier_id): [(l.item_id, l.quantity, l.unit_price) for l in p.order.lines]
              for p in planned}
    assert shapes == {(SITE, "sup-1"): [("bolt", 10, 0), ("nut", Decimal("12.5"), Decimal("0.88"))],
                      (SITE, "sup-2"): [("glue", 10, 0)], (OTHER, "sup-1"): [("bolt", 30, 0)]}
    assert all(p.order.number.startswith("PS-20260402-") for p in planned)
    for plan in planned:
        run("purchasing.create_po", **{f: getattr(plan.order, f) for f in plan.order.__struct_fields__})
    drafts = run.conn.execute(select(purchase_orders.c.status, purchase_orders.c.note)
                              .where(purchase_orders.c.number.like("PS-%"))).all()
    assert len(drafts) == 3 and {status for status, _ in drafts} == {"draft"}
    assert len(run.conn.execute(select(purchase_order_lines).where(
        purchase_order_lines.c.po_id.in_([p.order.po_id for p in planned]))).all()) == 4
    assert [s.item_id for s in list_suggestions(run.conn, site_id=SITE)] == []  # now on order


def test_a_suggestion_without_a_supplier_or_not_suggested_is_refused(run):
    run.point("bolt", reorder_point="5", reorder_quantity="10")
    suggestions = list_suggestions(run.conn, site_id=SITE)
    with pytest.raises(MutationRejected) as refused:
        plan_orders(suggestions, [Choice(SITE, "bolt")], prices={}, today=date(2026, 4, 2))
    assert refused.value.code == errors.NO_SUPPLIER
    with pytest.raises(MutationRejected) as refused:
        plan_orders(suggestions, [Choice(OTHER, "bolt", supplier_id="sup-1")], prices={}, today=date(2026, 4, 2))
    assert refused.value.code == errors.NOT_SUGGESTED


quantities = st.decimals(min_value="-100", max_value="100000", places=3, allow_nan=False, allow_infinity=False)
positive = st.decimals(min_value="0.001", max_value="1000", places=3, allow_nan=False, allow_infinity=False)


@given(needed=quantities, min_order=st.none() | positive, multiple=st.none() | positive)
def test_the_order_quantity_covers_the_need_the_minimum_and_the_pack_and_no_more(needed, min_order, multiple):
    quantity = order_quantity(needed, min_order=min_order, multiple=multiple)
    if needed <= 0:
        assert quantity == 0
        return
    floor = max(needed, min_order or Decimal(0))
    assert quantity >= floor
    if multiple:
        assert quantity % multiple == 0
        assert quantity - floor < multiple  # never a whole extra pack
    else:
        assert quantity == floor


@given(needed=quantities, more=positive, min_order=st.none() | positive, multiple=st.none() | positive)
def test_needing_more_never_orders_less(needed, more, min_order, multiple):
    assert order_quantity(needed + more, min_order=min_order, multiple=multiple) >= \
        order_quantity(needed, min_order=min_order, multiple=multiple)


def test_through_the_hq_api_a_buyer_sets_points_reviews_suggestions_and_drafts_orders(server, world):
    """The HQ routes run the same rules (both databases): PUT a reorder point, GET the
    suggestions, POST the chosen ones and get draft orders back."""
    supplier = server.post("/api/v1/suppliers", json={"code": "S-𠮷", "name": "汉口五金 𠮷"}).json()["id"]
    put = server.put(f"/api/v1/reorder-points/{world.site}/{world.item}", json={
        "reorder_point": "10", "max_level": "100", "order_multiple": "25", "preferred_supplier_id": supplier,
        "lead_time_days": 3})
    assert put.status_code == 200, put.text
    assert Decimal(put.json()["max_level"]) == 100
    bad = server.put(f"/api/v1/reorder-points/{world.site}/{world.item2}", json={"reorder_point": "10"})
    assert bad.status_code == 422 and bad.json()["code"] == "inventory.invalid_reorder_point"
    [point] = server.get("/api/v1/reorder-points", params={"site_id": world.site}).json()
    assert point["item_id"] == world.item and point["lead_time_days"] == 3

    [suggestion] = server.get("/api/v1/purchase-suggestions").json()
    assert (suggestion["site_id"], suggestion["item_id"]) == (world.site, world.item)
    assert Decimal(suggestion["projected"]) == 0 and Decimal(suggestion["suggested_quantity"]) == 100
    assert server.get("/api/v1/purchase-suggestions", params={"site_id": world.other_site}).json() == []

    refused = server.post("/api/v1/purchase-suggestions/orders",
                          json={"choices": [{"site_id": world.site, "item_id": world.item2}]})
    assert refused.status_code == 422 and refused.json()["code"] == "purchasing.not_suggested"
    made = server.post("/api/v1/purchase-suggestions/orders", json={"choices": [
        {"site_id": world.site, "item_id": world.item, "quantity": "75"}]})
    assert made.status_code == 201, made.text
    [order] = made.json()
    assert (order["status"], order["supplier_id"], order["site_id"]) == ("draft", supplier, world.site)
    assert [(line["item_id"], Decimal(line["quantity"])) for line in order["lines"]] == [(world.item, 75)]
    # On order now (75): the projection is above the point and nothing is suggested.
    assert server.get("/api/v1/purchase-suggestions").json() == []
