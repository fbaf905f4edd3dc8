"""What a call says at a glance, ``earshot summary`` and ``earshot insights``, and the trackers that
tag calls, ``earshot tracker add|list|remove``.

Both reads go through ``storage.guarded.view_transcript``: audited as the command line's
``transcript_viewed``, and redacted as every page shows it.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

import click

from earshot.cli_common import UserError, clock, open_db, user_errors
from earshot.settings import Settings
from transcribe.types import ROLES


def _transcript(settings: Settings, recording: str):
    from storage import guarded, services

    db = open_db(settings)
    call = services.find_recording(db, recording)
    if not call.transcribed:
        raise UserError(f"call {call.id} is not transcribed yet ({call.job_status or 'no job'})")
    return call.id, guarded.view_transcript(db, None, call.id)


@click.command()
@click.argument("recording")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: the call and its key lines.")
@click.pass_obj
@user_errors
def summary(settings: Settings, recording: str, as_json: bool) -> None:
    """The key lines of a call: the customer's reason, the agent's promises, amounts, dates and the
    outcome, each with who said it and when. RECORDING: call id, SHA-256 (or prefix) or file name."""
    from earshot.call_summary import summarize
    from transcribe.formats import speaker_display_names

    recording_id, transcript = _transcript(settings, recording)
    lines = summarize(transcript)
    names = speaker_display_names(transcript.speakers)
    if as_json:
        click.echo(
            json.dumps({"recording_id": recording_id, "lines": [asdict(line) for line in lines]}, indent=2)
        )
        return
    for line in lines:
        kinds = f"  ({', '.join(line.kinds)})" if line.kinds else ""
        click.echo(f"[{clock(line.start)}] {names[line.speaker]}: {line.text}{kinds}")
    if not lines:
        click.echo(f"call {recording_id}: nothing said to summarise", err=True)


@click.command()
@click.argument("recording")
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON object: per speaker, per utterance, the trend."
)
@click.pass_obj
@user_errors
def insights(settings: Settings, recording: str, as_json: bool) -> None:
    """Per speaker: talk share, words per minute, longest monologue, questions and mean sentiment
    (English calls), then the sentiment trend over the call in fifths."""
    from earshot.call_insights import call_insights
    from transcribe.formats import speaker_display_names

    recording_id, transcript = _transcript(settings, recording)
    found = call_insights(transcript)
    names = speaker_display_names(transcript.speakers)
    if as_json:
        click.echo(json.dumps({"recording_id": recording_id, **asdict(found)}, indent=2))
        return
    click.echo(f"{'SPEAKER':10} {'SHARE':>6} {'WPM':>5} {'MONOLOGUE':>10} {'QUESTIONS':>9} {'SENTIMENT':>9}")
    for s in found.speakers:
        wpm = f"{s.words_per_minute:.0f}" if s.words_per_minute is not None else "-"
        mood = f"{s.mean_sentiment:+.2f}" if s.mean_sentiment is not None else "-"
        click.echo(
            f"{names[s.speaker]:10} {s.talk_share:6.0%} {wpm:>5} {s.longest_monologue:9.1f}s "
            f"{s.questions:>9} {mood:>9}"
        )
    if found.sentiment_language is None:
        click.echo(f"no sentiment: the call is in {transcript.language}; VADER reads English", err=True)
    for point in found.trend:
        click.echo(
            f"trend {clock(point.start)}-{clock(point.end)} {names[point.speaker]:10} "
            f"{point.mean:+.2f} ({point.utterances} utterance(s))"
        )


@click.group()
def tracker() -> None:
    """Trackers: saved searches that tag every call they match, now and as calls are transcribed."""


@tracker.command("add")
@click.argument("name")
@click.argument("query")
@click.option("--owner", help="The user told of new matching calls (needed with --notify).")
@click.option("--notify", is_flag=True, help="Alert the owner in the app to each new call it tags.")
@click.option("--speaker-role", type=click.Choice(ROLES), help="Only words this role said.")
@click.option("--channel", help="Only this channel: call, chat, email, ...")
@click.option("--customer", help="Only this customer's conversations (name, phone, e-mail, number).")
@click.option("--agent", help="Only this agent's conversations.")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="First day (UTC).")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Last day (UTC).")
@click.pass_obj
@user_errors
def tracker_add(
    settings: Settings,
    name: str,
    query: str,
    owner: str | None,
    notify: bool,
    speaker_role: str | None,
    channel: str | None,
    customer: str | None,
    agent: str | None,
    date_from: datetime | None,
    date_to: datetime | None,
) -> None:
    """Add tracker NAME for QUERY (the search syntax: words, "phrases", OR, NOT, NEAR) and tag what
    it matches now."""
    from storage.search import SearchFilters
    from storage.trackers import add_tracker

    filters = SearchFilters(
        speaker_role=speaker_role,  # type: ignore[arg-type]  # click's Choice checked it
        customer=customer,
        agent=agent,
        date_from=date_from.date() if date_from else None,
        date_to=date_to.date() if date_to else None,
        channel=channel,
    )
    added = add_tracker(open_db(settings), None, name, query, filters, notify=notify, owner=owner)
    click.echo(f"tracker {added.name} added: {added.conversations} conversation(s) tagged")


@tracker.command("list")
@click.option("--json", "as_json", is_flag=True, help="A JSON list.")
@click.pass_obj
@user_errors
def tracker_list(settings: Settings, as_json: bool) -> None:
    """Every tracker with its query and how many conversations it tags."""
    from storage.trackers import list_trackers

    found = list_trackers(open_db(settings), None)
    if as_json:
        click.echo(json.dumps([asdict(t) for t in found], indent=2, default=str))
        return
    click.echo(f"{'NAME':24} {'TAGGED':>6}  {'OWNER':20} QUERY")
    for t in found:
        owner = (t.owner or "-") + (" (notified)" if t.notify else "")
        click.echo(f"{t.name:24} {t.conversations:>6}  {owner:20} {t.query}")


@tracker.command("remove")
@click.argument("name")
@click.pass_obj
@user_errors
def tracker_remove(settings: Settings, name: str) -> None:
    """Remove tracker NAME with its tags and alerts."""
    from storage.trackers import remove_tracker

    remove_tracker(open_db(settings), None, name)
    click.echo(f"tracker {name.strip()} removed")


DEMO_TRACKER = ("Refunds", "refund OR refunded")


def ensure_demo_tracker(db, owner: str) -> None:
    """The demo's tracker, so its calls show a tag and the call list a tracker to filter by; it
    notifies ``owner`` of refund calls transcribed from now on."""
    from storage.trackers import add_tracker, list_trackers

    name, query = DEMO_TRACKER
    if any(t.name == name for t in list_trackers(db, None)):
        return
    added = add_tracker(db, None, name, query, notify=True, owner=owner)
    click.echo(f"demo: tracker {name!r} tags {added.conversations} conversation(s)", err=True)
