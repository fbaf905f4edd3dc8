"""Chat and e-mail imports redact what customers typed, as calls redact what they said: the
stored message, the index and the history hold placeholders."""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path

from tests.cli import earshot

CHAT = {
    "conversations": [
        {
            "id": "webchat-1",
            "channel": "chat",
            "customer": {"name": "Anna Bakker", "email": "anna@example.nl"},
            "agent": "Sam Jansen",
            "messages": [
                {
                    "id": "1",
                    "direction": "inbound",
                    "author": "Anna Bakker",
                    "sent_at": "2026-12-01T10:00:00+00:00",
                    "text": "Please charge my card 4519 9619 8391 4549, exp 03/27, CVC 737. Thanks!",
                }
            ],
        }
    ]
}


def _mail(folder: Path) -> Path:
    message = EmailMessage()
    message["From"] = "Anna Bakker <anna@example.nl>"
    message["To"] = "support@earshot-telecom.example"
    message["Subject"] = "Refund to NL91ABNA0417164300"
    message["Date"] = "Tue, 01 Dec 2026 11:00:00 +0000"
    message["Message-ID"] = "<refund-1@example.nl>"
    message.set_content("Hello,\n\nplease refund to my IBAN NL91 ABNA 0417 1643 00.\n\nAnna")
    path = folder / "refund.eml"
    path.write_bytes(message.as_bytes())
    return path


def test_imported_chats_and_mails_are_stored_and_indexed_redacted(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (tmp_path / "chats.json").write_text(json.dumps(CHAT))
    assert earshot(data, "import-chat", str(tmp_path / "chats.json")).exit_code == 0
    own = "@earshot-telecom.example"
    assert earshot(data, "import-email", str(_mail(tmp_path)), "--own-address", own).exit_code == 0

    history = earshot(data, "history", "anna@example.nl").stdout
    assert "Please charge my card [CARD], exp [EXPIRY], CVC [CVC]. Thanks!" in history
    assert "please refund to my IBAN [IBAN]." in history
    assert "4519" not in history and "0417" not in history and "737" not in history
    for digits in ("4519", "9619", "737", "0417", "NL91ABNA0417164300", "ABNA"):
        assert earshot(data, "search", digits, "--json").stdout.strip() == "", digits
    assert earshot(data, "search", "charge", "--json").stdout.strip()  # the messages are indexed


def test_redaction_set_to_none_keeps_what_was_typed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (tmp_path / "chats.json").write_text(json.dumps(CHAT))
    imported = earshot(data, "import-chat", str(tmp_path / "chats.json"), env={"EARSHOT_REDACT": "none"})
    assert imported.exit_code == 0
    assert "4519 9619 8391 4549" in earshot(data, "history", "anna@example.nl").stdout
