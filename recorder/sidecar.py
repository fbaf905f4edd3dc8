"""JSON sidecar files: call metadata written next to the audio by whoever exports the recordings.

``call.wav`` is described by ``call.json`` or ``call.wav.json``. Documented keys (all optional)::

    {
      "caller": "+31 20 123 4567",          # as dialled/presented; normalized later by storage
      "callee": "+31 20 999 0000",
      "direction": "inbound",                # inbound | outbound | internal
      "started_at": "2024-05-01T09:30:00+02:00",
      "agent": "Sam Jansen",                 # agent name or PBX extension
      "customer": {"phone": "...", "email": "...", "number": "...", "name": "..."},
      "channel_roles": ["agent", "customer"],  # one role per channel, in channel order
      "provider_id": "1714548600.42"          # PBX call id, makes re-import idempotent
    }

The customer may also be given with flat keys (``customer_phone``, ``customer_email``,
``customer_number``, ``customer_name``), as spreadsheet exports tend to produce.
``started_at`` without a UTC offset is read in the ``timezone`` passed in (default UTC): PBXs
write local wall-clock time, and only the operator knows which zone that was.
Unknown keys are ignored so that newer exporters can add fields without breaking older readers.
JSON ``null`` and empty strings mean "not given".
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, get_args

from recorder.instants import InstantError, parse_iso
from recorder.json_files import JsonFileError, load_json
from recorder.types import CallMetadata, Direction, IngestError
from transcribe.types import ROLES, Role

DIRECTIONS: tuple[Direction, ...] = get_args(Direction)
CUSTOMER_FIELDS = ("phone", "email", "number", "name")


class MetadataError(IngestError):
    """Call metadata (sidecar or CDR) that cannot be read; the message names the file and field."""


def sidecar_paths(audio_path: Path) -> tuple[Path, Path]:
    """Both names a sidecar may have: ``call.json`` and ``call.wav.json``."""
    return audio_path.with_suffix(".json"), audio_path.with_name(audio_path.name + ".json")


def find_sidecar(audio_path: Path) -> Path | None:
    """The sidecar next to ``audio_path``; two of them would be ambiguous, so that is an error."""
    present = [p for p in dict.fromkeys(sidecar_paths(audio_path)) if p.is_file()]
    if len(present) > 1:
        raise MetadataError(f"{audio_path}: two sidecars ({present[0].name} and {present[1].name}); keep one")
    return present[0] if present else None


def parse_sidecar(path: Path, timezone: tzinfo = UTC) -> CallMetadata:
    try:
        data = load_json(path)
    except JsonFileError as exc:
        raise MetadataError(str(exc)) from exc
    if not isinstance(data, dict):
        raise MetadataError(f"{path}: expected a JSON object, got {_json_type(data)}")
    customer = _customer(path, data)
    return CallMetadata(
        caller=_text(path, data, "caller"),
        callee=_text(path, data, "callee"),
        direction=_direction(path, data.get("direction")),
        started_at=_started_at(path, data.get("started_at"), timezone),
        agent=_text(path, data, "agent"),
        customer_phone=customer["phone"],
        customer_email=customer["email"],
        customer_number=customer["number"],
        customer_name=customer["name"],
        channel_roles=_channel_roles(path, data.get("channel_roles")),
        provider_id=_text(path, data, "provider_id"),
    )


def _text(path: Path, obj: dict[str, Any], key: str, label: str | None = None) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        hint = " (quote numbers so a leading 0 or + survives)" if is_number else ""
        raise MetadataError(f"{path}: {label or key}: expected a string, got {_json_type(value)}{hint}")
    return value.strip() or None


def _customer(path: Path, data: dict[str, Any]) -> dict[str, str | None]:
    nested = data.get("customer")
    if nested is None:
        nested = {}
    elif not isinstance(nested, dict):
        raise MetadataError(f"{path}: customer: expected an object, got {_json_type(nested)}")
    merged: dict[str, str | None] = {}
    for name in CUSTOMER_FIELDS:
        inner = _text(path, nested, name, f"customer.{name}")
        flat = _text(path, data, f"customer_{name}")
        if inner is not None and flat is not None and inner != flat:
            raise MetadataError(
                f"{path}: customer.{name} ({inner!r}) and customer_{name} ({flat!r}) disagree"
            )
        merged[name] = inner if inner is not None else flat
    return merged


def _direction(path: Path, value: Any) -> Direction | None:
    if value is None:
        return None
    if value not in DIRECTIONS:
        raise MetadataError(f"{path}: direction: {value!r} is not one of {', '.join(DIRECTIONS)}")
    return value


def _started_at(path: Path, value: Any, timezone: tzinfo) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise MetadataError(f"{path}: started_at: expected an ISO 8601 string, got {_json_type(value)}")
    try:
        moment = parse_iso(value, timezone)
    except InstantError as exc:
        raise MetadataError(f"{path}: started_at: {exc}") from exc
    # fromisoformat takes a bare date as midnight; a call start that vague is a mistake, not a fact.
    if len(value.strip()) <= len("YYYY-MM-DD"):
        raise MetadataError(f"{path}: started_at: {value!r} has no time of day")
    return moment


def _channel_roles(path: Path, value: Any) -> tuple[Role, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise MetadataError(f"{path}: channel_roles: expected a list of roles, got {_json_type(value)}")
    if not value:
        raise MetadataError(f"{path}: channel_roles: the list is empty; leave it out to use the default map")
    for index, role in enumerate(value):
        if role not in ROLES:
            raise MetadataError(
                f"{path}: channel_roles[{index}]: unknown role {role!r} (expected one of {', '.join(ROLES)})"
            )
    return tuple(value)


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}
    return names.get(type(value), "a number")
