"""Bytes from outside as text, trusting a declared charset only as far as it decodes.

Mail clients label text wrongly all the time: UTF-8 sent as ``us-ascii``, GBK sent as ``gb2312``
(which lacks most of GBK's characters), Windows-1252 sent as ``iso-8859-1``. Decoding with the
label and replacing what fails gives mojibake without a word. Here the label is used when the
bytes decode under it cleanly; else the label's customary superset (as browsers read them, WHATWG
Encoding), else UTF-8, else what charset-normalizer (a maintained detector) finds; and each time
the label was not followed, ``Decoded.note`` says how the text was read, for the import report.
Header values the e-mail parser left with raw 8-bit bytes in them (as surrogate escapes; RFC 6532
allows UTF-8 there) are repaired the same way by ``header_text``.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

# Charsets (Python's codec names) that senders use for text in a wider charset, and that wider
# charset, as browsers read the labels (WHATWG Encoding); the wider one decodes the narrow one's
# text the same.
_SUPERSETS = {
    "ascii": "utf-8",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "euc_kr": "cp949",
    "shift_jis": "cp932",
    "big5": "big5hkscs",
}
# What mail and chat text is written in, in practice: the detector chooses among these only, since on
# a short text (a name, a subject) it would otherwise take rare code pages (cp1006, mac_iceland) as
# readily as common ones.
_DETECTABLE = [
    "utf_8", "cp1252", "iso8859_15", "cp1250", "iso8859_2", "cp1251", "koi8_r", "iso8859_5", "cp1253",
    "cp1254", "cp1255", "cp1256", "cp1257", "cp874", "gb18030", "big5", "shift_jis", "euc_jp",
    "iso2022_jp", "cp949",
]  # fmt: skip
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True)
class Decoded:
    text: str
    note: str | None  # how the text was read, when not as its label says; None when it was


def decode(data: bytes, declared: str | None) -> Decoded:
    """``data`` as text; ``declared`` is the charset the source named (None: none named)."""
    codec = _codec((declared or "").strip())
    text, how = _read(data, codec)
    if how is None:
        return Decoded(text, None)
    if codec is None and declared:
        return Decoded(text, f"unknown charset {declared!r}, {how}")
    said = f"declared charset {declared!r} does not fit the text" if declared else "no charset declared"
    return Decoded(text, f"{said}, {how}")


def header_text(value: str) -> Decoded:
    """A parsed header value with its raw 8-bit bytes (surrogate escapes) decoded as text."""
    if not _ESCAPED_BYTE.search(value):
        return Decoded(value, None)
    text, how = _read(value.encode("utf-8", errors="surrogateescape"), "utf-8")
    return Decoded(text, None if how is None else f"raw 8-bit bytes, {how}")


def _read(data: bytes, codec: str | None) -> tuple[str, str | None]:
    """The text, and how it was read when not with ``codec`` (None: it was)."""
    tried = set()
    for candidate in (_SUPERSETS.get(codec or "", codec), "utf-8"):
        if candidate is None or candidate in tried:
            continue
        tried.add(candidate)
        text = _strict(data, candidate)
        if text is not None:
            as_declared = codec is not None and _strict(data, codec) == text
            return text, None if as_declared else f"read as {candidate}"
    guess = from_bytes(data, cp_isolation=_DETECTABLE).best()
    if guess is not None:
        return str(guess), f"read as {guess.encoding} (detected)"
    return data.decode(codec or "utf-8", errors="replace"), "undecodable bytes replaced"


def _codec(label: str) -> str | None:
    """The codec's canonical name for a charset label, or None for a label Python does not know."""
    if not label:
        return None
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None
