"""Document numbers drawn offline: a branch office opens service tickets without a network.

The office's PCs reserve blocks of the site's ticket numbers while online, number tickets from
them offline, fall back to provisional numbers when a block runs out, and get final numbers on
sync. Whatever happens, no two tickets share a number. They run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from edge_client.numbering import LOW_WATER, next_number, remaining, top_up
from edge_client.transport import Unreachable
from erp.org.number_series import ReserveNumbers
from erp.sales.sales_order import ConfirmSalesOrder, CreateSalesOrder, NewLine
from erp.service.ticket import OpenTicket
from sync.ids import new_id
from tests.scenarios.test_sales_stories import customer
from tests.support import now


def open_ticket(office, buyer: str, site: str, complaint: str) -> tuple[str, str]:
    """Open a ticket the way `jcerp edge open-ticket` does; (ticket id, the number it was shown under)."""
    number = next_number(office, "service_ticket")
    ticket_id = new_id()
    office.run("service.open_ticket", OpenTicket(ticket_id=ticket_id, site_id=site, customer_id=buyer,
                                                 complaint=complaint, opened_at=now(), number=number))
    return ticket_id, number


def numbers_at_hq(server) -> dict[str, tuple[str, str | None]]:
    return {t["id"]: (t["number"], t["provisional_number"]) for t in server.get("/api/v1/service-tickets").json()}


def local_number(office, ticket_id: str) -> str:
    with office.engine.begin() as conn:
        return conn.exec_driver_sql("SELECT number FROM service_tickets WHERE id = ?", (ticket_id,)).scalar_one()


def test_an_office_numbers_tickets_offline_from_the_block_it_reserved_online(server, world, make_edge):
    buyer = customer(server, "C-NUM")
    office = make_edge("office", role="sales_clerk")
    assert top_up(office, "service_ticket")  # online: ask for a block...
    assert not top_up(office, "service_ticket")  # ...once, however often it is asked while the request waits
    office.sync_once()  # ...which the server allocates and the pull brings back
    with office.engine.begin() as conn:
        assert remaining(conn, device_id=office.identity.device_id, site_id=world.site,
                         document_type="service_ticket") == 100

    office.transport.online = False
    opened = [open_ticket(office, buyer, world.site, f"空调不制冷 𠮷 {n}") for n in range(3)]
    assert [number for _, number in opened] == ["ST-WH1-0000001", "ST-WH1-0000002", "ST-WH1-0000003"]
    with pytest.raises(Unreachable):
        office.sync_once()

    office.transport.online = True
    assert office.sync_once().rejected == 0
    at_hq = numbers_at_hq(server)
    assert [at_hq[ticket_id] for ticket_id, _ in opened] == [(number, None) for _, number in opened]


def test_two_offices_and_hq_never_give_two_tickets_one_number(server, world, make_edge):
    buyer = customer(server, "C-TWO")
    first, second = make_edge("office-1", role="sales_clerk"), make_edge("office-2", role="branch_manager")
    for office in (first, second):
        top_up(office, "service_ticket")
        office.sync_once()
    first.transport.online = second.transport.online = False
    tickets = [open_ticket(office, buyer, world.site, "漏水") for office in (first, second, first, second)]
    # HQ opens one meanwhile: it draws from the series, past both blocks.
    at_hq = server.post("/api/v1/service-tickets", json={"site_id": world.site, "customer_id": buyer,
                                                         "complaint": "电话报修"})
    assert at_hq.status_code == 201, at_hq.text
    assert at_hq.json()["number"] == "ST-WH1-0000201"
    first.transport.online = second.transport.online = True
    for office in (first, second):
        assert office.sync_once().rejected == 0

    numbers = [number for number, _ in numbers_at_hq(server).values()]
    assert len(numbers) == 5 and len(set(numbers)) == 5
    assert sorted(numbers) == ["ST-WH1-0000001", "ST-WH1-0000002", "ST-WH1-0000101", "ST-WH1-0000102",
                               "ST-WH1-0000201"]
    assert all(numbers_at_hq(server)[ticket_id] == (number, None) for ticket_id, number in tickets)


def test_an_office_that_runs_out_of_numbers_keeps_working_and_gets_final_numbers_on_sync(server, world, make_edge):
    buyer = customer(server, "C-OUT")
    office = make_edge("office", role="sales_clerk")
    office.run("org.reserve_numbers", ReserveNumbers(block_id=new_id(), site_id=world.site,
                                                     document_type="service_ticket", size=2))
    office.sync_once()
    office.transport.online = False
    opened = [open_ticket(office, buyer, world.site, f"无法开机 {n}") for n in range(4)]
    shown = [number for _, number in opened]
    assert shown[:2] == ["ST-WH1-0000001", "ST-WH1-0000002"]
    assert all(number.startswith("ST-WH1-P") for number in shown[2:]) and shown[2] != shown[3]
    # Running low while offline queued one request for a new block, not one per ticket.
    with office.engine.begin() as conn:
        assert conn.exec_driver_sql(
            "SELECT count(*) FROM edge_outbox WHERE name = 'org.reserve_numbers'").scalar_one() == 1

    office.transport.online = True
    assert office.sync_once().rejected == 0
    at_hq = numbers_at_hq(server)
    # The two provisional tickets were numbered when they arrived, after the new block was
    # reserved (it was queued before them): the series counter had passed 2 + 100.
    assert [at_hq[ticket_id] for ticket_id, _ in opened[:2]] == [(n, None) for n in shown[:2]]
    assert [at_hq[ticket_id] for ticket_id, _ in opened[2:]] == [("ST-WH1-0000103", shown[2]),
                                                                 ("ST-WH1-0000104", shown[3])]
    # The office's replica shows the final numbers, and the next ticket comes from the new block.
    assert [local_number(office, ticket_id) for ticket_id, _ in opened[2:]] == ["ST-WH1-0000103", "ST-WH1-0000104"]
    assert open_ticket(office, buyer, world.site, "再次报修")[1] == "ST-WH1-0000003"
    with office.engine.begin() as conn:
        assert remaining(conn, device_id=office.identity.device_id, site_id=world.site,
                         document_type="service_ticket") == 99 > LOW_WATER


def test_a_number_outside_the_devices_own_blocks_is_replaced(server, world, make_edge):
    buyer = customer(server, "C-FORGE")
    honest, other = make_edge("office-1", role="sales_clerk"), make_edge("office-2", role="sales_clerk")
    top_up(honest, "service_ticket")
    honest.sync_once()
    top_up(other, "service_ticket")
    other.sync_once()
    # ``other`` writes a number from ``honest``'s block by hand (a copied form, a bug): the
    # server keeps the ticket and numbers it from the series instead.
    ticket_id = new_id()
    other.run("service.open_ticket", OpenTicket(ticket_id=ticket_id, site_id=world.site, customer_id=buyer,
                                                complaint="抄错单号", opened_at=now(), number="ST-WH1-0000005"))
    assert other.sync_once().rejected == 0
    assert numbers_at_hq(server)[ticket_id] == ("ST-WH1-0000201", "ST-WH1-0000005")
    # ``honest`` still draws 1 from its block: nothing took it.
    assert open_ticket(honest, buyer, world.site, "正常报修")[1] == "ST-WH1-0000001"


def test_two_branches_take_orders_offline_and_the_server_still_checks_the_credit_limit(server, world, make_edge):
    buyer = customer(server, "C-BR", credit_limit="1000")
    branches = [make_edge(name, role="sales_clerk") for name in ("branch-1", "branch-2")]
    taken = []
    for branch in branches:
        top_up(branch, "sales_order")
        branch.sync_once()
        branch.transport.online = False
        # ¥600 each: within the ¥1,000 limit as each branch sees it, over it together.
        number = next_number(branch, "sales_order")
        order_id = new_id()
        branch.run("sales.create_order", CreateSalesOrder(
            order_id=order_id, site_id=world.site, number=number, customer_id=buyer,
            lines=[NewLine(line_id=new_id(), item_id=world.item, quantity=Decimal("120"), unit_price=Decimal("5"))]))
        branch.run("sales.confirm_order", ConfirmSalesOrder(order_id))
        taken.append(number)
    assert taken == ["SO-WH1-0000001", "SO-WH1-0000101"]

    for branch in branches:
        branch.transport.online = True
    assert branches[0].sync_once().rejected == 0
    assert branches[1].sync_once().rejected == 1
    [rejection] = [entry for entry in branches[1].inbox() if entry.kind == "rejection"]
    assert rejection.code == "sales.credit_limit_exceeded"
    # Both orders exist under the numbers the branches gave them; the second waits as a draft.
    at_hq = {o["number"]: o for o in server.get("/api/v1/sales-orders").json()}
    assert at_hq["SO-WH1-0000001"]["status"] == "confirmed" and at_hq["SO-WH1-0000001"]["provisional_number"] is None
    assert at_hq["SO-WH1-0000101"]["status"] == "draft"
