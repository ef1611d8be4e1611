"""Stable rejection codes of cycle counts and reorder points (inventory module).

Codes are part of the protocol: devices translate them and HQ filters by them. Never change
the meaning of a released code; add a new one.
"""

UNKNOWN_CYCLE_COUNT = "inventory.unknown_cycle_count"
UNKNOWN_COUNT_LINE = "inventory.unknown_count_line"
COUNT_NUMBER_TAKEN = "inventory.count_number_taken"
COUNT_HAS_NO_LINES = "inventory.count_has_no_lines"
DUPLICATE_COUNT_LINE = "inventory.duplicate_count_line"
COUNT_LOCATION_ELSEWHERE = "inventory.count_location_elsewhere"
COUNT_CANCELLED = "inventory.count_cancelled"
COUNT_APPROVED = "inventory.count_approved"
COUNT_NOT_SUBMITTED = "inventory.count_not_submitted"
COUNT_TRANSITION_FORBIDDEN = "inventory.count_transition_forbidden"
INVALID_REORDER_POINT = "inventory.invalid_reorder_point"
