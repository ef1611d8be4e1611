"""Master data and enrollment codes for trials and simulations, made through the HQ API like an
administrator would.

Sites each get one warehouse with a negative-stock policy and a number of locations; items
are shared by all sites. Names use rare characters (4-byte UTF-8), as real ones do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class SitePlan:
    code: str
    policy: str = "flag"  # allow | flag | reject: what the warehouse does with negative stock
    locations: int = 4


def create_world(hq: httpx.Client, sites: list[SitePlan], *, items: int) -> dict[str, str]:
    """Create the sites, their warehouses and locations, and the shared items, with ``hq``
    signed in as an administrator. Returns code → site id."""
    with hq:

        def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = hq.post(path, json=body)
            if response.status_code != 201:
                raise RuntimeError(f"POST {path} answered {response.status_code}: {response.text}")
            return response.json()

        post("/api/v1/units", {"code": "PCS", "name": "件"})
        for i in range(items):
            post("/api/v1/items", {"sku": f"SKU-{i:04d}", "name": f"物料 {i} 𠮷", "unit_code": "PCS"})
        site_ids: dict[str, str] = {}
        for number, plan in enumerate(sites):
            site_id = post("/api/v1/sites", {"code": plan.code, "name": f"{plan.code} 仓 𠀋", "kind": "warehouse"})["id"]
            warehouse = post("/api/v1/warehouses", {"site_id": site_id, "code": f"W{number}", "name": "一号库",
                                                    "negative_stock_policy": plan.policy})["id"]
            for j in range(plan.locations):
                post("/api/v1/locations", {"warehouse_id": warehouse, "code": f"A-{j:02d}", "name": f"A区{j:02d}"})
            site_ids[plan.code] = site_id
    return site_ids


# Devices of the trials record every kind of warehouse action, adjustments included.
DEVICE_ROLE = "branch_manager"


def enrollment_codes(hq: httpx.Client, site_id: str, count: int, role: str = DEVICE_ROLE) -> list[str]:
    """One-time enrollment codes for ``count`` devices of a site."""
    codes = []
    for _ in range(count):
        answer = hq.post("/api/v1/admin/enrollment-codes", json={"site_id": site_id, "role": role})
        if answer.status_code != 201:
            raise RuntimeError(f"enrollment code refused: {answer.status_code} {answer.text}")
        codes.append(answer.json()["code"])
    return codes
