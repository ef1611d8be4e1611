"""Stable rejection codes of the purchasing module.

Codes are part of the protocol: devices translate them and HQ filters by them. Never change
the meaning of a released code; add a new one.
"""

UNKNOWN_SUPPLIER = "purchasing.unknown_supplier"
SUPPLIER_CODE_TAKEN = "purchasing.supplier_code_taken"
UNKNOWN_PO = "purchasing.unknown_po"
UNKNOWN_PO_LINE = "purchasing.unknown_po_line"
PO_NUMBER_TAKEN = "purchasing.po_number_taken"
PO_HAS_NO_LINES = "purchasing.po_has_no_lines"
DUPLICATE_LINE = "purchasing.duplicate_line"
INVALID_PRICE = "purchasing.invalid_price"
INVALID_TOLERANCE = "purchasing.invalid_tolerance"
PO_CANCELLED = "purchasing.po_cancelled"
PO_CLOSED = "purchasing.po_closed"
PO_HAS_RECEIPTS = "purchasing.po_has_receipts"
TRANSITION_FORBIDDEN = "purchasing.transition_forbidden"
SITE_MISMATCH = "purchasing.site_mismatch"
UNKNOWN_EXCEPTION = "purchasing.unknown_exception"
EXCEPTION_CLOSED = "purchasing.exception_closed"
NOT_SUGGESTED = "purchasing.not_suggested"
NO_SUPPLIER = "purchasing.no_supplier"
