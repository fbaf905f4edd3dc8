"""FreePBX recording names and Asterisk CDR CSV files, as the PBX writes them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from recorder.asterisk import (
    CdrRecord,
    PatternError,
    call_outcome,
    channel_endpoint,
    compile_filename_pattern,
    load_cdr,
    merge_cdr,
    metadata_from_filename,
    missed_call,
)
from recorder.sidecar import MetadataError
from recorder.types import CallMetadata, MissedCall

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cdr"
# As cdr_csv writes it: every field quoted, clid with doubled quotes, loguniqueid and loguserfield
# on (the third row is from a PBX with loguserfield off); start times are the PBX's local time.
MASTER_CSV = FIXTURES / "Master.csv"
# What FreePBX's CDR Reports page exports: a header row, its own column order and names.
FREEPBX_EXPORT = FIXTURES / "freepbx_cdr_report.csv"
# As cdr_custom writes it with the mapping in Asterisk's sample cdr_custom.conf (clid first,
# accountcode after amaflags, sequence last): a ring group, line-noise caller id, a missed call.
CUSTOM_MASTER_CSV = FIXTURES / "cdr_custom_Master.csv"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "in-0205550100-0612345678-20240506-091403-1714979643.118.wav",
            CallMetadata(
                caller="0612345678",
                callee="0205550100",
                direction="inbound",
                started_at=datetime(2024, 5, 6, 7, 14, 3, tzinfo=UTC),
                customer_phone="0612345678",
                provider_id="1714979643.118",
            ),
        ),
        (
            "out-0201234567-1001-20240508-140240-1715169760.245.wav",
            CallMetadata(
                caller="1001",
                callee="0201234567",
                direction="outbound",
                started_at=datetime(2024, 5, 8, 12, 2, 40, tzinfo=UTC),
                agent="1001",
                customer_phone="0201234567",
                provider_id="1715169760.245",
            ),
        ),
        (
            "exten-1002-1001-20240101-235959-1704149999.7.WAV",
            CallMetadata(
                caller="1001",
                callee="1002",
                direction="internal",
                started_at=datetime(2024, 1, 1, 22, 59, 59, tzinfo=UTC),  # CET is UTC+1
                provider_id="1704149999.7",
            ),
        ),
        (
            "q-600-+31612345678-20240509-100000-1715241600.3.mp3",
            CallMetadata(
                caller="+31612345678",
                callee="600",
                direction="inbound",
                started_at=datetime(2024, 5, 9, 8, 0, 0, tzinfo=UTC),
                customer_phone="+31612345678",
                provider_id="1715241600.3",
            ),
        ),
        (
            # "force" says recording was forced, not which way the call went.
            "force-0821XXXX8663-3201-20250327-092517-1743042317.12206.wav",
            CallMetadata(
                caller="3201",
                callee="0821XXXX8663",
                started_at=datetime(2025, 3, 27, 8, 25, 17, tzinfo=UTC),
                provider_id="1743042317.12206",
            ),
        ),
        (
            "rg-601-unknown-20240509-100000-1715241600.4.wav",
            CallMetadata(
                callee="601",
                direction="inbound",
                started_at=datetime(2024, 5, 9, 8, 0, 0, tzinfo=UTC),
                provider_id="1715241600.4",
            ),
        ),
    ],
)
def test_freepbx_names(name: str, expected: CallMetadata) -> None:
    path = Path("/var/spool/asterisk/monitor/2024/05/06") / name
    assert metadata_from_filename(path, timezone=AMSTERDAM) == expected


@pytest.mark.parametrize("name", ["call.wav", "in-0205550100-0612345678-2024-05-06-1.wav", "OUT1001-x.wav"])
def test_other_names_say_nothing(name: str) -> None:
    assert metadata_from_filename(Path(name)) is None


def test_impossible_date_in_a_name_is_an_error_naming_the_file() -> None:
    path = Path("in-0205550100-0612345678-20241345-091403-1.2.wav")
    with pytest.raises(MetadataError, match=rf"^{path}: date/time in the file name: "):
        metadata_from_filename(path)


def test_a_custom_pattern_with_its_own_direction_words() -> None:
    pattern = compile_filename_pattern(
        r"(?P<date>\d{8})_(?P<time>\d{6})_(?P<direction>inbound|outbound)_(?P<caller>\+?\d+)"
    )
    meta = metadata_from_filename(Path("20240506_091403_inbound_+31201234567.flac"), pattern)
    assert meta == CallMetadata(
        caller="+31201234567",
        direction="inbound",
        started_at=datetime(2024, 5, 6, 9, 14, 3, tzinfo=UTC),
        customer_phone="+31201234567",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"(?P<caller>\d+", "missing ), unterminated subpattern"),
        (r"(?P<date>\d{8})-(?P<from>\d+)", "unknown group(s) from (allowed: callee, caller, date"),
        (r"\d+-\d+", "has no named groups, so it can tell nothing"),
    ],
)
def test_unusable_patterns_are_refused(text: str, expected: str) -> None:
    with pytest.raises(PatternError) as caught:
        compile_filename_pattern(text)
    assert str(caught.value).startswith(f"file-name pattern {text!r}: ")
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("channel", "endpoint"),
    [
        ("SIP/1001-0000abcd", "1001"),
        ("PJSIP/1001-00000012", "1001"),
        ("IAX2/trunk-provider-1234", "trunk-provider"),
        ("Local/1001@from-queue-00000001;1", "1001"),
        ("", None),
        (None, None),
        ("garbage", None),
    ],
)
def test_channel_endpoint(channel: str | None, endpoint: str | None) -> None:
    assert channel_endpoint(channel) == endpoint


def test_cdr_csv_without_header(tmp_path: Path) -> None:
    table = load_cdr(MASTER_CSV, AMSTERDAM)
    assert table.errors == ()
    assert list(table.records) == ["1714979643.118", "1715169760.245", "1715241600.3"]
    inbound = table.records["1714979643.118"]
    assert (inbound.src, inbound.dst) == ("0612345678", "0205550100")
    assert (inbound.channel, inbound.dstchannel) == ("PJSIP/trunk-00000011", "PJSIP/1001-00000012")
    assert inbound.clid == '"Emma de Vries" <0612345678>'
    assert inbound.start == datetime(2024, 5, 6, 7, 14, 3, tzinfo=UTC)
    assert (inbound.billsec, inbound.disposition) == (52, "ANSWERED")
    unanswered = table.records["1715241600.3"]  # 17 columns: loguserfield off
    assert (unanswered.dstchannel, unanswered.billsec) == (None, 0)


def test_cdr_export_with_header_row_reads_the_same_facts() -> None:
    table = load_cdr(FREEPBX_EXPORT, AMSTERDAM)
    assert table.errors == ()
    assert table.records["1714979643.118"] == load_cdr(MASTER_CSV, AMSTERDAM).records["1714979643.118"]


def test_malformed_rows_are_reported_by_line_and_the_others_kept(tmp_path: Path) -> None:
    good = MASTER_CSV.read_text(encoding="utf-8").splitlines()
    lines = [
        good[0],
        '"","1","2","ctx","clid","SIP/1-1","","Dial","","2024-05-06 09:00:00"',  # cut short
        "",
        good[1].replace("2024-05-08 14:02:40", "yesterday"),
        good[2].replace(",30,0,", ",30,zero,"),
        good[2].replace('"1715241600.3"', '""'),
        good[2],
        good[1].replace("2024-05-08 14:02:40", "0001-01-01 00:00:00"),
    ]
    path = _write(tmp_path / "Master.csv", "\n".join(lines) + "\n")
    table = load_cdr(path)
    assert [str(error) for error in table.errors] == [
        f"{path}: line 2: 10 columns, but uniqueid is column 17"
        " (for cdr-csv set loguniqueid=yes in cdr.conf)",
        f"{path}: line 4: start: 'yesterday' is not an ISO 8601 date and time",
        f"{path}: line 5: billsec: 'zero' is not a whole number of seconds",
        f"{path}: line 6: uniqueid is empty",
        f"{path}: line 8: start: 0001-01-01T00:00:00 is out of range (times must lie between 1900 and 2999)",
    ]
    assert list(table.records) == ["1714979643.118", "1715241600.3"]


def test_a_transfer_keeps_the_first_cdr_of_a_uniqueid(tmp_path: Path) -> None:
    first = MASTER_CSV.read_text(encoding="utf-8").splitlines()[0]
    later = first.replace("2024-05-06 09:14:03", "2024-05-06 09:20:00").replace("PJSIP/1001-", "PJSIP/1002-")
    table = load_cdr(_write(tmp_path / "Master.csv", f"{first}\n{later}\n"))
    assert table.records["1714979643.118"].dstchannel == "PJSIP/1001-00000012"


def test_missing_cdr_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MetadataError, match=r"Master\.csv: cannot read: No such file or directory"):
        load_cdr(tmp_path / "Master.csv")


def test_cdr_fills_what_the_name_lacks_and_the_name_wins_where_both_speak() -> None:
    records = load_cdr(MASTER_CSV, AMSTERDAM).records
    name = Path("in-0205550100-0612345678-20240506-091403-1714979643.118.wav")
    from_name = metadata_from_filename(name, timezone=AMSTERDAM)
    assert from_name is not None
    merged = merge_cdr(from_name, records["1714979643.118"])
    assert merged == CallMetadata(
        caller="0612345678",
        callee="0205550100",
        direction="inbound",
        started_at=datetime(2024, 5, 6, 7, 14, 3, tzinfo=UTC),
        agent="1001",  # from dstchannel PJSIP/1001-00000012
        customer_phone="0612345678",
        customer_name="Emma de Vries",
        provider_id="1714979643.118",
        disposition="answered",
    )
    # Only the outside party of an outbound call is a customer; the agent is the dialling channel.
    outbound = merge_cdr(CallMetadata(direction="outbound"), records["1715169760.245"])
    assert (outbound.agent, outbound.customer_phone, outbound.customer_name) == ("1001", "0201234567", None)
    # Without a direction neither side can be told to be the agent or the customer.
    unknown = merge_cdr(CallMetadata(caller="0000"), records["1714979643.118"])
    assert (unknown.caller, unknown.agent, unknown.customer_phone) == ("0000", None, None)
    # A caller id that is only the number again is not a name.
    queue = merge_cdr(CallMetadata(direction="inbound"), records["1715241600.3"])
    assert (queue.customer_name, queue.customer_phone, queue.agent) == (None, "0699999999", None)


def test_the_sample_cdr_custom_layout_is_read_without_a_header() -> None:
    table = load_cdr(CUSTOM_MASTER_CSV, AMSTERDAM)
    assert table.errors == ()
    assert list(table.records) == ["1730710931.84", "1730715300.91", "1730718000.95"]
    noise = table.records["1730715300.91"]
    assert (noise.src, noise.dst, noise.channel) == ("0612345678", "0205550100", "PJSIP/trunk-0000002d")
    assert noise.start == datetime(2024, 11, 4, 10, 15, 0, tzinfo=UTC)
    assert (noise.billsec, noise.disposition) == (56, "ANSWERED")


def test_a_ring_group_call_is_the_agent_who_answered_not_a_helper_or_a_phone_that_only_rang() -> None:
    records = load_cdr(CUSTOM_MASTER_CSV, AMSTERDAM).records
    name = Path("rg-600-0687654321-20241104-100211-1730710931.84.wav")
    from_name = metadata_from_filename(name, timezone=AMSTERDAM)
    assert from_name is not None
    merged = merge_cdr(from_name, records["1730710931.84"])
    assert (merged.agent, merged.customer_phone, merged.customer_name) == (
        "1002",
        "0687654321",
        "Lotte Jansen",
    )
    assert merged.started_at == datetime(2024, 11, 4, 9, 2, 11, tzinfo=UTC)
    missed = merge_cdr(CallMetadata(direction="inbound"), records["1730718000.95"])
    assert (missed.agent, missed.customer_phone, missed.customer_name) == (None, "0611112222", "Piet Bakker")


def test_caller_id_bytes_that_are_no_text_are_no_customer_name() -> None:
    record = load_cdr(CUSTOM_MASTER_CSV, AMSTERDAM).records["1730715300.91"]
    merged = merge_cdr(CallMetadata(direction="inbound"), record)
    assert (merged.customer_name, merged.customer_phone, merged.agent) == (None, "0612345678", "1001")


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_missed_inbound_calls_from_the_cdr() -> None:
    records = load_cdr(MASTER_CSV, AMSTERDAM).records
    # The queue call nobody took (NO ANSWER) left no recording; the answered ones are no missed calls.
    missed = {uniqueid: missed_call(record) for uniqueid, record in records.items()}
    assert missed["1714979643.118"] is None and missed["1715169760.245"] is None
    assert missed["1715241600.3"] == MissedCall(
        provider_id="1715241600.3",
        caller="0699999999",
        callee="0205550100",
        started_at=datetime(2024, 5, 9, 8, 0, tzinfo=UTC),
        disposition="no_answer",
        customer_name=None,  # the caller-id name is only the number again
    )


@pytest.mark.parametrize(
    ("disposition", "dstchannel", "context", "outcome", "is_missed"),
    [
        ("BUSY", None, "from-trunk", "busy", True),
        ("NO ANSWER", None, "from-pstn", "no_answer", True),
        # A queue answers the line itself: ANSWERED with no phone behind it is a caller who gave up.
        ("ANSWERED", None, "from-trunk", "abandoned", True),
        ("ANSWERED", "PJSIP/1001-00000012", "from-trunk", "answered", False),
        ("CONGESTION", None, "from-trunk", "failed", False),
        ("NO ANSWER", None, "from-internal", "no_answer", False),  # an agent's call nobody took
    ],
)
def test_call_outcomes(
    disposition: str, dstchannel: str | None, context: str, outcome: str, is_missed: bool
) -> None:
    record = CdrRecord(
        uniqueid="1.1",
        src="0612345678",
        dst="600",
        clid=None,
        dcontext=context,
        channel="PJSIP/trunk-1",
        dstchannel=dstchannel,
        start=None,
        billsec=0,
        disposition=disposition,
    )
    assert call_outcome(record) == outcome
    assert (missed_call(record) is not None) == is_missed
