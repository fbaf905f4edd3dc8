"""The transcript JSON's top-level keys, in order: the stable contract that ``earshot transcribe
--format json`` and ``transcribe.formats.to_json`` both promise, written out once for their tests."""

TRANSCRIPT_JSON_KEYS = [
    "duration",
    "language",
    "speakers",
    "utterances",
    "non_speech",
    "turns",
    "options",
    "models",
]
