"""Turn files and folders of call recordings into ``Recording`` values, one bad file never stopping the rest.

Metadata comes from a JSON sidecar next to the audio when there is one (``recorder.sidecar``), else
from the PBX file name completed by the CDR (``recorder.asterisk``). Errors are yielded, not raised,
so a caller can report each one and carry on.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from recorder.asterisk import (
    FREEPBX_PATTERN,
    CdrRecord,
    compile_filename_pattern,
    load_cdr,
    merge_cdr,
    metadata_from_filename,
    missed_call,
)
from recorder.sidecar import MetadataError, find_sidecar, parse_sidecar, sidecar_paths
from recorder.types import CallMetadata, IngestError, MissedCall, Recording
from transcribe.audio import AudioError, EmptyAudio, probe
from transcribe.types import Role

# What transcribe.audio decodes (libsndfile, or FFmpeg through PyAV for the rest). Asterisk's raw
# formats (.gsm, .ulaw, .sln) are left out: they have no header saying their sample rate.
AUDIO_EXTENSIONS = frozenset({".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a"})
_HASH_CHUNK = 1 << 20


class OptionsError(ValueError):
    """A scan setting that cannot work (unknown time zone, ...)."""


@dataclass(frozen=True)
class ScanOptions:
    cdr_paths: tuple[Path, ...] = ()
    filename_pattern: re.Pattern[str] = FREEPBX_PATTERN
    timezone: tzinfo = UTC  # for call times written without an offset (file names, CDRs, sidecars)
    # Filled in for files with this many channels when the metadata has no map of its own.
    default_channel_roles: tuple[Role, ...] = ("agent", "customer")
    # Longer files are refused here, before their audio is stored, not by the worker hours later.
    max_audio_seconds: float | None = None

    @classmethod
    def for_settings(
        cls,
        cdr_paths: Sequence[Path],
        filename_pattern: str | None,
        timezone: str,
        default_channel_roles: tuple[Role, ...],
        max_audio_seconds: float | None,
    ) -> ScanOptions:
        """Options from the plain values a settings file or command line holds."""
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise OptionsError(
                f"timezone {timezone!r} is not a known IANA zone (e.g. Europe/Amsterdam)"
            ) from None
        pattern = FREEPBX_PATTERN if filename_pattern is None else compile_filename_pattern(filename_pattern)
        return cls(
            cdr_paths=tuple(cdr_paths),
            filename_pattern=pattern,
            timezone=zone,
            default_channel_roles=default_channel_roles,
            max_audio_seconds=max_audio_seconds,
        )


def scan(paths: Sequence[Path], options: ScanOptions) -> Iterator[Recording | IngestError]:
    """Recordings under ``paths`` in a stable order (given order; folders sorted, recursively).

    CDR rows that cannot be read are yielded first, as errors; the rows that can still serve.
    """
    cdr: dict[str, CdrRecord] = {}
    for cdr_path in options.cdr_paths:
        try:
            table = load_cdr(cdr_path, options.timezone)
        except MetadataError as error:
            yield error
            continue
        yield from table.errors
        for uniqueid, record in table.records.items():
            cdr.setdefault(uniqueid, record)
    seen: set[Path] = set()
    for candidate in _candidates(paths, frozenset(p.resolve() for p in options.cdr_paths)):
        if isinstance(candidate, IngestError):
            yield candidate
            continue
        if candidate.resolve() in seen:
            continue
        seen.add(candidate.resolve())
        try:
            yield _recording(candidate, options, cdr)
        except IngestError as error:
            yield error
        except AudioError as error:  # its message already names the file
            yield IngestError(str(error))
        except OSError as error:
            yield IngestError(f"{candidate}: cannot read: {error.strerror}")


def missed_calls(options: ScanOptions) -> Iterator[MissedCall]:
    """Inbound calls the CDRs tell nobody took (no answer, busy, abandoned), recorded or not: a
    missed call often leaves no audio, and it is still owed a callback. Files and rows that cannot
    be read are skipped here: ``scan`` reports them."""
    for cdr_path in options.cdr_paths:
        try:
            table = load_cdr(cdr_path, options.timezone)
        except MetadataError:
            continue
        for record in table.records.values():
            missed = missed_call(record)
            if missed is not None:
                yield missed


def file_digest(path: Path) -> tuple[str, int]:
    """(SHA-256 hex, size in bytes) from one streaming read, so both describe the same bytes."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def is_audio(path: Path) -> bool:
    return path.suffix.lower() in AUDIO_EXTENSIONS


def _candidates(paths: Sequence[Path], cdr_files: frozenset[Path]) -> Iterator[Path | IngestError]:
    for path in paths:
        if path.is_dir():
            yield from _folder_candidates(path)
        elif not path.exists():
            yield IngestError(f"{path}: no such file or folder")
        elif is_audio(path):
            yield path
        # A shell glob (calls/*) also names the sidecars and CDRs: those are inputs, not recordings.
        elif path.resolve() in cdr_files or path in _claimed_sidecars(_files_in(path.parent)):
            continue
        else:
            supported = ", ".join(sorted(AUDIO_EXTENSIONS))
            yield IngestError(
                f"{path}: unsupported file type {path.suffix or '(none)'!r} (supported: {supported})"
            )


def _folder_candidates(folder: Path) -> list[Path | IngestError]:
    """Audio files and orphan sidecars, in path order (like ``find | sort``) so runs repeat exactly."""
    found: list[tuple[Path, Path | IngestError]] = []
    # os.walk does not follow links, so a link loop cannot hang a scan; dot-entries are OS litter.
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        files = [Path(root, name) for name in names if not name.startswith(".")]
        claimed = _claimed_sidecars(files)
        for path in files:
            if is_audio(path):
                found.append((path, path))
            elif path.suffix.lower() == ".json" and path not in claimed:
                orphan = IngestError(
                    f"{path}: sidecar without an audio file next to it (expected e.g. {path.stem}.wav)"
                )
                found.append((path, orphan))
    return [item for _, item in sorted(found, key=lambda pair: pair[0].parts)]


def _files_in(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.is_file()]


def _claimed_sidecars(files: list[Path]) -> set[Path]:
    return {sidecar for path in files if is_audio(path) for sidecar in sidecar_paths(path)}


def _recording(path: Path, options: ScanOptions, cdr: dict[str, CdrRecord]) -> Recording:
    try:
        info = probe(path, max_seconds=options.max_audio_seconds)
    except EmptyAudio as empty:  # only a header: FreePBX leaves one for a call nobody answered
        info = empty.info
    metadata = _metadata(path, options, cdr)
    roles = metadata.channel_roles
    if roles is not None and len(roles) != info.channels:
        listed, present = _count(len(roles), "role"), _count(info.channels, "channel")
        raise IngestError(f"{path}: channel_roles lists {listed} but the file has {present}")
    if roles is None and info.channels == len(options.default_channel_roles):
        metadata = replace(metadata, channel_roles=options.default_channel_roles)
    sha256, size = file_digest(path)
    return Recording(path=path, sha256=sha256, size_bytes=size, audio=info, metadata=metadata)


def _metadata(path: Path, options: ScanOptions, cdr: dict[str, CdrRecord]) -> CallMetadata:
    sidecar = find_sidecar(path)
    if sidecar is not None:
        return parse_sidecar(sidecar, options.timezone)
    from_name = metadata_from_filename(path, options.filename_pattern, options.timezone)
    if from_name is None:
        return CallMetadata()
    record = cdr.get(from_name.provider_id) if from_name.provider_id else None
    return merge_cdr(from_name, record) if record else from_name


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
