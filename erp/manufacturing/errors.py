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


# -- master data, work orders and shop-floor reports (mutation rejections) ---------------------
# Handlers refuse with these through ``ctx.reject``; the device shows them at once, HQ gets a
# problem response (422).

UNKNOWN_CALENDAR = "manufacturing.unknown_calendar"
UNKNOWN_BOM = "manufacturing.unknown_bom"
UNKNOWN_BOM_LINE = "manufacturing.unknown_bom_line"
UNKNOWN_ROUTING = "manufacturing.unknown_routing"
UNKNOWN_WORK_ORDER = "manufacturing.unknown_work_order"
UNKNOWN_OPERATION = "manufacturing.unknown_operation"
UNKNOWN_REPORT = "manufacturing.unknown_report"
UNKNOWN_EXCEPTION = "manufacturing.unknown_exception"
UNKNOWN_SITE = "manufacturing.unknown_site"
UNKNOWN_LOCATION = "manufacturing.unknown_location"
CODE_TAKEN = "manufacturing.code_taken"  # calendar, work centre or routing code, work-order number
BOM_NOT_EDITABLE = "manufacturing.bom_not_editable"  # released or obsolete: make a new version
BOM_NOT_RELEASED = "manufacturing.bom_not_released"  # a work order needs a released BOM
BOM_EMPTY = "manufacturing.bom_empty"  # a BOM is released with at least one line
BOM_ITEM_MISMATCH = "manufacturing.bom_item_mismatch"  # BOM or routing of another item
PHANTOM_WITHOUT_BOM = "manufacturing.phantom_without_bom"  # a phantom line's item has no released BOM
SITE_MISMATCH = "manufacturing.site_mismatch"  # a work centre or location of another site
INVALID_TRANSITION = "manufacturing.invalid_transition"
INVALID_AMOUNT = "manufacturing.invalid_amount"  # hours, rates, costs: finite, ≥ 0, at most 9 decimals
BLANK_FIELD = "manufacturing.blank_field"  # a code, name or operator that is empty or only spaces
NOT_A_COMPONENT = "manufacturing.not_a_component"  # material moved for an item the order does not use
ALREADY_REVERSED = "manufacturing.already_reversed"
EXCEPTION_CLOSED = "manufacturing.exception_closed"


class InvalidTransition(ManufacturingError):
    """A state machine (BOM, work order) was asked for a transition its table does not allow.

    ``details``: ``status`` (the current state) and ``event`` (the transition asked for).
    """

    code = INVALID_TRANSITION


# -- planning: MRP runs, planned orders, planning parameters, forecasts (HQ only) --------------

UNKNOWN_RUN = "manufacturing.unknown_run"
UNKNOWN_PLANNED_ORDER = "manufacturing.unknown_planned_order"
INVALID_PLANNING_PARAMETERS = "manufacturing.invalid_planning_parameters"
INVALID_FORECAST = "manufacturing.invalid_forecast"
# Reasons a planned order is reported not converted (one call converts what it can):
NO_SUPPLIER = "manufacturing.no_supplier"  # a purchase proposal whose item has no supplier to order from
NO_LOCATIONS = "manufacturing.no_locations"  # a make proposal whose item has no issue/receipt location
NOT_PROPOSED = "manufacturing.not_proposed"  # already converted, or discarded by a later run


class PlanningRefused(ManufacturingError):
    """Planning data HQ entered that cannot be stored; ``code`` says which rule it breaks."""
