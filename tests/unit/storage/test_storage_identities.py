"""Identity normalization: one phone or e-mail written many ways is one identity."""

from __future__ import annotations

import pytest

from storage.identities import (
    IdentityError,
    normalize_customer_number,
    normalize_email,
    normalize_identity,
    normalize_phone,
)


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("+44 20 7946 0958", "US"),
        ("020 7946 0958", "GB"),
        ("+442079460958", "DE"),
        ("0044 20 7946 0958", "GB"),
    ],
)
def test_phone_variants_normalize_to_one_e164(raw: str, region: str) -> None:
    assert normalize_phone(raw, region) == "+442079460958"


def test_phone_without_country_code_uses_default_region() -> None:
    assert normalize_phone("(201) 555-0123", "US") == "+12015550123"
    assert normalize_phone("030 901820", "DE") == "+4930901820"


@pytest.mark.parametrize("raw", ["12", "not a phone", "+1 555 0100", ""])
def test_invalid_phone_names_the_number(raw: str) -> None:
    with pytest.raises(IdentityError, match="phone number") as caught:
        normalize_phone(raw, "US")
    assert repr(raw) in str(caught.value)


def test_email_is_trimmed_and_lower_cased() -> None:
    assert normalize_email("  Ann.Lee@Example.COM ") == "ann.lee@example.com"


@pytest.mark.parametrize(
    "raw", ["ann", "ann@", "@example.com", "ann@example", "a b@example.com", "a@b@c.com"]
)
def test_invalid_email_is_refused(raw: str) -> None:
    with pytest.raises(IdentityError, match="e-mail"):
        normalize_email(raw)


def test_customer_number_and_dispatch() -> None:
    assert normalize_customer_number("  C-00042 ") == "C-00042"
    with pytest.raises(IdentityError, match="empty"):
        normalize_customer_number("   ")
    assert normalize_identity("email", "X@Y.ORG", "US") == "x@y.org"
    assert normalize_identity("phone", "2015550123", "US") == "+12015550123"
    assert normalize_identity("chat_handle", " @ann ", "US") == "@ann"
