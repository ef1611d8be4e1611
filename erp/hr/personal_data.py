"""Checks of an employee's personal data: pure functions, no I/O, the same on device and server.

Each returns None for an acceptable value or a reason that does not repeat the value (reasons
reach rejection lists and logs, which have no field rules of their own).

- ID numbers: a mainland resident ID (居民身份证号码, GB 11643-1999) has 17 digits and a check
  character (a digit or ``X``) computed ISO 7064 MOD 11-2; a wrong one is a typo, refused. Other
  documents (passports, Hong Kong, Macao and Taiwan permits, foreigners' permanent residence
  cards) are kept as written: 1 to 32 capital letters, digits or hyphens.
- Phone numbers: an optional leading ``+``, then 5 to 20 digits, spaces and hyphens allowed
  between them (mobile, landline with area code, international).
- Bank accounts: 8 to 34 capital letters and digits, no spaces (a 16–19 digit card number or an
  IBAN).
- Monthly salaries: a finite amount of money, zero or more, to the fen (2 decimals), below
  10^12 yuan.
"""

from __future__ import annotations

import re
from decimal import Decimal

RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_ID_CHECK = "10X98765432"  # by the weighted sum modulo 11

_DOCUMENT = re.compile(r"[A-Z0-9-]{1,32}")
_RESIDENT_ID = re.compile(r"[0-9]{17}[0-9X]")
_PHONE = re.compile(r"\+?[0-9](?:[ -]?[0-9])*")
_BANK_ACCOUNT = re.compile(r"[A-Z0-9]{8,34}")
MAX_SALARY = Decimal(10) ** 12


def resident_id_check_character(first17: str) -> str:
    """The check character of a resident ID whose first 17 characters are ``first17`` (digits)."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, RESIDENT_ID_WEIGHTS, strict=True))
    return RESIDENT_ID_CHECK[total % 11]


def id_number_problem(text: str) -> str | None:
    if _RESIDENT_ID.fullmatch(text):
        if resident_id_check_character(text[:17]) != text[17]:
            return "the check character of this resident ID number is wrong: look for a typo"
        return None
    if not _DOCUMENT.fullmatch(text):
        return "an ID number has 1 to 32 capital letters, digits or hyphens"
    return None


def phone_problem(text: str) -> str | None:
    digits = sum(ch.isdigit() for ch in text)
    if not _PHONE.fullmatch(text) or not 5 <= digits <= 20:
        return "a phone number has 5 to 20 digits, an optional leading +, and spaces or hyphens between digits"
    return None


def bank_account_problem(text: str) -> str | None:
    if not _BANK_ACCOUNT.fullmatch(text):
        return "a bank account has 8 to 34 capital letters and digits, without spaces"
    return None


def salary_problem(amount: Decimal) -> str | None:
    exponent = amount.as_tuple().exponent
    if not amount.is_finite() or not isinstance(exponent, int):
        return "a salary is a finite amount"
    if amount < 0 or amount >= MAX_SALARY:
        return "a salary is zero or more, and below 10^12"
    if exponent < -2 and amount != amount.quantize(Decimal("0.01")):
        return "a salary is counted to the fen (at most 2 decimals)"
    return None
