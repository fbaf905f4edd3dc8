"""The app's settings, from the same sources as the ``earshot`` command: ``earshot app`` passes the
data folder and database URL in ``EARSHOT_*`` variables, and the config file fills in the rest."""

from __future__ import annotations

import os
from functools import cache

from earshot.settings import Settings, load_settings

__all__ = ["app_settings"]


def app_settings() -> Settings:
    # Keyed by the variables, not cached once: tests run several apps with their own data in one process.
    return _settings_for(tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("EARSHOT_"))))


@cache
def _settings_for(env: tuple[tuple[str, str], ...]) -> Settings:
    return load_settings(env=dict(env))
