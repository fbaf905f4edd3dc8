"""The audio stores on real backends: a folder, and a real S3 API server on 127.0.0.1 (moto's server
mode, tests/s3_server.py). Content addressing, originals never rewritten, private, idempotent puts,
deletion with derived copies, and clear errors."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from earshot.settings import SettingsError, load_settings
from storage.blobs import BlobStore, LocalBlobStore, S3BlobStore, put_bytes
from storage.errors import NotFound, StorageError, TransientStorageError
from tests.s3_server import S3Server

DATA = bytes(range(256)) * 5000  # > one copy chunk, so hashing across chunks is exercised
SHA = hashlib.sha256(DATA).hexdigest()


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    playback = tmp_path / "playback"
    if request.param == "local":
        yield LocalBlobStore(tmp_path / "blobs", copies=(playback,))
        return
    server: S3Server = request.getfixturevalue("s3_server")
    bucket = server.new_bucket()
    yield S3BlobStore(bucket, "calls", tmp_path / "cache", (playback,), endpoint_url=server.endpoint_url)


def source(tmp_path: Path, name: str = "call.wav", data: bytes = DATA) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_put_stores_the_bytes_under_their_hash_and_leaves_the_source(
    store: BlobStore, tmp_path: Path
) -> None:
    stored = store.put(source(tmp_path))

    assert (stored.sha256, stored.created) == (SHA, True)
    assert store.local_path(SHA).read_bytes() == DATA
    assert (tmp_path / "call.wav").read_bytes() == DATA
    assert [sha for sha, _ in store.stored()] == [SHA]


def test_storing_the_same_bytes_again_keeps_the_original(store: BlobStore, tmp_path: Path) -> None:
    store.put(source(tmp_path, "a.wav"))
    again = store.put(source(tmp_path, "b.wav"))

    assert (again.sha256, again.created) == (SHA, False)
    assert [sha for sha, _ in store.stored()] == [SHA]


def test_storing_again_makes_a_blob_young_for_the_sweep_of_unreferenced_audio(
    store: BlobStore, tmp_path: Path
) -> None:
    store.put(source(tmp_path, "a.wav"))
    [(_, first)] = store.stored()
    if isinstance(store, LocalBlobStore):
        os.utime(store.local_path(SHA), (0, 0))  # left behind long ago
        first = 0
    store.put(source(tmp_path, "b.wav"))
    [(_, again)] = store.stored()
    assert again >= first


def test_delete_removes_the_blob_and_every_copy_derived_from_it(store: BlobStore, tmp_path: Path) -> None:
    store.put(source(tmp_path))
    other = store.put(source(tmp_path, "other.wav", b"other call")).sha256
    store.local_path(SHA)  # an S3 store now holds a cached download of it
    playback = tmp_path / "playback"
    playback.mkdir()
    (playback / f"{SHA}.wav").write_bytes(b"transcoded")

    store.delete(SHA)

    assert [sha for sha, _ in store.stored()] == [other]
    assert list(playback.iterdir()) == []
    with pytest.raises(NotFound, match="missing"):
        store.local_path(SHA)
    store.delete(SHA)  # deleting what is gone is no error: a retried deletion finds it gone


def test_bad_and_missing_hashes(store: BlobStore) -> None:
    with pytest.raises(ValueError, match="not a SHA-256"):
        store.local_path("../../etc/passwd")
    with pytest.raises(NotFound, match="missing"):
        store.local_path("0" * 64)


def test_bytes_made_in_memory_are_stored_like_a_file(store: BlobStore) -> None:
    stored = put_bytes(store, b"redacted copy")
    assert store.local_path(stored.sha256).read_bytes() == b"redacted copy"


def test_local_originals_are_read_only_and_private(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    store.put(source(tmp_path))
    path = store.local_path(SHA)
    assert path == tmp_path / "blobs" / SHA[:2] / SHA
    assert stat.S_IMODE(path.stat().st_mode) == 0o400
    for folder in (tmp_path / "blobs", tmp_path / "blobs" / "tmp", path.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []  # no temporary file left behind


def test_s3_objects_are_private_keyed_by_hash_and_downloads_checked(
    s3_server: S3Server, tmp_path: Path
) -> None:
    bucket = s3_server.new_bucket()
    store = S3BlobStore(bucket, "calls/", tmp_path / "cache", endpoint_url=s3_server.endpoint_url)
    store.put(source(tmp_path))
    client = boto3.client("s3", endpoint_url=s3_server.endpoint_url)

    key = f"calls/{SHA[:2]}/{SHA}"
    assert [item["Key"] for item in client.list_objects_v2(Bucket=bucket)["Contents"]] == [key]
    grants = client.get_object_acl(Bucket=bucket, Key=key)["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]  # the owner's; no public grant
    assert all("URI" not in grant["Grantee"] for grant in grants)
    cached = store.local_path(SHA)
    assert stat.S_IMODE(cached.stat().st_mode) == 0o400
    assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700

    # Someone rewrites the object in the bucket: the store refuses it rather than serve other audio.
    client.put_object(Bucket=bucket, Key=key, Body=b"not the call")
    cached.unlink()
    with pytest.raises(StorageError, match="does not hash to its name"):
        store.local_path(SHA)
    assert not (tmp_path / "cache" / SHA[:2] / SHA).exists()


def test_the_s3_cache_keeps_to_its_size(s3_server: S3Server, tmp_path: Path) -> None:
    store = S3BlobStore(
        s3_server.new_bucket(), "", tmp_path / "cache", endpoint_url=s3_server.endpoint_url, cache_bytes=25
    )
    shas = [store.put(source(tmp_path, f"{n}.wav", f"call number {n}".encode())).sha256 for n in range(4)]
    for sha in shas:
        store.local_path(sha)  # 13 bytes each: two fit
    cached = sorted(p.name for p in (tmp_path / "cache").glob("??/*"))
    assert len(cached) <= 2 and shas[-1] in cached
    assert store.local_path(shas[0]).read_bytes() == b"call number 0"  # fetched again when needed


def test_an_unreachable_s3_server_is_a_transient_fault(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    store = S3BlobStore(
        "calls", "", tmp_path / "cache", endpoint_url="http://127.0.0.1:9", region="eu-west-1"
    )
    with pytest.raises(TransientStorageError, match="cannot reach object storage s3://calls/"):
        store.put(source(tmp_path))
    assert list((tmp_path / "cache" / "tmp").iterdir()) == []


@pytest.mark.parametrize(
    ("value", "message"),
    [("s3://", "names no bucket"), ("ftp://host/audio", "a folder or s3://bucket")],
)
def test_an_audio_storage_setting_that_names_no_store_is_refused(
    tmp_path: Path, value: str, message: str
) -> None:
    env = {"EARSHOT_DATA_DIR": str(tmp_path), "EARSHOT_AUDIO_STORAGE": value}
    with pytest.raises(SettingsError, match=message):
        load_settings(env=env)


def test_settings_name_the_store(tmp_path: Path) -> None:
    local = load_settings(env={"EARSHOT_DATA_DIR": str(tmp_path)}).blob_store()
    assert isinstance(local, LocalBlobStore) and local.root == tmp_path / "audio"
    s3 = load_settings(
        env={
            "EARSHOT_DATA_DIR": str(tmp_path),
            "EARSHOT_AUDIO_STORAGE": "s3://acme-calls/earshot",
            "EARSHOT_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
            "EARSHOT_S3_REGION": "eu-west-1",
        }
    ).blob_store()
    assert isinstance(s3, S3BlobStore) and str(s3) == "s3://acme-calls/earshot/"
    assert s3.cache == tmp_path / "audio-cache" and s3.copies == (tmp_path / "playback",)
