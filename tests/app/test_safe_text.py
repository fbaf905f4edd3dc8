"""How outside text is put on a page (the browser test shows it stays text; this pins the rules)."""

from __future__ import annotations

import ast
from pathlib import Path

from review_app.safe_text import md, snippet_md
from storage.search import HIGHLIGHT_END, HIGHLIGHT_START

REVIEW_APP = Path(__file__).resolve().parents[2] / "review_app"


def test_markdown_syntax_is_escaped_and_names_stay_on_one_line() -> None:
    assert md("Emma de Vries") == "Emma de Vries"
    assert md("![i](http://e.example/i.png)") == "\\!\\[i\\]\\(http\\:\u2060\\/\\/e\\.example\\/i\\.png\\)"
    assert md("<b>:red[x]</b> $1") == "\\<b\\>\\:red\\[x\\]\\<\\/b\\> \\$1"
    assert md("  # Title\n- item  ") == "\\# Title \\- item"
    assert md("see www.e.example") == "see www\u2060\\.e\\.example"  # no bare link either


def test_an_address_a_mail_link_would_cut_stays_whole_text() -> None:
    # GFM would link only "e@example.org" (somebody else's) in this valid address: not linked at all.
    assert md("dup*e@example.org") == "dup\\*e\u2060\\@example\\.org"
    assert md("write to dup*e@example.org today").count("\u2060") == 1
    # A plain address stays as it was typed (copying it must give the address).
    assert md("emma.de-vries+billing@example.com") == "emma\\.de\\-vries\\+billing\\@example\\.com"


def test_snippets_highlight_the_matches_and_escape_the_rest() -> None:
    snippet = f"my {HIGHLIGHT_START}refund{HIGHLIGHT_END}, <img src=x> {HIGHLIGHT_START}*now*{HIGHLIGHT_END}"
    assert snippet_md(snippet) == (
        "my :orange-background[refund]\\, \\<img src\\=x\\> :orange-background[\\*now\\*]"
    )


def test_no_page_hands_text_to_html() -> None:
    """Data is put on pages through safe_text only: no page renders raw HTML at all. The one
    ``st.html`` sends the stylesheet shipped with the app, a file path that no data reaches."""
    raw_html = []
    for path in REVIEW_APP.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        stylesheet_calls = {
            id(node.func)
            for node in ast.walk(tree)
            if path == REVIEW_APP / "stylesheet.py"
            and isinstance(node, ast.Call)
            and [ast.unparse(arg) for arg in node.args] == ["STYLESHEET"]
            and not node.keywords
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "unsafe_allow_html":
                raw_html.append(f"{path.relative_to(REVIEW_APP)}:{node.lineno} unsafe_allow_html")
            # st.html, components.html
            if isinstance(node, ast.Attribute) and node.attr == "html" and id(node) not in stylesheet_calls:
                raw_html.append(f"{path.relative_to(REVIEW_APP)}:{node.lineno} .html")
    assert raw_html == []


def test_the_stylesheet_is_a_shipped_css_file() -> None:
    from review_app.stylesheet import STYLESHEET

    assert STYLESHEET.suffix == ".css" and STYLESHEET.parent == REVIEW_APP and STYLESHEET.is_file()
