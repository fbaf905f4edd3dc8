"""Real databases (a SQLite file, a PostgreSQL server) and real WAV files in tmp_path for the storage
tests."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from argon2 import PasswordHasher
from sqlalchemy import func, inspect, literal_column, select, table

from recorder.types import CallMetadata, Recording
from storage import users
from storage.access import USER_ROLES, Principal
from storage.blobs import BlobStore, LocalBlobStore
from storage.db import Database
from transcribe.types import AudioInfo

MakeRecording = Callable[..., Recording]


def row_count(db: Database, model: type) -> int:
    """How many rows the table of an ORM ``model`` holds."""
    with db.sessionmaker() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def dump_database(db: Database) -> str:
    """Every row of every table as text, on any backend: what a copy of the database would show."""
    with db.engine.connect() as connection:
        rows = [
            repr(tuple(row))
            for name in inspect(connection).get_table_names()
            for row in connection.execute(select(literal_column("*")).select_from(table(name)))
        ]
    return "\n".join(rows)


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return LocalBlobStore(tmp_path / "blobs")


@pytest.fixture
def make_recording(tmp_path: Path) -> MakeRecording:
    """A real stereo 8 kHz WAV (a tone per channel, ``seed`` makes the bytes unique) as the recorder
    would hand it over."""

    def make(seed: int = 0, name: str | None = None, metadata: CallMetadata | None = None) -> Recording:
        folder = tmp_path / "incoming" / f"{seed}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / (name or f"call-{seed}.wav")
        time = np.arange(8000 * 2) / 8000
        samples = np.stack([np.sin(2 * np.pi * (300 + seed) * time), np.sin(2 * np.pi * 500 * time)], axis=1)
        sf.write(path, (0.3 * samples).astype(np.float32), 8000, subtype="PCM_16")
        info = sf.info(path)
        data = path.read_bytes()
        return Recording(
            path=path,
            sha256=hashlib.sha256(data).hexdigest(),
            size_bytes=len(data),
            audio=AudioInfo(
                format=f"{info.format}/{info.subtype}",
                duration=info.duration,
                sample_rate=info.samplerate,
                channels=info.channels,
            ),
            metadata=metadata or CallMetadata(),
        )

    return make


PASSWORD = "correct horse battery"


@pytest.fixture
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> PasswordHasher:
    """Real argon2id with the smallest cost: the defaults take ~0.5 s per hash on a shared CPU."""
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(users, "_HASHER", hasher)
    return hasher


@pytest.fixture
def people(db: Database, cheap_hashing: PasswordHasher) -> dict[str, Principal]:
    """One account per role, by role name; the agent account is linked to PBX agent "Alice"."""
    people = {}
    for role in USER_ROLES:
        agent_name = "Alice" if role == "agent" else None
        summary = users.create_user(
            db, f"{role}@example.com", PASSWORD, role, agent_name=agent_name, actor=None, create_agent=True
        )
        people[role] = Principal(summary.id, summary.username, summary.role, summary.agent_id)
    return people
