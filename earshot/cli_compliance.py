"""The compliance commands: ``earshot hold ...``, ``earshot retention ...`` and ``earshot customer erase``.

The command line acts as whoever holds the database (the audit log names it "(command line)"),
except where a rule needs two people: a hold's release is asked for and approved ``--by`` two
different compliance accounts.
"""

from __future__ import annotations

from datetime import date, datetime

import click

from earshot.cli_common import UserError, open_db, user_errors
from earshot.settings import Settings


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _report(report, what: str) -> None:  # type: ignore[no-untyped-def]
    """A deletion's counts, as the audit row keeps them."""
    verb = "would delete" if report.dry_run else "deleted"
    click.echo(
        f"{what} {verb}: {report.conversations} conversation(s), {report.calls} call(s), "
        f"{report.audio_files} audio file(s), {report.transcripts} transcript(s), {report.messages} "
        f"message(s), {report.identities} identity(ies), {report.customers} customer(s); "
        f"{report.evaluations_kept} evaluation(s) kept"
    )
    if report.held_skipped:
        holds = ", ".join(str(hold) for hold in report.holds)
        click.echo(f"kept under legal hold ({holds}): {report.held_skipped} conversation(s)")


# --- earshot customer erase -----------------------------------------------------------------------


@click.command("erase")
@click.argument("who")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@click.option(
    "--force", is_flag=True, help="Erase even an unusually large customer (over 200 conversations)."
)
@click.pass_obj
@user_errors
def customer_erase(settings: Settings, who: str, dry_run: bool, force: bool) -> None:
    """Erase a customer (GDPR art. 17): every call, audio file, transcript, message, conversation and
    identity of theirs. Refused when a legal hold covers any of it. WHO: id, phone, e-mail, number."""
    from storage.customers import resolve_customer
    from storage.erasure import erase_customer

    db = open_db(settings)
    customer_id = resolve_customer(db, who, settings.default_region)
    report = erase_customer(
        db,
        settings.blob_store(),
        None,
        customer_id,
        dry_run=dry_run,
        force=force,
    )
    _report(report, f"customer {customer_id}")


# --- earshot hold ---------------------------------------------------------------------------------


@click.group()
def hold() -> None:
    """Legal holds: what no deletion (retention, erasure) may touch while the hold stands."""


@hold.command("add")
@click.option("--customer", "customer_ref", help="Hold a customer: id, phone, e-mail or customer number.")
@click.option("--call", "call_ref", help="Hold one call: id, hash prefix or file name.")
@click.option("--query", help="Hold whatever this transcript/message search finds, now and later.")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="With --query: first day.")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="With --query: last day.")
@click.option("--reason", required=True, help="The matter or case the hold is for.")
@click.option(
    "--until", type=click.DateTime(["%Y-%m-%d"]), help="Last day it holds (default: until released)."
)
@click.pass_obj
@user_errors
def hold_add(
    settings: Settings,
    customer_ref: str | None,
    call_ref: str | None,
    query: str | None,
    date_from: datetime | None,
    date_to: datetime | None,
    reason: str,
    until: datetime | None,
) -> None:
    """Place a legal hold on a customer, a call, or what a search finds."""
    from storage.customers import resolve_customer
    from storage.holds import HoldTarget, place_hold
    from storage.services import find_recording

    if sum(value is not None for value in (customer_ref, call_ref, query)) != 1:
        raise UserError("give exactly one of --customer, --call, --query")
    db = open_db(settings)
    if customer_ref is not None:
        target = HoldTarget(
            "customer", customer_id=resolve_customer(db, customer_ref, settings.default_region)
        )
    elif call_ref is not None:
        target = HoldTarget("call", recording_id=find_recording(db, call_ref).id)
    else:
        target = HoldTarget("query", query=query, date_from=_day(date_from), date_to=_day(date_to))
    placed = place_hold(db, None, target, reason, _day(until))
    click.echo(f"hold {placed.id} placed on {placed.covers}")


@hold.command("list")
@click.option("--all", "include_ended", is_flag=True, help="Also released and expired holds.")
@click.pass_obj
@user_errors
def hold_list(settings: Settings, include_ended: bool) -> None:
    """The holds that stand: id, what they cover, until, who placed them, release state, reason."""
    from storage.holds import list_holds

    for placed in list_holds(open_db(settings), None, include_ended=include_ended):
        if placed.released_at is not None:
            state = f"released by {placed.released_by} (asked by {placed.release_requested_by})"
        elif not placed.active:
            state = "ended"
        elif placed.release_requested_by is not None:
            state = f"release asked by {placed.release_requested_by}, awaiting a second approval"
        else:
            state = "standing"
        click.echo(
            f"{placed.id:>4}  {placed.covers}  until {placed.until or 'released'}  "
            f"placed by {placed.placed_by} {placed.placed_at:%Y-%m-%d}  {state}  reason: {placed.reason}"
        )


@hold.command("release")
@click.argument("hold_id", type=int)
@click.option("--by", "by", required=True, help="The compliance user asking for the release.")
@click.pass_obj
@user_errors
def hold_release(settings: Settings, hold_id: int, by: str) -> None:
    """Ask for a hold's release; a different compliance user approves it (`hold approve-release`)."""
    from storage.holds import principal_for_command_line, request_release

    db = open_db(settings)
    request_release(db, principal_for_command_line(db, by), hold_id)
    click.echo(f"release of hold {hold_id} asked for; it stands until another compliance user approves")


@hold.command("approve-release")
@click.argument("hold_id", type=int)
@click.option("--by", "by", required=True, help="A compliance user other than the one who asked.")
@click.pass_obj
@user_errors
def hold_approve_release(settings: Settings, hold_id: int, by: str) -> None:
    """Approve a release asked for by another compliance user: the hold ends."""
    from storage.holds import approve_release, principal_for_command_line

    db = open_db(settings)
    approve_release(db, principal_for_command_line(db, by), hold_id)
    click.echo(f"hold {hold_id} released")


# --- earshot retention ----------------------------------------------------------------------------


@click.group()
def retention() -> None:
    """Retention policies: how long each channel's conversations are kept."""


@retention.command("show")
@click.pass_obj
@user_errors
def retention_show(settings: Settings) -> None:
    """Every policy: id, what it covers, days kept, what goes after, who set it."""
    from storage.retention import list_policies

    policies = list_policies(open_db(settings), None)
    for policy in policies:
        click.echo(
            f"{policy.id:>4}  {policy.covers}: keep {policy.keep_days} day(s), then delete {policy.delete}"
            f"  (set by {policy.set_by} {policy.set_at:%Y-%m-%d})"
        )
    if not policies:
        click.echo("no retention policies: everything is kept", err=True)


@retention.command("set")
@click.argument("channel")
@click.argument("keep_days", type=int)
@click.option(
    "--direction", type=click.Choice(["inbound", "outbound", "internal"]), help="Only this direction."
)
@click.option("--agent", help="Only this agent's conversations (the agent's name as stored).")
@click.option(
    "--delete",
    "deletes",
    type=click.Choice(["everything", "audio"]),
    default="everything",
    show_default=True,
    help="What goes after KEEP_DAYS: everything, or a call's audio only (the transcript stays).",
)
@click.pass_obj
@user_errors
def retention_set(
    settings: Settings, channel: str, keep_days: int, direction: str | None, agent: str | None, deletes: str
) -> None:
    """Keep CHANNEL's conversations (call, chat, email, whatsapp, ...) KEEP_DAYS days."""
    from storage.retention import set_policy

    db = open_db(settings)
    policy = set_policy(db, None, channel, keep_days, deletes, direction=direction, agent=agent)  # type: ignore[arg-type]
    click.echo(
        f"policy {policy.id}: {policy.covers}: keep {policy.keep_days} day(s), then delete {policy.delete}"
    )


@retention.command("remove")
@click.argument("policy_id", type=int)
@click.pass_obj
@user_errors
def retention_remove(settings: Settings, policy_id: int) -> None:
    """Remove a policy (ids in `retention show`): what it covered is kept, or goes by a broader policy."""
    from storage.retention import remove_policy

    remove_policy(open_db(settings), None, policy_id)
    click.echo(f"policy {policy_id} removed")


@retention.command("apply")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@click.pass_obj
@user_errors
def retention_apply(settings: Settings, dry_run: bool) -> None:
    """Delete what the policies say has been kept long enough; held conversations are kept."""
    from storage.retention import apply_retention

    run = apply_retention(
        open_db(settings),
        settings.blob_store(),
        None,
        dry_run=dry_run,
    )
    _report(run.everything, "retention")
    _report(run.audio_only, "retention (audio only)")
