"""Check digits of the numbers redaction looks for.

A checksum is what separates a card or an IBAN from any other long run of digits a caller reads
out (an order number, a phone number): without it, redaction would have to guess from context.
"""

from __future__ import annotations

import string

# Length of an IBAN by country (ISO 13616 registry), for the countries our callers bank in and
# their neighbours; an IBAN of another country is still found when its checksum holds and it has
# the generic length range.
IBAN_LENGTHS = {
    "AT": 20, "BE": 16, "CH": 21, "CZ": 24, "DE": 22, "DK": 18, "ES": 24, "FI": 18, "FR": 27,
    "GB": 22, "IE": 22, "IT": 27, "LU": 20, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "SE": 24,
}  # fmt: skip
IBAN_MIN, IBAN_MAX = 15, 34


def luhn_valid(digits: str) -> bool:
    """Luhn mod-10, the check digit of every payment card number."""
    if not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_number_valid(digits: str) -> bool:
    """13 to 19 digits, a card network's first digit (2-6), and the Luhn check."""
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn_valid(digits)


def iban_valid(code: str) -> bool:
    """ISO 13616: country letters, two check digits, then the account; mod 97 of the rearranged
    number is 1. Letters count as 10..35."""
    if not (IBAN_MIN <= len(code) <= IBAN_MAX) or not (code.isascii() and code.isalnum() and code.isupper()):
        return False
    country, checks = code[:2], code[2:4]
    if not (country.isalpha() and checks.isdigit()):
        return False
    if IBAN_LENGTHS.get(country, len(code)) != len(code):
        return False
    rearranged = code[4:] + code[:4]
    number = "".join(str(string.ascii_uppercase.index(c) + 10) if c.isalpha() else c for c in rearranged)
    return int(number) % 97 == 1


def bsn_valid(digits: str) -> bool:
    """Dutch citizen service number: nine digits (eight with a leading zero dropped) and the
    eleven-test, whose last weight is -1."""
    if not digits.isdigit() or len(digits) not in (8, 9):
        return False
    digits = digits.zfill(9)
    total = sum(int(d) * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2, -1), strict=True))
    return total % 11 == 0 and int(digits) != 0


def ssn_shape_valid(digits: str) -> bool:
    """US social security number: 3-2-4 digits with no all-zero group, no area 666 or 9xx (SSNs
    have no check digit, so the shape is all there is)."""
    if len(digits) != 9 or not digits.isdigit():
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def expiry_valid(digits: str) -> bool:
    """A card's expiry as said or typed: MYY, MMYY or MMYYYY with a month 1-12 (years 20YY)."""
    if not digits.isdigit():
        return False
    if len(digits) == 3:
        return digits[0] != "0"
    if len(digits) == 4:
        return 1 <= int(digits[:2]) <= 12
    if len(digits) == 6:
        return 1 <= int(digits[:2]) <= 12 and digits[2:4] == "20"
    return False
