"""``earshot reasons``: the contact reason and outcome of conversations. The admin's label sets and
rules, a conversation's suggestion and the label a person gives it, and training the model.

Run by whoever holds the database (the audit log names it "(command line)"). A CONVERSATION is the
id ``earshot history`` shows ("conversation 12"), or a call's id-less reference: its file name or
SHA-256 prefix.
"""

from __future__ import annotations

import click

from earshot.cli_common import UserError, open_db, user_errors
from earshot.settings import Settings

LABEL_SET = click.Choice(["reason", "outcome"])


@click.group()
def reasons() -> None:
    """Contact reason and outcome: rules suggest them from day one, a model trained on people's
    labels takes over once enough conversations are labelled."""


@reasons.command("define")
@click.argument("label_set", metavar="reason|outcome", type=LABEL_SET)
@click.argument("name")
@click.pass_obj
@user_errors
def define(settings: Settings, label_set: str, name: str) -> None:
    """Add NAME to a label set (a label with no rule: people label it, the model learns it)."""
    from storage.contact_reasons import define_label

    label = define_label(open_db(settings), None, label_set, name)
    click.echo(f"{label.label_set} {label.name!r} defined")


@reasons.command("labels")
@click.pass_obj
@user_errors
def labels(settings: Settings) -> None:
    """Every label with its labelled conversations and rules, and each set's current model."""
    from storage.contact_reasons import label_counts, latest_models
    from storage.db import read_scope

    db = open_db(settings)
    click.echo(f"{'SET':8} {'LABEL':32} {'LABELLED':>8} {'RULES':>5}")
    for count in label_counts(db, None):
        click.echo(f"{count.label.label_set:8} {count.label.name:32} {count.labelled:>8} {count.rules:>5}")
    with read_scope(db) as session:
        models = latest_models(session)
    for label_set, model in sorted(models.items()):
        click.echo(
            f"{label_set} model v{model.version}: cross-validated accuracy {model.accuracy:.2f} "
            f"({model.folds} folds, {model.examples} conversations, "
            f"trained {model.trained_at:%Y-%m-%d %H:%M} UTC)"
        )


@reasons.group()
def rule() -> None:
    """The admin's rules: a search (phrases, AND/OR/NOT, NEAR, prefix*) that suggests a label."""


@rule.command("add")
@click.option("--reason", "reason", help="The reason the rule suggests.")
@click.option("--outcome", "outcome", help="The outcome the rule suggests.")
@click.argument("query")
@click.pass_obj
@user_errors
def rule_add(settings: Settings, reason: str | None, outcome: str | None, query: str) -> None:
    """Suggest --reason (or --outcome) for conversations QUERY matches, e.g. '"charged twice" OR refund*'."""
    from storage.contact_reasons import add_rule

    if (reason is None) == (outcome is None):
        raise click.UsageError("give either --reason or --outcome")
    label_set, name = ("reason", reason) if reason is not None else ("outcome", outcome)
    added = add_rule(open_db(settings), None, label_set, name or "", query)
    click.echo(f"rule {added.id}: {added.label.label_set} {added.label.name!r} when {added.query}")


@rule.command("list")
@click.pass_obj
@user_errors
def rule_list(settings: Settings) -> None:
    """Every rule by label set and label."""
    from storage.contact_reasons import list_rules

    click.echo(f"{'ID':>4} {'SET':8} {'LABEL':24} QUERY")
    for found in list_rules(open_db(settings), None):
        click.echo(f"{found.id:>4} {found.label.label_set:8} {found.label.name:24} {found.query}")


@rule.command("remove")
@click.argument("rule_id", type=int)
@click.pass_obj
@user_errors
def rule_remove(settings: Settings, rule_id: int) -> None:
    """Delete rule RULE_ID (its label and the labels people gave stay)."""
    from storage.contact_reasons import remove_rule

    removed = remove_rule(open_db(settings), None, rule_id)
    click.echo(f"rule {removed.id} removed ({removed.label.label_set} {removed.label.name!r})")


@reasons.command("suggest")
@click.argument("conversation")
@click.pass_obj
@user_errors
def suggest(settings: Settings, conversation: str) -> None:
    """The suggested reason and outcome of CONVERSATION, and what a person chose, if anyone has."""
    from earshot.reason_suggestions import suggest as suggest_for
    from storage.contact_reasons import LABEL_SETS, labelling_of

    db = open_db(settings)
    thread_id = _conversation(db, conversation)
    found = suggest_for(db, settings, None, thread_id)
    chosen = labelling_of(db, None, thread_id)
    for label_set in LABEL_SETS:
        suggestion = found.get(label_set)
        line = f"{label_set}: " + (
            f"{suggestion.label} (by {suggestion.basis}"
            + (f", probability {suggestion.probability:.2f})" if suggestion.probability is not None else ")")
            if suggestion
            else "no suggestion"
        )
        given = getattr(chosen, label_set) if chosen else None
        click.echo(line + (f"; labelled {given} by {chosen.labelled_by}" if chosen and given else ""))


@reasons.command("label")
@click.argument("conversation")
@click.option("--reason", help="The conversation's contact reason (a defined one).")
@click.option("--outcome", help="The conversation's outcome (a defined one).")
@click.pass_obj
@user_errors
def label(settings: Settings, conversation: str, reason: str | None, outcome: str | None) -> None:
    """Give CONVERSATION its reason and/or outcome: what the model learns from and what figures count."""
    from earshot.reason_suggestions import suggest as suggest_for
    from storage.contact_reasons import label_conversation

    db = open_db(settings)
    thread_id = _conversation(db, conversation)
    shown = {s.label_set: s.label for s in suggest_for(db, settings, None, thread_id).values()}
    done = label_conversation(db, None, thread_id, reason=reason, outcome=outcome, suggested=shown)
    click.echo(f"conversation {thread_id}: reason {done.reason or '-'}, outcome {done.outcome or '-'}")


@reasons.command("train")
@click.pass_obj
@user_errors
def train(settings: Settings) -> None:
    """Train the reason and the outcome model on every accepted label; prints each one's measured
    (cross-validated) accuracy. A set with too few labels keeps its rules (exit status 1 if none trained)."""
    from earshot.reason_classifier import NotEnoughLabels
    from earshot.reason_classifier import train as train_set
    from storage.contact_reasons import LABEL_SETS

    db = open_db(settings)
    trained = 0
    for label_set in LABEL_SETS:
        try:
            version, fitted = train_set(db, settings, label_set)
        except NotEnoughLabels as e:
            click.echo(f"{label_set}: not trained: {e}", err=True)
            continue
        trained += 1
        counts = ", ".join(f"{name} {n}" for name, n in fitted.label_counts.items())
        click.echo(
            f"{label_set}: model v{version.version}, cross-validated accuracy {version.accuracy:.2f} "
            f"({version.folds} folds; {counts})"
        )
        if fitted.left_out:
            left = ", ".join(f"{name} {n}" for name, n in fitted.left_out.items())
            click.echo(f"{label_set}: left out, below {settings.reasons_min_per_label} labelled: {left}")
    if not trained:
        raise UserError("no model trained: label more conversations first")


def _conversation(db, reference: str) -> int:
    from storage import services
    from storage.contact_reasons import call_conversation

    if reference.strip().isdigit():
        return int(reference)
    return call_conversation(db, services.find_recording(db, reference).id)
