"""Every rule of the query language: a subscription, a story, caught or not."""

from __future__ import annotations

import pytest

from bot.core.matching.matcher import Matcher
from bot.core.models import Match
from bot.core.query import tokenize

# Every rule, on both matcher backends (pure Python and the compiled core).
pytestmark = pytest.mark.usefixtures("each_matcher")


def caught(query: str, title: str, summary: str = "") -> Match | None:
    matcher = Matcher()
    matcher.add(1, query)
    found = matcher.match(title, summary)
    return found[0] if found else None


def highlighted(match: Match | None, title: str, summary: str = "") -> list[str]:
    assert match is not None
    return [(title if s.field == "title" else summary)[s.start : s.end] for s in match.spans]


# 1. Bare words: whole words, any case, accents, any script.


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("NATO", "nato leaders meet"),
        ("nato", "NATO leaders meet"),
        ("Ukraine", "Grain leaves UKRAINE's ports"),
        ("cafe", "Le Café de Flore reopens"),
        ("Café", "Cafe culture returns"),
        ("Sao Paulo", "Rain floods São Paulo"),
        ("strasse", "Die Straße ist gesperrt"),
        ("Москва", "Москва и Киев"),
        ("москва", "МОСКВА: переговоры"),
        ("Αθήνα", "Σεισμός στην ΑΘΗΝΑ"),
        ("Zürich", "ZURICH stocks rise"),
        ("हिन्दी", "हिन्दी दिवस"),
    ],
)
def test_a_word_matches_in_any_case_accent_and_script(query: str, title: str) -> None:
    assert caught(query, title) is not None


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("ran", "Iran grants amnesty"),  # not inside another word
        ("NATO", "NATOism"),  # not a form the suffix rules make
        ("Москва", "Москвабург"),
        ("cat", "Concatenation"),
    ],
)
def test_a_word_does_not_match_inside_other_words(query: str, title: str) -> None:
    assert caught(query, title) is None


def test_a_word_looks_in_the_title_and_the_summary() -> None:
    assert caught("Kremlin", "Talks next month", "The Kremlin said so.") is not None


@pytest.mark.parametrize(
    ("query", "word"),
    [
        ("NATO", "NATO's"),
        ("NATO", "NATO’s"),
        ("Russia", "Russia's"),
        ("Russia", "Russian"),
        ("Russia", "Russians"),
        ("Russia", "Russian's"),
        ("Russia", "Russians'"),
        ("Ukraine", "Ukrainian"),
        ("Ukraine", "Ukrainians"),
        ("Europe", "European"),
        ("Europe", "Europeans"),
        ("Canada", "Canadian"),
        ("Italy", "Italian"),
        ("Mexico", "Mexican"),
        ("Iran", "Iranian"),
        ("Haiti", "Haitian"),
        ("election", "elections"),
        ("tax", "taxes"),
        ("policy", "policies"),
        ("church", "churches"),
    ],
)
def test_a_word_matches_the_forms_english_makes_by_suffix(query: str, word: str) -> None:
    title = f"Officials react: {word} view"
    assert caught(query, title) is not None
    assert highlighted(caught(query, title), title) == [word.rstrip("'")]


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("NATO", "Natan Sharansky speaks"),  # -o -> -an is for names of 6 letters or more
        ("Ira", "Iran talks"),  # no -n forms for words under 4 letters
        ("Russian", "Russia talks"),  # forms go from the query word outwards only
    ],
)
def test_suffix_rules_do_not_overreach(query: str, title: str) -> None:
    assert caught(query, title) is None


@pytest.mark.parametrize("word", ["Russia's", "Russian", "Russians"])
def test_equals_means_exactly_that_word(word: str) -> None:
    assert caught("=Russia", f"{word} economy") is None
    assert caught("=Russia", "russia economy") is not None


# 2. Phrases.


def test_a_phrase_needs_its_words_in_order_and_adjacent() -> None:
    assert caught('"security guarantees"', "talks on security guarantees") is not None
    assert caught('"security guarantees"', "guarantees of security") is None
    assert caught('"security guarantees"', "security and guarantees") is None
    assert caught('"security guarantees"', "security", "guarantees") is None


@pytest.mark.parametrize(
    "title",
    [
        "Russia-US talks on security-guarantees",
        "security, guarantees",
        "Security — guarantees",
        "security… (guarantees)",
    ],
)
def test_a_phrase_matches_across_punctuation(title: str) -> None:
    assert caught('"security guarantees"', title) is not None


def test_phrase_words_take_their_forms_and_the_highlight_covers_the_phrase() -> None:
    title = "The Russian-Ukrainian border"
    match = caught('"Russia Ukraine" border', title)
    assert match is not None
    assert match.matched == ("Russia Ukraine", "border")
    assert highlighted(match, title) == ["Russian-Ukrainian", "border"]


def test_a_written_word_with_punctuation_is_a_phrase() -> None:
    assert caught("COVID-19", "New COVID 19 wave") is not None
    assert caught("COVID-19", "covid-19 cases") is not None
    assert caught("U.S.", "The U.S. Senate") is not None
    assert caught("COVID-19", "19 COVID") is None


# 3. Prefixes.


def test_a_star_matches_any_word_starting_with_it() -> None:
    assert caught("sanction*", "New sanctioned entities") is not None
    assert caught("sanction*", "Sanctions bite") is not None
    assert caught("sanction*", "sanction") is not None
    assert caught("sanction*", "unsanctioned trade") is None
    assert caught('"climate chan*"', "Climate changes fast") is not None
    assert caught("Zür*", "ZURICH stocks") is not None


# 4. AND, OR, NOT, parentheses, title:


def test_words_side_by_side_must_all_match() -> None:
    assert caught("security guarantees", "guarantees", "on security") is not None
    assert caught("security guarantees", "security talks") is None


def test_or_matches_either() -> None:
    assert caught("Russia OR Ukraine", "Ukraine grain") is not None
    assert caught("Russia OR Ukraine", "Russia gas") is not None
    assert caught("Russia OR Ukraine", "Belarus vote") is None


@pytest.mark.parametrize("query", ["NATO NOT Turkey", "NATO -Turkey", "NATO AND NOT Turkey"])
def test_not_excludes(query: str) -> None:
    assert caught(query, "NATO summit") is not None
    assert caught(query, "NATO summit", "Turkey objects") is None
    # NOT excludes the word and its forms, nothing wider: `Turkish` is not a form of Turkey.
    assert caught(query, "NATO summit", "Turkey's objections") is None
    assert caught(query, "NATO summit", "Turkish objections") is not None


def test_or_binds_tighter_than_the_space() -> None:
    query = "Russia OR Ukraine -Putin"
    assert caught(query, "Ukraine talks") is not None
    assert caught(query, "Ukraine talks, Putin says") is None
    assert caught("Russia (Ukraine OR Belarus)", "Russia and Belarus") is not None
    assert caught("Russia (Ukraine OR Belarus)", "Russia alone") is None


def test_parentheses_group() -> None:
    query = "(gas OR oil) (Russia OR Norway) -(price cap)"
    assert caught(query, "Norway oil output") is not None
    assert caught(query, "Norway oil price cap") is None
    assert caught(query, "Norway oil price rises") is not None
    assert caught(query, "Norway fish") is None


def test_title_looks_in_the_title_only() -> None:
    assert caught("title:NATO", "NATO summit") is not None
    assert caught("title:NATO", "Summit opens", "NATO leaders meet") is None
    assert caught('title:"security guarantees"', "On security guarantees") is not None
    assert caught('title:"security guarantees"', "Talks", "on security guarantees") is None
    assert caught("title:(gas OR oil) Norway", "Oil", "in Norway") is not None
    assert caught("title:(gas OR oil) Norway", "Norway", "oil") is None


def test_a_phrase_does_not_run_from_the_title_into_the_summary() -> None:
    assert caught('"security guarantees"', "Talks on security", "guarantees sought") is None


def test_lowercase_or_and_not_are_words() -> None:
    assert caught("war or peace", "war and peace") is None
    assert caught("war or peace", "war or peace") is not None


# What a match says.


def test_a_match_names_the_terms_found_and_where() -> None:
    title = "Russia-US talks: Lavrov"
    summary = "Russia’s minister met NATO envoys. Talks resume."
    match = caught("(Russia OR China) talks -Putin", title, summary)
    assert match is not None
    assert match.query == "(Russia OR China) talks -Putin"
    assert match.matched == ("Russia", "talks")
    assert highlighted(match, title, summary) == ["Russia", "talks", "Russia’s", "Talks"]
    assert [s.field for s in match.spans] == ["title", "title", "summary", "summary"]


def test_equal_queries_from_many_subscribers_each_get_their_match() -> None:
    matcher = Matcher()
    matcher.add(3, "NATO")
    matcher.add(1, "nato")
    matcher.add(2, "Ukraine")
    found = matcher.match("NATO summit", "")
    assert [(m.subscription_id, m.query) for m in found] == [(1, "nato"), (3, "NATO")]
    matcher.remove(1)
    assert [m.subscription_id for m in matcher.match("NATO summit", "")] == [3]
    matcher.add(3, "Ukraine")  # re-adding an id replaces its query
    assert matcher.match("NATO summit", "") == []
    assert len(matcher) == 2


def test_the_tokenizer_keeps_apostrophes_inside_words_only() -> None:
    assert tokenize("NATO's 'quoted' rock'n'roll ''x") == [
        "nato's",
        "quoted",
        "rock'n'roll",
        "x",
    ]
    assert tokenize("Russia’s «Straße»") == ["russia's", "strasse"]
