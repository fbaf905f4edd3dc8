"""Chat import on one small realistic export per format (tests/fixtures/threads) and damaged copies."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from recorder.chat_import import UnknownChatFormat, read_chat
from recorder.threads import Attachment, IdentityRef, ImportBatch

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "threads"
FILES = {
    "generic": FIXTURES / "generic_chat.json",
    "chatwoot": FIXTURES / "chatwoot.json",
    "zendesk": FIXTURES / "zendesk.json",
    "trengo": FIXTURES / "trengo.json",
}


def load(format: str) -> Any:
    return json.loads(FILES[format].read_text(encoding="utf-8"))


def damaged(tmp_path: Path, format: str, damage: Callable[[Any], None]) -> Path:
    data = load(format)
    damage(data)
    path = tmp_path / f"damaged-{format}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_generic_format() -> None:
    batch = read_chat([FILES["generic"]], "generic")
    assert batch.problems == ()
    whatsapp, web = batch.threads
    assert (whatsapp.channel, whatsapp.provider, whatsapp.provider_id) == (
        "whatsapp",
        "generic",
        "wa-2024-0517-001",
    )
    assert whatsapp.customer_identities == (
        IdentityRef("phone", "+31 6 1234 5678"),
        IdentityRef("chat_handle", "anna.dv", "whatsapp"),
        IdentityRef("customer_number", "C-10442"),
    )
    assert (whatsapp.customer_name, whatsapp.agent) == ("Anna de Vries", "Sam Jansen")
    first, second = whatsapp.messages
    assert first.sent_at == datetime(2024, 5, 17, 7, 30, tzinfo=UTC)  # +02:00 in the file
    assert whatsapp.started_at == first.sent_at
    assert first.direction == "inbound" and first.author_identities == whatsapp.customer_identities
    assert first.attachments == (Attachment("meter.jpg", 48213, "image/jpeg"),)
    assert (second.direction, second.author, second.author_identities) == ("outbound", "Sam Jansen", ())
    assert web.channel == "chat" and web.customer_identities == (
        IdentityRef("email", "tom.walker@example.com"),
    )
    assert web.messages[0].sent_at == datetime(2024, 5, 21, 14, 2, tzinfo=UTC)


@pytest.mark.parametrize(("size", "expected"), [("48213", 48213), ("9" * 23, None), (-1, None), (True, None)])
def test_an_attachment_size_that_no_file_has_is_unknown(
    tmp_path: Path, size: object, expected: int | None
) -> None:
    path = damaged(
        tmp_path,
        "generic",
        lambda d: d["conversations"][0]["messages"][0]["attachments"][0].update(size=size),
    )
    first = read_chat([path], "generic").threads[0].messages[0]
    assert first.attachments == (Attachment("meter.jpg", expected, "image/jpeg"),)


def test_chatwoot_export() -> None:
    batch = read_chat([FILES["chatwoot"]], "chatwoot")
    assert batch.problems == ()
    whatsapp, widget = batch.threads
    assert (whatsapp.channel, whatsapp.provider_id, whatsapp.agent) == ("whatsapp", "2291", "Marek Zielinski")
    assert whatsapp.customer_identities == (IdentityRef("phone", "+48601234567"),)
    assert whatsapp.started_at == datetime(2024, 5, 15, 8, 0, tzinfo=UTC)  # created_at 1715760000
    # the activity line (type 2) and the private note are not customer contact
    assert [(m.provider_message_id, m.direction) for m in whatsapp.messages] == [
        ("90001", "inbound"),
        ("90004", "outbound"),
        ("90005", "inbound"),
    ]
    photo = whatsapp.messages[2]
    assert photo.body == "" and photo.attachments == (Attachment("zdjęcie_czajnika.jpg", 120344, None),)
    assert widget.channel == "chat"
    assert widget.customer_identities == (
        IdentityRef("email", "jan.visser@example.nl"),
        IdentityRef("customer_number", "crm-55731"),
    )
    assert [m.direction for m in widget.messages] == ["outbound", "inbound"]  # the greeting template is ours


def test_zendesk_export() -> None:
    batch = read_chat([FILES["zendesk"]], "zendesk")
    assert batch.problems == ()
    (ticket,) = batch.threads
    assert (ticket.channel, ticket.provider_id, ticket.subject) == (
        "whatsapp",
        "4512",
        "Storing internet Utrecht",
    )
    assert ticket.customer_identities == (
        IdentityRef("phone", "+31612340000"),
        IdentityRef("email", "jan.visser@example.nl"),
        IdentityRef("customer_number", "crm-55731"),
    )
    assert (ticket.customer_name, ticket.agent) == ("Jan Visser", "Sam Jansen")
    question, answer = ticket.messages  # the private comment 31002 is left out
    assert (question.provider_message_id, question.direction, question.author) == (
        "31001",
        "inbound",
        "Jan Visser",
    )
    assert (answer.direction, answer.author) == ("outbound", "Sam Jansen")
    assert answer.body == "Beste Jan,\n\nEr is een storing in Utrecht. Zie de kaart in de bijlage."
    assert answer.sent_at == datetime(2024, 5, 22, 8, 7, 30, tzinfo=UTC)
    assert answer.attachments == (Attachment("storingskaart.png", 20480, "image/png"),)


def test_trengo_export() -> None:
    batch = read_chat([FILES["trengo"]], "trengo")
    assert batch.problems == ()
    (ticket,) = batch.threads
    assert (ticket.channel, ticket.provider_id, ticket.agent) == ("whatsapp", "731700402", "Lotte de Boer")
    assert ticket.customer_identities == (IdentityRef("phone", "+31687654321"),)
    question, answer = ticket.messages  # the NOTE is left out
    assert (question.direction, question.author) == ("inbound", "Piet Bakker")
    # "2024-05-23 10:24:40" is Amsterdam summer time: the ticket's own ISO UTC time is the same instant.
    assert question.sent_at == ticket.started_at == datetime(2024, 5, 23, 8, 24, 40, tzinfo=UTC)
    assert answer.sent_at == datetime(2024, 5, 23, 8, 29, 15, tzinfo=UTC)
    assert answer.body == "Goedemorgen Piet,\n\nHet nieuwe bedrag is € 142 per maand, de brief volgt."
    assert answer.attachments == (Attachment("jaaroverzicht-2024.pdf", 183422, "application/pdf"),)


def test_trengo_times_are_amsterdam_wall_clock_in_winter_too_unless_told_otherwise(tmp_path: Path) -> None:
    def winter(data: Any) -> None:
        for message in data["data"][0]["messages"]["data"]:
            message["created_at"] = message["created_at"].replace("2024-05-23", "2024-01-10")

    path = damaged(tmp_path, "trengo", winter)
    (ticket,) = read_chat([path], "trengo").threads
    assert ticket.messages[0].sent_at == datetime(2024, 1, 10, 9, 24, 40, tzinfo=UTC)  # CET: one hour
    (told,) = read_chat([path], "trengo", ZoneInfo("Europe/London")).threads
    assert told.messages[0].sent_at == datetime(2024, 1, 10, 10, 24, 40, tzinfo=UTC)


CAPTION = "Zo ziet de meter eruit"
PHOTO = {"id": 91, "client_name": "IMG-20240523-WA0004.jpg", "size": 48213, "mime_type": "image/jpeg"}


@pytest.mark.parametrize(
    ("fields", "body"),
    [
        ({"message": "Image", "caption": CAPTION}, CAPTION),
        ({"message": "Image", "meta": {"caption": CAPTION}}, CAPTION),
        ({"message": "", "attachments": [{**PHOTO, "caption": CAPTION}]}, CAPTION),
        ({"message": "Kijk:", "caption": CAPTION}, f"Kijk:\n{CAPTION}"),
        ({"message": "Image"}, "Image"),
    ],
)
def test_a_trengo_picture_keeps_the_customer_s_caption_as_its_text(
    tmp_path: Path, fields: dict[str, Any], body: str
) -> None:
    def picture(data: Any) -> None:
        photo = {"id": 3448655701, "type": "INBOUND", "body_type": "IMAGE", "created_at": "2024-05-23 10:25"}
        data["data"][0]["messages"]["data"].insert(1, {**photo, "attachments": [PHOTO], **fields})

    (ticket,) = read_chat([damaged(tmp_path, "trengo", picture)], "trengo").threads
    sent = ticket.messages[1]
    assert (sent.direction, sent.body) == ("inbound", body)
    assert [a.name for a in sent.attachments] == ["IMG-20240523-WA0004.jpg"]


@pytest.mark.parametrize("format", FILES)
def test_importing_twice_gives_the_same_result(format: str) -> None:
    assert read_chat([FILES[format]], format) == read_chat([FILES[format]], format)


def _drop_conversation_id(data: dict[str, Any]) -> None:
    del data["conversations"][0]["id"]


def _drop_message_id(data: dict[str, Any]) -> None:
    del data["conversations"][0]["messages"][0]["id"]


def _bad_direction(data: dict[str, Any]) -> None:
    data["conversations"][1]["messages"][0]["direction"] = "incoming"


def _bad_time(data: dict[str, Any]) -> None:
    data["conversations"][1]["messages"][1]["sent_at"] = "yesterday"


def _time_beyond_year_9999_in_utc(data: dict[str, Any]) -> None:
    data["conversations"][1]["messages"][1]["sent_at"] = "9999-12-31T23:59:59-05:00"


@pytest.mark.parametrize(
    ("damage", "item", "reason", "threads", "messages"),
    [
        (
            _drop_conversation_id,
            "conversation #1",
            "conversation has no 'id', so it could not be recognised on re-import",
            1,
            2,
        ),
        (
            _drop_message_id,
            "conversation wa-2024-0517-001 message #1",
            "message has no 'id', so it could not be recognised on re-import",
            2,
            3,
        ),
        (
            _bad_direction,
            "conversation web-88120 message 1",
            "direction 'incoming' is not inbound or outbound",
            2,
            3,
        ),
        (
            _bad_time,
            "conversation web-88120 message 2",
            "sent_at: 'yesterday' is not an ISO 8601 date and time",
            2,
            3,
        ),
        (
            _time_beyond_year_9999_in_utc,
            "conversation web-88120 message 2",
            "sent_at: 9999-12-31T23:59:59-05:00 is out of range (times must lie between 1900 and 2999)",
            2,
            3,
        ),
    ],
)
def test_a_bad_conversation_or_message_is_a_problem_and_the_rest_imports(
    tmp_path: Path, damage: Callable[[Any], None], item: str, reason: str, threads: int, messages: int
) -> None:
    path = damaged(tmp_path, "generic", damage)
    batch = read_chat([path], "generic")
    assert [(p.source, p.item, p.reason) for p in batch.problems] == [(str(path), item, reason)]
    assert len(batch.threads) == threads
    assert sum(len(t.messages) for t in batch.threads) == messages


@pytest.mark.parametrize(
    ("format", "damage", "item", "reason", "kept"),
    [
        (
            "chatwoot",
            lambda d: d["data"]["payload"][0]["messages"][0].update(message_type=7),
            "conversation 2291 message 90001",
            "message_type 7 is not 0, 1, 2 or 3",
            (2, 4),
        ),
        (
            "chatwoot",
            lambda d: d["data"]["payload"][1].pop("id"),
            "conversation #2",
            "conversation has no 'id', so it could not be recognised on re-import",
            (1, 3),
        ),
        (
            "chatwoot",
            lambda d: d["data"]["payload"][0]["messages"][0].update(created_at=32503680000),
            "conversation 2291 message 90001",
            "created_at: 3000-01-01T00:00:00+00:00 is out of range (times must lie between 1900 and 2999)",
            (2, 4),
        ),
        (
            "chatwoot",
            lambda d: d["data"]["payload"][0]["messages"][0].update(created_at=1e300),
            "conversation 2291 message 90001",
            "created_at: 1e+300 is not a Unix time",
            (2, 4),
        ),
        (
            "zendesk",
            lambda d: d["tickets"][0]["comments"][0].pop("created_at"),
            "ticket 4512 message 31001",
            "no 'created_at' time",
            (1, 1),
        ),
        (
            "trengo",
            lambda d: d["data"][0]["messages"]["data"][0].update(type="CALL"),
            "ticket 731700402 message 3448655700",
            "type 'CALL' is not INBOUND, OUTBOUND or NOTE",
            (1, 1),
        ),
    ],
)
def test_adapters_report_bad_items_and_keep_the_rest(
    tmp_path: Path, format: str, damage: Callable[[Any], None], item: str, reason: str, kept: tuple[int, int]
) -> None:
    batch = read_chat([damaged(tmp_path, format, damage)], format)
    assert [(p.item, p.reason) for p in batch.problems] == [(item, reason)]
    assert (len(batch.threads), sum(len(t.messages) for t in batch.threads)) == kept


def test_unknown_fields_are_ignored(tmp_path: Path) -> None:
    def add_fields(data: dict[str, Any]) -> None:
        data["conversations"][0]["sentiment"] = {"score": 0.2}
        data["conversations"][0]["messages"][0]["reactions"] = ["👍"]
        data["conversations"][0]["messages"][0]["attachments"].append("not an object")

    assert read_chat([damaged(tmp_path, "generic", add_fields)], "generic") == read_chat(
        [FILES["generic"]], "generic"
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"conversations": [', "malformed JSON at line 1 column 20: Expecting value"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply to read (lists or objects inside each other)"),
        ('{"conversations": [{"id": 1e400}]}', "number 1e400 is too large"),
        (
            '{"conversations": [{"id": %s}]}' % ("1" * 5000),
            "number 111111111111...(5000 digits) is too large (the limit is 9223372036854775807)",
        ),
        ("[]", "not a generic export: expected an object with a 'conversations' list, got a list"),
    ],
)
def test_a_bad_file_is_a_problem_and_the_next_file_imports(tmp_path: Path, content: str, reason: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    batch = read_chat([bad, FILES["generic"]], "generic")
    assert [(p.source, p.item, p.reason) for p in batch.problems] == [(str(bad), None, reason)]
    assert len(batch.threads) == 2


def test_a_file_in_the_wrong_format_says_so() -> None:
    batch: ImportBatch = read_chat([FILES["zendesk"]], "trengo")
    assert [p.reason for p in batch.problems] == [
        "not a trengo export: expected an object with a 'data' list, got an object"
    ]


def test_unknown_format_is_refused() -> None:
    with pytest.raises(UnknownChatFormat, match="unknown chat format 'intercom'"):
        read_chat([FILES["generic"]], "intercom")  # type: ignore[arg-type]


def test_a_zendesk_requester_missing_from_the_users_is_the_mail_sender_and_is_reported(
    tmp_path: Path,
) -> None:
    def drop_requester(data: Any) -> None:
        data["users"] = [user for user in data["users"] if user["id"] != 9001]
        data["tickets"][0]["via"] = {
            "channel": "email",
            "source": {
                "from": {"address": "jan.visser@example.nl", "name": "Jan Visser"},
                "to": {},
                "rel": None,
            },
        }

    batch = read_chat([damaged(tmp_path, "zendesk", drop_requester)], "zendesk")
    (ticket,) = batch.threads
    assert (ticket.customer_identities, ticket.customer_name) == (
        (IdentityRef("email", "jan.visser@example.nl"),),
        "Jan Visser",
    )
    assert [(m.direction, m.author) for m in ticket.messages] == [
        ("inbound", "Jan Visser"),
        ("outbound", "Sam Jansen"),
    ]
    [note] = batch.problems
    assert (note.item, note.imported) == ("ticket 4512", True)
    assert "requester 9001 is not among the export's users" in note.reason


def test_a_zendesk_requester_nobody_names_leaves_no_customer_and_says_so(tmp_path: Path) -> None:
    def drop_requester(data: Any) -> None:
        data["users"] = [user for user in data["users"] if user["id"] != 9001]

    batch = read_chat([damaged(tmp_path, "zendesk", drop_requester)], "zendesk")
    (ticket,) = batch.threads
    assert ticket.customer_identities == ()
    [note] = batch.problems
    assert note.imported and "the ticket has no customer" in note.reason


def test_a_zendesk_comment_by_an_unknown_author_is_not_taken_for_the_company(tmp_path: Path) -> None:
    def stranger(data: Any) -> None:
        data["tickets"][0]["comments"][0]["author_id"] = 555

    batch = read_chat([damaged(tmp_path, "zendesk", stranger)], "zendesk")
    (ticket,) = batch.threads
    assert [m.direction for m in ticket.messages] == ["inbound", "outbound"]
    [note] = batch.problems
    assert (note.item, note.imported) == ("ticket 4512 comment 31001", True)
    assert "author 555 is not among the export's users" in note.reason


def test_a_zendesk_admin_who_opened_the_ticket_is_no_customer(tmp_path: Path) -> None:
    def admin_requester(data: Any) -> None:
        data["tickets"][0]["requester_id"] = 7001
        data["tickets"][0]["comments"][0]["author_id"] = 7001
        data["users"][1]["role"] = "admin"

    batch = read_chat([damaged(tmp_path, "zendesk", admin_requester)], "zendesk")
    (ticket,) = batch.threads
    assert (ticket.customer_identities, ticket.customer_name) == ((), None)
    assert [(m.direction, m.author) for m in ticket.messages] == [("outbound", "Sam Jansen")] * 2
    [note] = batch.problems
    assert note.imported and "requester 7001 is admin, not a customer" in note.reason


@pytest.mark.parametrize(
    ("via", "channel"),
    [("api", "ticket"), ("web", "ticket"), ("sample_ticket", "ticket"), ("email", "email")],
)
def test_a_zendesk_ticket_source_is_no_channel(tmp_path: Path, via: str, channel: str) -> None:
    def made_by(data: Any) -> None:
        data["tickets"][0]["via"]["channel"] = via

    (ticket,) = read_chat([damaged(tmp_path, "zendesk", made_by)], "zendesk").threads
    assert ticket.channel == channel
