"""Building the index fast gives the index the slow way gives: the same matches, always.

A query given as text takes the shape path (bot.core.matching.shapes: parsed and compiled
once per shape, its words filled in); a parsed Query takes the full compiler. Both must
answer every story alike, through adds, removes and shared entries, on both backends.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli import match as match_command
from bot.cli.demo import sample_feeds
from bot.cli.match import run_match
from bot.core.matching.index import SubscriptionIndex
from bot.core.matching.matcher import Matcher
from bot.core.matching.shapes import Shapes
from bot.core.matching.waiting import WaitingQueries
from bot.core.models import Channel, Match, Subscription
from bot.core.query import Query, QueryError, parse_query, tokenize
from bot.core.query.inflect import inflects, word_forms
from tests.support.backends import BACKEND_IDS, MATCHER_BACKENDS
from tests.support.reference_matcher import reference_matches

NOW = datetime(2026, 1, 1, tzinfo=UTC)
# Plain ASCII words (they take the shape path), the keywords and `title` as words, a word
# the shapes use as their slot, and words that send a query to the full parser.
PLAIN = ["NATO", "nato", "Russia", "talks", "gas", "Italy", "bus", "EU", "Mexico", "qqq", "G7"]
ODD = ["Café", "Москва", "Russia's", "COVID-19", "U.S.", "title", "Title", "or", "ab"]
STORY_WORDS = [
    *PLAIN,
    *("NATO's", "Russian", "russians", "Italian", "buses", "gases", "Mexican", "talk"),
    *("cafe", "москва", "covid", "19", "u", "s", "title", "deeds", "OR", "the", "g7"),
]
SEPARATORS = [" ", " ", "-", ", ", "'", ". ", " (", ") "]

word = st.one_of(st.sampled_from(PLAIN), st.sampled_from(PLAIN), st.sampled_from(ODD))
single = st.one_of(
    word,
    word.map(lambda w: "=" + w),
    word.map(lambda w: w[:4] + "*"),  # `ab*`, `EU*`: too short, the full parser's error
    st.lists(word, min_size=2, max_size=3).map(lambda ws: '"' + "  ".join(ws) + '"'),
)
term = st.one_of(single, single.map(lambda t: "title:" + t), single.map(lambda t: "TITLE:" + t))
query_text = st.recursive(
    term,
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda ab: f"{ab[0]} {ab[1]}"),
        st.tuples(inner, inner).map(lambda ab: f"{ab[0]} AND {ab[1]}"),
        st.tuples(inner, inner).map(lambda ab: f"({ab[0]} OR {ab[1]})"),
        st.tuples(inner, inner).map(lambda ab: f"{ab[0]} -{ab[1]}"),
        inner.map(lambda a: f"NOT {a}"),
    ),
    max_leaves=5,
)
story_text = st.lists(st.tuples(st.sampled_from(STORY_WORDS), st.sampled_from(SEPARATORS))).map(
    lambda pairs: "".join(w + s for w, s in pairs)
)
# (subscription id, query text) to add, or (id, None) to remove that subscription.
steps = st.lists(st.tuples(st.integers(0, 7), st.one_of(st.none(), query_text)), max_size=14)


def answers(matcher: Matcher, title: str, summary: str) -> list[tuple[object, ...]]:
    return [_seen(m) for m in matcher.match(title, summary)]


def _seen(m: Match) -> tuple[object, ...]:
    return (m.subscription_id, m.query, m.matched, tuple(m.spans))


def expected(queries: dict[int, Query], title: str, summary: str) -> set[int]:
    """The subscriptions the plain reference evaluator says match."""
    return {i for i, q in queries.items() if reference_matches(q, title, summary)}


def parsed_or_none(text: str) -> Query | None:
    try:
        return parse_query(text)
    except QueryError:
        return None


@settings(max_examples=300, deadline=None)
@given(steps, st.lists(st.tuples(story_text, story_text), min_size=1, max_size=3))
@pytest.mark.parametrize("native", MATCHER_BACKENDS, ids=BACKEND_IDS)
def test_text_and_parsed_builds_match_alike(
    native: bool, script: list[tuple[int, str | None]], stories: list[tuple[str, str]]
) -> None:
    fast, slow = Matcher(native=native), Matcher(native=native)
    live: dict[int, Query] = {}
    for sub_id, text in script:
        if text is None:
            fast.remove(sub_id)
            slow.remove(sub_id)
            live.pop(sub_id, None)
            continue
        parsed = parsed_or_none(text)
        if parsed is None:  # refused alike, and the index left as it was
            with pytest.raises(QueryError):
                fast.add(sub_id, text)
            continue
        fast.add(sub_id, text)
        slow.add(sub_id, parsed)
        live[sub_id] = parsed
    assert len(fast) == len(slow) == len(live)
    assert fast.distinct_queries == slow.distinct_queries
    for title, summary in stories:
        got = answers(fast, title, summary)
        assert got == answers(slow, title, summary)
        assert {m[0] for m in got} == expected(live, title, summary)


@settings(max_examples=150, deadline=None)
@given(st.lists(query_text, min_size=1, max_size=12), story_text, story_text)
@pytest.mark.parametrize("native", MATCHER_BACKENDS, ids=BACKEND_IDS)
def test_add_many_gives_what_adding_one_by_one_gives(
    native: bool, texts: list[str], title: str, summary: str
) -> None:
    good = [t for t in texts if parsed_or_none(t) is not None]
    bulk, one_by_one = Matcher(native=native), Matcher(native=native)
    bulk.add_many(enumerate(good))
    for i, text in enumerate(good):
        one_by_one.add(i, parse_query(text))
    assert answers(bulk, title, summary) == answers(one_by_one, title, summary)
    # Removing every other one leaves the two alike too (shared entries, released terms).
    for i in range(0, len(good), 2):
        bulk.remove(i)
        one_by_one.remove(i)
    assert answers(bulk, title, summary) == answers(one_by_one, title, summary)


# Queries whose shape is tricky: keywords and `title` kept as words, repeated words
# (one term twice in a cover or a plan), the slot word itself, digits, spacing in phrases.
TRICKY = [
    "NATO",
    "title:NATO",
    "TITLE:nato talks",
    "Title deeds",
    '"Russia OR NATO"',
    '"title  talks"',
    "nato nato",
    "nato OR nato",
    "nato -nato",
    "(nato OR gas) nato -gas",
    "title:nato nato",
    "qqq OR QQQ*",
    "G7 summit",
    "=Italy Ital*",
    "Rus* -=Russia",
    '-"gas deal" gas',
    "NOT NOT gas",
    "a AND b",
]
TRICKY_STORIES = [
    ("NATO talks in Russia", "Title deeds of NATO's gas deal; qqq G7 summit."),
    ("Russia OR NATO", "nato nato: Italian and Russians talk of the gas deal"),
    ("Title talks", "title talks, qqqs and G7 summits; a b"),
]


@pytest.mark.parametrize("native", MATCHER_BACKENDS, ids=BACKEND_IDS)
def test_tricky_shapes_match_as_parsed_queries_do(native: bool) -> None:
    shapes = Shapes()
    assert all(shapes.of(q) is not None for q in TRICKY)  # the fast path is what is tested
    fast, slow = Matcher(native=native), Matcher(native=native)
    fast.add_many(enumerate(TRICKY))
    for i, q in enumerate(TRICKY):
        slow.add(i, parse_query(q))
    assert fast.distinct_queries == slow.distinct_queries
    for title, summary in TRICKY_STORIES:
        got = answers(fast, title, summary)
        assert got == answers(slow, title, summary)
        assert {m[0] for m in got} == expected(
            dict(enumerate(map(parse_query, TRICKY))), title, summary
        )


@pytest.mark.parametrize(
    "text", ["ab*", "NATO OR", "-gas", "title:", '"nato', "(a OR b", "x" * 201, "a" + " b" * 21]
)
def test_a_bad_query_is_refused_with_the_parser_s_own_error(text: str) -> None:
    with pytest.raises(QueryError) as expected:
        parse_query(text)
    matcher = Matcher()
    with pytest.raises(QueryError) as got:
        matcher.add_many([(1, "NATO"), (2, text), (3, "gas")])
    assert (str(got.value), got.value.position) == (str(expected.value), expected.value.position)
    assert len(matcher) == 1  # the good query before it stays; none after it was added


def test_subscription_index_built_at_once_matches_one_added_at_a_time() -> None:
    subs = [
        Subscription(i, Channel("console", "local", f"c{i % 3}"), q, "u", NOW)
        for i, q in enumerate(TRICKY)
    ]
    at_once = SubscriptionIndex(subs)
    one_by_one = SubscriptionIndex()
    for sub in subs:
        one_by_one.add(sub, parse_query(sub.query))
    assert len(at_once) == len(one_by_one) == len(TRICKY)
    for title, summary in TRICKY_STORIES:
        assert answers(at_once.matcher, title, summary) == answers(
            one_by_one.matcher, title, summary
        )


# -- newsbot match: queries wait out of the index until a feed could match them -----------


@settings(max_examples=200, deadline=None)
@given(st.lists(query_text, min_size=1, max_size=12), st.lists(story_text, min_size=1, max_size=4))
def test_every_form_of_a_query_word_begins_with_its_start(
    texts: list[str], words: list[str]
) -> None:
    # What WaitingQueries relies on: a word matching a query word begins with its start.
    for text in texts + words:
        for token in tokenize(text):
            for form in word_forms(token):
                assert form.startswith(token[:-1] if inflects(token) else token)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(query_text, min_size=1, max_size=12),
    st.lists(st.lists(st.tuples(story_text, story_text), max_size=3), min_size=1, max_size=3),
)
@pytest.mark.parametrize("native", MATCHER_BACKENDS, ids=BACKEND_IDS)
def test_waiting_queries_are_indexed_before_a_story_could_match_them(
    native: bool, texts: list[str], feeds: list[list[tuple[str, str]]]
) -> None:
    good = [t for t in texts if parsed_or_none(t) is not None]
    full, lazy = Matcher(native=native), Matcher(native=native)
    full.add_many(enumerate(good))
    waiting = WaitingQueries()
    for i, text in enumerate(good):
        waiting.add(i, text)
    for stories in feeds:
        lazy.add_many(waiting.ready_for(w for t, s in stories for w in tokenize(t) + tokenize(s)))
        for title, summary in stories:
            assert answers(lazy, title, summary) == answers(full, title, summary)
    lazy.add_many(waiting.take_all())
    assert len(waiting) == 0
    assert lazy.distinct_queries == full.distinct_queries


@pytest.mark.parametrize(
    ("query", "story"),
    [
        ("Italy", "Italians"),  # the adjective drops the word's last letter
        ("Mexico", "Mexican's"),
        ("policy", "policies"),
        ("Russia", "Russians'"),
        ("title:Canada", "Canadian"),
        ('"grain deal" -Turkey', "the grain deals"),
        ("=NATO", "NATO"),
        ("Ukr*", "Ukrainian"),
        ("COVID-19", "covid 19"),
        ("Café", "cafe"),  # not a shape: indexed at the first feed, whatever it holds
    ],
)
def test_a_query_is_ready_for_a_story_it_matches(query: str, story: str) -> None:
    waiting = WaitingQueries()
    waiting.add(7, query)
    waiting.add(8, "Zanzibar")
    assert waiting.ready_for(tokenize(story)) == [(7, query)]
    matcher = Matcher()
    matcher.add_many([(7, query)])
    assert [m.subscription_id for m in matcher.match(story, "")] == [7]
    assert waiting.take_all() == [(8, "Zanzibar")]


def test_waiting_refuses_a_bad_query_as_the_parser_does() -> None:
    waiting = WaitingQueries()
    with pytest.raises(QueryError, match="prefix"):
        waiting.add(1, "ab*")
    with pytest.raises(QueryError):
        waiting.add(2, "Café OR")  # the full parser's path: not a shape


def _queries_from(feeds: list[str], path: Path) -> Path:
    """A subscriptions file of words, ORs and prefixes taken from the feeds' own text."""
    words = sorted({w for f in feeds for w in re.findall(r"[A-Za-z]{5,}", Path(f).read_text())})
    queries = [
        *words[::7],
        *(f"{a} OR {b}" for a, b in zip(words[1::11], words[2::11], strict=False)),
    ]
    queries += [f"{w[:4]}*" for w in words[3::13]] + ["Café", "Russia's"]
    path.write_text("\n".join(queries), encoding="utf-8")
    return path


async def test_match_command_prints_what_a_full_index_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feeds = sample_feeds()
    subs = _queries_from(feeds, tmp_path / "subs.txt")

    async def run() -> str:
        out = io.StringIO()
        assert await run_match(["NATO"], feeds, out, subscription_files=[subs]) == 0
        return out.getvalue()

    lazy = await run()
    monkeypatch.setattr(match_command, "CHECKED_FEEDS", 0)  # every query indexed at once
    assert lazy == await run()
    assert lazy.count("\n") > 20  # the feeds do match many of the queries
