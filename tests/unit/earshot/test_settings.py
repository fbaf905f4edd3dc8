import re
from pathlib import Path

import pytest

from earshot.settings import SettingsError, load_settings


def test_defaults_put_everything_under_the_data_folder(tmp_path: Path) -> None:
    settings = load_settings(env={"EARSHOT_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'earshot.db'}"
    assert settings.models_dir == tmp_path / "models"
    assert settings.model == "tiny.en"
    assert settings.diarization == "auto"
    assert settings.audio_link_seconds == 600


def test_environment_overrides_config_file(tmp_path: Path) -> None:
    (tmp_path / "earshot.toml").write_text(
        'model = "base"\nnum_speakers = 2\nchannel_roles = ["customer", "agent"]\nhotwords = "Earshot"\n'
    )
    settings = load_settings(env={"EARSHOT_DATA_DIR": str(tmp_path), "EARSHOT_NUM_SPEAKERS": "3"})
    assert settings.model == "base"
    assert settings.num_speakers == 3
    assert settings.channel_roles == ("customer", "agent")
    options = settings.transcribe_options(language="nl", model=None)
    assert (options.language, options.model, options.hotwords) == ("nl", "base", "Earshot")


def test_hf_token_comes_from_hf_token_and_is_never_printed(tmp_path: Path) -> None:
    settings = load_settings(env={"EARSHOT_DATA_DIR": str(tmp_path), "HF_TOKEN": "hf_secret"})
    assert settings.hf_token == "hf_secret"
    assert "hf_secret" not in repr(settings)
    assert "hf_secret" not in repr(settings.transcribe_options())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("model = ", "not valid TOML"),
        ('colour = "blue"', "unknown setting(s) colour"),
        ('diarization = "magic"', "diarization='magic' is invalid"),
        ('channel_roles = ["agent", "boss"]', "channel_roles"),
        ('max_attempts = "many"', "max_attempts='many' is invalid"),
        (
            "audio_link_seconds = 43200",
            "audio_link_seconds=43200 is invalid: audio links live 10 to 3600 seconds",
        ),
    ],
)
def test_bad_config_file_names_file_and_setting(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "earshot.toml"
    config.write_text(text)
    with pytest.raises(SettingsError, match=re.escape(message)) as caught:
        load_settings(env={"EARSHOT_DATA_DIR": str(tmp_path)})
    assert str(config) in str(caught.value)


def test_explicit_config_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="config file not found"):
        load_settings(tmp_path / "missing.toml", env={"EARSHOT_DATA_DIR": str(tmp_path)})


def test_hotwords_from_a_toml_list_and_a_file_join_into_one_prompt(tmp_path: Path) -> None:
    terms = tmp_path / "vocabulary.txt"
    terms.write_text("# product names\nFreePBX\n\n  Asterisk  \n")
    (tmp_path / "earshot.toml").write_text(f'hotwords = ["Earshot", "Sam"]\nhotwords_file = "{terms}"\n')
    settings = load_settings(env={"EARSHOT_DATA_DIR": str(tmp_path)})
    assert settings.transcribe_options().hotwords == "Earshot, Sam, FreePBX, Asterisk"


def test_unreadable_hotwords_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    with pytest.raises(SettingsError, match=re.escape(f"{missing}: hotwords_file cannot be read")):
        load_settings(env={"EARSHOT_DATA_DIR": str(tmp_path), "EARSHOT_HOTWORDS_FILE": str(missing)})
    (tmp_path / "earshot.toml").write_text("hotwords = [1, 2]\n")
    with pytest.raises(SettingsError, match="hotwords=.* must be a string or a list of strings"):
        load_settings(env={"EARSHOT_DATA_DIR": str(tmp_path)})


def test_ivr_prompts_from_a_toml_list_a_file_and_the_environment(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("# played while queueing\nYour call is important to us, please hold.\n\n")
    (tmp_path / "earshot.toml").write_text(
        f'ivr_prompts = ["Thank you for calling Acme Energy."]\nivr_prompts_file = "{prompts}"\n'
    )
    settings = load_settings(env={"EARSHOT_DATA_DIR": str(tmp_path)})
    assert settings.transcribe_options().ivr_prompts == (
        "Thank you for calling Acme Energy.",
        "Your call is important to us, please hold.",
    )
    from_env = load_settings(
        tmp_path / "earshot.toml",
        env={"EARSHOT_DATA_DIR": str(tmp_path), "EARSHOT_IVR_PROMPTS": "Calls are recorded for training.\n"},
    )
    assert from_env.ivr_prompts[0] == "Calls are recorded for training."


def test_ivr_prompts_too_short_to_tell_from_a_person_are_refused(tmp_path: Path) -> None:
    (tmp_path / "earshot.toml").write_text('ivr_prompts = ["Please hold."]\n')
    with pytest.raises(SettingsError, match=r"\['Please hold.'\] are shorter than 4 words"):
        load_settings(env={"EARSHOT_DATA_DIR": str(tmp_path)})
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Hold on.\n")
    (tmp_path / "earshot.toml").write_text(f'ivr_prompts_file = "{prompts}"\n')
    with pytest.raises(SettingsError, match=re.escape(f"{prompts}: prompt(s) ['Hold on.']")):
        load_settings(env={"EARSHOT_DATA_DIR": str(tmp_path)})
    (tmp_path / "earshot.toml").write_text("ivr_prompts = [1]\n")
    with pytest.raises(SettingsError, match="must be a list of strings"):
        load_settings(env={"EARSHOT_DATA_DIR": str(tmp_path)})


def test_own_addresses_from_a_toml_list_or_a_comma_separated_variable(tmp_path: Path) -> None:
    (tmp_path / "earshot.toml").write_text('own_addresses = ["Support@Example.com", "@earshot.example"]\n')
    assert load_settings(env={"EARSHOT_DATA_DIR": str(tmp_path)}).own_addresses == (
        "support@example.com",
        "@earshot.example",
    )
    env = {"EARSHOT_DATA_DIR": str(tmp_path), "EARSHOT_OWN_ADDRESSES": "@a.example, b@c.example"}
    assert load_settings(env=env).own_addresses == ("@a.example", "b@c.example")
    with pytest.raises(SettingsError, match="own_addresses=.*expected an address"):
        load_settings(env={**env, "EARSHOT_OWN_ADDRESSES": "support"})


@pytest.mark.parametrize("stale_after", ["0", "5", "44"])
def test_a_stale_timeout_shorter_than_three_heartbeats_is_refused(tmp_path: Path, stale_after: str) -> None:
    # At 5 s a live job was taken over between two heartbeats and transcribed twice.
    env = {"EARSHOT_DATA_DIR": str(tmp_path), "EARSHOT_JOB_STALE_AFTER_S": stale_after}
    with pytest.raises(SettingsError, match=f"job_stale_after_s={stale_after} is too short.*at least 45"):
        load_settings(env=env)
    assert load_settings(env={**env, "EARSHOT_JOB_STALE_AFTER_S": "45"}).job_stale_after_s == 45


def test_redaction_is_on_for_payment_data_by_default_and_configurable(tmp_path: Path) -> None:
    env = {"EARSHOT_DATA_DIR": str(tmp_path)}
    default = load_settings(env=env)
    assert set(default.redact) == {"CARD", "CVC", "EXPIRY", "IBAN", "BANK_ACCOUNT", "BSN", "SSN"}
    assert default.transcribe_options().redact == default.redact
    (tmp_path / "earshot.toml").write_text('redact = ["card", "PHONE", "email"]\ndefault_region = "GB"\n')
    configured = load_settings(env=env)
    assert configured.redact == ("CARD", "PHONE", "EMAIL")
    assert configured.transcribe_options().phone_regions == ("GB",)
    assert configured.redaction_options().entities == {"CARD", "PHONE", "EMAIL"}
    assert load_settings(env={**env, "EARSHOT_REDACT": "none"}).redact == ()
    with pytest.raises(SettingsError, match=r"redact=.*unknown type\(s\) PASSPORT"):
        load_settings(env={**env, "EARSHOT_REDACT": "card,passport"})


def test_pipeline_stage_parameters_from_a_table_or_the_environment(tmp_path: Path) -> None:
    (tmp_path / "earshot.toml").write_text(
        '[pipeline]\n"bleed.margin_db" = 12\nrepeats.loop_repeats = 5\n\n[pipeline.prompts]\nmatch = 0.85\n'
    )
    settings = load_settings(env={"EARSHOT_DATA_DIR": str(tmp_path)})
    expected = (("bleed.margin_db", 12.0), ("prompts.match", 0.85), ("repeats.loop_repeats", 5))
    assert settings.transcribe_options().pipeline_params == expected
    from_env = load_settings(
        env={
            "EARSHOT_DATA_DIR": str(tmp_path / "none"),
            "EARSHOT_PIPELINE": "kept_turns.wordless_kept_share=0.6",
        }
    )
    assert from_env.pipeline == (("kept_turns.wordless_kept_share", 0.6),)


def test_redactions_answer_cover_from_the_settings_file(tmp_path: Path) -> None:
    (tmp_path / "earshot.toml").write_text(
        '[pipeline.answer_cover]\nentities = ["CARD", "CVC"]\nmax_answer_s = 20\n'
        'refusals = ["sorry", "liever niet"]\n'
    )
    params = load_settings(env={"EARSHOT_DATA_DIR": str(tmp_path)}).transcribe_options().pipeline_params
    assert dict(params) == {
        "answer_cover.entities": ("CARD", "CVC"),
        "answer_cover.max_answer_s": 20.0,
        "answer_cover.refusals": ("sorry", "liever niet"),
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('"blead.margin_db" = 12', "unknown pipeline stage 'blead'"),
        (
            '"bleed.margin" = 12',
            "unknown parameter 'margin' of pipeline stage 'bleed'; its parameters: margin_db",
        ),
        ('"repeats.loop_repeats" = "many"', "repeats.loop_repeats='many': expected a int"),
        ('"answer_cover.entities" = ["CARD", "PIN"]', "pipeline stage 'answer_cover': unknown PIN"),
    ],
)
def test_a_pipeline_parameter_that_does_not_exist_is_named(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "earshot.toml").write_text(f"[pipeline]\n{text}\n")
    with pytest.raises(SettingsError, match=re.escape(message)):
        load_settings(env={"EARSHOT_DATA_DIR": str(tmp_path)})


def test_working_hours_holidays_and_targets(tmp_path: Path) -> None:
    from datetime import date

    defaults = load_settings(env={"EARSHOT_DATA_DIR": str(tmp_path)})
    calendar = defaults.business_calendar()
    assert calendar.holiday_country == "NL" and calendar.is_holiday(date(2024, 4, 27))  # default_region's
    assert calendar.opening(date(2024, 6, 8)) is None  # a Saturday
    targets = defaults.response_targets()
    assert (targets.email_reply_s, targets.callback_s, targets.at_risk_share) == (6 * 3600, 3600, 0.25)
    (tmp_path / "earshot.toml").write_text(
        'opening_hours = ["mon-fri 08:00-20:00", "sat 10:00-14:00"]\n'
        'holidays_country = "de"\nholidays_subdivision = "BY"\n'
        "email_reply_target_hours = 4\ncallback_target_hours = 0.5\nat_risk_share = 0.1\n"
    )
    custom = load_settings(env={"EARSHOT_DATA_DIR": str(tmp_path), "EARSHOT_TIMEZONE": "Europe/Berlin"})
    calendar = custom.business_calendar()
    assert calendar.holiday_country == "DE" and calendar.is_holiday(date(2024, 1, 6))  # Epiphany, Bavaria
    assert calendar.opening(date(2024, 6, 8)) is not None
    assert custom.response_targets().callback_s == 1800
    env = {"EARSHOT_DATA_DIR": str(tmp_path / "none"), "EARSHOT_HOLIDAYS_COUNTRY": "none"}
    assert not load_settings(env=env).business_calendar().is_holiday(date(2024, 12, 25))
    env = {
        "EARSHOT_DATA_DIR": str(tmp_path / "none"),
        "EARSHOT_OPENING_HOURS": "mon-thu 09:00-17:00, fri 09:00-12:00",
    }
    assert load_settings(env=env).business_calendar().hours.days[4] == (9 * 60, 12 * 60)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("OPENING_HOURS", "weekdays 9-5", "expected e.g. 'mon-fri 09:00-17:00'"),
        ("OPENING_HOURS", "mon 17:00-09:00", "closes before it opens"),
        ("EMAIL_REPLY_TARGET_HOURS", "0", "must be more than 0"),
        ("AT_RISK_SHARE", "1.5", "a share from 0 to below 1"),
    ],
)
def test_bad_working_hours_and_targets_are_named(tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        load_settings(env={"EARSHOT_DATA_DIR": str(tmp_path), f"EARSHOT_{name}": value})


def test_an_unknown_holiday_country_is_named_when_the_calendar_is_made(tmp_path: Path) -> None:
    from storage.business_hours import CalendarError

    settings = load_settings(env={"EARSHOT_DATA_DIR": str(tmp_path), "EARSHOT_HOLIDAYS_COUNTRY": "XX"})
    with pytest.raises(CalendarError, match="no public holidays known for country 'XX'"):
        settings.business_calendar()
