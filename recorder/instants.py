"""Times from outside (sidecars, CDRs, file names, chat exports, mail headers) as instants in UTC.

Every importer reads its times through here, so one rule holds for all of them: an instant is kept
only between ``EARLIEST`` and ``LATEST``. Python can parse "9999-12-31T23:59:59-05:00" but not turn
it into UTC (the year would be 10000), and a time at the very edge of ``datetime`` overflows later
when a page shows it in a local zone. No call or message happened outside this range, so such a
time is a mistake in the export, refused with a message that says so, never a traceback.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)  # exclusive


class InstantError(ValueError):
    """A time that cannot be read or lies outside ``EARLIEST``..``LATEST``; the message quotes it."""


def to_utc(moment: datetime, timezone: tzinfo = UTC) -> datetime:
    """Aware times keep their offset; naive ones are wall-clock time in ``timezone``."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone)
    try:
        instant = aware.astimezone(UTC)
    except OverflowError:
        instant = None
    if instant is None or not EARLIEST <= instant < LATEST:
        raise InstantError(
            f"{moment.isoformat()} is out of range (times must lie between {EARLIEST.year} and "
            f"{LATEST.year - 1})"
        )
    return instant


def parse_iso(text: str, timezone: tzinfo = UTC) -> datetime:
    """ISO 8601 text in UTC; without an offset it is wall-clock time in ``timezone``."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InstantError(f"{text!r} is not an ISO 8601 date and time") from None
    return to_utc(moment, timezone)


def from_unix(seconds: float) -> datetime:
    """Unix seconds in UTC."""
    try:
        moment = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise InstantError(f"{seconds!r} is not a Unix time") from None
    return to_utc(moment)
