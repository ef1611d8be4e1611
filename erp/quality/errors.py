"""Stable rejection codes of the quality module.

Codes are part of the protocol: devices translate them and HQ filters by them. Never change
the meaning of a released code; add a new one.
"""

UNKNOWN_PLAN = "quality.unknown_plan"
PLAN_CODE_TAKEN = "quality.plan_code_taken"
PLAN_INACTIVE = "quality.plan_inactive"
INVALID_STAGE = "quality.invalid_stage"
INVALID_SAMPLING = "quality.invalid_sampling"
INVALID_CHARACTERISTIC = "quality.invalid_characteristic"
DUPLICATE_CHARACTERISTIC = "quality.duplicate_characteristic"
INVALID_LIMITS = "quality.invalid_limits"
UNKNOWN_CHARACTERISTIC = "quality.unknown_characteristic"
MEASUREMENT_MISSING = "quality.measurement_missing"
INVALID_MEASUREMENT = "quality.invalid_measurement"
STAGE_MISMATCH = "quality.stage_mismatch"
ITEM_MISMATCH = "quality.item_mismatch"
UNKNOWN_RESULT = "quality.unknown_result"
ALREADY_SUPERSEDED = "quality.already_superseded"
UNKNOWN_NCR = "quality.unknown_ncr"
TRANSITION_FORBIDDEN = "quality.transition_forbidden"
DISPOSITION_NOT_ALLOWED = "quality.disposition_not_allowed"
SCRAP_NEEDS_LOCATION = "quality.scrap_needs_location"
SITE_MISMATCH = "quality.site_mismatch"
LOT_REQUIRED = "quality.lot_required"
REASON_REQUIRED = "quality.reason_required"
LOT_HELD_BY_NCR = "quality.lot_held_by_ncr"
