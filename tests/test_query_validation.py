"""Every query the bot refuses: the message names the problem and where it is."""

from __future__ import annotations

import pytest

from bot.core.query import QueryError, parse_query, split_queries


@pytest.mark.parametrize(
    ("query", "message", "column"),
    [
        ("   ", "the query is empty", 1),
        ("a" * 201, "the query is longer than 200 characters", 201),
        (" ".join(f"w{i}" for i in range(21)), "the query has more than 20 terms", 71),
        ('NATO "security guarantees', "this quote is never closed", 6),
        ("(NATO OR Russia", "this `(` is never closed", 1),
        ("NATO (Russia OR (Ukraine)", "this `(` is never closed", 6),
        ("NATO) Russia", "this `)` has no matching `(`", 5),
        ("NATO ()", "these parentheses are empty", 6),
        ('NATO ""', "these quotes hold no word to look for", 6),
        ("OR NATO", "`OR` needs a term on each side", 1),
        ("NATO OR", "`OR` needs a term on each side", 6),
        ("NATO OR OR Russia", "`OR` needs a term on each side", 6),
        ("NATO AND", "`AND` needs a term on each side", 6),
        ("AND NATO", "`AND` needs a term on each side", 1),
        ("NATO NOT", "`NOT` must be followed by a term", 6),
        ("NATO - Russia", "`-` must be followed by a term, with no space between", 6),
        ("title: NATO", '`title:` must be followed by a word, a "quoted phrase" or (…)', 1),
        ("NATO =", "`=` must be followed by a word", 6),
        ("NATO Ru*", "`Ru*`: a prefix needs at least 3 letters before `*`", 6),
        ("NATO Ru*ssia", "`*` can only end a word (`Russ*`)", 8),
        ("=Russ*", "a word takes `=` (exactly) or `*` (any ending), not both", 1),
        ("NATO-*", "`*` must come right after a letter or digit", 6),
        ("NATO & Russia", "`&` has no letter or digit to look for", 6),
        ("-Russia", "this part matches stories by what they lack only", 1),
        ("NOT Russia NOT Ukraine", "this part matches stories by what they lack only", 1),
        ("NATO OR -Russia", "this part matches stories by what they lack only", 9),
        ("(NATO -Turkey) OR NOT Russia", "this part matches stories by what they lack only", 19),
    ],
)
def test_refused_with_problem_and_position(query: str, message: str, column: int) -> None:
    with pytest.raises(QueryError) as refused:
        parse_query(query)
    assert refused.value.message.startswith(message)
    assert refused.value.position == column - 1
    assert str(refused.value).endswith(f"(at character {column})")


@pytest.mark.parametrize(
    "query",
    [
        "a" * 200,
        " ".join(f"w{i}" for i in range(20)),
        "NATO -Turkey",
        "NOT Turkey NATO",
        "NOT NOT NATO",
        "(NATO OR EU) -(Turkey OR Hungary)",
        'title:"security guarantees" OR title:(Kremlin Lavrov)',
        "Russ* =NATO",
        "Sao-Paulo",
    ],
)
def test_accepted_at_the_limits(query: str) -> None:
    assert parse_query(query).text == query


def test_terms_are_the_positive_words() -> None:
    parsed = parse_query('"security guarantees" NATO -Turkey title:Russ*')
    assert parsed.words == ("security guarantees", "NATO", "Russ*")
    assert parsed.terms == ("security", "guarantees", "nato", "russ")


def test_commas_split_subscriptions_but_not_inside_quotes_or_parentheses() -> None:
    assert split_queries('Russia, "Moscow, Kyiv", (gas, oil) OR coal') == [
        "Russia",
        '"Moscow, Kyiv"',
        "(gas, oil) OR coal",
    ]
