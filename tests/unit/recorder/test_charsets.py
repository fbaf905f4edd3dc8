"""recorder.charsets: a declared charset is trusted only as far as the bytes decode under it."""

from __future__ import annotations

import pytest

from recorder.charsets import Decoded, decode, header_text


@pytest.mark.parametrize(
    ("data", "declared", "expected"),
    [
        (b"Hello", "us-ascii", Decoded("Hello", None)),
        (
            "Zoë".encode(),
            "us-ascii",
            Decoded("Zoë", "declared charset 'us-ascii' does not fit the text, read as utf-8"),
        ),
        # GBK's characters beyond GB2312 (镕) under a gb2312 label: its superset reads them
        (
            "我们的产品很好，请联系镕".encode("gbk"),
            "gb2312",
            Decoded(
                "我们的产品很好，请联系镕", "declared charset 'gb2312' does not fit the text, read as gb18030"
            ),
        ),
        # Windows-1252's € (0x80) under an iso-8859-1 label would be a control character
        (
            "Prijs €5".encode("cp1252"),
            "iso-8859-1",
            Decoded("Prijs €5", "declared charset 'iso-8859-1' does not fit the text, read as cp1252"),
        ),
        ("Grüße".encode("latin-1"), "iso-8859-1", Decoded("Grüße", None)),
        (
            "Grüße".encode(),
            "x-mac-klingon",
            Decoded("Grüße", "unknown charset 'x-mac-klingon', read as utf-8"),
        ),
        (
            "Привет, как дела? Всё хорошо.".encode("cp1251"),
            "utf-8",
            Decoded(
                "Привет, как дела? Всё хорошо.",
                "declared charset 'utf-8' does not fit the text, read as cp1251 (detected)",
            ),
        ),
    ],
)
def test_decode(data: bytes, declared: str, expected: Decoded) -> None:
    assert decode(data, declared) == expected


def test_header_text_decodes_raw_bytes_the_parser_escaped() -> None:
    assert header_text("Zo\udcc3\udcab Jansen") == Decoded("Zoë Jansen", None)  # RFC 6532 UTF-8
    assert header_text("plain") == Decoded("plain", None)
    decoded = header_text("Anke M\udcfcller")
    assert (
        decoded.text == "Anke Müller"
        and decoded.note is not None
        and decoded.note.startswith("raw 8-bit bytes, read as")
    )
