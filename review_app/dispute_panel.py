"""A dispute on the Quality page: its exchange in the order written, and the steps the signed-in user
may take in it (``storage.disputes`` checks each again): the agent replies; a coach answers,
re-scores, upholds or resolves."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from review_app import context
from review_app.formatting import when
from review_app.safe_text import md, show_error
from review_app.scoring import answer_inputs, score_badge
from storage.access import Permission, Principal, allows
from storage.db import Database
from storage.disputes import (
    DisputeMessage,
    answer_dispute,
    dispute_history,
    reply_to_dispute,
    rescore_disputed,
    resolve_dispute,
    uphold_dispute,
)
from storage.errors import InvalidValue, PermissionDenied
from storage.limits import COMMENT_MAX_CHARS
from storage.quality import EvaluationView, compute_score

__all__ = ["CLOSED_KEY", "dispute_section"]

CLOSED_KEY = "disputes.closed"  # counts disputes closed here: lists keyed by it start unselected
_HEADINGS = {
    "dispute": "disputed the evaluation",
    "reply": "replied",
    "answer": "answered",
    "rescore": "re-scored the evaluation",
    "upheld": "upheld the score and closed the dispute",
    "resolved": "resolved the dispute",
}
_AVATARS = {"agent": ":material/support_agent:", "coach": ":material/fact_check:"}


def dispute_section(db: Database, who: Principal, view: EvaluationView, where: str) -> None:
    """The dispute of the evaluation ``view`` shows, if it was ever disputed. ``where`` keys the
    widgets, so the same evaluation can show in two tabs."""
    history = dispute_history(db, who, view.summary.id, context.audited_reads("dispute_viewed"))
    if not history:
        return
    st.markdown("**Dispute history**")
    for message in history:
        _message(message)
    if view.summary.status != "disputed":
        return
    own = who.agent_id is not None and who.agent_id == view.summary.agent_id
    # One text box per message sent: a new key after each starts it empty again.
    sent = st.session_state.setdefault(f"disputes.sent.{view.summary.id}", 0)
    key = f"{where}-dispute-{view.summary.id}-{sent}"
    if own:
        _agent_steps(db, who, view, key)
    elif allows(who, Permission.SCORE_CALLS):
        _coach_steps(db, who, view, key, rescored=any(m.kind == "rescore" for m in history))


def _message(message: DisputeMessage) -> None:
    author = message.author or "the agent"
    with st.chat_message(message.side, avatar=_AVATARS[message.side]):
        st.markdown(f"**{md(author)}** {_HEADINGS[message.kind]} · {md(when(message.created_at))}")
        if message.kind == "rescore":
            st.markdown(f"Score {score_badge(message.old_score)} → {score_badge(message.new_score)}")
            for change in message.changes:
                st.markdown(f"- {md(change.question)}: {md(change.before or '—')} → {md(change.after)}")
        if message.text:
            st.text(message.text)


def _agent_steps(db: Database, who: Principal, view: EvaluationView, key: str) -> None:
    evaluation_id = view.summary.id
    text = st.text_area("Your reply", key=f"{key}-text", max_chars=COMMENT_MAX_CHARS)
    if st.button("Send reply", icon=":material/reply:", key=f"{key}-reply"):
        _step(evaluation_id, lambda: reply_to_dispute(db, who, evaluation_id, text))


def _coach_steps(db: Database, who: Principal, view: EvaluationView, key: str, rescored: bool) -> None:
    evaluation_id = view.summary.id
    text = st.text_area(
        "Your message to the agent",
        key=f"{key}-text",
        max_chars=COMMENT_MAX_CHARS,
        help="Needed to answer, re-score or uphold; a note when resolving",
    )
    answer, close = st.columns(2)
    if answer.button("Answer", icon=":material/reply:", key=f"{key}-answer", width="stretch"):
        _step(evaluation_id, lambda: answer_dispute(db, who, evaluation_id, text))
    # A re-scored dispute ends resolved; one that was not, with its score upheld.
    if rescored:
        if close.button(
            "Resolve", type="primary", icon=":material/task_alt:", key=f"{key}-resolve", width="stretch"
        ):
            _step(evaluation_id, lambda: resolve_dispute(db, who, evaluation_id, text), closes=True)
    elif close.button("Uphold score", icon=":material/gavel:", key=f"{key}-uphold", width="stretch"):
        _step(evaluation_id, lambda: uphold_dispute(db, who, evaluation_id, text), closes=True)
    with st.expander("Re-score", icon=":material/edit_note:", key=f"{key}-rescore-open"):
        answers = answer_inputs(view, f"{key}-rescore")
        score = compute_score(view.form, {qid: a.value for qid, a in answers.items()})
        st.markdown(f"Score {score_badge(view.summary.score)} → {score_badge(score)}")
        if st.button("Re-score", type="primary", icon=":material/edit_note:", key=f"{key}-rescore-button"):
            _step(evaluation_id, lambda: rescore_disputed(db, who, evaluation_id, answers, text))


def _step(evaluation_id: int, act: Callable[[], DisputeMessage], closes: bool = False) -> None:
    try:
        act()
    except (InvalidValue, PermissionDenied) as error:
        show_error(error)
        return
    st.session_state[f"disputes.sent.{evaluation_id}"] += 1
    if closes:
        st.session_state[CLOSED_KEY] = st.session_state.get(CLOSED_KEY, 0) + 1
    st.rerun()
