"""OPML in and out: `newsbot feeds export | import`, and `/news feed export` on the console."""

from __future__ import annotations

import io
from pathlib import Path

import listparser
import pytest

from bot.cli.feeds import FeedsCommandError, run_import
from bot.config import load_settings
from bot.core.models import Channel
from bot.core.opml import OpmlFeed, write_opml
from bot.feeds.fetch import Fetcher
from bot.feeds.opml import BadEntry, ImportEntry, read_feed_file
from bot.store import open_store
from tests.support.article_pages import PUBLIC_FOR_TESTS
from tests.support.console import ConsoleBot
from tests.support.feed_server import FeedServer, rss
from tests.support.process import newsbot_command

DESK = Channel("slack", "T1", "C1")
NEWS = Channel("discord", "800000000000000001", "810000000000000001")


async def seed(url: str) -> None:
    store = await open_store(url)
    try:
        await store.add_feed("https://wire.example/rss", trusted=True, added_by=None)
        await store.import_feed(
            "https://wire.example/atom",
            title="Wire & Co <Atom>",
            operator=True,
            channels=[NEWS],
            added_by="ana",
        )
        await store.attach_feed("https://blog.example/feed", DESK, added_by="bo", title="Blog")
        await store.attach_feed("https://blog.example/feed", NEWS, added_by="cy")
    finally:
        await store.close()


async def test_export_import_export_is_identical(tmp_path: Path) -> None:
    first_db = f"sqlite:///{tmp_path / 'first.db'}"
    await seed(first_db)
    code, exported, err = await newsbot_command(tmp_path, first_db, "feeds", "export")
    assert (code, err) == (0, "")
    # What a feed reader reads: three feeds with their titles and channels.
    parsed = listparser.parse(exported.encode())
    assert not parsed.bozo
    assert sorted(f.url for f in parsed.feeds) == [
        "https://blog.example/feed",
        "https://wire.example/atom",
        "https://wire.example/rss",
    ]
    by_url = {f.url: f for f in parsed.feeds}
    assert by_url["https://wire.example/atom"].title == "Wire & Co <Atom>"
    assert ["newsbot-channel", "slack", "T1", "C1"] in by_url[
        "https://blog.example/feed"
    ].categories
    opml = tmp_path / "feeds.opml"
    opml.write_text(exported)

    fresh_db = f"sqlite:///{tmp_path / 'fresh.db'}"
    code, out, err = await newsbot_command(
        tmp_path, fresh_db, "feeds", "import", "--trusted", str(opml)
    )
    assert (code, err) == (0, ""), out
    assert out.splitlines()[-1] == "3 added, 0 already there, 0 skipped"
    code, again, _ = await newsbot_command(tmp_path, fresh_db, "feeds", "export")
    assert code == 0
    assert again == exported

    store = await open_store(fresh_db)
    try:
        feeds = {f.url: f for f in await store.list_feeds()}
        blog = feeds["https://blog.example/feed"]
        assert not blog.trusted
        assert feeds["https://wire.example/rss"].trusted
        assert set(await store.feed_channels(blog.id)) == {DESK, NEWS}
    finally:
        await store.close()


async def test_import_checks_each_url_and_stores_only_the_good_ones(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    internal = feed_server.serve("/feed.rss", rss(("a1", "Internal", "Not public.")))
    listing = tmp_path / "list.txt"
    listing.write_text(f"# my feeds\n{internal}\nftp://files.example/feed\n\n")
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    code, out, _ = await newsbot_command(tmp_path, db, "feeds", "import", str(listing))
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == f"skipped  {internal}: refused: 127.0.0.1 is a loopback address"
    assert lines[1] == "skipped  ftp://files.example/feed: not an http(s) URL"
    assert lines[-1] == "0 added, 0 already there, 2 skipped"
    assert feed_server.hits("/feed.rss") == []  # refused before any request
    code, exported, _ = await newsbot_command(tmp_path, db, "feeds", "export")
    assert code == 0
    assert listparser.parse(exported.encode()).feeds == []

    # The same file, trusted: the good line goes in, the bad one is still skipped.
    code, out, _ = await newsbot_command(tmp_path, db, "feeds", "import", "--trusted", str(listing))
    assert code == 1
    assert out.splitlines()[0].startswith(f"added    #1 {internal}  (operator feed)")
    assert out.splitlines()[-1] == "1 added, 0 already there, 1 skipped"


async def test_a_file_that_is_not_opml_imports_nothing(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    truncated = tmp_path / "truncated.opml"
    truncated.write_bytes(b'<opml version="2.0"><body><outline xmlUrl="https://a.example/f"/>')
    page = tmp_path / "page.html"
    page.write_bytes(b"<html><body><p>https://a.example/f</p></body></html>")
    # The command's own words, once through a real process...
    code, out, err = await newsbot_command(tmp_path, db, "feeds", "import", str(truncated))
    assert (code, out) == (1, "")
    assert err.startswith(f"newsbot feeds: {truncated}: not well-formed XML (no element found")
    # ...and the other refusals in this process.
    settings = load_settings(database_url=db)
    for path, why in [
        (page, "page.html: not an OPML subscription list"),
        (tmp_path / "missing.opml", "cannot read"),
    ]:
        printed = io.StringIO()
        with pytest.raises(FeedsCommandError, match=why):
            await run_import(settings, path, printed, trusted=True)
        assert printed.getvalue() == ""
    assert not (tmp_path / "bot.db").exists()  # refused before the database was opened


def test_other_readers_opml_becomes_operator_feeds_with_titles() -> None:
    document = b"""<?xml version="1.0"?>
<opml version="1.0"><head><title>Reader</title></head><body>
  <outline text="News"><outline text="BBC" type="rss" xmlUrl="https://feeds.example/bbc"/>
  <outline text="Dup" type="rss" xmlUrl="https://feeds.example/bbc"/></outline>
  <outline text="Mail" type="rss" xmlUrl="mailto:someone@example.org"/>
</body></opml>"""
    entries = read_feed_file(document)
    assert entries == [
        ImportEntry("https://feeds.example/bbc", "BBC", True, ()),
        BadEntry("mailto:someone@example.org", "not an http(s) URL"),
    ]


def test_ids_holding_separators_survive_the_category_attribute() -> None:
    odd = Channel("console", "local/x", "a,b")
    document = write_opml([OpmlFeed("https://x.example/f", None, channels=(odd,))])
    [entry] = read_feed_file(document)
    assert entry == ImportEntry("https://x.example/f", None, False, (odd,))


async def test_feed_export_in_chat_attaches_this_channels_feeds(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    await seed(db)
    bot = await ConsoleBot.start({"DATABASE_URL": db, "NEWSBOT_POLL_INTERVAL": "3600"}, tmp_path)
    try:
        reply = await bot.say("/news feed export")
    finally:
        assert await bot.stop() == 0
    # The console channel added no feed: it gets the operator feeds' stories only.
    assert reply.startswith("2 feed(s) this channel gets stories from, as OPML")
    parsed = listparser.parse(reply.split("\n", 1)[1].encode())
    assert sorted(f.url for f in parsed.feeds) == [
        "https://wire.example/atom",
        "https://wire.example/rss",
    ]
    assert all("newsbot-channel" not in str(f.categories) for f in parsed.feeds)


async def test_untrusted_import_probes_each_url_as_feed_add_does(tmp_path: Path) -> None:
    public = FeedServer(host="127.0.0.2")  # treated as a public address by this fetcher
    await public.start()
    try:
        good = public.serve(
            "/world.rss", rss(("w1", "NATO summit", "Leaders meet."), title="World")
        )
        page = public.serve("/about", "<html><body>About us</body></html>", headers={})
        moved = public.url("/old.rss")
        public.redirect("/old.rss", public.url("/new.rss"), status=301)
        public.serve("/new.rss", rss(("n1", "Moved", "Here now."), title="Moved Wire"))
        listing = tmp_path / "feeds.opml"
        listing.write_bytes(
            write_opml([OpmlFeed(good), OpmlFeed(page, "About"), OpmlFeed(moved, "Old name")])
        )
        db = f"sqlite:///{tmp_path / 'bot.db'}"
        out = io.StringIO()
        async with Fetcher(timeout=5, policy=PUBLIC_FOR_TESTS) as fetcher:
            code = await run_import(
                load_settings(database_url=db), listing, out, trusted=False, fetcher=fetcher
            )
    finally:
        await public.stop()
    lines = out.getvalue().splitlines()
    assert code == 1
    assert f'added    #1 {public.url("/new.rss")}  "Old name" (operator feed)' in lines
    assert f'added    #2 {good}  "World" (operator feed)' in lines  # the feed's own title
    [skipped] = [x for x in lines if x.startswith("skipped")]
    assert skipped.startswith(f"skipped  {page}: {page} is not an RSS, Atom or RDF feed")
    assert lines[-1] == "2 added, 0 already there, 1 skipped"
    store = await open_store(db)
    try:
        assert sorted(f.url for f in await store.list_feeds()) == sorted(
            [good, public.url("/new.rss")]
        )
    finally:
        await store.close()
