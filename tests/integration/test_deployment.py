"""What can be checked of the deployment files without a container engine (none runs here): the
image copies every package, and each compose service's command and environment is one that
earshot accepts and reads as the deployment means it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from earshot.cli import main
from earshot.settings import load_settings
from storage.blobs import S3BlobStore
from tests.paths import REPO

PASSWORDS = {"POSTGRES_PASSWORD": "pg-secret", "MINIO_PASSWORD": "minio-secret"}


def _compose() -> dict[str, Any]:
    text = (REPO / "compose.yaml").read_text()
    # ${NAME:?message} as compose expands it from .env; $$ is a literal $.
    text = re.sub(r"\$\{(\w+):\?[^}]*\}", lambda m: PASSWORDS[m.group(1)], text).replace("$$", "$")
    return yaml.safe_load(text)


def test_every_variable_compose_needs_is_in_the_env_example() -> None:
    needed = set(re.findall(r"\$\{(\w+):\?", (REPO / "compose.yaml").read_text()))
    example = dict(line.split("=", 1) for line in (REPO / ".env.example").read_text().split())
    assert needed == set(example) == set(PASSWORDS)


def test_the_image_copies_every_package_the_project_installs() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    packages = {name.rstrip("*") for name in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = set(re.findall(r"^COPY (\w+) \1$", (REPO / "Dockerfile").read_text(), re.MULTILINE))
    assert copied == packages


@pytest.mark.parametrize("service", ["app", "worker"])
def test_each_service_runs_an_earshot_command_with_the_settings_it_means(
    service: str, tmp_path: Path
) -> None:
    spec = _compose()["services"][service]
    help_page = CliRunner().invoke(main, [*spec["command"], "--help"])
    assert help_page.exit_code == 0, help_page.output
    settings = load_settings(env={**spec["environment"], "EARSHOT_DATA_DIR": str(tmp_path)})
    assert settings.database_url == "postgresql+psycopg://earshot:pg-secret@postgres:5432/earshot"
    store = settings.blob_store()
    assert isinstance(store, S3BlobStore) and str(store) == "s3://earshot-audio/calls/"
    assert spec["environment"]["AWS_SECRET_ACCESS_KEY"] == PASSWORDS["MINIO_PASSWORD"]
    assert "secrets:/data/secrets" in spec["volumes"]  # one set of keys for every service


def test_workers_get_time_to_give_their_job_back_and_the_app_listens_on_the_host_s_loopback_only() -> None:
    services = _compose()["services"]
    assert services["worker"]["stop_grace_period"] == "30s"
    assert services["app"]["ports"] == ["127.0.0.1:8501:8501"]
