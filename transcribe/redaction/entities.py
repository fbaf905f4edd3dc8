"""What redaction finds, and which of it is redacted unless configured otherwise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EntityType = Literal[
    "CARD", "CVC", "EXPIRY", "IBAN", "BANK_ACCOUNT", "BSN", "SSN", "PHONE", "EMAIL", "DOB", "ADDRESS"
]  # fmt: skip
ENTITY_TYPES: tuple[EntityType, ...] = (
    "CARD", "CVC", "EXPIRY", "IBAN", "BANK_ACCOUNT", "BSN", "SSN", "PHONE", "EMAIL", "DOB", "ADDRESS",
)  # fmt: skip
# Payment data and national ids are redacted by default (PCI DSS forbids keeping a card's
# security code at all); phone numbers, e-mail and postal addresses and dates of birth identify the customer
# (agents check identity by them, the history links by them), so redacting them is an
# organisation's choice.
DEFAULT_ENTITIES: frozenset[EntityType] = frozenset(
    {"CARD", "CVC", "EXPIRY", "IBAN", "BANK_ACCOUNT", "BSN", "SSN"}
)


def placeholder(entity: EntityType) -> str:
    """The text that stands in a transcript or message where a finding was: ``[CARD]``."""
    return f"[{entity}]"


@dataclass(frozen=True)
class RedactionOptions:
    """``languages``: those whose number words are read besides the call's own (callers switch
    to English for numbers). ``phone_regions``: where a national phone number (no +) is dialled.
    ``context_words``: how far back (in words, any speaker) a cue such as "security code" counts."""

    entities: frozenset[EntityType] = DEFAULT_ENTITIES
    languages: tuple[str, ...] = ("en", "nl")
    phone_regions: tuple[str, ...] = ("NL", "US", "GB")
    context_words: int = 15


@dataclass(frozen=True, slots=True)
class Finding:
    """One entity and the indices of the words that said it (one speaker's, in order)."""

    entity: EntityType
    words: tuple[int, ...]
