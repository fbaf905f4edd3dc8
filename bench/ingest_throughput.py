"""Ingest throughput: files per second for many short calls with JSON sidecars.

    .venv/bin/python -m bench.ingest_throughput [--files 1000]

Writes ``--files`` distinct 5-second 8 kHz mu-law stereo WAVs with sidecars (a few customers
calling more than once), then times ``earshot ingest`` on the folder into a fresh SQLite database
(scan + hash + probe + blob copy + customer linking + job), and a second run that finds them all
stored already.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from click.testing import CliRunner

from earshot.cli import main as earshot


def write_calls(folder: Path, count: int) -> None:
    rng = np.random.default_rng(7)
    for n in range(count):
        samples = (0.1 * rng.standard_normal((5 * 8000, 2))).astype(np.float32)
        sf.write(folder / f"call-{n:05d}.wav", samples, 8000, subtype="ULAW")
        sidecar = {
            "caller": f"+31 20 {100_0000 + n % 300:07d}",
            "direction": "inbound",
            "started_at": f"2026-01-{1 + n % 28:02d}T09:{n % 60:02d}:00+01:00",
            "agent": f"Agent {n % 25}",
            "customer": {"phone": f"+31 20 {100_0000 + n % 300:07d}", "name": f"Customer {n % 300}"},
            "channel_roles": ["agent", "customer"],
        }
        (folder / f"call-{n:05d}.json").write_text(json.dumps(sidecar))


def timed_ingest(data_dir: Path, folder: Path) -> tuple[float, str]:
    began = time.perf_counter()
    result = CliRunner().invoke(earshot, ["--data-dir", str(data_dir), "ingest", str(folder)])
    return time.perf_counter() - began, result.stderr.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder, data_dir = Path(tmp) / "incoming", Path(tmp) / "data"
        folder.mkdir()
        write_calls(folder, args.files)
        first, summary = timed_ingest(data_dir, folder)
        print(
            f"first ingest of {args.files} files: {first:.1f} s, {args.files / first:.0f} files/s ({summary})"
        )
        again, summary = timed_ingest(data_dir, folder)
        print(f"re-ingest (all stored):  {again:.1f} s, {args.files / again:.0f} files/s ({summary})")


if __name__ == "__main__":
    main()
