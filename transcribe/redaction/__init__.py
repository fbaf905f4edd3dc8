"""Redaction of payment data and personal numbers in transcripts and messages.

Spoken numbers are normalised to digits word by word (``spoken``), findings are validated by
their checksums and context (``checksums``, ``detect``) and mapped back to the words that said
them, so a transcript keeps each redacted word's timing (``stage``) and a chat or e-mail message
keeps its layout (``text``). Pure text work: no model, no database.
"""
