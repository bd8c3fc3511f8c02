"""Chinese and Japanese, written without spaces, are read in overlapping pairs of characters
(bot.core.query.text): stories, queries and the topic pack alike, so a name is found inside
a longer run; other scripts keep their words exactly."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.adapters.console.render import render_alert as console_alert
from bot.adapters.discord.render import emphasise
from bot.core.matching.matcher import Matcher
from bot.core.models import Alert, Channel
from bot.core.query import QueryError, parse_query
from bot.core.query.ast import Term, Word
from bot.core.query.text import normalise, split_cjk, tokenize, word_spans
from bot.core.summary import emphasised_segments
from bot.core.topics import pack as topic_pack
from bot.core.topics.judge import LEAD_WORDS, StoryText, about, hits, via
from tests.support.backends import BACKEND_IDS, MATCHER_BACKENDS

NOWHERE = Path("/nonexistent/newsbot-topics.toml")
backends = pytest.mark.parametrize("native", MATCHER_BACKENDS, ids=BACKEND_IDS)


@pytest.fixture(autouse=True)
def fresh_pack() -> Iterator[None]:
    topic_pack.install(topic_pack.load(overrides=NOWHERE))
    yield
    topic_pack.install(None)


def words_and_places(text: str) -> list[tuple[str, str]]:
    """Each word with the text it stands for: the two lists must agree item by item."""
    words, spans = tokenize(text), word_spans(text)
    assert len(words) == len(spans)
    return [(w, text[a:b]) for w, (a, b) in zip(words, spans, strict=True)]


def words_of(query: str) -> tuple[Word, ...]:
    node = parse_query(query).node
    assert isinstance(node, Term)
    return node.words


def matches(query: str, title: str, summary: str = "", *, native: bool) -> list[str]:
    """What the alert would say matched, and the story text of each span (title first)."""
    matcher = Matcher(native=native)
    matcher.add(1, query)
    found = matcher.match(title, summary)
    if not found:
        return []
    texts = {"title": title, "summary": summary}
    return [*found[0].matched, *(texts[s.field][s.start : s.end] for s in found[0].spans)]


# -- the words of a text ---------------------------------------------------------------


def test_a_chinese_run_is_its_overlapping_pairs() -> None:
    assert words_and_places("俄罗斯总统普京表示") == [
        ("俄罗", "俄罗"),
        ("罗斯", "罗斯"),
        ("斯总", "斯总"),
        ("总统", "总统"),
        ("统普", "统普"),
        ("普京", "普京"),
        ("京表", "京表"),
        ("表示", "表示"),
    ]


def test_mixed_text_keeps_latin_words_apart_and_spans_in_step() -> None:
    assert words_and_places("G20峰会: Putin說、俄") == [
        ("g20", "G20"),
        ("峰会", "峰会"),
        ("putin", "Putin"),
        ("說", "說"),  # a run of one character is one word
        ("俄", "俄"),
    ]


def test_japanese_kana_marks_and_halfwidth_forms_stay_in_their_run() -> None:
    # ー and 々 are part of the run; a decomposed voiced mark stays with its kana, and
    # halfwidth katakana normalise to the full-width words a full-width name gives.
    assert tokenize("ロシア外務省") == ["ロシ", "シア", "ア外", "外務", "務省"]
    text = "人々がスーパー"
    pairs = ["人々", "々が", "がス", "スー", "ーパ", "パー"]
    assert words_and_places(text) == [(normalise(p), p) for p in pairs]
    assert words_and_places("か\u3099き") == [("かき", "か\u3099き")]
    assert tokenize("ﾛｼｱ") == tokenize("ロシア")
    assert tokenize("ｶﾞｽ") == tokenize("ガス")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Russia's talks on U.S.-led NATO plans",
            ["Russia's", "talks", "on", "U", "S", "led", "NATO", "plans"],
        ),
        ("Путин: «Россия готова»", ["Путин", "Россия", "готова"]),
        ("Café ZÜRICH Straße’s", ["Café", "ZÜRICH", "Straße’s"]),
        ("대한민국 정부 발표", ["대한민국", "정부", "발표"]),  # Hangul: words are spaced
        ("대한민국정부", ["대한민국정부"]),  # and never cut into pairs
        ("नमस्ते दुनिया", ["नमस्ते", "दुनिया"]),
    ],
)
def test_other_scripts_keep_their_words(text: str, expected: list[str]) -> None:
    # `expected` as written; the normal form of each (NFKD: Hangul into its letters,
    # marks dropped) is normalise's business, tested in test_normalise.py.
    assert words_and_places(text) == [(normalise(w), w) for w in expected]


def test_english_and_russian_normal_forms_are_as_before() -> None:
    assert tokenize("Russia's talks on U.S.-led NATO plans") == (
        ["russia's", "talks", "on", "u", "s", "led", "nato", "plans"]
    )
    assert tokenize("Путин: «Россия готова» к переговорам") == (
        ["путин", "россия", "готова", "к", "переговорам"]
    )
    assert tokenize("Café ZÜRICH Straße’s 'quoted'") == ["cafe", "zurich", "strasse's", "quoted"]


def test_a_name_is_split_as_a_story_is() -> None:
    assert split_cjk("俄罗斯") == ["俄罗", "罗斯"]
    assert split_cjk("g20峰会") == ["g20", "峰会"]
    assert split_cjk("俄") == ["俄"]
    assert split_cjk("russia's") == ["russia's"]


# -- queries ---------------------------------------------------------------------------


def test_a_chinese_query_word_is_the_phrase_of_its_pairs() -> None:
    assert words_of("俄罗斯") == (Word("俄罗", "exact"), Word("罗斯", "exact"))
    assert parse_query('"俄罗斯"').node == parse_query("俄罗斯").node
    # `=` has nothing to turn off on such text: the same query.
    assert parse_query("=俄罗斯").node == parse_query("俄罗斯").node
    assert words_of("=G20峰会") == (Word("g20", "exact"), Word("峰会", "exact"))
    assert words_of("G20峰会") == (Word("g20", "word"), Word("峰会", "exact"))


def test_a_prefix_on_chinese_or_japanese_is_refused_with_the_reason() -> None:
    for query in ("俄罗斯*", "G20峰*", "ロシア*"):
        with pytest.raises(QueryError, match="takes no `\\*`"):
            parse_query(query)
    assert parse_query("Russ*").terms == ("russ",)


@backends
def test_a_keyword_is_found_inside_a_longer_run(native: bool) -> None:
    assert matches("俄罗斯", "俄罗斯总统普京表示", native=native) == ["俄罗斯", "俄罗斯"]
    assert matches("普京", "新闻", "俄罗斯总统普京表示", native=native) == ["普京", "普京"]
    assert matches("ロシア", "ロシア外務省は声明を発表", native=native) == ["ロシア", "ロシア"]
    assert matches("俄罗斯", "俄国总统普京表示", native=native) == []
    # A keyword is characters in a row, as in a search engine: it is found inside 白俄罗斯
    # (Belarus) too. `topic:Russia` knows better (below).
    assert matches("俄罗斯", "白俄罗斯总统", native=native) == ["俄罗斯", "俄罗斯"]
    assert matches("俄罗斯 -白俄罗斯", "白俄罗斯总统", native=native) == []


@backends
def test_overlapping_terms_are_one_span(native: bool) -> None:
    # 俄罗斯 and 罗斯总统 share 罗斯; 普京 meets 俄罗斯 in 俄罗斯普京: one bold run each.
    assert matches("俄罗斯 罗斯总统", "俄罗斯总统表示", native=native)[-1:] == ["俄罗斯总统"]
    assert matches("俄罗斯 普京", "俄罗斯普京表示", native=native)[-1:] == ["俄罗斯普京"]


# -- topics ----------------------------------------------------------------------------


@backends
def test_topics_fire_on_names_inside_a_run(native: bool) -> None:
    assert matches("topic:Russia", "俄罗斯总统普京表示", native=native) == [
        "Russia (via 俄罗斯, 普京)",
        "俄罗斯",
        "普京",
    ]
    assert matches("topic:Japan", "日本政府は、新たな経済対策を発表した", native=native)[0] == (
        "Japan (via 日本)"
    )
    assert matches("topic:Russia", "ロシア外務省は声明を発表", native=native) == [
        "Russia (via ロシア)",
        "ロシア",
    ]


@backends
def test_russia_is_not_found_inside_belarus(native: bool) -> None:
    assert matches("topic:Russia", "白俄罗斯总统卢卡申科表示", native=native) == []
    assert matches("topic:Belarus", "白俄罗斯总统卢卡申科表示", native=native)[0] == (
        "Belarus (via 白俄罗斯)"
    )
    # Only there: Russia named beside Belarus still counts.
    assert matches("topic:Russia", "俄罗斯与白俄罗斯举行联合军演", native=native) == [
        "Russia (via 俄罗斯)",
        "俄罗斯",
    ]
    assert matches("topic:Russia", "ベラルーシ大統領が声明", native=native) == []
    assert matches("topic:Belarus", "ベラルーシ大統領が声明", native=native)[0] == (
        "Belarus (via ベラルーシ)"
    )


def test_the_inside_rule_comes_from_the_names() -> None:
    pack = topic_pack.current()
    russia = pack.topics["RU"]
    [at] = [i for i, n in enumerate(russia.names) if n.label == "俄罗斯"]
    assert (("白俄", "俄罗", "罗斯"), 1) in russia.inside[at]


def test_a_chinese_name_is_one_mention_and_the_lead_rule_holds() -> None:
    russia = topic_pack.current().topics["RU"]
    story = StoryText("俄罗斯总统普京表示将继续谈判", "")
    found = hits(russia, story)
    assert [(h.stream, h.index, h.size) for h in found] == [(0, 0, 2), (0, 5, 1)]
    assert via(russia, story, found) == ["俄罗斯", "普京"]
    assert about(russia, found)

    # Named once, in passing, at the end of a long summary: not about Russia.
    filler = (
        "欧洲各国领导人周四在布鲁塞尔举行会议，讨论能源价格和通货膨胀问题，"
        "并同意在未来几个月内加强合作、共同应对经济挑战"
    )
    assert len(tokenize(filler)) > LEAD_WORDS
    passing = StoryText("欧盟峰会在布鲁塞尔举行", filler + "，会议也提到了俄罗斯。")
    found = hits(russia, passing)
    assert [(h.stream, h.size) for h in found] == [(1, 2)]
    assert found[0].index > LEAD_WORDS
    assert not about(russia, found)
    # Named twice there: the rule's "at least two mentions" holds.
    twice = StoryText("欧盟峰会在布鲁塞尔举行", filler + "，俄罗斯代表表示俄罗斯反对。")
    assert len(hits(russia, twice)) == 2
    assert about(russia, hits(russia, twice))


def test_an_operators_chinese_name_fires_inside_a_run(tmp_path: Path) -> None:
    extra = tmp_path / "topics.toml"
    extra.write_text('[topics.RU]\nnames = ["卢布"]\n', encoding="utf-8")
    topic_pack.install(topic_pack.load(overrides=extra))
    story = StoryText("卢布汇率大跌", "")
    russia = topic_pack.current().topics["RU"]
    assert via(russia, story, hits(russia, story)) == ["卢布"]


# -- what the alert shows ----------------------------------------------------------------


def test_the_names_that_fired_are_bold_inside_a_run() -> None:
    said = ("Russia (via 俄罗斯, 普京)",)
    assert emphasised_segments("俄罗斯总统普京表示", said) == [
        ("俄罗斯", True),
        ("总统", False),
        ("普京", True),
        ("表示", False),
    ]
    assert emphasise("俄罗斯总统普京表示", said) == "**俄罗斯**总统**普京**表示"
    assert emphasise("俄罗斯普京表示", said) == "**俄罗斯普京**表示"  # never `****`
    # Latin words keep their word boundaries.
    assert emphasise("NATOs and NATO", ("NATO",)) == "NATOs and **NATO**"
    assert emphasise("G20峰会开幕", ("G20峰会",)) == "**G20峰会**开幕"


def test_the_console_alert_names_the_name_not_a_pair() -> None:
    matcher = Matcher()
    matcher.add(1, "topic:Russia")
    [match] = matcher.match("俄罗斯总统普京表示", "")
    alert = Alert(
        channel=Channel("console", "c", "s"),
        feed_id=1,
        story_id="s1",
        title="俄罗斯总统普京表示",
        link="https://news.example/1",
        source="Example",
        published=datetime(2026, 1, 1, tzinfo=UTC),
        summary="",
        topics=("Russia",),
        matched=match.matched,
    )
    assert "Matched: Russia (via 俄罗斯, 普京)" in console_alert(alert)
