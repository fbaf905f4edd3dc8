"""``earshot followup add|list|done``: the next steps after a call, chat or e-mail thread.

Run by whoever holds the database (the audit log names it "(command line)"). Due times are read and
shown in the organisation's zone (the ``timezone`` setting), labelled; stored in UTC.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from earshot.cli_common import open_db, user_errors
from earshot.settings import Settings

if TYPE_CHECKING:
    from storage.followups import FollowUpView


@click.group()
def followup() -> None:
    """Follow-ups on conversations: what, for whom, due when, done."""


@followup.command("add")
@click.argument("conversation", type=int)
@click.option("--what", required=True, help="What is to be done.")
@click.option(
    "--due",
    required=True,
    help="2026-12-09 (the end of that day) or '2026-12-09 14:30', in the timezone setting's zone.",
)
@click.option("--for", "for_whom", help="Username or agent name (default: the conversation's agent).")
@click.pass_obj
@user_errors
def add(settings: Settings, conversation: int, what: str, due: str, for_whom: str | None) -> None:
    """Add a follow-up to CONVERSATION (its id, as `earshot history` shows it; audited)."""
    from storage.followups import add_followup, parse_due, resolve_assignee

    db = open_db(settings)
    zone = ZoneInfo(settings.timezone)
    assignee = resolve_assignee(db, for_whom) if for_whom else None
    added = add_followup(db, None, conversation, what, parse_due(due, zone), assignee)
    click.echo(f"follow-up {added.id} for {added.assignee}, due {_local(added.due_at, zone)}")


@followup.command("list")
@click.option("--for", "for_whom", help="Only this user's or agent's (default: everyone's).")
@click.option("--overdue", is_flag=True, help="Only open ones past their due time.")
@click.option("--status", type=click.Choice(["open", "done", "all"]), default="open", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="A JSON array; times in UTC.")
@click.pass_obj
@user_errors
def list_(settings: Settings, for_whom: str | None, overdue: bool, status: str, as_json: bool) -> None:
    """Follow-ups, overdue first, then by due time; done ones last (audited)."""
    from storage.followups import list_followups, resolve_assignee
    from storage.models import utc_now

    db = open_db(settings)
    zone = ZoneInfo(settings.timezone)
    assignee = resolve_assignee(db, for_whom) if for_whom else None
    now = utc_now()
    found = list_followups(db, None, assignee, status=status, overdue_only=overdue, now=now)  # type: ignore[arg-type]
    if as_json:
        rows = [followup_json(f, now) for f in found]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if not found:
        click.echo("no follow-ups")
        return
    for f in found:
        click.echo(followup_line(f, zone, now))


@followup.command("done")
@click.argument("followup_id", type=int)
@click.pass_obj
@user_errors
def done(settings: Settings, followup_id: int) -> None:
    """Mark follow-up FOLLOWUP_ID done (audited)."""
    from storage.followups import complete_followup

    finished = complete_followup(open_db(settings), None, followup_id)
    click.echo(f"follow-up {finished.id} done ({finished.what})")


def followup_line(f: FollowUpView, zone: ZoneInfo, now: datetime) -> str:
    """One follow-up on one line, as `followup list` and `history` print it."""
    state = f"done {_local(f.done_at, zone)} by {f.done_by}" if f.done_at else "open"
    if f.overdue(now):
        state = "OVERDUE"
    return (
        f"{f.id:>5}  due {_local(f.due_at, zone)}  {state}  for {f.assignee}  "
        f"{f.customer or '(no customer)'}, {f.channel} {f.thread_id}: {f.what}"
    )


def followup_json(f: FollowUpView, now: datetime) -> dict[str, object]:
    return {
        "id": f.id,
        "conversation": f.thread_id,
        "channel": f.channel,
        "customer_id": f.customer_id,
        "customer": f.customer,
        "what": f.what,
        "for": f.assignee,
        "due": f.due_at.isoformat(),
        "overdue": f.overdue(now),
        "created_by": f.created_by,
        "done_at": f.done_at.isoformat() if f.done_at else None,
        "done_by": f.done_by,
    }


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M %Z}" if moment else "-"
