"""Keys outside the database: made once, kept, readable by their owner only."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from storage.errors import StorageError
from storage.secrets import KEY_BYTES, SecretStore


def test_a_key_is_made_once_and_read_back_the_same(tmp_path: Path) -> None:
    store = SecretStore(tmp_path / "secrets")
    first = store.key("audit")
    assert len(first) == KEY_BYTES
    assert SecretStore(tmp_path / "secrets").key("audit") == first
    assert store.key("app") != first


def test_keys_and_their_folder_are_the_owners_alone(tmp_path: Path) -> None:
    store = SecretStore(tmp_path / "secrets")
    store.key("audit")
    assert stat.S_IMODE((tmp_path / "secrets").stat().st_mode) == 0o700
    path = tmp_path / "secrets" / "audit.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)  # copied in by hand with a loose mode
    store.key("audit")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_damaged_key_is_an_error_not_a_new_key(tmp_path: Path) -> None:
    store = SecretStore(tmp_path)
    (tmp_path / "audit.key").write_text("not hex\n")
    with pytest.raises(StorageError, match="damaged"):
        store.key("audit")


def test_names_are_plain(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        SecretStore(tmp_path).key("../audit")
