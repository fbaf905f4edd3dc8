"""Chat and e-mail threads redacted before they are stored, as a call's words are: the text a
customer typed ("my card is 4111 ...") goes through the same detection, so the index, the pages
and the exports never hold it. Subjects and quoted earlier mail are text a customer wrote too."""

from __future__ import annotations

from dataclasses import replace

from recorder.threads import ImportBatch, ImportedMessage, ImportedThread
from transcribe.redaction.entities import RedactionOptions
from transcribe.redaction.text import redact_text


def redacted_batch(batch: ImportBatch, options: RedactionOptions) -> ImportBatch:
    """``batch`` with every message's body, quoted text and subject redacted."""
    if not options.entities:
        return batch
    return replace(batch, threads=tuple(_thread(thread, options) for thread in batch.threads))


def _thread(thread: ImportedThread, options: RedactionOptions) -> ImportedThread:
    return replace(
        thread,
        subject=_text(thread.subject, options),
        messages=tuple(_message(message, options) for message in thread.messages),
    )


def _message(message: ImportedMessage, options: RedactionOptions) -> ImportedMessage:
    return replace(
        message,
        body=redact_text(message.body, options).text,
        quoted=_text(message.quoted, options),
        subject=_text(message.subject, options),
    )


def _text(text: str | None, options: RedactionOptions) -> str | None:
    return None if text is None else redact_text(text, options).text
