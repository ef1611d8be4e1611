"""Stable rejection codes of the HR module.

Codes are part of the protocol: devices translate them and HQ filters by them. Never change
the meaning of a released code; add a new one. Messages never repeat the personal value that
was refused (they reach rejection lists and logs); they say what is wrong with it.
"""

UNKNOWN_SITE = "hr.unknown_site"
UNKNOWN_EMPLOYEE = "hr.unknown_employee"
EMPLOYEE_NO_TAKEN = "hr.employee_no_taken"
INVALID_EMPLOYEE_NO = "hr.invalid_employee_no"
INVALID_NAME = "hr.invalid_name"
INVALID_ID_NUMBER = "hr.invalid_id_number"
INVALID_PHONE = "hr.invalid_phone"
INVALID_BANK_ACCOUNT = "hr.invalid_bank_account"
INVALID_SALARY = "hr.invalid_salary"
