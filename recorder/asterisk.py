"""Call facts an Asterisk/FreePBX system leaves behind: recording file names and CDR CSV files.

FreePBX (12 and later) names a MixMonitor recording
``<kind>-<to>-<from>-<YYYYMMDD>-<HHMMSS>-<uniqueid>.<fmt>`` (``sub-record-check`` builds
``${ARG1}-${ARG2}-${FROMEXTEN}-${TIMESTR}-${UNIQUEID}``), for example
``in-0201234567-0612345678-20240501-093000-1714548600.42.wav``. The kind says how the call came
in: ``in`` (inbound route/DID), ``out`` (outbound route), ``exten``/``internal`` (extension to
extension), ``q`` (queue), ``rg`` (ring group), and ``force``/``ondemand``/``conf``/``page``, whose
direction the name does not tell. Date and time are the PBX's local wall-clock time.

Asterisk's ``cdr_csv`` writes ``Master.csv`` without a header row, columns in this order:
accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata, start, answer, end,
duration, billsec, disposition, amaflags, uniqueid, userfield (uniqueid/userfield need
``loguniqueid``/``loguserfield`` in cdr.conf; ``newcdrcolumns`` appends more, which are ignored).
``cdr_custom`` with the mapping of Asterisk's own sample ``cdr_custom.conf`` writes a
``Master.csv`` too, in another order: clid first, accountcode after amaflags, sequence last. A file
without a header is read in the layout whose disposition column holds dispositions (ANSWERED, NO
ANSWER, ...). CDR report exports (FreePBX "CDR Reports" CSV) carry a header row and name the start
``calldate``; a first row containing a ``uniqueid`` cell is taken as such a header.

One call can leave several rows under one uniqueid: a ring group or queue writes one per extension
rung (and FreePBX's ``Local/...;1`` helper channels), a transfer one per leg. The call starts at
its first row, and its agent is the first leg that was answered on a phone, not a helper channel;
a call nobody answered has no agent.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from recorder.instants import InstantError, parse_iso, to_utc
from recorder.sidecar import MetadataError
from recorder.types import CallMetadata, Direction, MissedCall

FILENAME_GROUPS = frozenset({"direction", "caller", "callee", "date", "time", "uniqueid"})

FREEPBX_PATTERN = re.compile(
    r"(?P<direction>[A-Za-z]+)-(?P<callee>[^-]*)-(?P<caller>[^-]*)-(?P<date>\d{8})-(?P<time>\d{6})-(?P<uniqueid>.+)"
)

# What the ``direction`` group's text means. Queue and ring-group calls are mapped to inbound
# because in a contact centre they are customers calling in; the plain words serve custom patterns.
DIRECTION_WORDS: dict[str, Direction] = {
    "in": "inbound",
    "external": "inbound",
    "q": "inbound",
    "rg": "inbound",
    "out": "outbound",
    "exten": "internal",
    "internal": "internal",
    "inbound": "inbound",
    "outbound": "outbound",
}

# Placeholders Asterisk writes when it has no number: they are not a party to the call.
_NO_PARTY = frozenset({"", "unknown", "anonymous", "s", "<unknown>"})

CDR_CSV_COLUMNS = (
    "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp", "lastdata",
    "start", "answer", "end", "duration", "billsec", "disposition", "amaflags", "uniqueid", "userfield",
)  # fmt: skip
CDR_CUSTOM_SAMPLE_COLUMNS = (
    "clid", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp", "lastdata", "start",
    "answer", "end", "duration", "billsec", "disposition", "amaflags", "accountcode", "uniqueid",
    "userfield", "sequence",
)  # fmt: skip
_DISPOSITIONS = frozenset({"ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION"})
_HEADER_ALIASES = {"calldate": "start"}
# A CDR disposition as stored (``Thread.disposition``); CONGESTION is a call the network failed.
OUTCOMES = {
    "ANSWERED": "answered",
    "NO ANSWER": "no_answer",
    "BUSY": "busy",
    "FAILED": "failed",
    "CONGESTION": "failed",
}
# Outcomes of an inbound call that leave a customer waiting for a callback.
MISSED_OUTCOMES = frozenset({"no_answer", "busy", "abandoned"})
# FreePBX's contexts for calls coming in over a trunk (inbound routes, DIDs): a CDR row without a
# recording file tells its direction only this way.
_INBOUND_CONTEXTS = ("from-trunk", "from-pstn", "from-did", "from-external")


class PatternError(ValueError):
    """A configured file-name pattern that cannot work; the message says why."""


@dataclass(frozen=True)
class CdrRecord:
    uniqueid: str
    src: str | None
    dst: str | None
    clid: str | None
    dcontext: str | None
    channel: str | None
    dstchannel: str | None
    start: datetime | None  # UTC
    billsec: int | None
    disposition: str | None


@dataclass(frozen=True)
class CdrTable:
    """One CDR file: the rows that parsed, keyed by uniqueid, and one error per row that did not."""

    records: dict[str, CdrRecord]
    errors: tuple[MetadataError, ...]


def compile_filename_pattern(text: str) -> re.Pattern[str]:
    """Compile a user's pattern, refusing group names that would be silently ignored (typos)."""
    try:
        pattern = re.compile(text)
    except re.error as exc:
        raise PatternError(f"file-name pattern {text!r}: {exc}") from exc
    unknown = set(pattern.groupindex) - FILENAME_GROUPS
    if unknown:
        raise PatternError(
            f"file-name pattern {text!r}: unknown group(s) {', '.join(sorted(unknown))}"
            f" (allowed: {', '.join(sorted(FILENAME_GROUPS))})"
        )
    if not pattern.groupindex:
        raise PatternError(f"file-name pattern {text!r}: has no named groups, so it can tell nothing")
    return pattern


def metadata_from_filename(
    path: Path, pattern: re.Pattern[str] = FREEPBX_PATTERN, timezone: tzinfo = UTC
) -> CallMetadata | None:
    """Facts encoded in the file name (matched against the name without its extension), or None."""
    match = pattern.fullmatch(path.stem)
    if match is None:
        return None
    groups = {name: value for name, value in match.groupdict().items() if value is not None}
    direction = DIRECTION_WORDS.get(groups.get("direction", "").lower())
    caller = _party(groups.get("caller"))
    started_at = None
    if "date" in groups and "time" in groups:
        try:
            started_at = to_utc(datetime.strptime(groups["date"] + groups["time"], "%Y%m%d%H%M%S"), timezone)
        except ValueError as exc:
            raise MetadataError(f"{path}: date/time in the file name: {exc}") from exc
    metadata = CallMetadata(
        caller=caller,
        callee=_party(groups.get("callee")),
        direction=direction,
        started_at=started_at,
        # Outbound recordings are named after the extension that dialled: the agent.
        agent=caller if direction == "outbound" else None,
        provider_id=groups.get("uniqueid") or None,
    )
    return _with_customer_phone(metadata)


def load_cdr(path: Path, timezone: tzinfo = UTC) -> CdrTable:
    """Read a cdr-csv ``Master.csv`` or a CDR export with a header row; naive times are in ``timezone``."""
    try:
        # CDR text comes from caller-id names in any encoding; a stray byte must not lose the file.
        with path.open(encoding="utf-8", errors="replace", newline="") as handle:
            reader = csv.reader(handle)
            # line_num is the line a row ends on, the one to report (quoted fields may span lines).
            rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except OSError as exc:
        raise MetadataError(f"{path}: cannot read: {exc.strerror}") from exc
    except csv.Error as exc:
        raise MetadataError(f"{path}: not a CSV file: {exc}") from exc
    if rows and "uniqueid" in (_header_name(cell) for cell in rows[0][1]):
        columns = {_header_name(cell): index for index, cell in enumerate(rows[0][1])}
        rows = rows[1:]
    else:
        columns = _headerless_layout([row for _, row in rows])
    legs: dict[str, list[CdrRecord]] = {}
    errors: list[MetadataError] = []
    for line, row in rows:
        try:
            record = _cdr_record(row, columns, timezone)
        except ValueError as exc:
            errors.append(MetadataError(f"{path}: line {line}: {exc}"))
            continue
        legs.setdefault(record.uniqueid, []).append(record)
    return CdrTable(records={uniqueid: _call(call) for uniqueid, call in legs.items()}, errors=tuple(errors))


def _headerless_layout(rows: list[list[str]]) -> dict[str, int]:
    """cdr_csv's columns, or those of the sample cdr_custom mapping when more rows fit them."""

    def fitting(layout: tuple[str, ...]) -> int:
        at = layout.index("disposition")
        return sum(len(row) > at and row[at].strip().upper() in _DISPOSITIONS for row in rows)

    layout = max((CDR_CSV_COLUMNS, CDR_CUSTOM_SAMPLE_COLUMNS), key=fitting)  # a tie keeps cdr_csv
    return {name: index for index, name in enumerate(layout)}


def _call(legs: list[CdrRecord]) -> CdrRecord:
    """One call from its rows: the first row's facts, with the leg that was answered (see above)."""
    answered = [leg for leg in legs if leg.disposition == "ANSWERED" and leg.dstchannel]
    on_a_phone = [leg for leg in answered if not (leg.dstchannel or "").startswith("Local/")]
    taken = next(iter(on_a_phone or answered), None)
    first = legs[0]
    return replace(
        first,
        dstchannel=taken.dstchannel if taken else None,
        billsec=taken.billsec if taken else first.billsec,
        disposition=taken.disposition if taken else first.disposition,
    )


def call_outcome(record: CdrRecord) -> str | None:
    """How a call ended. "abandoned": the PBX itself answered (a queue, an IVR) but no phone did,
    so the caller hung up waiting; a CDR's disposition says ANSWERED for that."""
    outcome = OUTCOMES.get((record.disposition or "").strip().upper())
    return "abandoned" if outcome == "answered" and record.dstchannel is None else outcome


def missed_call(record: CdrRecord) -> MissedCall | None:
    """The call, when it came in over a trunk and nobody took it; None for any other."""
    outcome = call_outcome(record)
    inbound = (record.dcontext or "").startswith(_INBOUND_CONTEXTS)
    caller = _party(record.src)
    if outcome not in MISSED_OUTCOMES or not inbound or caller is None:
        return None
    return MissedCall(
        provider_id=record.uniqueid,
        caller=caller,
        callee=_party(record.dst),
        started_at=record.start,
        disposition=outcome,
        customer_name=_clid_name(record.clid),
    )


def merge_cdr(metadata: CallMetadata, record: CdrRecord) -> CallMetadata:
    """Fill what the file name left open with the CDR's facts; the file name wins where both speak."""
    direction = metadata.direction
    agent_channel = {"inbound": record.dstchannel, "outbound": record.channel}.get(direction or "")
    merged = replace(
        metadata,
        caller=metadata.caller or _party(record.src),
        callee=metadata.callee or _party(record.dst),
        started_at=metadata.started_at or record.start,
        agent=metadata.agent or channel_endpoint(agent_channel),
        customer_name=metadata.customer_name or (_clid_name(record.clid) if direction == "inbound" else None),
        provider_id=metadata.provider_id or record.uniqueid,
        disposition=metadata.disposition or call_outcome(record),
    )
    return _with_customer_phone(merged)


def channel_endpoint(channel: str | None) -> str | None:
    """``SIP/1001-0000abcd`` -> ``1001``; ``Local/1001@from-queue-00000001;1`` -> ``1001``."""
    if not channel or "/" not in channel:
        return None
    rest = channel.split("/", 1)[1]
    endpoint = rest.split("@", 1)[0] if "@" in rest else rest.rsplit("-", 1)[0]
    return endpoint or None


def _with_customer_phone(metadata: CallMetadata) -> CallMetadata:
    """The outside party is the customer: the caller of an inbound call, the callee of an outbound one."""
    if metadata.customer_phone is not None:
        return metadata
    phone = {"inbound": metadata.caller, "outbound": metadata.callee}.get(metadata.direction or "")
    return replace(metadata, customer_phone=phone) if phone else metadata


def _party(value: str | None) -> str | None:
    if value is None or value.strip().lower() in _NO_PARTY:
        return None
    return value.strip()


def _clid_name(clid: str | None) -> str | None:
    """The name in ``"Jan de Vries" <0612345678>``, unless it is only the number again, or not text
    at all: caller-id names arrive in any encoding or as line noise, and bytes that did not decode
    (U+FFFD), control characters or a name without a letter are no one's name."""
    match = re.fullmatch(r'\s*"?([^"<]*?)"?\s*<([^>]*)>\s*', clid or "")
    if match is None or not match.group(1) or match.group(1) == match.group(2):
        return None
    name = match.group(1)
    readable = all(ch != "\ufffd" and ch.isprintable() for ch in name) and any(ch.isalpha() for ch in name)
    return name if readable else None


def _header_name(cell: str) -> str:
    name = cell.strip().lower().replace(" ", "").replace("_", "")
    return _HEADER_ALIASES.get(name, name)


def _cdr_record(row: list[str], columns: dict[str, int], timezone: tzinfo) -> CdrRecord:
    def cell(name: str) -> str | None:
        index = columns.get(name)
        value = row[index].strip() if index is not None and index < len(row) else ""
        return value or None

    if len(row) <= columns["uniqueid"]:
        raise ValueError(
            f"{len(row)} columns, but uniqueid is column {columns['uniqueid'] + 1}"
            " (for cdr-csv set loguniqueid=yes in cdr.conf)"
        )
    uniqueid = cell("uniqueid")
    if uniqueid is None:
        raise ValueError("uniqueid is empty")
    start_text = cell("start")
    try:
        start = parse_iso(start_text, timezone) if start_text else None
    except InstantError as exc:
        raise ValueError(f"start: {exc}") from None
    billsec_text = cell("billsec")
    if billsec_text is not None and not billsec_text.isdigit():
        raise ValueError(f"billsec: {billsec_text!r} is not a whole number of seconds")
    return CdrRecord(
        uniqueid=uniqueid,
        src=cell("src"),
        dst=cell("dst"),
        clid=cell("clid"),
        dcontext=cell("dcontext"),
        channel=cell("channel"),
        dstchannel=cell("dstchannel"),
        start=start,
        billsec=int(billsec_text) if billsec_text is not None else None,
        disposition=cell("disposition"),
    )
