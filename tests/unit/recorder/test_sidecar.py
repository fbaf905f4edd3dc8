"""JSON sidecars: the documented fields, both customer spellings, and one clear error per mistake."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from recorder.sidecar import MetadataError, find_sidecar, parse_sidecar
from recorder.types import CallMetadata

FULL = {
    "caller": "+31 20 123 4567",
    "callee": "+31 20 555 0100",
    "direction": "inbound",
    "started_at": "2024-05-06T09:14:03",
    "agent": "Sam Jansen",
    "customer": {"phone": "+31 20 123 4567", "email": "emma@example.nl", "number": "482913", "name": "Emma"},
    "channel_roles": ["agent", "customer"],
    "provider_id": "1714979643.118",
    "recorded_by": "some future exporter field",
}


def write(tmp_path: Path, content: object, name: str = "call.json") -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def test_documented_fields_are_read_and_naive_times_use_the_given_zone(tmp_path: Path) -> None:
    meta = parse_sidecar(write(tmp_path, FULL), timezone=ZoneInfo("Europe/Amsterdam"))
    assert meta == CallMetadata(
        caller="+31 20 123 4567",
        callee="+31 20 555 0100",
        direction="inbound",
        started_at=datetime(2024, 5, 6, 7, 14, 3, tzinfo=UTC),  # CEST is UTC+2
        agent="Sam Jansen",
        customer_phone="+31 20 123 4567",
        customer_email="emma@example.nl",
        customer_number="482913",
        customer_name="Emma",
        channel_roles=("agent", "customer"),
        provider_id="1714979643.118",
    )


def test_naive_time_defaults_to_utc_and_an_explicit_offset_wins_over_the_zone(tmp_path: Path) -> None:
    naive = parse_sidecar(write(tmp_path, {"started_at": "2024-05-06 09:14:03"}, "a.json"))
    assert naive.started_at == datetime(2024, 5, 6, 9, 14, 3, tzinfo=UTC)
    aware = parse_sidecar(
        write(tmp_path, {"started_at": "2024-05-06T09:14:03-04:00"}, "b.json"),
        timezone=ZoneInfo("Asia/Tokyo"),
    )
    assert aware.started_at == datetime(2024, 5, 6, 13, 14, 3, tzinfo=UTC)
    zulu = parse_sidecar(write(tmp_path, {"started_at": "2024-05-06T09:14:03Z"}, "c.json"))
    assert zulu.started_at == datetime(2024, 5, 6, 9, 14, 3, tzinfo=UTC)


def test_flat_customer_keys_mean_the_same_as_the_nested_object(tmp_path: Path) -> None:
    flat = {f"customer_{key}": value for key, value in FULL["customer"].items()}  # type: ignore[union-attr]
    nested_meta = parse_sidecar(write(tmp_path, {"customer": FULL["customer"]}, "nested.json"))
    flat_meta = parse_sidecar(write(tmp_path, flat, "flat.json"))
    assert flat_meta == nested_meta
    assert flat_meta.customer_email == "emma@example.nl"


def test_null_empty_and_absent_values_are_not_given(tmp_path: Path) -> None:
    meta = parse_sidecar(
        write(tmp_path, {"caller": None, "agent": "  ", "customer": None, "direction": None})
    )
    assert meta == CallMetadata()
    assert parse_sidecar(write(tmp_path, {}, "empty.json")) == CallMetadata()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"caller": "+31",\n  "direction": }', "malformed JSON at line 2 column 16: Expecting value"),
        ("[1, 2]", "expected a JSON object, got a list"),
        (
            {"caller": 31201234567},
            "caller: expected a string, got a number (quote numbers so a leading 0 or + survives)",
        ),
        ({"agent": ["Sam"]}, "agent: expected a string, got a list"),
        ({"direction": "incoming"}, "direction: 'incoming' is not one of inbound, outbound, internal"),
        (
            {"channel_roles": ["agent", "boss"]},
            "channel_roles[1]: unknown role 'boss' (expected one of agent, customer, ivr, other)",
        ),
        ({"channel_roles": "agent"}, "channel_roles: expected a list of roles, got a string"),
        ({"channel_roles": []}, "channel_roles: the list is empty; leave it out to use the default map"),
        ({"started_at": "yesterday"}, "started_at: 'yesterday' is not an ISO 8601 date and time"),
        (
            {"started_at": "2024-13-01T10:00:00"},
            "started_at: '2024-13-01T10:00:00' is not an ISO 8601 date and time",
        ),
        ({"started_at": "2024-05-06"}, "started_at: '2024-05-06' has no time of day"),
        (  # in UTC this would be year 0, which Python cannot hold
            {"started_at": "0001-01-01T00:00:00+05:00"},
            "started_at: 0001-01-01T00:00:00+05:00 is out of range (times must lie between 1900 and 2999)",
        ),
        (  # ... and this year 10000
            {"started_at": "9999-12-31T23:59:59-05:00"},
            "started_at: 9999-12-31T23:59:59-05:00 is out of range (times must lie between 1900 and 2999)",
        ),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply to read (lists or objects inside each other)"),
        ('{"caller": 1e400}', "number 1e400 is too large"),
        (
            '{"caller": %s}' % ("9" * 5000),
            "number 999999999999...(5000 digits) is too large (the limit is 9223372036854775807)",
        ),
        ('{"caller": NaN}', "NaN is not a JSON number"),
        ({"started_at": 1714979643}, "started_at: expected an ISO 8601 string, got a number"),
        ({"customer": "Emma"}, "customer: expected an object, got a string"),
        ({"customer": {"email": True}}, "customer.email: expected a string, got true/false"),
        ({"provider_id": False}, "provider_id: expected a string, got true/false"),
        (
            {"customer": {"phone": "1"}, "customer_phone": "2"},
            "customer.phone ('1') and customer_phone ('2') disagree",
        ),
    ],
)
def test_each_mistake_gets_one_line_naming_file_and_field(
    tmp_path: Path, content: object, expected: str
) -> None:
    path = write(tmp_path, content)
    with pytest.raises(MetadataError) as caught:
        parse_sidecar(path)
    assert str(caught.value) == f"{path}: {expected}"


def test_bytes_that_are_not_utf8_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "call.json"
    path.write_bytes(b'{"caller": "\xe9"}')
    with pytest.raises(MetadataError, match="not UTF-8 text"):
        parse_sidecar(path)


@pytest.mark.parametrize("name", ["call.json", "call.wav.json"])
def test_either_sidecar_name_is_found(tmp_path: Path, name: str) -> None:
    write(tmp_path, {}, name)
    assert find_sidecar(tmp_path / "call.wav") == tmp_path / name


def test_two_sidecars_for_one_file_are_ambiguous(tmp_path: Path) -> None:
    write(tmp_path, {}, "call.json")
    write(tmp_path, {}, "call.wav.json")
    with pytest.raises(MetadataError, match=r"call\.wav: two sidecars \(call\.json and call\.wav\.json\)"):
        find_sidecar(tmp_path / "call.wav")
    assert find_sidecar(tmp_path / "other.wav") is None
