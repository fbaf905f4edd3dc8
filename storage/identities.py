"""Normalize the ways a customer is recognised, so one person's phone or e-mail matches across channels.

Identities are unique per (kind, normalized value): "+44 20 7946 0958", "020 7946 0958" (in the UK)
and "+442079460958" are one phone, "Ann@Example.COM " and "ann@example.com" one e-mail.
"""

from __future__ import annotations

import re
from typing import Literal

import phonenumbers

IdentityKind = Literal["phone", "email", "chat_handle", "customer_number"]

# Deliberately loose: one @, no spaces, a dot in the domain. Real validation is sending a mail.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class IdentityError(ValueError):
    """A phone number, e-mail or customer number that cannot be normalized; the message says which."""


def normalize_phone(raw: str, default_region: str) -> str:
    """E.164 (``+442079460958``); numbers without a country code are read in ``default_region``."""
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as error:
        raise IdentityError(
            f"phone number {raw!r} cannot be read: {str(error).split(') ', 1)[-1]}"
        ) from error
    if not phonenumbers.is_valid_number(number):
        raise IdentityError(
            f"phone number {raw!r} is not a valid number (numbers without +country code are read as "
            f"{default_region})"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str) -> str:
    value = raw.strip().lower()
    if not _EMAIL.fullmatch(value):
        raise IdentityError(f"e-mail address {raw!r} is not valid (expected name@domain.tld)")
    return value


def normalize_customer_number(raw: str) -> str:
    value = raw.strip()
    if not value:
        raise IdentityError("customer number is empty")
    return value


def normalize_chat_handle(raw: str) -> str:
    value = raw.strip()
    if not value:
        raise IdentityError("chat handle is empty")
    return value


def normalize_identity(kind: IdentityKind, raw: str, default_region: str) -> str:
    """One entry point for importers that carry the identity kind as data."""
    if kind == "phone":
        return normalize_phone(raw, default_region)
    if kind == "email":
        return normalize_email(raw)
    if kind == "customer_number":
        return normalize_customer_number(raw)
    return normalize_chat_handle(raw)
