"""Encodings feeds really use, served over HTTP with the labels servers really send.

The fixtures in tests/data/feeds/ are real bytes in each encoding (written once with
Python's codecs); each is served by the local feed server, fetched, parsed and normalised
like the watcher does.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli.match import run_match
from bot.core.models import Story
from bot.feeds.fetch import Fetcher
from bot.feeds.normalise import normalise_entry
from bot.feeds.parse import parse_feed
from tests.support.feed_server import FeedServer

FEEDS = Path(__file__).parent / "data" / "feeds"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


async def fetch_story(server: FeedServer, name: str, content_type: str) -> tuple[str, Story]:
    url = server.serve(
        f"/{name}", (FEEDS / name).read_bytes(), headers={"Content-Type": content_type}
    )
    async with Fetcher(timeout=5) as fetcher:
        result = await fetcher.fetch(url)
    parsed = parse_feed(result.body, result.headers, base_url=result.url)
    story = normalise_entry(parsed.entries[0], feed_id=1, source=parsed.title or "", now=NOW)
    assert story is not None
    return parsed.encoding, story


@pytest.mark.parametrize(
    ("name", "content_type", "encoding", "source", "title", "summary"),
    [
        pytest.param(
            "windows-1251.rss",
            "application/rss+xml",
            "cp1251",
            "Лента новостей",
            "Президент подписал указ о выборах",
            "Документ опубликован на портале правовой информации.",
            id="windows-1251 declared in the document",
        ),
        pytest.param(
            "windows-1251.rss",
            "text/xml; charset=utf-8",
            "cp1251",
            "Лента новостей",
            "Президент подписал указ о выборах",
            "Документ опубликован на портале правовой информации.",
            id="windows-1251 with an HTTP charset that contradicts it",
        ),
        pytest.param(
            "windows-1251.rss",
            "text/xml; charset=ISO-8859-1",
            "cp1251",
            "Лента новостей",
            "Президент подписал указ о выборах",
            "Документ опубликован на портале правовой информации.",
            id="windows-1251 with a server-default ISO-8859-1 charset",
        ),
        pytest.param(
            "iso-8859-1-but-utf-8.rss",
            "application/rss+xml",
            "utf-8",
            "Le Fil",
            "Président de la République: « réforme » adoptée",
            "Le texte a été voté à l’Assemblée.",
            id="declared ISO-8859-1, bytes are UTF-8",
        ),
        pytest.param(
            "iso-8859-1-but-utf-8.rss",
            "application/rss+xml; charset=iso-8859-1",
            "utf-8",
            "Le Fil",
            "Président de la République: « réforme » adoptée",
            "Le texte a été voté à l’Assemblée.",
            id="ISO-8859-1 in HTTP and the document, bytes are UTF-8",
        ),
        pytest.param(
            "latin-1-label-cp1252-bytes.rss",
            "application/rss+xml",
            "cp1252",
            "Daily",
            "“Smart quotes” – and a dash",
            "It’s the café’s menu… €5",
            id="ISO-8859-1 label on windows-1252 bytes",
        ),
        pytest.param(
            "iso-8859-2.rss",
            "application/xml",
            "iso8859-2",
            "Wiadomości",
            "Zażółć gęślą jaźń: Sejm przyjął ustawę",
            "Posłowie głosowali w środę.",
            id="ISO-8859-2",
        ),
        pytest.param(
            "koi8-r.rss",
            "application/rss+xml",
            "koi8-r",
            "Новости",
            "Москва: заседание совета",
            "Совет собрался в среду.",
            id="KOI8-R",
        ),
        pytest.param(
            "shift_jis.rss",
            "application/rss+xml",
            "cp932",
            "ニュース",
            "東京で地震、被害なし",
            "気象庁が発表した。",
            id="Shift_JIS",
        ),
        pytest.param(
            "utf-16.rss",
            "application/rss+xml",
            "utf-16-le",
            "Ειδήσεις",
            "Ελλάδα: νέα κυβέρνηση",
            "Η ορκωμοσία έγινε σήμερα.",
            id="UTF-16 with a byte order mark",
        ),
    ],
)
async def test_feeds_decode_to_the_words_their_publishers_wrote(
    feed_server: FeedServer,
    name: str,
    content_type: str,
    encoding: str,
    source: str,
    title: str,
    summary: str,
) -> None:
    used, story = await fetch_story(feed_server, name, content_type)
    assert (story.source, story.title, story.summary) == (source, title, summary)
    assert used == encoding


async def test_a_charset_only_in_http_is_used_when_the_document_has_no_declaration(
    feed_server: FeedServer,
) -> None:
    body = (
        "<rss version='2.0'><channel><title>Вести</title>"
        "<item><guid>g</guid><title>Выборы назначены</title></item></channel></rss>"
    ).encode("cp1251")
    url = feed_server.serve(
        "/bare.rss", body, headers={"Content-Type": "text/xml; charset=windows-1251"}
    )
    async with Fetcher(timeout=5) as fetcher:
        result = await fetcher.fetch(url)
    parsed = parse_feed(result.body, result.headers)
    assert parsed.title == "Вести"
    assert parsed.entries[0]["title"] == "Выборы назначены"


def test_utf_8_that_was_decoded_twice_upstream_is_repaired() -> None:
    # A CMS that read UTF-8 as windows-1252 and wrote it out again as UTF-8: the bytes
    # are valid UTF-8 and spell mojibake.
    garbled = "Président: « réforme » — adoptée".encode().decode("cp1252")
    body = (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>F</title>"
        f"<item><guid>g</guid><title>{garbled}</title></item></channel></rss>"
    ).encode()
    entry = parse_feed(body).entries[0]
    story = normalise_entry(entry, feed_id=1, source="F", now=NOW)
    assert garbled != "Président: « réforme » — adoptée"
    assert story is not None
    assert story.title == "Président: « réforme » — adoptée"


@pytest.mark.parametrize("text", ["café «ok»", "Ærøskøbing", "naïve façade", "Ça va? Très bien!"])
def test_genuine_latin_text_is_left_alone(text: str) -> None:
    body = (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>F</title>"
        f"<item><guid>g</guid><title>{text}</title></item></channel></rss>"
    ).encode()
    story = normalise_entry(parse_feed(body).entries[0], feed_id=1, source="F", now=NOW)
    assert story is not None
    assert story.title == text


async def test_newsbot_match_reads_a_url_in_the_charset_its_server_names(
    feed_server: FeedServer,
) -> None:
    body = (
        "<rss version='2.0'><channel><title>Вести</title><item><guid>g</guid>"
        "<title>Выборы назначены</title><link>/politics/1</link></item></channel></rss>"
    ).encode("cp1251")
    url = feed_server.serve(
        "/bare.rss", body, headers={"Content-Type": "text/xml; charset=windows-1251"}
    )
    out = io.StringIO()
    await run_match(["выборы"], [url], out)
    (record,) = [json.loads(line) for line in out.getvalue().splitlines()]
    assert record["title"] == "Выборы назначены"
    assert record["source"] == "Вести"
    assert record["link"] == feed_server.url("/politics/1")
