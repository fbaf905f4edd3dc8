"""The agents' commands: their team, ``earshot agent team``, and their voiceprints,
``earshot agent voice enrol|remove|list``.

A voiceprint is the agent's personal data: like ``earshot user``, these are an admin's commands,
run by whoever holds the database (the audit log names it "(command line)").
"""

from __future__ import annotations

import click

from earshot.cli_common import open_db, user_errors
from earshot.settings import Settings


@click.group()
def agent() -> None:
    """PBX agents: their teams, and the voiceprints that recognise them on mono calls."""


@agent.command("team")
@click.argument("name")
@click.argument("team", required=False)
@click.option("--clear", is_flag=True, help="Take agent NAME out of their team.")
@click.pass_obj
@user_errors
def team(settings: Settings, name: str, team: str | None, clear: bool) -> None:
    """Put agent NAME in TEAM (the team view and the call list filter by it)."""
    from storage.teams import set_agent_team

    if clear == (team is not None):
        raise click.UsageError("give either a TEAM or --clear")
    changed = set_agent_team(open_db(settings), name, team, actor=None)
    click.echo(f"agent {changed.agent}: " + (f"team {changed.team}" if changed.team else "in no team"))


@agent.group()
def voice() -> None:
    """Agents' voiceprints. Stereo calls that name their agent enrol the agent's channel by
    themselves, and so does a reviewer's correction of who a call's agent is."""


@voice.command("enrol")
@click.argument("name")
@click.option(
    "--call", "recording", required=True, help="Call id, SHA-256 (or 8+ character prefix) or file name."
)
@click.option(
    "--speaker",
    help="The speaker whose voice is NAME's, e.g. S2 (default: the call's agent by channel or reviewer).",
)
@click.pass_obj
@user_errors
def voice_enrol(settings: Settings, name: str, recording: str, speaker: str | None) -> None:
    """Add a call's speaker to agent NAME's voiceprint (replacing what that call gave it before)."""
    from earshot.voice_enrolment import enrol_by_admin
    from storage import services

    db = open_db(settings)
    call = services.find_recording(db, recording)
    enrolled = enrol_by_admin(db, settings.blob_store(), settings, name, call.id, speaker)
    click.echo(
        f"agent {enrolled.agent}: voiceprint of {enrolled.seconds:.0f} s of speech "
        f"from {enrolled.calls} call(s)"
    )


@voice.command("remove")
@click.argument("name")
@click.pass_obj
@user_errors
def voice_remove(settings: Settings, name: str) -> None:
    """Delete agent NAME's voiceprint; their mono calls fall back to the first-speaker rule."""
    from storage.agent_voices import remove_voiceprint

    removed = remove_voiceprint(open_db(settings), name, actor=None)
    click.echo(f"agent {removed.agent}: voiceprint of {removed.calls} call(s) removed")


@voice.command("list")
@click.pass_obj
@user_errors
def voice_list(settings: Settings) -> None:
    """Every enrolled agent: seconds of speech, calls, last update (UTC)."""
    from storage.agent_voices import list_voiceprints

    click.echo(f"{'AGENT':32} {'SECONDS':>8} {'CALLS':>6}  UPDATED")
    for enrolled in list_voiceprints(open_db(settings), actor=None):
        click.echo(
            f"{enrolled.agent:32} {enrolled.seconds:>8.0f} {enrolled.calls:>6}  "
            f"{enrolled.updated_at:%Y-%m-%d %H:%M}"
        )
