"""Stable error codes of the manufacturing module, and the typed errors that carry them.

Codes are part of the protocol: devices translate them and HQ filters by them. Never change
the meaning of a released code; add a new one.

The planning calculator raises these before it plans anything: a run either plans from data it
fully accepts or refuses the data with the first problem it finds, with ids in ``details``.
"""

from __future__ import annotations

from sync.errors import JcerpError

BOM_CYCLE = "manufacturing.bom_cycle"
UNKNOWN_ITEM = "manufacturing.unknown_item"
DUPLICATE_ITEM = "manufacturing.duplicate_item"
DUPLICATE_DEMAND = "manufacturing.duplicate_demand"
INVALID_QUANTITY = "manufacturing.invalid_quantity"
INVALID_LOT_SIZING = "manufacturing.invalid_lot_sizing"
INVALID_LEAD_TIME = "manufacturing.invalid_lead_time"
INVALID_PHANTOM = "manufacturing.invalid_phantom"
INVALID_CALENDAR = "manufacturing.invalid_calendar"
UNKNOWN_WORK_CENTRE = "manufacturing.unknown_work_centre"


class ManufacturingError(JcerpError):
    """Base of the module's errors: master or planning data the calculator cannot plan from."""

    code = "manufacturing.error"
    http_status = 422


class BomCycle(ManufacturingError):
    """An item is, through its BOM lines, a component of itself.

    ``details["cycle"]`` lists the item ids around the loop, starting and ending with the same id.
    """

    code = BOM_CYCLE


class InvalidPlanningData(ManufacturingError):
    """An input the calculator refuses; ``code`` says which rule it breaks."""


class InvalidLotSizing(InvalidPlanningData):
    code = INVALID_LOT_SIZING


class InvalidCalendar(InvalidPlanningData):
    code = INVALID_CALENDAR
