"""Every command that touches audio, with the audio in S3-compatible object storage: a real S3 API
server on 127.0.0.1 (moto's server mode, tests/s3_server.py) and the embedded SQLite database."""

from __future__ import annotations

import shutil
from pathlib import Path

import boto3
import pytest

from tests.cli import earshot
from tests.paths import SAMPLE_AUDIO
from tests.s3_server import S3Server


@pytest.mark.slow
def test_calls_are_stored_transcribed_played_and_erased_from_a_bucket(
    s3_server: S3Server, tmp_path: Path
) -> None:
    bucket = s3_server.new_bucket()
    env = {"EARSHOT_AUDIO_STORAGE": f"s3://{bucket}/calls", "EARSHOT_S3_ENDPOINT_URL": s3_server.endpoint_url}
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    for name in ("2024-05-06_double_charge", "2024-05-08_refund_callback"):
        for suffix in (".wav", ".json"):
            shutil.copy(SAMPLE_AUDIO / f"{name}{suffix}", incoming)
    data = tmp_path / "data"
    client = boto3.client("s3", endpoint_url=s3_server.endpoint_url)

    assert earshot(data, "ingest", str(incoming), env=env).exit_code == 0
    keys = sorted(item["Key"] for item in client.list_objects_v2(Bucket=bucket)["Contents"])
    assert len(keys) == 2 and all(key.startswith("calls/") for key in keys)
    assert not (data / "audio").exists()  # nothing of the audio in the local folder

    assert earshot(data, "worker", "--once", "--no-progress", env=env).exit_code == 0
    assert earshot(data, "calls", env=env).stdout.count("transcribed") == 2
    downloaded = {path.name for path in (data / "audio-cache").glob("??/*")}
    assert downloaded == {key.rpartition("/")[2] for key in keys}  # the worker's downloads, checked

    backup = earshot(data, "backup", str(tmp_path / "backup"), env=env)
    assert (
        backup.exit_code == 0 and f"the audio is in s3://{bucket}/calls, not in this backup" in backup.output
    )
    assert not (tmp_path / "backup" / "audio-cache").exists()

    erased = earshot(data, "customer", "erase", "+31201234567", env=env)
    assert erased.exit_code == 0, erased.output
    assert "Contents" not in client.list_objects_v2(Bucket=bucket)
    assert not any((data / "audio-cache").glob("??/*"))
