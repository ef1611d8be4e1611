"""Stable rejection codes of the after-sales service module.

Codes are part of the protocol: devices translate them and HQ filters by them. Never change
the meaning of a released code; add a new one.
"""

UNKNOWN_TICKET = "service.unknown_ticket"
UNKNOWN_SITE = "service.unknown_site"
UNKNOWN_CONTACT = "service.unknown_contact"
EMPTY_COMPLAINT = "service.empty_complaint"
INVALID_WARRANTY = "service.invalid_warranty"
TRANSITION_FORBIDDEN = "service.transition_forbidden"
TICKET_CLOSED = "service.ticket_closed"
NO_TECHNICIAN = "service.no_technician"
UNKNOWN_OUTCOME = "service.unknown_outcome"
