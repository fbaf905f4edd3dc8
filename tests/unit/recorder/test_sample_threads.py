"""The demo's sample threads import cleanly and belong to the customers of the sample calls."""

from __future__ import annotations

import json

from recorder.chat_import import read_chat
from recorder.email_import import read_email
from tests.paths import REPO, SAMPLE_AUDIO

OWN = ("@earshot-telecom.example",)  # the demo organisation's domain


def test_sample_threads_belong_to_the_sample_callers() -> None:
    emails = read_email([REPO / "sample_threads" / "emma_refund.mbox"], own_addresses=OWN)
    chats = read_chat([REPO / "sample_threads" / "chats.json"], "generic")
    assert emails.problems == () and chats.problems == ()
    sidecars = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(SAMPLE_AUDIO.glob("*.json"))]
    call_customers = {s["customer"]["email"] for s in sidecars if "customer" in s}
    call_numbers = {s.get("customer", {}).get("number") or s.get("customer_number") for s in sidecars}
    (email_thread,) = emails.threads
    assert {i.value for i in email_thread.customer_identities} <= call_customers
    assert [m.direction for m in email_thread.messages] == ["outbound", "inbound", "outbound"]
    emma_chat = next(t for t in chats.threads if t.customer_name == "Emma de Vries")
    assert {i.value for i in emma_chat.customer_identities} & (call_customers | call_numbers)
