"""Stable rejection codes of the inventory module.

Codes are part of the protocol: devices translate them and HQ filters by them. Never change
the meaning of a released code; add a new one.
"""

UNKNOWN_ITEM = "inventory.unknown_item"
UNKNOWN_UNIT = "inventory.unknown_unit"
UNKNOWN_LOCATION = "inventory.unknown_location"
UNKNOWN_WAREHOUSE = "inventory.unknown_warehouse"
UNKNOWN_MOVE = "inventory.unknown_move"
UNKNOWN_SITE = "inventory.unknown_site"
UNKNOWN_EXCEPTION = "inventory.unknown_exception"
INVALID_QUANTITY = "inventory.invalid_quantity"
NEGATIVE_STOCK = "inventory.negative_stock"
SKU_TAKEN = "inventory.sku_taken"
CODE_TAKEN = "inventory.code_taken"
ALREADY_REVERSED = "inventory.already_reversed"
SAME_LOCATION = "inventory.same_location"
EXCEPTION_CLOSED = "inventory.exception_closed"
UNKNOWN_LOT = "inventory.unknown_lot"
LOT_ON_HOLD = "inventory.lot_on_hold"
LOT_ALREADY_HELD = "inventory.lot_already_held"
LOT_NOT_HELD = "inventory.lot_not_held"
SERIAL_QUANTITY = "inventory.serial_quantity"
SERIAL_IN_STOCK = "inventory.serial_in_stock"
SERIAL_NOT_IN_STOCK = "inventory.serial_not_in_stock"
