"""Settings from defaults, a TOML config file and ``EARSHOT_*`` environment variables, in that order.

Command-line flags override these per call. One frozen object is passed around; nothing reads the
environment anywhere else.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

import platformdirs

from storage.blobs import BlobStore, checked_location, open_blob_store
from storage.business_hours import BusinessCalendar, CalendarError, parse_opening_hours
from transcribe.call import checked_overrides
from transcribe.prompts import MIN_PROMPT_WORDS, prompt_words
from transcribe.redaction.entities import ENTITY_TYPES, EntityType, RedactionOptions
from transcribe.types import ROLES, DiarizationBackend, MonoRoleRule, Role, TranscribeOptions

if TYPE_CHECKING:  # imported on use: it brings the database layer, which `earshot --help` needs not
    from storage.response_targets import ResponseTargets

CONFIG_FILE_NAME = "earshot.toml"
# How often a worker tells the queue that its running job is alive. A claim older than
# ``job_stale_after_s`` is taken over, so that must span several beats: one late beat (a slow step,
# a busy database) must not hand a live job to a second worker.
JOB_HEARTBEAT_EVERY_S = 15.0
MIN_STALE_HEARTBEATS = 3


class SettingsError(ValueError):
    """A setting with a value that cannot be used; the message names the setting and its source."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    model: str = "tiny.en"
    language: str | None = None
    diarization: DiarizationBackend = "auto"
    num_speakers: int | None = None
    # The organisation's vocabulary (product and brand names): a string, a TOML list, and/or a file
    # with one term per line; all are joined into faster-whisper's ``hotwords`` prompt.
    hotwords: str | None = None
    hotwords_file: Path | None = None
    # The recorded prompts the phone system plays (a TOML list, one per line in the environment,
    # and/or a file with one per line), word for word: matching words are the IVR's, not a person's.
    ivr_prompts: tuple[str, ...] = ()
    ivr_prompts_file: Path | None = None
    device: str = "cpu"
    compute_type: str = "int8"
    channel_roles: tuple[Role, ...] = ("agent", "customer")
    mono_role_rule: MonoRoleRule = "first_speaker_is_agent"
    pyannote_pipeline: str | None = None
    hf_token: str | None = field(default=None, repr=False)
    default_region: str = "NL"  # for phone numbers written without a country code
    # The organisation's e-mail addresses or "@domain"s: mail from them is outbound (an agent's).
    own_addresses: tuple[str, ...] = ()
    timezone: str = "UTC"  # for call times written without an offset
    # For chat export times written without an offset; unset: the format's own (Trengo writes
    # Europe/Amsterdam wall-clock time, the others UTC).
    chat_timezone: str | None = None
    max_attempts: int = 3
    job_stale_after_s: int = 600  # a running job whose worker sent no heartbeat this long is retried
    # How long a database write waits for another process's write lock before it counts as a fault.
    database_busy_timeout_s: float = 10.0
    max_audio_seconds: float = 4 * 3600
    audio_link_seconds: int = 600  # how long a player's audio link works; the call page renews them
    # How often a worker applies the retention policies (and sweeps audio no recording refers to);
    # 0: never (then run `earshot retention apply` from cron or a scheduler).
    retention_every_s: int = 3600
    # What is redacted from transcripts, messages, the index and the audio: payment data and
    # national ids by default; PHONE and EMAIL can be added, and "none" turns redaction off.
    redact: tuple[EntityType, ...] = TranscribeOptions.redact
    # Where call audio is kept: a folder (default: "audio" in the data folder), or S3-compatible
    # object storage as s3://bucket/prefix, which workers on other machines reach too. S3
    # credentials come from the standard AWS chain (environment, ~/.aws, an instance role).
    audio_storage: str | None = None
    s3_endpoint_url: str | None = None  # MinIO, Ceph or another S3 API server; unset: AWS
    s3_region: str | None = None
    # Stage parameters of the transcription pipeline that differ from the measured defaults: a TOML
    # table ``[pipeline]`` of "stage.param" = value (or ``[pipeline.stage]`` tables), or
    # EARSHOT_PIPELINE="stage.param=value,..." (``transcribe.stages`` lists stages and parameters).
    pipeline: tuple[tuple[str, Any], ...] = ()
    # Conversations people must have labelled with a contact reason (or outcome) before that label
    # takes part in training (`earshot reasons train`); at least two labels must reach it.
    reasons_min_per_label: int = 5
    # Response-time targets count working time: opening hours per weekday ("mon-fri 09:00-17:00";
    # unnamed days closed), public holidays of holidays_country (unset: default_region's; "none": no
    # holidays) and its holidays_subdivision (e.g. "BY"), on the wall clock of ``timezone``.
    opening_hours: tuple[str, ...] = ("mon-fri 09:00-17:00",)
    holidays_country: str | None = None
    holidays_subdivision: str | None = None
    email_reply_target_hours: float = 6.0  # first reply to an inbound e-mail, in working hours
    callback_target_hours: float = 1.0  # callback after a missed or abandoned inbound call, working hours
    at_risk_share: float = 0.25  # a waiting contact with less than this share of its target left is at risk

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def blobs_dir(self) -> Path:
        return self.data_dir / "audio"

    def blob_store(self) -> BlobStore:
        """The audio store these settings name; files derived from audio (playback copies) are
        deleted with it. One per process and location: an S3 client takes tens of milliseconds to
        make, and the app asks for the store on every audio request."""
        return _blob_store(
            self.audio_storage or str(self.blobs_dir),
            self.data_dir / "audio-cache",
            copies=(self.playback_dir,),
            endpoint_url=self.s3_endpoint_url,
            region=self.s3_region,
        )

    @property
    def playback_dir(self) -> Path:
        """Copies of calls the browser cannot play as stored, converted once (``review_app.playback``)."""
        return self.data_dir / "playback"

    @property
    def reasons_dir(self) -> Path:
        """Trained contact reason and outcome models (``earshot.reason_classifier``), owner-only."""
        return self.data_dir / "reasons"

    @property
    def secrets_dir(self) -> Path:
        """Keys kept outside the database (``storage.secrets``): the audit chain's, the app's signing key."""
        return self.data_dir / "secrets"

    def business_calendar(self) -> BusinessCalendar:
        """The working-time calendar the response targets and the figures count in."""
        country = self.holidays_country or self.default_region
        return BusinessCalendar.from_settings(
            self.timezone,
            self.opening_hours,
            None if country.lower() == "none" else country.upper(),
            self.holidays_subdivision,
        )

    def response_targets(self) -> ResponseTargets:
        from storage.response_targets import ResponseTargets

        return ResponseTargets(
            email_reply_s=self.email_reply_target_hours * 3600,
            callback_s=self.callback_target_hours * 3600,
            at_risk_share=self.at_risk_share,
        )

    def redaction_options(self) -> RedactionOptions:
        """What chat and e-mail imports redact: what calls redact, phone numbers dialled here."""
        return RedactionOptions(entities=frozenset(self.redact), phone_regions=(self.default_region,))

    def transcribe_options(self, **overrides: Any) -> TranscribeOptions:
        """Options for one transcription: these settings, then any non-None per-call overrides."""
        base = TranscribeOptions(
            model=self.model,
            language=self.language,
            diarization=self.diarization,
            num_speakers=self.num_speakers,
            hotwords=self.hotwords,
            ivr_prompts=self.ivr_prompts,
            device=self.device,
            compute_type=self.compute_type,
            channel_roles=self.channel_roles,
            mono_role_rule=self.mono_role_rule,
            pyannote_pipeline=self.pyannote_pipeline,
            hf_token=self.hf_token,
            redact=self.redact,
            phone_regions=(self.default_region,),
            pipeline_params=self.pipeline,
        )
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})


_blob_store = cache(open_blob_store)

_ENV_PREFIX = "EARSHOT_"


def load_settings(config_path: Path | None = None, env: Mapping[str, str] = os.environ) -> Settings:
    """Read settings. The config file is ``config_path``, else ``$EARSHOT_CONFIG``, else
    ``earshot.toml`` in the data folder, if it exists."""
    data_dir = Path(env.get("EARSHOT_DATA_DIR") or platformdirs.user_data_dir("earshot")).expanduser()
    explicit = config_path or (Path(env["EARSHOT_CONFIG"]) if env.get("EARSHOT_CONFIG") else None)
    path = explicit or data_dir / CONFIG_FILE_NAME
    values: dict[str, Any] = {}
    if explicit is not None or path.exists():
        values.update(_read_config_file(path))
    for setting in fields(Settings):
        raw = env.get(_ENV_PREFIX + setting.name.upper())
        if raw is not None:
            values[setting.name] = raw
    if env.get("HF_TOKEN") and "hf_token" not in values:
        values["hf_token"] = env["HF_TOKEN"]
    data_dir = Path(values.pop("data_dir", data_dir)).expanduser()
    database_url = values.pop("database_url", None) or f"sqlite:///{data_dir / 'earshot.db'}"
    coerced = _coerce(values, source=str(path))
    if coerced.get("hotwords_file") is not None:
        coerced["hotwords"] = _joined_terms(
            coerced.get("hotwords"), _read_terms(coerced["hotwords_file"], "hotwords_file")
        )
    if coerced.get("ivr_prompts_file") is not None:
        try:
            from_file = _prompts(_read_terms(coerced["ivr_prompts_file"], "ivr_prompts_file"))
        except ValueError as e:
            raise SettingsError(f"{coerced['ivr_prompts_file']}: {e}") from None
        coerced["ivr_prompts"] = (*coerced.get("ivr_prompts", ()), *from_file)
    _check_stale_after(coerced.get("job_stale_after_s"), source=str(path))
    return Settings(data_dir=data_dir, database_url=database_url, **coerced)


def _check_stale_after(value: int | None, source: str) -> None:
    """Refuse a stale timeout that live jobs would outlast: their work would be done twice."""
    least = int(MIN_STALE_HEARTBEATS * JOB_HEARTBEAT_EVERY_S)
    if value is not None and value < least:
        raise SettingsError(
            f"{source}: setting job_stale_after_s={value} is too short: a worker reports a running job "
            f"every {JOB_HEARTBEAT_EVERY_S:g} s, so a job would be taken over while it still runs; "
            f"use at least {least}"
        )


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            table = tomllib.load(f)
    except FileNotFoundError:
        raise SettingsError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(f"{path}: not valid TOML: {e}") from None
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise SettingsError(
            f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return table


def _coerce(values: dict[str, Any], source: str) -> dict[str, Any]:
    """Turn strings (from the environment) and TOML values into the field types, with clear errors."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        try:
            out[name] = _COERCE[name](value) if name in _COERCE else (str(value) if value != "" else None)
        except (TypeError, ValueError) as e:
            raise SettingsError(f"{source}: setting {name}={value!r} is invalid: {e}") from None
    return out


def _choice(options: tuple[str, ...]):
    def check(value: Any) -> str:
        if value not in options:
            raise ValueError(f"expected one of {', '.join(options)}")
        return value

    return check


def _roles(value: Any) -> tuple[Role, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    roles = tuple(str(item).strip() for item in items)
    bad = [r for r in roles if r not in ROLES]
    if bad or not roles:
        raise ValueError(f"roles must be a list of {', '.join(ROLES)}")
    return roles  # type: ignore[return-value]


def _hotwords(value: Any) -> str | None:
    items = [value] if isinstance(value, str) else list(value)
    if not all(isinstance(item, str) for item in items):
        raise ValueError("hotwords must be a string or a list of strings")
    return _joined_terms(None, items)


def _joined_terms(first: str | None, terms: list[str]) -> str | None:
    """One comma-separated prompt: Whisper reads hotwords as preceding text, so a list reads best."""
    joined = ", ".join(term.strip() for term in ([first] if first else []) + terms if term.strip())
    return joined or None


def _read_terms(path: Path, setting: str) -> list[str]:
    """Lines of a hotwords or prompts file: one term per line; blank lines and ``#`` comments are
    skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise SettingsError(f"{path}: {setting} cannot be read: {e}") from None
    return [line for line in (raw.strip() for raw in lines) if line and not line.startswith("#")]


def _prompts(items: Any) -> tuple[str, ...]:
    items = list(items)
    if not all(isinstance(item, str) for item in items):
        raise ValueError("ivr_prompts must be a list of strings")
    prompts = tuple(item.strip() for item in items if item.strip())
    short = [prompt for prompt in prompts if len(prompt_words(prompt)) < MIN_PROMPT_WORDS]
    if short:
        raise ValueError(
            f"prompt(s) {short} are shorter than {MIN_PROMPT_WORDS} words: people say such phrases too, "
            "so they cannot tell a recording from a person"
        )
    return prompts


def _addresses(value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    if not all(isinstance(item, str) for item in items):
        raise ValueError("own_addresses must be a list of e-mail addresses or @domains")
    addresses = tuple(item.strip().lower() for item in items if item.strip())
    bad = [a for a in addresses if "@" not in a]
    if bad:
        raise ValueError(f"{', '.join(bad)}: expected an address (name@domain) or @domain")
    return addresses


def _optional_int(value: Any) -> int | None:
    return None if value in ("", None) else int(value)


def _link_seconds(value: Any) -> int:
    # Minutes, not hours: a link that leaks (a shared screen, a proxy log) must soon be worthless.
    seconds = int(value)
    if not 10 <= seconds <= 3600:
        raise ValueError("audio links live 10 to 3600 seconds")
    return seconds


def _retention_every(value: Any) -> int:
    seconds = int(value)
    if seconds != 0 and seconds < 60:
        raise ValueError("retention runs at most once a minute (60 or more), or never (0)")
    return seconds


def _entity_types(value: Any) -> tuple[EntityType, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    names = {str(item).strip().upper() for item in items} - {""}
    if names == {"NONE"}:
        return ()
    unknown = sorted(names - set(ENTITY_TYPES))
    if unknown:
        raise ValueError(f"unknown type(s) {', '.join(unknown)}; known: {', '.join(ENTITY_TYPES)}, or none")
    return tuple(entity for entity in ENTITY_TYPES if entity in names)


def _pipeline(value: Any) -> tuple[tuple[str, Any], ...]:
    """``"stage.param" -> value`` pairs from a TOML table (nested per stage or with dotted keys) or
    from "stage.param=value,..." in the environment, checked against the stages' parameters."""
    if isinstance(value, str):
        pairs = []
        for item in (part.strip() for part in value.split(",")):
            if item:
                key, equals, raw = item.partition("=")
                if not equals:
                    raise ValueError(f"{item!r}: expected stage.param=value")
                pairs.append((key.strip(), raw.strip()))
    elif isinstance(value, Mapping):
        pairs = [
            (f"{stage}.{name}", item)
            for stage, params in value.items()
            for name, item in (params.items() if isinstance(params, Mapping) else [("", params)])
        ]
        pairs = [(key.rstrip("."), item) for key, item in pairs]
    else:
        raise ValueError("expected a table of stage.param = value")
    return checked_overrides(pairs)


def _opening_hours(value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    specs = tuple(str(item).strip() for item in items if str(item).strip())
    try:
        parse_opening_hours(specs)
    except CalendarError as e:
        raise ValueError(str(e)) from None
    return specs


def _positive(value: Any) -> float:
    number = float(value)
    if not number > 0:
        raise ValueError("must be more than 0")
    return number


def _share(value: Any) -> float:
    share = float(value)
    if not 0 <= share < 1:
        raise ValueError("a share from 0 to below 1 (0.25: a quarter of the target left)")
    return share


_COERCE = {
    "diarization": _choice(get_args(DiarizationBackend)),
    "mono_role_rule": _choice(get_args(MonoRoleRule)),
    "num_speakers": _optional_int,
    "hotwords": _hotwords,
    "hotwords_file": lambda value: Path(value).expanduser() if value not in ("", None) else None,
    "ivr_prompts": lambda value: _prompts(value.splitlines() if isinstance(value, str) else value),
    "ivr_prompts_file": lambda value: Path(value).expanduser() if value not in ("", None) else None,
    "channel_roles": _roles,
    "own_addresses": _addresses,
    "max_attempts": int,
    "job_stale_after_s": int,
    "database_busy_timeout_s": float,
    "max_audio_seconds": float,
    "audio_link_seconds": _link_seconds,
    "retention_every_s": _retention_every,
    "redact": _entity_types,
    "audio_storage": lambda value: checked_location(str(value)) if value not in ("", None) else None,
    "pipeline": _pipeline,
    "reasons_min_per_label": int,
    "opening_hours": _opening_hours,
    "email_reply_target_hours": _positive,
    "callback_target_hours": _positive,
    "at_risk_share": _share,
}
