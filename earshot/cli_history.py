"""Commands for the customer history: import chats and e-mails, look customers up, merge and split
them, and print one customer's timeline. Each command is thin: parse, call one module, print."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from earshot.cli_common import UserError, clock, open_db, user_errors
from earshot.settings import Settings

CHAT_FORMATS = ("generic", "chatwoot", "zendesk", "trengo")


def _files(paths: tuple[Path, ...]) -> list[Path]:
    """Folders stand for the files directly inside them, in name order."""
    files: list[Path] = []
    for path in paths:
        files += sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    return files


def _report_import(settings: Settings, batch: Any) -> None:
    from recorder.redacting import redacted_batch
    from storage.threads_import import import_threads

    redacted = redacted_batch(batch, settings.redaction_options())
    summary = import_threads(open_db(settings), redacted, settings.default_region, on_problem=click.echo)
    click.echo(
        f"{summary.imported_threads} conversation(s) imported with {summary.new_messages} new message(s); "
        f"{summary.unchanged_threads} already stored unchanged, {summary.skipped_duplicates} message(s) "
        f"already stored; {len(summary.failed)} failed; {len(summary.warnings)} warning(s)",
        err=True,
    )
    if summary.failed:
        sys.exit(1)


@click.command("import-email")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--own-address",
    "own_addresses",
    multiple=True,
    help="Your organisation's address or @domain (repeatable; default: the own_addresses setting).",
)
@click.pass_obj
@user_errors
def import_email(settings: Settings, paths: tuple[Path, ...], own_addresses: tuple[str, ...]) -> None:
    """Import .eml files, .mbox mailboxes and Outlook .msg files (or folders of them) into customer histories.

    Mail from your own addresses is outbound. Re-importing changes nothing; a newer mailbox adds only
    new messages. Each problem is printed; exit status 1 if any item failed.
    """
    from recorder.email_import import read_email

    own = own_addresses or settings.own_addresses
    _report_import(settings, read_email(_files(paths), own_addresses=own))


@click.command("import-chat")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(CHAT_FORMATS), default="generic", show_default=True)
@click.option(
    "--timezone",
    "zone_name",
    help="IANA zone of times the export writes without an offset (default: the chat_timezone setting, "
    "else the format's own: Europe/Amsterdam for trengo, UTC for the others).",
)
@click.pass_obj
@user_errors
def import_chat(settings: Settings, paths: tuple[Path, ...], fmt: str, zone_name: str | None) -> None:
    """Import chat, WhatsApp, Messenger and SMS conversations from JSON exports (see README)."""
    from recorder.chat_import import read_chat

    zone_name = zone_name or settings.chat_timezone
    try:
        zone = ZoneInfo(zone_name) if zone_name else None
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"timezone {zone_name!r} is not a known IANA zone (e.g. Europe/Amsterdam)") from None
    _report_import(settings, read_chat(_files(paths), fmt, zone))  # type: ignore[arg-type]


@click.group()
def customer() -> None:
    """Look customers up and who knows them, merge and split them, review merge suggestions, and erase
    a customer."""


@customer.command("show")
@click.argument("who")
@click.pass_obj
@user_errors
def customer_show(settings: Settings, who: str) -> None:
    """A customer's identities (audited). WHO: id, phone (any format), e-mail, customer number or name."""
    from storage.customers import resolve_customer
    from storage.customers_view import customer_profile

    db = open_db(settings)
    detail = customer_profile(db, None, resolve_customer(db, who, settings.default_region))
    click.echo(f"customer {detail.id}: {detail.display_name or '(no name)'}")
    for identity in detail.identities:
        click.echo(f"  identity {identity.id:>5}  {identity.kind:<16} {identity.value}")


@customer.command("agents")
@click.argument("who")
@click.option("--json", "as_json", is_flag=True, help="A JSON array, for a phone system's routing.")
@click.pass_obj
@user_errors
def customer_agents(settings: Settings, who: str, as_json: bool) -> None:
    """The agents who know a customer: conversations each handled, the last one and on which channels,
    the most recent first (audited). WHO: id, phone (any format), e-mail, customer number or name."""
    from storage.customer_agents import agents_of_customer
    from storage.customers import resolve_customer

    db = open_db(settings)
    found = agents_of_customer(db, None, resolve_customer(db, who, settings.default_region))
    if as_json:
        routing = [
            {
                "agent": a.name,
                "agent_id": a.agent_id,
                "team": a.team,
                "contacts": a.contacts,
                "last_contact": a.last_contact.isoformat() if a.last_contact else None,
                "channels": dict(a.channels),
            }
            for a in found
        ]
        click.echo(json.dumps(routing, ensure_ascii=False, indent=1))
        return
    if not found:
        click.echo("no agent has handled this customer yet")
        return
    click.echo(f"{'agent':<24} {'contacts':>8}  {'last contact (UTC)':<18}  channels")
    for a in found:
        last = a.last_contact.strftime("%Y-%m-%d %H:%M") if a.last_contact else "-"
        channels = ", ".join(f"{name} {count}" for name, count in a.channels)
        click.echo(f"{a.name:<24} {a.contacts:>8}  {last:<18}  {channels}")


@customer.command("merge")
@click.argument("survivor", type=int)
@click.argument("other", type=int)
@click.option("--by", default="cli", show_default=True, help="Who merges, for the record.")
@click.pass_obj
@user_errors
def customer_merge(settings: Settings, survivor: int, other: int, by: str) -> None:
    """Merge customer OTHER into SURVIVOR: every identity, call and thread follows (undoable; audited)."""
    from storage.merge_review import merge_by_hand

    record = merge_by_hand(open_db(settings), None, survivor, other, by=by)
    click.echo(
        f"merge {record.id}: customer {other} into {survivor} ({len(record.identity_ids)} identities, "
        f"{len(record.thread_ids)} conversations); undo with `earshot customer undo-merge {record.id}`"
    )


@customer.command("undo-merge")
@click.argument("merge_id", type=int)
@click.pass_obj
@user_errors
def customer_undo_merge(settings: Settings, merge_id: int) -> None:
    """Give the merged customer back exactly what the merge moved (audited)."""
    from storage.merge_review import undo_customer_merge

    record = undo_customer_merge(open_db(settings), None, merge_id)
    click.echo(f"merge {merge_id} undone: customer {record.merged_id} is separate from {record.survivor_id}")


@customer.command("split")
@click.argument("customer_id", type=int)
@click.argument("identity_ids", nargs=-1, required=True, type=int)
@click.pass_obj
@user_errors
def customer_split(settings: Settings, customer_id: int, identity_ids: tuple[int, ...]) -> None:
    """Move IDENTITY_IDS (see `customer show`) and the conversations linked only through them to a new
    customer."""
    from storage.customers import split_customer

    new_id = split_customer(open_db(settings), customer_id, identity_ids)
    click.echo(f"customer {new_id} split off from {customer_id}")


@customer.command("suggestions")
@click.option("--accept", "accept_id", type=int, help="Merge the two customers of this suggestion.")
@click.option("--reject", "reject_id", type=int, help="Keep them apart; the pair is not suggested again.")
@click.option("--by", default="cli", show_default=True, help="Who decides, for the record.")
@click.pass_obj
@user_errors
def customer_suggestions(settings: Settings, accept_id: int | None, reject_id: int | None, by: str) -> None:
    """List pending merge suggestions, or accept or reject one (audited)."""
    from storage.merge_review import decide_suggestion, pending_suggestions

    if accept_id is not None and reject_id is not None:
        raise UserError("give --accept or --reject, not both")
    db = open_db(settings)
    if accept_id is None and reject_id is None:
        for review in pending_suggestions(db, None):
            s = review.suggestion
            click.echo(f"suggestion {s.id}: customers {s.customer_a} and {s.customer_b}: {s.reason}")
        return
    chosen = accept_id if accept_id is not None else reject_id
    outcome = decide_suggestion(db, None, chosen, accept=accept_id is not None, by=by)  # type: ignore[arg-type]
    done = f" as merge {outcome.merge.id}" if outcome.merge else ""
    click.echo(f"suggestion {chosen} {outcome.suggestion.status}{done}")


@click.command("history")
@click.argument("who")
@click.option("--limit", type=click.IntRange(1, 100000), help="Only the newest this many items.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document: the customer and every item.")
@click.pass_obj
@user_errors
def history(settings: Settings, who: str, limit: int | None, as_json: bool) -> None:
    """One customer's calls (with transcripts), chats and e-mails in time order (audited).
    WHO: id, phone (any format), e-mail, customer number or name."""
    from earshot.cli_followups import followup_json, followup_line
    from storage.customers import resolve_customer
    from storage.customers_view import customer_history
    from storage.followups import customer_followups
    from storage.models import utc_now
    from transcribe.formats import role_name

    db = open_db(settings)
    customer_id = resolve_customer(db, who, settings.default_region)
    found = customer_history(db, None, customer_id, limit)
    next_steps = customer_followups(db, None, customer_id)
    now = utc_now()
    if as_json:
        document = asdict(found) | {"followups": [followup_json(f, now) for f in next_steps]}
        click.echo(json.dumps(document, default=_json_value, ensure_ascii=False, indent=1))
        return
    name = found.customer.display_name or "(no name)"
    click.echo(f"customer {found.customer.id}: {name}")
    for item in found.items:
        when = item.at.strftime("%Y-%m-%d %H:%M") if item.at else "unknown time"
        agent = f"  agent {item.agent}" if item.agent else ""
        if item.kind == "call":
            click.echo(
                f"{when}  call {item.recording_id} {item.direction or ''}{agent}  "
                f"({item.duration:.0f}s, conversation {item.thread_id})"
            )
            for u in item.utterances:
                who_spoke = u.display_name or (role_name(u.role) if u.role else u.speaker)
                click.echo(f"    {clock(u.start)} [{who_spoke}] {u.text}")
        else:
            subject = f'  "{item.subject}"' if item.subject else ""
            click.echo(
                f"{when}  {item.channel} {item.direction}{agent}{subject}  "
                f"(conversation {item.thread_id}, message {item.message_id})"
            )
            click.echo(f"    {item.author or '?'}: " + item.body.replace("\n", "\n    "))
            if item.quoted:
                click.echo("    quoted:\n      " + item.quoted.replace("\n", "\n      "))
            for a in item.attachments:
                size = f", {a.size_bytes} bytes" if a.size_bytes is not None else ""
                click.echo(f"    attachment: {a.name}{size}")
    if next_steps:
        click.echo("follow-ups:")
        for f in next_steps:
            click.echo(followup_line(f, ZoneInfo(settings.timezone), now))


def _json_value(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
