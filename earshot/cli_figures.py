"""Commands for the customers' verdict and what each channel and agent achieves: import survey
answers, print the figures. Each command is thin: parse, call one module, print."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from earshot.cli_common import clock, open_db, user_errors
from earshot.settings import Settings

DEFAULT_DAYS = 28  # the figures' default period, as the app's Figures page


@click.command("import-surveys")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    help="The files' format (default: each file's suffix).",
)
@click.pass_obj
@user_errors
def import_surveys(settings: Settings, paths: tuple[Path, ...], fmt: str | None) -> None:
    """Import CSAT, NPS and CES answers from survey exports (CSV or JSON) and tie each to the
    conversation it rates: by contact_id, or by the customer's email, phone or customer_number and the
    time answered (their conversation nearest before it, on the row's channel). Each bad row and each
    unknown contact is printed; the rest are imported. Re-importing changes nothing. Exit status 1 if
    any row was left out."""
    from storage.survey_import import import_surveys as store
    from storage.survey_import import read_surveys

    rows, problems = read_surveys(list(paths), fmt, ZoneInfo(settings.timezone))  # type: ignore[arg-type]
    for line in problems:
        click.echo(line)
    summary = store(open_db(settings), rows, settings.default_region, on_problem=click.echo)
    left_out = len(problems) + len(summary.problems)
    click.echo(
        f"{summary.imported} survey answer(s) imported, {summary.already_stored} already stored, "
        f"{left_out} left out",
        err=True,
    )
    if left_out:
        sys.exit(1)


def import_sample_surveys(db, settings: Settings, folder: Path) -> None:  # type: ignore[no-untyped-def]
    """The demo customers' survey answers (``sample_surveys/``), so the figures and the contacts show
    the customers' verdict."""
    from storage.survey_import import import_surveys as store
    from storage.survey_import import read_surveys

    if not folder.is_dir():
        return
    rows, problems = read_surveys(sorted(folder.glob("*.csv")), "csv", ZoneInfo(settings.timezone))
    summary = store(db, rows, settings.default_region, on_problem=click.echo)
    for line in problems:
        click.echo(line)
    click.echo(f"demo: {summary.imported} survey answer(s) imported", err=True)


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return clock(value) if value < 3600 else f"{value / 3600:.1f} h"


def _score(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


@click.command("figures")
@click.option("--by", type=click.Choice(["channel", "agent"]), default="channel", show_default=True)
@click.option("--per", type=click.Choice(["day", "week"]), default="day", show_default=True)
@click.option(
    "--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="First day (default: 28 days ago)."
)
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Last day (default: today).")
@click.option("--channel", help="Only this channel's contacts: call, chat, email, ...")
@click.option("--agent", help="Only this agent's contacts (the name as stored).")
@click.option("--json", "as_json", is_flag=True, help="Every row and total as JSON.")
@click.pass_obj
@user_errors
def figures(
    settings: Settings,
    by: str,
    per: str,
    date_from: datetime | None,
    date_to: datetime | None,
    channel: str | None,
    agent: str | None,
    as_json: bool,
) -> None:
    """Contacts, handle time, first response time, time to resolution, CSAT, NPS and CES per channel or
    agent and per day or week (audited). Days are the organisation's (the timezone setting); first
    response time is plain elapsed time, nights and weekends included."""
    from storage.channel_figures import FigureRequest, agent_named, channel_figures

    zone = ZoneInfo(settings.timezone)
    last = date_to.date() if date_to else datetime.now(zone).date()
    first = date_from.date() if date_from else last - timedelta(days=DEFAULT_DAYS - 1)
    db = open_db(settings)
    request = FigureRequest(
        start=_midnight(first, zone),
        end=_midnight(last + timedelta(days=1), zone),
        by=by,  # type: ignore[arg-type]
        per=per,  # type: ignore[arg-type]
        channel=channel,
        agent_id=agent_named(db, agent) if agent else None,
        zone=settings.timezone,
    )
    found = channel_figures(db, None, request)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "from": first.isoformat(),
                    "to": last.isoformat(),
                    "timezone": settings.timezone,
                    "by": by,
                    "per": per,
                    "rows": [
                        asdict(row) | {"bucket": row.bucket.isoformat()} for row in found.rows if row.bucket
                    ],
                    "totals": [asdict(row) for row in found.totals],
                },
                ensure_ascii=False,
                indent=1,
            )
        )
        return
    click.echo(f"{first} to {last} ({settings.timezone}), per {per}; first response: elapsed time")
    heading = f"{'':<12} {by:<20} {'contacts':>8} {'handle':>8} {'1st resp':>8} {'resolve':>8} "
    click.echo(heading + f"{'CSAT':>5} {'NPS':>5} {'CES':>5}")
    for row in (*found.rows, *found.totals):
        label = row.bucket.isoformat() if row.bucket else "total"
        click.echo(
            f"{label:<12} {row.group[:20]:<20} {row.contacts:>8} {_seconds(row.handle_time):>8} "
            f"{_seconds(row.first_response):>8} {_seconds(row.resolution):>8} {_score(row.csat):>5} "
            f"{_score(row.nps, 0):>5} {_score(row.ces):>5}"
        )


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone)
