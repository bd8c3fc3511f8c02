"""Hostile XML: no entity expansion of any size, bounded memory, parse errors never crash."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.feeds.normalise import normalise_entry
from bot.feeds.parse import FeedParseError, parse_feed

MB = 1_000_000
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
BOOM = "EXPANDED-" * 100  # 900 characters per reference if anything expanded it


def feed_with(prolog: str, title: str = "Wire &boom;", items: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{prolog}<rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://news.example/</link>"
        f"{items or '<item><guid>g1</guid><title>Talks &boom; resume</title></item>'}"
        "</channel></rss>"
    ).encode()


def all_text(parsed: object) -> str:
    return json.dumps(parsed, default=str)


def test_an_entity_referenced_thousands_of_times_is_never_expanded() -> None:
    # The shape measured on feedparser 6.0.14: expat refuses it, feedparser's loose parser
    # expanded it into a 100-million-character field.
    items = "".join(
        f"<item><guid>g{i}</guid><title>Story {i}</title>"
        f"<description>{'&boom;' * 100}</description></item>"
        for i in range(50)
    )
    body = feed_with(f'<!DOCTYPE rss [<!ENTITY boom "{BOOM}">]>', items=items)
    tracemalloc.start()
    try:
        parsed = parse_feed(body)
        stories = [normalise_entry(e, feed_id=1, source="Wire", now=NOW) for e in parsed.entries]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(stories) == 50
    assert "EXPANDED" not in all_text(parsed.entries)
    assert all(s is not None and len(s.summary) < 2000 for s in stories)
    assert peak < 50 * MB, f"peak {peak / MB:.0f} MB"


def test_nested_entities_billion_laughs_stay_unexpanded() -> None:
    levels = ['<!ENTITY l0 "lol">'] + [
        f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10)
    ]
    body = feed_with(f"<!DOCTYPE rss [{''.join(levels)}]>", title="Wire &l9;")
    parsed = parse_feed(body)
    assert "lollol" not in all_text(parsed.entries) + str(parsed.title)


@pytest.mark.parametrize(
    "prolog",
    [
        pytest.param('<!DOCTYPE rss [<!ENTITY boom "' + BOOM + '">]>', id="plain subset"),
        pytest.param('<!doctype rss [<!entity boom "' + BOOM + '">]>', id="lower case"),
        pytest.param('<!DocType rss [<!EnTiTy boom "' + BOOM + '">]>', id="odd case"),
        pytest.param(
            '<!DOCTYPE rss SYSTEM "http://dtd.example/rss.dtd" [<!ENTITY boom "' + BOOM + '">]>',
            id="system id and subset",
        ),
        pytest.param(
            '<!DOCTYPE rss PUBLIC "-//Wire//RSS//EN" "rss.dtd" [<!ENTITY boom "' + BOOM + '">]>',
            id="public id and subset",
        ),
        pytest.param(
            "<!DOCTYPE rss [<!ENTITY boom '" + BOOM + ']>\'> <!ENTITY x "a]>b">]>',
            id="] and > inside quoted strings",
        ),
        pytest.param(
            '<!DOCTYPE rss [ <![INCLUDE[ <!ENTITY boom "' + BOOM + '"> ]]> ]>',
            id="nested brackets",
        ),
        pytest.param(
            '<!DOCTYPE rss [ <!-- ]> --> <?pi ]> ?> <!ENTITY boom "' + BOOM + '"> ]>',
            id="comment and PI holding ]>",
        ),
        pytest.param('<!ENTITY boom "' + BOOM + '">', id="entity without a doctype"),
        pytest.param(
            '<!-- <rss> --><!DOCTYPE rss [<!ENTITY boom "' + BOOM + '">]><!-- -->',
            id="comments around the doctype",
        ),
    ],
)
def test_every_shape_of_internal_subset_is_removed(prolog: str) -> None:
    parsed = parse_feed(feed_with(prolog))
    assert "EXPANDED" not in all_text(parsed.entries) + str(parsed.title)
    assert [e.get("id") for e in parsed.entries] == ["g1"]
    assert parsed.title is not None
    assert parsed.title.startswith("Wire")


def test_an_entity_declared_inside_the_body_is_not_expanded_either() -> None:
    items = f'<!ENTITY boom "{BOOM}"><item><guid>g1</guid><title>A &boom; B</title></item>'
    parsed = parse_feed(feed_with("", items=items))
    assert "EXPANDED" not in all_text(parsed.entries)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "no XML element found"),
        (b"just some text, no markup", "no XML element found"),
        (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "b">', "unclosed DOCTYPE"),
        (b'<!DOCTYPE rss [<!ENTITY a "never closed>]><rss/>', "unclosed quoted string"),
        (b"<!-- a comment that never ends <rss/>", "unclosed comment"),
        (b'{"items": []}', "no XML element found"),
        (b"\x00\xff\xfe garbage \x00" * 50, "no XML element found"),
        (b"<html><body><p>Welcome to our site</p></body></html>", "no feed elements found"),
    ],
)
def test_what_is_not_a_feed_is_a_parse_error_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(FeedParseError) as caught:
        parse_feed(body)
    message = str(caught.value)
    assert message.startswith("not an RSS, Atom or RDF feed: ")
    assert reason in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"<rss>" * 20_000, id="nested 20,000 deep"),
        pytest.param(
            b'<rss version="2.0"><channel><title a="' + b"x" * 1_000_000 + b'"/>',
            id="a megabyte attribute",
        ),
    ],
)
def test_pathological_shapes_parse_as_a_feed_with_no_stories(body: bytes) -> None:
    parsed = parse_feed(body)
    assert parsed.entries == []
    assert parsed.title is None


def test_a_feed_of_countless_tiny_elements_is_refused_before_parsing() -> None:
    body = feed_with("", items="<item><title>x</title></item>" * 130_000)
    with pytest.raises(FeedParseError, match="elements is more than the 250000 allowed"):
        parse_feed(body)


def test_markup_inside_cdata_does_not_count_as_elements() -> None:
    article = "<![CDATA[" + "<p>text</p>" * 300_000 + "]]>"
    parsed = parse_feed(
        feed_with("", items=f"<item><guid>g</guid><description>{article}</description></item>")
    )
    assert [e["id"] for e in parsed.entries] == ["g"]


def test_an_html_page_says_so() -> None:
    page = b"<!DOCTYPE html><html><head><title>Home</title></head><body>Hi</body></html>"
    with pytest.raises(FeedParseError, match="serves an HTML page"):
        parse_feed(page, {"content-type": "text/html; charset=utf-8"})


def test_a_stray_control_character_does_not_spoil_the_feed() -> None:
    body = feed_with("", title="Wire", items="<item><guid>g1</guid><title>A\x0bB</title></item>")
    parsed = parse_feed(body)
    assert parsed.entries[0]["title"] == "AB"


@pytest.mark.slow
def test_ten_thousand_items_are_processed_in_bounded_memory(tmp_path: Path) -> None:
    # In a fresh interpreter so the peak resident size is this feed's alone; tracemalloc
    # would slow feedparser down five-fold.
    script = tmp_path / "ten_thousand.py"
    script.write_text(
        textwrap.dedent(
            """
            import json, resource, sys
            from datetime import UTC, datetime
            from bot.feeds.normalise import normalise_entry
            from bot.feeds.parse import parse_feed

            items = "".join(
                f"<item><guid>id-{i}</guid><title>Story {i} &amp; more</title>"
                f"<link>https://news.example/{i}?utm_source=rss</link>"
                f"<description>&lt;p&gt;Summary of story {i}.&lt;/p&gt;</description></item>"
                for i in range(10_000)
            )
            body = (
                "<?xml version='1.0'?><rss version='2.0'><channel><title>Wire</title>"
                + items + "</channel></rss>"
            ).encode()
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            parsed = parse_feed(body)
            now = datetime.now(UTC)
            stories = [
                normalise_entry(e, feed_id=1, source="Wire", now=now) for e in parsed.entries
            ]
            after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            json.dump({
                "bytes": len(body),
                "stories": len({s.story_id for s in stories if s}),
                "summary": stories[-1].summary,
                "grew_kib": after - before,
            }, sys.stdout)
            """
        )
    )
    root = Path(__file__).resolve().parent.parent
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=root, check=True
    )
    report = json.loads(run.stdout)
    assert report["stories"] == 10_000
    assert report["summary"] == "Summary of story 9999."
    # Generous: about 30 MB measured for this 2 MB feed; the bound catches a blow-up.
    assert report["grew_kib"] < 200 * 1024, report
