"""Calls: the synced player, with comments pinned to moments, scoring, speaker corrections and export.

Opening a call goes through ``storage.guarded.replay_call``, which checks the role and writes the
audit log; the result is kept in the session per call, so reruns (a comment typed, a score given)
neither reload the call nor log it again.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import streamlit as st

from review_app import context
from review_app.audio_links import audio_url, signing_key
from review_app.config import app_settings
from review_app.followup_panel import call_panel
from review_app.formatting import clock, role_basis, speaker_names, when
from review_app.insight_panes import insights_pane, summary_pane
from review_app.player import Marker, SeekRequest, call_player, transcript_payload
from review_app.reasons_panel import contact_reasons_panel
from review_app.safe_text import md, show_error
from review_app.scoring import score_badge, scoring_panel, status_badge
from review_app.survey_badges import show_answers
from review_app.waveform import served_waveform
from storage import guarded
from storage.access import Permission, Principal, allows
from storage.assignments import assign_call, call_assignee, list_reviewers
from storage.contact_reasons import call_conversation
from storage.db import Database
from storage.errors import InvalidValue, NotFound, PermissionDenied
from storage.limits import COMMENT_MAX_CHARS, SPEAKER_NAME_MAX_CHARS
from storage.quality import (
    CallCommentView,
    add_call_comment,
    delete_call_comment,
    edit_call_comment,
    list_call_comments,
    list_evaluations,
)
from storage.survey_answers import answers_of_call
from transcribe.formats import FORMATS
from transcribe.metrics import call_metrics
from transcribe.types import ROLES

_OPEN = "call.open"  # the recording id shown
_SEEK = "call.seek"  # the SeekRequest for the player, if any
_REPLAYS = "call.replays"  # recording id -> CallReplay
_LINKS = "call.links"  # recording id -> (audio url, issued at)
_RECENT = "call.recent"  # recording ids opened in this session, newest first
_PIN = "call.pin"  # (recording id, where playback was when the coach began a comment)
_AUDIO_EXPORT = "call.audio_export"  # the PreparedAudio of the last "Prepare audio"
_COMMENT_LABEL = "Comment"  # fixed: the player watches the box by it, and the box keeps its text
# px under the player: its frame's container (~10) and the page's bottom padding (16, theme.css)
_BELOW_PLAYER = 28

who = context.require_page(Permission.REPLAY_CALLS)
db = context.database()

request = context.take_call_request()
if request is not None:
    st.session_state[_OPEN] = request.recording_id
    st.session_state[_SEEK] = SeekRequest(request.at, request.serial) if request.at is not None else None
    recent = [request.recording_id] + [
        r for r in st.session_state.get(_RECENT, []) if r != request.recording_id
    ]
    st.session_state[_RECENT] = recent[:20]


def _pick_call() -> int | None:
    """The call shown. Calls are picked on the Call list (coaches and up), from a customer's history,
    or by a link; this page holds no list of its own."""
    current = st.session_state.get(_OPEN)
    if current is not None:
        return current
    if allows(who, Permission.VIEW_ALL_CALLS):
        st.info("Pick a call on the **Call list**, or let it choose the next call to review.")
        if st.button("Open the call list", icon=":material/format_list_bulleted:"):
            st.switch_page(context.CALL_LIST_PAGE)
        return None
    st.info("Look a customer up on the **Customers** page and open a call from their history.")
    if st.button("Find a customer", icon=":material/person_search:"):
        st.switch_page(context.CUSTOMER_PAGE)
    return None


def _replay(recording_id: int) -> guarded.CallReplay:
    replays = st.session_state.setdefault(_REPLAYS, {})
    if recording_id not in replays:
        replays[recording_id] = guarded.replay_call(db, who, recording_id, context.blob_store())
    return replays[recording_id]


def _audio_link(recording_id: int) -> tuple[str, float]:
    """A link to the call's audio and the seconds it has left. Links live minutes: one past half its
    life is replaced at the next rerun, and the player asks for a rerun before its link runs out
    (a reviewer who only listens makes none)."""
    settings = app_settings()
    lifetime = settings.audio_link_seconds
    links = st.session_state.setdefault(_LINKS, {})
    url, issued = links.get(recording_id, (None, 0.0))
    now = time.time()
    if url is None or now - issued > lifetime / 2:
        url, issued = audio_url(signing_key(settings), recording_id, who, lifetime, now), now
        links[recording_id] = (url, issued)
    return url, issued + lifetime - now


def _seek_to(at: float) -> None:
    st.session_state[_SEEK] = SeekRequest(at, context.next_serial())


def _own_comment_controls(db: Database, who: Principal, comment: CallCommentView) -> None:
    """Its author corrects or removes a comment (the services refuse anyone else)."""
    with st.popover("Edit", icon=":material/edit:"):
        with st.form(f"edit-{comment.id}", border=False):
            text = st.text_area(
                "Edit comment", value=comment.text, max_chars=COMMENT_MAX_CHARS, key=f"edit-text-{comment.id}"
            )
            shared = st.checkbox("Share with the agent of this call", value=comment.visibility == "agent")
            if st.form_submit_button("Save", icon=":material/save:"):
                try:
                    edit_call_comment(db, who, comment.id, text, "agent" if shared else "coaches")
                except (InvalidValue, PermissionDenied, NotFound) as error:
                    show_error(error)
                else:
                    st.rerun()
        if st.button("Delete this comment", key=f"delete-{comment.id}", icon=":material/delete:"):
            try:
                delete_call_comment(db, who, comment.id)
            except (PermissionDenied, NotFound) as error:
                show_error(error)
            else:
                st.rerun()


def _assignment(recording_id: int) -> None:
    """Who reviews this call: a coach gives it to a coach (or to nobody); "Next call to review"
    offers a coach their own calls first."""
    assignee = call_assignee(db, who, recording_id)
    label = f"Assigned to {md(assignee.username)}" if assignee else "Assign to a coach"
    with st.popover(label, icon=":material/assignment_ind:"):
        reviewers = {r.user_id: r.username for r in list_reviewers(db, who)}
        choices: list[int | None] = [None, *reviewers]
        chosen = st.selectbox(
            "Coach",
            choices,
            index=choices.index(assignee.user_id) if assignee and assignee.user_id in reviewers else 0,
            format_func=lambda user_id: "Nobody" if user_id is None else reviewers[user_id],
            key=f"assignee-{recording_id}",
        )
        if st.button("Save assignment", icon=":material/save:", key=f"assign-{recording_id}"):
            try:
                assign_call(db, who, recording_id, chosen)
            except (InvalidValue, NotFound, PermissionDenied) as error:
                show_error(error)
            else:
                st.rerun()


@dataclass(frozen=True)
class PreparedAudio:
    """An audio export made (and audited) by a click, kept for its download button."""

    recording_id: int
    export: guarded.AudioExport
    data: bytes
    asked_for_original: bool


def _audio_export(recording_id: int) -> None:
    """The call's audio as a file: the redacted copy unless the user holds the unredacted grant,
    asks for the original and says why. Prepared on a click (that is the audited export) and kept
    for the download, so reruns neither read the file again nor log it again."""
    st.markdown("**Audio**")
    reason = None
    if allows(who, Permission.READ_UNREDACTED) and st.checkbox(
        "Original audio, not the redacted copy", key="audio-export-original"
    ):
        reason = st.text_input(
            "Why the original is needed",
            placeholder="A case or ticket number and why",
            key="audio-export-reason",
        )
    if st.button("Prepare audio", icon=":material/graphic_eq:"):
        try:
            export = guarded.export_audio(
                db, who, recording_id, context.blob_store(), unredacted_reason=reason
            )
        except (InvalidValue, NotFound, PermissionDenied) as error:
            st.session_state.pop(_AUDIO_EXPORT, None)  # never offer an earlier copy under a refusal
            show_error(error)
        else:
            data = export.path.read_bytes()
            st.session_state[_AUDIO_EXPORT] = PreparedAudio(recording_id, export, data, reason is not None)
    prepared: PreparedAudio | None = st.session_state.get(_AUDIO_EXPORT)
    if prepared is not None and prepared.recording_id == recording_id:
        export = prepared.export
        if export.copy == "redacted":
            st.caption("The redacted copy: a tone covers what redaction found.")
        elif prepared.asked_for_original:
            st.caption("The original audio, as recorded; your reason is in the audit log.")
        else:
            st.caption("Nothing in this call was redacted: this is the audio as recorded.")
        st.download_button(
            f"Download {export.file_name}",
            prepared.data,
            file_name=export.file_name,
            icon=":material/file_download:",
            key="audio-export-download",
        )


st.title("Calls")
recording_id = _pick_call()
if recording_id is None:
    st.stop()
try:
    replay = _replay(recording_id)
    url, url_seconds_left = _audio_link(recording_id)
except (NotFound, PermissionDenied) as error:
    show_error(error)
    st.stop()
call = replay.recording
transcript = replay.transcript

st.markdown(f"### {md(call.customer or 'Unknown customer')} :gray[with {md(call.agent or 'no agent')}]")
figures = ""
if transcript is not None:
    # On the caption's line, not as metric tiles: on a laptop screen the height goes to the transcript.
    metrics = call_metrics(transcript)
    talk = f"{metrics.talk_ratio:.0%}" if metrics.talk_ratio is not None else "—"
    figures = (
        f" · Agent talk share **{talk}** · Silence **{metrics.silence_share:.0%}** · Interruptions: "
        f"agent **{metrics.agent_interruptions}**, customer **{metrics.customer_interruptions}**"
    )
st.caption(
    md(
        f"{when(call.started_at)} · {clock(call.duration)} · {call.original_name} · "
        + (f"transcribed automatically ({transcript.language})" if transcript else "")
        + ("" if transcript else f"not transcribed yet ({call.job_status or 'no job'})")
    )
    + figures,
    # The models mean something to whoever runs Earshot, nothing to a coach: a tooltip, not the caption.
    help=md("Models: " + ", ".join(f"{k} {v}" for k, v in transcript.models.items())) if transcript else None,
)
show_answers(answers_of_call(db, who, recording_id))  # the customer's survey verdict on this call

comments = list_call_comments(db, who, recording_id)
player_column, side_column = st.columns([2.3, 1], gap="medium")
with player_column:
    payload_key = f"{recording_id}:{call.sha256}:" + ",".join(
        f"{s.label}={s.role}/{s.display_name}" for s in (transcript.speakers if transcript else ())
    )
    payload_cache = st.session_state.setdefault("call.payloads", {})
    if payload_cache.get("key") != payload_key:
        payload_cache.clear()
        payload_cache.update(
            key=payload_key,
            payload=transcript_payload(transcript) if transcript else {"speakers": [], "utterances": []},
        )
    event = call_player(
        audio_url=url,
        audio_seconds_left=url_seconds_left,
        duration=call.duration,
        payload=payload_cache["payload"],
        payload_key=payload_key,
        markers=[Marker(c.at_seconds, c.text[:60]) for c in comments],
        waveform=served_waveform(replay.audio_path, replay.audio_sha256, app_settings().playback_dir),
        seek=st.session_state.get(_SEEK),
        comment_label=_COMMENT_LABEL if allows(who, Permission.COMMENT_CALLS) else None,
        fit_margin=_BELOW_PLAYER,
        key=f"player-{recording_id}",
    )
seek = st.session_state.get(_SEEK)
position = event.at if event is not None else (seek.at if seek is not None else 0.0)
if event is not None and event.event == "typing":
    st.session_state[_PIN] = (recording_id, event.at)
pinned = st.session_state.get(_PIN)
pin_at = pinned[1] if pinned is not None and pinned[0] == recording_id else position
context.show_in_address(context.CALL_PAGE, id=recording_id, t=round(seek.at, 1) if seek else None)

with side_column:
    # Here, not under the player: the player takes the window's height down to its bottom edge, so
    # anything under it would make the page scroll as well as the transcript.
    with st.container(horizontal=True):
        with st.popover("Link to this moment", icon=":material/link:"):
            st.caption(
                f"Opens this call at {clock(position)} for anyone allowed to replay it, after sign-in."
            )
            link = context.address_of(context.CALL_PAGE, id=recording_id, t=round(position, 1))
            st.code(link, language=None)
        if allows(who, Permission.SCORE_CALLS):
            _assignment(recording_id)
    tabs = ["Comments"]
    if allows(who, Permission.SCORE_CALLS):
        tabs.append("Scorecard")
    else:
        tabs.append("Evaluations")
    if transcript is not None:
        tabs += ["Summary", "Insights"]
    if allows(who, Permission.COMMENT_CALLS) and transcript is not None:
        tabs.append("Speakers")
    if allows(who, Permission.EXPORT):
        tabs.append("Export")
    if allows(who, Permission.LOOKUP_CUSTOMERS):
        tabs.append("Reason")
    tabs.append("Follow-ups")
    panes = dict(zip(tabs, st.tabs(tabs), strict=True))

    with panes["Comments"]:
        if allows(who, Permission.COMMENT_CALLS):
            st.caption(f"Comment at {clock(pin_at)}: where the call was when you began writing.")
            with st.form("comment", clear_on_submit=True, border=False):
                text = st.text_area(
                    _COMMENT_LABEL,
                    placeholder="Write while the call plays: the comment is pinned where you began.",
                    height=80,
                    max_chars=COMMENT_MAX_CHARS,
                    key="comment-text",
                    label_visibility="collapsed",
                )
                shared = st.checkbox(
                    "Share with the agent of this call",
                    help="Unshared comments are read by coaches, compliance and admins only.",
                )
                if st.form_submit_button("Pin comment", icon=":material/push_pin:"):
                    try:
                        add_call_comment(
                            db, who, recording_id, pin_at, text, "agent" if shared else "coaches"
                        )
                    except InvalidValue as error:
                        show_error(error)
                    else:
                        st.session_state.pop(_PIN, None)
                        st.rerun()
        if not comments:
            st.caption("No comments on this call yet.")
        for comment in comments:  # in call order
            # The moment on its own line: beside the text, a narrow side column cut it to its icon.
            if st.button(clock(comment.at_seconds), key=f"c{comment.id}", icon=":material/play_arrow:"):
                _seek_to(comment.at_seconds)
                st.rerun()
            shared_mark = (
                " · :material/visibility: shared with the agent" if comment.visibility == "agent" else ""
            )
            edited_mark = f" · edited {md(when(comment.edited_at))}" if comment.edited_at else ""
            st.caption(f"**{md(comment.author)}** · {md(when(comment.created_at))}{edited_mark}{shared_mark}")
            st.text(comment.text)
            if comment.author == who.username:
                _own_comment_controls(db, who, comment)

    if "Scorecard" in panes:
        with panes["Scorecard"]:
            scoring_panel(db, who, recording_id)
    if "Evaluations" in panes:
        with panes["Evaluations"]:
            evaluations = list_evaluations(
                db, who, recording_id=recording_id, audited=context.audited_reads("evaluations_listed")
            )
            if not evaluations:
                st.caption("No evaluations of this call for you.")
            for evaluation in evaluations:
                badges = f"{score_badge(evaluation.score)} {status_badge(evaluation.status)}"
                st.markdown(f"{md(evaluation.form_name)}: {badges}")
            if evaluations:
                st.page_link("views/quality.py", label="Open in Quality", icon=":material/fact_check:")

    if transcript is not None:
        with panes["Summary"]:
            summary_pane(db, who, recording_id, transcript, _seek_to)
        with panes["Insights"]:
            insights_pane(db, who, recording_id, transcript)

    if "Speakers" in panes and transcript is not None:
        with panes["Speakers"]:
            st.caption("Correct who a voice is; the transcript, search filters and exports follow.")
            with st.form("speakers", border=False):
                corrections = []
                names = speaker_names(transcript.speakers)
                for speaker in transcript.speakers:
                    st.markdown(f"**{md(names[speaker.label])}** · {md(speaker.label)}")
                    if basis := role_basis(speaker):
                        st.caption(basis)
                    left, right = st.columns(2)
                    role = left.selectbox(
                        "Role",
                        [None, *ROLES],
                        index=([None, *ROLES]).index(speaker.role),
                        format_func=lambda r: "unknown" if r is None else r,
                        key=f"role-{recording_id}-{speaker.label}",
                    )
                    name = right.text_input(
                        "Name",
                        value=speaker.display_name or "",
                        max_chars=SPEAKER_NAME_MAX_CHARS,
                        key=f"name-{recording_id}-{speaker.label}",
                    )
                    corrections.append((speaker.label, role, name.strip() or None))
                if st.form_submit_button("Save speakers", icon=":material/save:"):
                    try:
                        for label, role, display_name in corrections:
                            guarded.correct_speaker(db, who, recording_id, label, role, display_name)
                    except InvalidValue as error:
                        show_error(error)
                    else:
                        # The new names need the transcript again; the audio link stays, so playback goes on.
                        replays = st.session_state[_REPLAYS]
                        fresh = guarded.view_transcript(db, who, recording_id)
                        replays[recording_id] = dataclasses.replace(replays[recording_id], transcript=fresh)
                        st.rerun()

    if "Export" in panes:
        with panes["Export"]:
            if transcript is not None:
                st.markdown("**Transcript**")
                fmt = st.selectbox("Format", list(FORMATS), key="export-format")
                if st.button("Prepare export", icon=":material/download:"):
                    st.session_state["call.export"] = (
                        recording_id,
                        fmt,
                        guarded.export_transcript(db, who, recording_id, fmt),
                    )
                prepared = st.session_state.get("call.export")
                if prepared and prepared[0] == recording_id:
                    st.download_button(
                        f"Download .{prepared[1]}",
                        prepared[2],
                        file_name=f"call-{recording_id}.{prepared[1]}",
                        icon=":material/file_download:",
                    )
            _audio_export(recording_id)

    if "Reason" in panes:
        with panes["Reason"]:
            contact_reasons_panel(db, who, call_conversation(db, recording_id), "call")
    with panes["Follow-ups"]:
        call_panel(db, who, recording_id)
