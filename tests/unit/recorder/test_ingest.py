"""Scanning files and folders: real audio written here, real damaged files, the shipped sample calls."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import phonenumbers
import pytest
import soundfile as sf

from recorder.asterisk import FREEPBX_PATTERN, PatternError
from recorder.ingest import OptionsError, ScanOptions, missed_calls, scan
from recorder.sidecar import MetadataError
from recorder.types import CallMetadata, IngestError, Recording
from tests.paths import SAMPLE_AUDIO

CDR_FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "cdr" / "Master.csv"


def write_audio(path: Path, channels: int = 1, seconds: float = 1.0, rate: int = 8000, **kwargs: str) -> Path:
    rng = np.random.default_rng(len(path.name))
    frames = int(seconds * rate)
    tone = np.sin(2 * np.pi * 440 * np.arange(frames) / rate)[:, None] * 0.3
    sf.write(path, tone + rng.normal(0, 0.01, (frames, channels)), rate, **kwargs)
    return path


def split(items: list[Recording | IngestError]) -> tuple[list[Recording], list[str]]:
    recordings = [item for item in items if isinstance(item, Recording)]
    errors = [str(item) for item in items if isinstance(item, IngestError)]
    assert len(recordings) + len(errors) == len(items)
    return recordings, errors


def test_folders_are_scanned_recursively_in_a_stable_order(tmp_path: Path) -> None:
    for relative in [
        "b/z.wav",
        "b/a.flac",
        "a/2024/05/x.ogg",
        "m.mp3",
        "a/y.WAV",
        ".hidden/h.wav",
        "a/._y.wav",
    ]:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        fmt = {"ogg": {"format": "OGG", "subtype": "VORBIS"}, "mp3": {"format": "MP3"}}.get(relative[-3:], {})
        write_audio(tmp_path / relative, **fmt)
    (tmp_path / "b" / "notes.txt").write_text("not a call")
    shutil.copy(CDR_FIXTURE, tmp_path / "a" / "Master.csv")

    first = [r.path.relative_to(tmp_path).as_posix() for r in scan([tmp_path], ScanOptions())]
    again = [r.path.relative_to(tmp_path).as_posix() for r in scan([tmp_path], ScanOptions())]

    assert first == ["a/2024/05/x.ogg", "a/y.WAV", "b/a.flac", "b/z.wav", "m.mp3"]
    assert again == first


def test_bad_files_are_reported_and_the_good_ones_still_come_through(tmp_path: Path) -> None:
    write_audio(tmp_path / "1_good.wav")
    (tmp_path / "2_empty.wav").write_bytes(b"")
    (tmp_path / "3_text.wav").write_text("Dear customer, this is an e-mail, not a recording.\n" * 20)
    whole = write_audio(tmp_path / "4_truncated.wav", seconds=2.0).read_bytes()
    (tmp_path / "4_truncated.wav").write_bytes(whole[: len(whole) // 2])
    write_audio(tmp_path / "5_good.flac", channels=2)

    recordings, errors = split(list(scan([tmp_path], ScanOptions())))

    assert [r.path.name for r in recordings] == ["1_good.wav", "5_good.flac"]
    assert len(errors) == 3
    assert errors[0].startswith(f"{tmp_path / '2_empty.wav'}: ") and "empty" in errors[0]
    assert errors[1].startswith(f"{tmp_path / '3_text.wav'}: ") and "not an audio file" in errors[1]
    assert errors[2].startswith(f"{tmp_path / '4_truncated.wav'}: ") and "truncated" in errors[2]


def test_a_file_longer_than_the_limit_is_refused_from_its_header(tmp_path: Path) -> None:
    long = write_audio(tmp_path / "long.wav", seconds=3.0)
    short = write_audio(tmp_path / "short.wav", seconds=1.0)

    recordings, errors = split(list(scan([long, short], ScanOptions(max_audio_seconds=2.0))))

    assert [r.path for r in recordings] == [short]
    assert errors == [f"{long}: too long (3 s; the limit is 2 s)"]


def test_hash_size_and_audio_facts_describe_the_file(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "call.wav", channels=2, seconds=1.5, subtype="ULAW")
    (recording,) = scan([path], ScanOptions())
    assert isinstance(recording, Recording)
    assert recording.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert recording.size_bytes == path.stat().st_size
    assert (recording.audio.channels, recording.audio.sample_rate, recording.audio.format) == (
        2,
        8000,
        "WAV/ULAW",
    )
    assert recording.audio.duration == pytest.approx(1.5)


def test_default_channel_map_fills_files_with_that_many_channels_only(tmp_path: Path) -> None:
    write_audio(tmp_path / "mono.wav", channels=1)
    write_audio(tmp_path / "stereo.wav", channels=2)
    options = ScanOptions(default_channel_roles=("customer", "agent"))
    roles = {r.path.name: r.metadata.channel_roles for r in scan([tmp_path], options)}  # type: ignore[union-attr]
    assert roles == {"mono.wav": None, "stereo.wav": ("customer", "agent")}


def test_sidecar_channel_roles_must_match_the_channel_count(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "call.wav", channels=2)
    (tmp_path / "call.json").write_text(json.dumps({"channel_roles": ["agent", "customer", "ivr"]}))
    (error,) = scan([path], ScanOptions())
    assert isinstance(error, IngestError)
    assert str(error) == f"{path}: channel_roles lists 3 roles but the file has 2 channels"


def test_sidecar_metadata_is_used_and_a_broken_sidecar_stops_only_its_own_file(tmp_path: Path) -> None:
    write_audio(tmp_path / "a.wav")
    (tmp_path / "a.wav.json").write_text(json.dumps({"direction": "outbound", "agent": "Sam"}))
    write_audio(tmp_path / "b.wav")
    (tmp_path / "b.json").write_text('{"direction": "sideways"}')

    items = list(scan([tmp_path], ScanOptions()))

    assert isinstance(items[0], Recording)
    assert items[0].metadata == CallMetadata(direction="outbound", agent="Sam")
    assert isinstance(items[1], MetadataError)
    assert str(items[1]).startswith(f"{tmp_path / 'b.json'}: direction: 'sideways'")


def test_sidecars_without_audio_are_reported_and_other_files_skipped(tmp_path: Path) -> None:
    write_audio(tmp_path / "call.wav")
    (tmp_path / "call.json").write_text("{}")
    (tmp_path / "lost.json").write_text("{}")
    (tmp_path / "call.gsm").write_bytes(b"\x00" * 33)  # Asterisk raw GSM: not decodable, so skipped
    (tmp_path / "call.gsm.json").write_text("{}")  # ... and then its sidecar is an orphan
    (tmp_path / "readme.txt").write_text("hello")

    recordings, errors = split(list(scan([tmp_path], ScanOptions())))

    assert [r.path.name for r in recordings] == ["call.wav"]
    orphan = "sidecar without an audio file next to it"
    assert errors == [
        f"{tmp_path / 'call.gsm.json'}: {orphan} (expected e.g. call.gsm.wav)",
        f"{tmp_path / 'lost.json'}: {orphan} (expected e.g. lost.wav)",
    ]


def test_explicit_paths_unsupported_missing_duplicate_and_shell_globbed_inputs(tmp_path: Path) -> None:
    call = write_audio(tmp_path / "call.wav")
    (tmp_path / "call.json").write_text("{}")
    cdr = shutil.copy(CDR_FIXTURE, tmp_path / "Master.csv")
    notes = tmp_path / "notes.txt"
    notes.write_text("x")
    # What `earshot ingest calls/*` passes: the sidecar and CDR are inputs, not failures.
    given = [call, tmp_path / "call.json", Path(cdr), notes, tmp_path / "gone.wav", tmp_path, call]

    recordings, errors = split(list(scan(given, ScanOptions(cdr_paths=(Path(cdr),)))))

    assert [r.path for r in recordings] == [call]
    assert errors == [
        f"{notes}: unsupported file type '.txt' (supported: .flac, .m4a, .mp3, .oga, .ogg, .opus, .wav)",
        f"{tmp_path / 'gone.wav'}: no such file or folder",
    ]


def test_two_sidecars_for_one_file_fail_that_file(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "call.wav")
    (tmp_path / "call.json").write_text("{}")
    (tmp_path / "call.wav.json").write_text("{}")
    (error,) = scan([path], ScanOptions())
    assert isinstance(error, MetadataError)
    assert "two sidecars" in str(error)


def test_pbx_file_names_are_completed_from_the_cdr_and_bad_cdr_rows_reported_first(tmp_path: Path) -> None:
    cdr = tmp_path / "Master.csv"
    cdr.write_text(CDR_FIXTURE.read_text() + '"","1","2","ctx"\n')
    name = "in-0205550100-0612345678-20240506-091403-1714979643.118.wav"
    write_audio(tmp_path / name, channels=2)

    items = list(scan([tmp_path / name], ScanOptions(cdr_paths=(cdr,))))

    assert [str(e) for e in items if isinstance(e, IngestError)] == [
        f"{cdr}: line 4: 4 columns, but uniqueid is column 17 (for cdr-csv set loguniqueid=yes in cdr.conf)"
    ]
    recording = items[-1]
    assert isinstance(recording, Recording)
    assert recording.metadata == CallMetadata(
        caller="0612345678",
        callee="0205550100",
        direction="inbound",
        started_at=datetime(2024, 5, 6, 9, 14, 3, tzinfo=UTC),  # default zone: UTC
        agent="1001",
        customer_phone="0612345678",
        customer_name="Emma de Vries",
        channel_roles=("agent", "customer"),
        provider_id="1714979643.118",
        disposition="answered",
    )
    # The CDR's unanswered queue call left no file: it is a missed call all the same.
    assert [call.provider_id for call in missed_calls(ScanOptions(cdr_paths=(cdr,)))] == ["1715241600.3"]


def test_a_missing_cdr_file_is_reported_and_the_scan_goes_on(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "call.wav")
    items = list(scan([path], ScanOptions(cdr_paths=(tmp_path / "Master.csv",))))
    assert isinstance(items[0], MetadataError) and "cannot read" in str(items[0])
    assert isinstance(items[1], Recording) and items[1].metadata == CallMetadata()


def test_options_from_settings_values() -> None:
    options = ScanOptions.for_settings(
        [Path("Master.csv")], None, "Europe/Amsterdam", ("agent", "customer"), max_audio_seconds=3600.0
    )
    assert options.filename_pattern is FREEPBX_PATTERN
    assert options.max_audio_seconds == 3600.0
    assert options.cdr_paths == (Path("Master.csv"),)
    assert str(options.timezone) == "Europe/Amsterdam"
    with pytest.raises(OptionsError, match="timezone 'Mars/Olympus' is not a known IANA zone"):
        ScanOptions.for_settings([], None, "Mars/Olympus", ("agent", "customer"), None)
    with pytest.raises(PatternError, match="unknown group"):
        ScanOptions.for_settings([], r"(?P<who>\d+)", "UTC", ("agent", "customer"), None)


def test_sample_calls_scan_cleanly_with_their_metadata() -> None:
    items = list(scan([SAMPLE_AUDIO], ScanOptions()))
    recordings, errors = split(items)
    assert errors == []
    by_name = {r.path.name: r for r in recordings}
    assert list(by_name) == [
        "2024-05-06_double_charge.wav",
        "2024-05-08_refund_callback.wav",
        "2024-05-13_outage_credit.opus",
    ]
    shapes = {name: (r.audio.format, r.audio.channels, r.audio.sample_rate) for name, r in by_name.items()}
    assert shapes == {
        "2024-05-06_double_charge.wav": ("WAV/ULAW", 2, 8000),
        "2024-05-08_refund_callback.wav": ("WAV/ULAW", 1, 8000),
        "2024-05-13_outage_credit.opus": ("OGG/OPUS", 2, 8000),
    }
    for recording in recordings:
        meta = recording.metadata
        assert 20 < recording.audio.duration < 60
        assert meta.direction in ("inbound", "outbound")
        assert meta.started_at is not None and meta.started_at.tzinfo == UTC
        assert meta.agent and meta.customer_phone and meta.customer_name and meta.provider_id
        assert meta.channel_roles == (("agent", "customer") if recording.audio.channels == 2 else None)
    # Two calls of one customer, her number written two ways: the demo's history hinges on this.
    first, callback = (
        by_name["2024-05-06_double_charge.wav"].metadata,
        by_name["2024-05-08_refund_callback.wav"].metadata,
    )
    assert first.customer_phone != callback.customer_phone
    e164 = {
        phonenumbers.format_number(
            phonenumbers.parse(m.customer_phone, "NL"), phonenumbers.PhoneNumberFormat.E164
        )
        for m in (first, callback)
        if m.customer_phone
    }
    assert e164 == {"+31201234567"}
    assert (
        sum(r.size_bytes for r in recordings) + sum(p.stat().st_size for p in SAMPLE_AUDIO.glob("*.json"))
        < 1_500_000
    )
