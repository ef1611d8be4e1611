"""Test helpers: a transport that can go offline, lose responses and repeat pushes, a signed-in app,
and a small HQ world (site, item, locations) built through the HQ API."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Iterator

from edge_client.device_key import DeviceSignature
from edge_client.transport import HttpTransport, Unreachable
from erp.inventory.stock_move import Issue, Receive
from sync.ids import new_id


class FlakyTransport(HttpTransport):
    """An HttpTransport with switches for the faults a plant network produces."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.online = True
        self.lose_responses = 0  # the next N requests reach the server, but the answer is lost
        self.repeat_pushes = 0  # the next N pushes are sent twice (a retry after a lost answer)

    def _post(self, path: str, message: Any, reply_type: type) -> Any:
        if not self.online:
            raise Unreachable("network down (test)")
        if path.endswith("/push") and self.repeat_pushes:
            self.repeat_pushes -= 1
            super()._post(path, message, reply_type)
        answer = super()._post(path, message, reply_type)
        if self.lose_responses:
            self.lose_responses -= 1
            raise Unreachable("response lost (test)")
        return answer

    def bootstrap(self, request: Any):
        if not self.online:
            raise Unreachable("network down (test)")
        return super().bootstrap(request)


@dataclass
class World:
    site: str
    other_site: str
    unit: str
    item: str
    item2: str
    warehouse: str
    location: str
    location2: str
    other_location: str


ADMIN = ("admin", "管理员-口令-𠮷-2026")  # the first administrator of every test server


def sign_in(client: Any, username: str, password: str) -> dict:
    """Sign ``client`` in: later requests carry the bearer token. Returns the sign-in answer."""
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    answer = response.json()
    client.headers["authorization"] = f"Bearer {answer['token']}"
    return answer


def device_auth(edge: Any) -> DeviceSignature:
    """An httpx auth sending ``edge``'s bearer token and signing with its key: for sync requests
    built by hand (``client.post(..., auth=device_auth(edge))``)."""
    return DeviceSignature(edge.transport.signer.key, token=edge.transport.token)


def enrollment_code(client: Any, site_id: str, role: str = "branch_manager") -> str:
    """A one-time enrollment code from HQ (``client`` signed in as an administrator). Test
    devices default to branch managers: every inventory mutation and the inbox."""
    response = client.post("/api/v1/admin/enrollment-codes", json={"site_id": site_id, "role": role})
    assert response.status_code == 201, response.text
    return response.json()["code"]


@contextmanager
def signed_in_app(db_url: str, **options: Any) -> Iterator[Any]:
    """The app in-process (Litestar's TestClient), signed in as its first administrator.
    ``options`` go to ``create_app`` (``rate_limits``, say)."""
    from litestar.testing import TestClient

    from server.app import create_app

    with TestClient(create_app(db_url, bootstrap_admin=ADMIN, **options)) as client:
        sign_in(client, *ADMIN)
        yield client


def build_world(client: Any, policy: str = "flag") -> World:
    def post(path: str, body: dict) -> dict:
        response = client.post(path, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    site = post("/api/v1/sites", {"code": "WH1", "name": "汉阳仓 𠀋", "kind": "warehouse"})["id"]
    other = post("/api/v1/sites", {"code": "WH2", "name": "武昌仓", "kind": "warehouse"})["id"]
    post("/api/v1/units", {"code": "PCS", "name": "件"})
    item = post("/api/v1/items", {"sku": "SKU-1", "name": "螺栓 𠮷", "unit_code": "PCS", "barcode": "6900000000017"})["id"]
    item2 = post("/api/v1/items", {"sku": "SKU-2", "name": "垫圈", "unit_code": "PCS"})["id"]
    warehouse = post("/api/v1/warehouses", {"site_id": site, "code": "W1", "name": "一号库",
                                            "negative_stock_policy": policy})["id"]
    other_warehouse = post("/api/v1/warehouses", {"site_id": other, "code": "W2", "name": "二号库"})["id"]
    location = post("/api/v1/locations", {"warehouse_id": warehouse, "code": "A-01", "name": "A01"})["id"]
    location2 = post("/api/v1/locations", {"warehouse_id": warehouse, "code": "A-02", "name": "A02"})["id"]
    other_location = post("/api/v1/locations", {"warehouse_id": other_warehouse, "code": "B-01", "name": "B01"})["id"]
    return World(site, other, "PCS", item, item2, warehouse, location, location2, other_location)


def now() -> datetime:
    return datetime.now(timezone.utc)


def receive(edge: Any, world: World, quantity: str, *, location: str | None = None, item: str | None = None) -> int:
    return edge.run("inventory.receive", Receive(move_id=new_id(), item_id=item or world.item,
                                                 location_id=location or world.location,
                                                 quantity=Decimal(quantity), occurred_at=now()))


def issue(edge: Any, world: World, quantity: str, *, location: str | None = None, item: str | None = None) -> int:
    return edge.run("inventory.issue", Issue(move_id=new_id(), item_id=item or world.item,
                                             location_id=location or world.location,
                                             quantity=Decimal(quantity), occurred_at=now()))


def all_movements(client: Any, page_size: int = 1000) -> list[dict]:
    """Every stock move from the HQ API, following its keyset pages to the end."""
    moves: list[dict] = []
    after = None
    while True:
        params = {"limit": page_size, **({"after": after} if after else {})}
        page = client.get("/api/v1/movements", params=params).json()
        moves += page["items"]
        after = page["next_after"]
        if after is None:
            return moves


def replica_rows(edge: Any, table: str, order: str) -> list[tuple]:
    with edge.engine.begin() as conn:
        return conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY {order}").all()


def normalized(value: Any) -> Any:
    """Compare values as their meaning, not their storage text (Decimal scale, Z vs +00:00)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        return value.normalize()
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc)
    if isinstance(value, str):
        if value.lstrip("-").replace(".", "", 1).isdigit():
            return Decimal(value).normalize()
        if len(value) >= 20 and value[4] == "-" and value[10] in "T ":
            try:
                return datetime.fromisoformat(value).astimezone(timezone.utc)
            except ValueError:
                return value
    return value


def scope_snapshot(conn: Any, registry: Any, *, site_id: str, device_id: str) -> dict[str, set[tuple]]:
    """Every replicated row a device of ``site_id`` should hold, normalized, per table."""
    from sqlalchemy import select, type_coerce
    from sqlalchemy.types import NullType

    from sync.specs import ScopeKind

    snapshot: dict[str, set[tuple]] = {}
    for spec in registry.ordered_specs():
        columns = [type_coerce(c, NullType()).label(c.name) for c in spec.table.columns if c.name != "_version"]
        query = select(*columns)
        if spec.scope is ScopeKind.SITE:
            query = query.where(spec.table.c[spec.scope_column] == site_id)
        elif spec.scope is ScopeKind.DEVICE:
            query = query.where(spec.table.c[spec.scope_column] == device_id)
        snapshot[spec.name] = {tuple(normalized(v) for v in row) for row in conn.execute(query)}
    return snapshot
