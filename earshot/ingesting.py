"""Wires ``recorder.ingest.scan`` to ``storage.services.ingest_recording`` and reports per file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from earshot.settings import Settings
from recorder.ingest import ScanOptions, missed_calls, scan
from recorder.types import IngestError
from storage import services
from storage.db import Database
from storage.missed_calls import store_missed_call


@dataclass(frozen=True)
class IngestSummary:
    ingested: int
    duplicates: int
    failed: int
    missed: int = 0  # missed inbound calls newly stored from the CDRs (recorded or not)


def ingest_paths(
    db: Database,
    settings: Settings,
    paths: list[Path],
    cdr_paths: list[Path],
    filename_pattern: str | None,
    report: Callable[[str], None],
) -> IngestSummary:
    """Ingest every recording under ``paths``; one bad file is reported and the rest go on."""
    options = ScanOptions.for_settings(
        cdr_paths=cdr_paths,
        filename_pattern=filename_pattern,
        timezone=settings.timezone,
        default_channel_roles=settings.channel_roles,
        max_audio_seconds=settings.max_audio_seconds,
    )
    blobs = settings.blob_store()
    ingested = duplicates = failed = 0
    for item in scan(paths, options):
        if isinstance(item, IngestError):
            report(f"failed   {item}")
            failed += 1
            continue
        try:
            result = services.ingest_recording(
                db, item, blobs, default_region=settings.default_region, max_attempts=settings.max_attempts
            )
        except (ValueError, RuntimeError) as error:  # a database that is locked, read-only, ...
            report(f"failed   {item.path}: {error}")
            failed += 1
            continue
        for warning in result.warnings:
            report(f"warning  {item.path}: {warning}")
        if result.created:
            queued = f"job {result.job_id} queued" if result.job_id is not None else "nothing to transcribe"
            report(f"ingested {item.path} -> call {result.recording_id}, {queued}")
            ingested += 1
        else:
            report(f"skipped  {item.path}: already stored as call {result.recording_id}")
            duplicates += 1
    # After the recordings, so that a missed call with a recording is stored once, as that recording.
    missed = 0
    for call in missed_calls(options):
        try:
            stored = store_missed_call(db, call, default_region=settings.default_region)
        except (ValueError, RuntimeError) as error:
            report(f"failed   missed call {call.provider_id}: {error}")
            failed += 1
            continue
        for warning in stored.warnings:
            report(f"warning  {warning}")
        if stored.created:
            what = f"call {call.provider_id} ({call.disposition})"
            report(f"missed   {what} -> conversation {stored.thread_id}")
            missed += 1
    return IngestSummary(ingested=ingested, duplicates=duplicates, failed=failed, missed=missed)
