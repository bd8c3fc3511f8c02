"""What finding duplicates costs grows with the story, not with the window.

Templated titles ("Feed 123 story 5", a hostile feed of thousands of items sharing one
long word) all share their longest word, the one the index files them under; the work
of one check is counted here structurally (postings read, titles compared), never timed.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.models import Story
from bot.core.titles import title_words
from bot.feeds.dedupe import BUCKET_CAP, COMPARE_CAP, DuplicateIndex
from tests.support.feed_server import FeedServer
from tests.support.reference_dedupe import jaccard
from tests.support.rss import Item, rss_doc
from tests.support.watch import running_bot

START = datetime(2026, 1, 1, tzinfo=UTC)
HOSTILE = "Pneumonoultramicroscopicsilicovolcanoconiosis"


def story(feed: int, n: int, title: str, link: str = "") -> Story:
    return Story(feed, f"s{feed}-{n}", title, link, "", START, f"Outlet {feed}")


def templated(index: DuplicateIndex, count: int) -> None:
    """`count` stories "Feed F story N" (20 per feed, F from 1,000 so that no two have
    the same words), each seen a second after the last."""
    for n in range(count):
        feed, item = divmod(n, 20)
        feed += 1_000
        index.check_and_add(
            story(feed, item, f"Feed {feed} story {item}"), START + timedelta(seconds=n)
        )


def cost_of_one_check(index: DuplicateIndex, title: str) -> tuple[int, int]:
    """(postings read, titles compared) by checking one new story titled `title`."""
    reads, compared = index.postings_read, index.comparisons
    index.check_and_add(story(10**6, 0, title), START + timedelta(days=1) - timedelta(seconds=1))
    return index.postings_read - reads, index.comparisons - compared


def test_checking_a_templated_title_costs_the_same_whatever_the_window_holds() -> None:
    small, large = DuplicateIndex(timedelta(days=2)), DuplicateIndex(timedelta(days=2))
    templated(small, 1_000)
    templated(large, 20_000)
    assert len(small) == 1_000
    assert len(large) == 20_000
    for index in (small, large):
        reads, compared = cost_of_one_check(index, "Feed 5000 story 7")
        # Its longest word's list ("story": every title in the window) is read BUCKET_CAP
        # deep, its whole title's (empty) list too; both may be passed through by another
        # key's posting that shares their slot in the table.
        assert BUCKET_CAP <= reads <= 2 * BUCKET_CAP
        assert compared <= COMPARE_CAP


def test_a_long_templated_cycle_reads_a_bounded_number_of_postings_per_story() -> None:
    index = DuplicateIndex(timedelta(days=1))
    templated(index, 30_000)
    # Every story read at most its keys' BUCKET_CAP postings (one word, the whole title).
    assert index.postings_read <= 30_000 * 2 * BUCKET_CAP
    assert index.comparisons <= 30_000 * COMPARE_CAP


def test_a_repeated_template_is_still_a_copy_however_big_its_words_lists_are() -> None:
    index = DuplicateIndex(timedelta(days=1))
    templated(index, 20_000)
    # Feed 3's story 5, carried by another outlet hours later: its words are each in
    # thousands of titles, its whole word set in one.
    copy = index.check_and_add(story(7, 1, "FEED 1003 — story 5"), START + timedelta(hours=6))
    assert copy is not None
    assert copy.earlier == ((1003, "s1003-5"),)


def test_a_copy_names_at_most_group_cap_earlier_stories() -> None:
    index = DuplicateIndex(timedelta(days=1), group_cap=50)
    title = "Daily briefing for Tuesday morning"
    copies = [
        index.check_and_add(story(n, 0, title), START + timedelta(seconds=n)) for n in range(300)
    ]
    assert copies[0] is None
    assert all(c is not None for c in copies[1:])
    last = copies[-1]
    assert last is not None
    # The oldest 50 (those that could have alerted first), oldest first.
    assert last.earlier == tuple((n, f"s{n}-0") for n in range(50))


def test_a_story_checked_again_is_not_its_own_copy_nor_indexed_twice() -> None:
    index = DuplicateIndex(timedelta(days=1))
    first = story(1, 1, "NATO leaders agree new Ukraine aid package", "https://a.example/1")
    copy = story(2, 1, "NATO leaders agree new Ukraine aid package", "https://b.example/1")
    assert index.check_and_add(first, START) is None
    found = index.check_and_add(copy, START)
    # A retried refresh checks the same story again: same answer, nothing added.
    assert found is not None
    assert index.check_and_add(copy, START + timedelta(seconds=5)) == found
    assert len(index) == 2


def test_the_index_agrees_with_comparing_every_pair_in_the_window_as_it_slides() -> None:
    """Thousands of stories over three days with a one-day window: the columns are cut
    and the table grows several times; every copy found is one within the window, and
    none is missed (no list here is anywhere near the cap)."""
    rng = random.Random(12)
    vocabulary = [f"w{n}x{rng.randrange(10**6)}" for n in range(3_000)]
    window = timedelta(hours=24)
    index = DuplicateIndex(window)
    # The reference: every story of the window under each of its words and its link.
    seen_at: dict[int, datetime] = {}
    words_of: dict[int, frozenset[str]] = {}
    by_word: dict[str, list[int]] = {}
    titles: list[str] = []
    for n in range(12_000):
        if titles and rng.random() < 0.2:  # a copy: an earlier title, maybe a word more
            words = rng.choice(titles[-3000:]).split()
            if rng.random() < 0.5:
                words.insert(rng.randrange(len(words)), rng.choice(vocabulary))
        else:
            words = rng.sample(vocabulary, rng.randint(4, 10))
        title = " ".join(words)
        titles.append(title)
        link = f"https://l.example/{rng.randrange(20_000)}" if rng.random() < 0.1 else ""
        now = START + timedelta(seconds=n * 20)  # 12,000 stories over 2.8 days
        index.prune(now)
        copy = index.check_and_add(Story(n, f"s{n}", title, link, "", START, "O"), now)
        mine = title_words(title)
        keys = [*mine, "link:" + link] if link else list(mine)
        live = {i for k in keys for i in by_word.get(k, []) if seen_at[i] >= now - window}
        expected = {
            i
            for i in live
            if (link and "link:" + link in by_word and i in by_word["link:" + link])
            or (len(mine) >= 4 and len(words_of[i]) >= 4 and jaccard(mine, words_of[i]) >= 0.8)
        }
        assert (copy is not None) == bool(expected), n
        if copy is not None:
            assert any(feed in expected for feed, _ in copy.earlier), n
        seen_at[n], words_of[n] = now, mine
        for k in keys:
            by_word.setdefault(k, []).append(n)
    assert len(index) == sum(1 for t in seen_at.values() if t >= now - window)


async def test_a_hostile_feed_of_10000_templated_items_does_not_hold_up_chat_commands(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    items = [
        Item(f"{HOSTILE} bulletin number {n}", f"https://hostile.example/{n}", f"h-{n}")
        for n in range(10_000)
    ]
    url = feed_server.serve("/hostile.rss", rss_doc(*items, title="Hostile"))
    loop = asyncio.get_running_loop()
    gaps: list[float] = []

    async def monitor() -> None:
        """Ticks every millisecond; a long gap between ticks is the loop held up."""
        last = loop.time()
        while True:
            await asyncio.sleep(0.001)
            gaps.append(loop.time() - last)
            last = loop.time()

    async with running_bot(tmp_path) as bot, asyncio.timeout(300):
        await bot.say("/news subscribe NATO")
        feed = await bot.operator_feed(url)
        ticking = asyncio.create_task(monitor())
        poll = asyncio.create_task(bot.poll())
        await feed_server.wait_for_hits("/hostile.rss", 1)
        waits: list[float] = []
        answered_during_refresh = 0
        while not poll.done():
            sent = loop.time()
            reply = await bot.say("/news list")
            waits.append(loop.time() - sent)
            assert "NATO" in reply
            # Still refreshing: the poll is running and the feed's stories are not
            # recorded (they and the feed's primed mark are written in one transaction).
            if not poll.done() and not (await bot.feed(feed.id)).primed:
                answered_during_refresh += 1
            await asyncio.wait([poll], timeout=0.02)  # the next command soon, or done
        await poll
        ticking.cancel()
        assert answered_during_refresh >= 1
        assert max(waits) < 1.0, max(waits)
        assert max(gaps) < 1.0, max(gaps)
        assert (await bot.feed(feed.id)).primed
        async with (
            bot.store.db.reading() as conn,
            conn.execute("SELECT COUNT(*) FROM stories WHERE feed_id = ?", (feed.id,)) as cur,
        ):
            row = await cur.fetchone()
        assert row is not None
        assert row[0] == 10_000
        duplicates = bot.watcher.refresher.duplicates
        assert len(duplicates) == 10_000
        # Each item read at most BUCKET_CAP postings per key (its link, the long word,
        # its whole title), whatever the 9,999 others.
        assert duplicates.postings_read <= 10_000 * 3 * BUCKET_CAP
