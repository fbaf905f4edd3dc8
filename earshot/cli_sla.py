"""``earshot sla``: response-time targets (``storage.response_targets``) for an agent, a team or
everyone: the breached, at-risk, on-track and met contacts, each waiting one with its clock."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click

from earshot.cli_common import open_db, user_errors
from earshot.settings import Settings

if TYPE_CHECKING:
    from storage.response_targets import GroupCounts, TargetReport

_DEFAULT_DAYS = 30
_HEADINGS = {"breached": "Breached", "at_risk": "At risk", "on_track": "On track", "met": "Met"}


@click.command("sla")
@click.option("--agent", help="Only this agent's contacts (name or extension).")
@click.option("--team", help="Only the contacts of this team's agents.")
@click.option(
    "--from",
    "first",
    type=click.DateTime(["%Y-%m-%d"]),
    help="First day (org time zone); default: 30 days ago.",
)
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), help="Last day, included; default: today.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: the counts and every contact.")
@click.pass_obj
@user_errors
def sla(
    settings: Settings,
    agent: str | None,
    team: str | None,
    first: datetime | None,
    last: datetime | None,
    as_json: bool,
) -> None:
    """Response-time targets: was every e-mail answered and every missed call called back within its
    working time (settings: opening_hours, holidays_country, email_reply_target_hours,
    callback_target_hours, at_risk_share)? Lists breached, at-risk, on-track and met contacts of the
    waits that began in the period (audited)."""
    from storage.response_targets import STATUSES, response_report

    zone = ZoneInfo(settings.timezone)
    last_day = last.date() if last else datetime.now(zone).date()
    first_day = first.date() if first else last_day - timedelta(days=_DEFAULT_DAYS - 1)
    report = response_report(
        open_db(settings),
        None,
        settings.business_calendar(),
        settings.response_targets(),
        start=_midnight(first_day, zone),
        end=_midnight(last_day + timedelta(days=1), zone),
        agent=agent,
        team=team,
    )
    if as_json:
        click.echo(json.dumps(_as_json(report, zone), ensure_ascii=False, indent=1))
        return
    click.echo(
        f"waits that began {first_day:%d %b %Y} to {last_day:%d %b %Y}; times in {zone.key}; "
        "clocks count working time"
    )
    for group in report.by_agent():
        counts = ", ".join(f"{group.count(s)} {_HEADINGS[s].lower()}" for s in STATUSES)
        click.echo(f"  {group.name or '(nobody yet)':<24} {counts}")
    for status in STATUSES:
        items = report.with_status(status)
        click.echo(f"{_HEADINGS[status]} ({len(items)})")
        for item in items:
            what = "e-mail reply" if item.kind == "email_reply" else "callback"
            since = item.since.astimezone(zone)
            click.echo(
                f"  {what:<12} {since:%Y-%m-%d %H:%M %Z}  {item.clock:<22} "
                f"{item.customer or '(unknown customer)'} / {item.agent or '(nobody yet)'}"
            )


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone)


def _counts(group: GroupCounts) -> dict[str, int]:
    return dict(zip(_HEADINGS, group.counts, strict=True))


def _as_json(report: TargetReport, zone: ZoneInfo) -> dict[str, Any]:
    def moment(value: datetime | None) -> str | None:
        return value.astimezone(zone).isoformat() if value is not None else None

    return {
        "timezone": zone.key,
        "from": moment(report.start),
        "to": moment(report.end),
        "now": moment(report.now),
        "agents": [
            {"agent": g.name, **dict(zip(_HEADINGS, g.counts, strict=True))} for g in report.by_agent()
        ],
        "teams": [{"team": g.name, **dict(zip(_HEADINGS, g.counts, strict=True))} for g in report.by_team()],
        "contacts": [
            {
                "kind": item.kind,
                "status": item.status,
                "thread_id": item.thread_id,
                "answer_thread_id": item.answer_thread_id,
                "customer_id": item.customer_id,
                "customer": item.customer,
                "agent": item.agent,
                "team": item.team,
                "since": moment(item.since),
                "deadline": moment(item.deadline),
                "answered_at": moment(item.answered_at),
                "working_seconds_left": round(item.left_s),
                "clock": item.clock,
            }
            for item in report.items
        ],
    }
