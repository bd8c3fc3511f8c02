"""The compiled matcher core (bot/core/matching/_matchcore.c): built where it can be, and answering
exactly as the pure-Python matcher does, spans and all, through adds and removes."""

from __future__ import annotations

import gc
import os
import shutil
import sysconfig

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.matching.matcher import NATIVE_AVAILABLE, Matcher
from bot.core.models import Match
from tests.support.backends import MATCHER_BACKENDS

QUERIES = [
    "Russia",
    "=Russia",
    "=Russia's",
    "NATO",
    "title:Lavrov",
    '"security guarantees"',
    'title:"security guarantees"',
    '"Russia US talks"',
    "secur*",
    "Мос*",
    "Ukraine -Iran",
    "(Russia OR China) talks -Putin",
    "NATO OR Ukraine OR EU",
    "gas NOT (Iran OR Qatar)",
    "Москва",
    "Café",
    "policy",
    "o'neill",
]
WORDS = [
    "Russia", "Russia's", "Russia’s", "Russians", "Russians'", "russian", "NATO", "NATO's",
    "Lavrov", "security", "securities", "guarantees", "US", "talks", "Ukrainian", "Iran",
    "China", "Putin", "EU", "gas", "Qatar", "Москва", "Москвы", "cafe", "CAFÉ", "policies",
    "O'Neill", "the", "of",
]  # fmt: skip
SEPARATORS = [" ", ", ", "-", ". ", " — ", ": "]

text = st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)), max_size=30).map(
    lambda pairs: "".join(w + s for w, s in pairs)
)


def as_data(matches: list[Match]) -> list[tuple[int, str, tuple[str, ...], tuple[object, ...]]]:
    return [(m.subscription_id, m.query, m.matched, tuple(m.spans)) for m in matches]


def test_compiled_core_is_built_where_a_c_compiler_is() -> None:
    # The core is optional so that `make demo` works without a compiler; where there is
    # one (CI), not having it means the build broke, and the matcher silently got ~4x slower.
    # The compiler setuptools would use: $CC, else the one Python was built with.
    compiler = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler):
        assert NATIVE_AVAILABLE
        assert Matcher().native
    else:
        assert not Matcher().native
    assert not Matcher(native=False).native


@pytest.mark.skipif(len(MATCHER_BACKENDS) < 2, reason="compiled core not built (no C compiler)")
@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.integers(0, 11), st.sampled_from(QUERIES)), max_size=40),
    st.lists(st.tuples(text, text), min_size=1, max_size=4),
)
def test_both_backends_answer_alike_through_adds_and_removes(
    steps: list[tuple[bool, int, str]], stories: list[tuple[str, str]]
) -> None:
    # Random adds and removes reuse term and entry ids in the core (its arrays are indexed
    # by them), share entries between equal queries, and empty and refill its tables.
    python, native = Matcher(native=False), Matcher(native=True)
    for add, sub_id, query in steps:
        for m in (python, native):
            if add:
                m.add(sub_id, query)
            else:
                m.remove(sub_id)
        for title, summary in stories:
            assert as_data(native.match(title, summary)) == as_data(python.match(title, summary))


needs_core = pytest.mark.skipif(not NATIVE_AVAILABLE, reason="compiled core not built")


@needs_core
def test_tables_empty_again_when_every_subscription_is_removed() -> None:
    matcher = Matcher(native=True)
    for i in range(3000):
        matcher.add(i, f'word{i} OR pre{i}* OR "two words{i}"')
    index = matcher._backend._index  # type: ignore[attr-defined]
    assert index.sizes()["word_keys"] > 3000
    for i in range(3000):
        matcher.remove(i)
    assert index.sizes()["word_keys"] == 0
    assert index.sizes()["prefix_heads"] == 0
    # ...and still answers after thousands of deleted slots.
    matcher.add(1, "word7")
    assert [m.subscription_id for m in matcher.match("word7", "")] == [1]
    assert matcher.match("word8 pre8x", "") == []


@needs_core
def test_a_match_outlives_its_matcher() -> None:
    matcher = Matcher(native=True)
    matcher.add(5, "(Russia OR China) talks")
    (match,) = matcher.match("Russia talks", "Not China")
    del matcher
    assert match.matched == ("Russia", "China", "talks")
    assert [(s.field, s.start) for s in match.spans] == [("title", 0), ("title", 7), ("summary", 4)]


@needs_core
def test_the_core_refuses_malformed_input_instead_of_reading_past_it() -> None:
    from bot.core.matching import _matchcore
    from bot.core.matching.spans import StorySpans

    index = _matchcore.Index(Match, StorySpans)
    index.add_word(0, "nato", True)
    bad_programs = [
        [0, 3, 1_000_000],  # atom of a term beyond the arrays
        [0, 3],  # cut short
        [2, 40, 0, 3, 0],  # AND longer than the program
        [4, 3],  # NOT without a child
        [9, 2],  # no such operation
        [1, 6, 0, 2, 0, 1],  # phrase of a title atom
    ]
    for program in bad_programs:
        with pytest.raises(ValueError, match="malformed"):
            index.add_entry(0, (0,), program, None, (1, "q"), ("q",), ())
    with pytest.raises(ValueError, match="cover"):
        index.add_entry(0, (), None, None, (1, "q"), ("q",), ())
    with pytest.raises(ValueError, match="pairs"):
        index.add_entry(0, (0,), None, None, (1,), ("q",), ())
    with pytest.raises(TypeError):  # a word that is not a str, on purpose
        index.match(["nato", 3], [], ("", ""))  # type: ignore[list-item]
    index.add_entry(0, (0,), None, None, (1, "NATO"), ("NATO",), ())
    with pytest.raises(ValueError, match="in use"):
        index.add_entry(0, (0,), None, None, (2, "NATO"), ("NATO",), ())
    assert [m.subscription_id for m in index.match(["nato's"], [], ("NATO's", ""))] == [1]
    with pytest.raises(RuntimeError):
        _matchcore.Index.__new__(_matchcore.Index).match([], [], ("", ""))

    class Plain:  # the core fills __slots__ members directly; anything else is refused
        _story = _leaves = _mask = _spans = None

    with pytest.raises(TypeError, match="slots"):
        _matchcore.Index(Match, Plain)  # type: ignore[arg-type]


@needs_core
def test_stamps_stay_right_across_the_story_counter_wrap() -> None:
    # Terms and candidates are marked with the current story's number; when the 32-bit
    # counter wraps, a mark left by an old story must not pass for a current one.
    matcher = Matcher(native=True)
    matcher.add(1, "Russia")
    matcher.add(2, "title:NATO talks")
    matcher.add(3, "talks -Iran")  # Iran: a term no story touches, its mark still the initial 0
    index = matcher._backend._index  # type: ignore[attr-defined]
    index._set_story_counter(2**32 - 3)
    stories = [("NATO Russia", "talks"), ("nothing", "here"), ("NATO", "talks"), ("", "")]
    for _ in range(3):  # crosses the wrap: ..., 2^32 - 1, then 1, 2, ...
        got = [[m.subscription_id for m in matcher.match(t, s)] for t, s in stories]
        assert got == [[1, 2, 3], [], [2, 3], []]


@needs_core
def test_a_finaliser_calling_back_during_a_match_is_refused_and_harms_nothing() -> None:
    # match() allocates Match objects, which may run the garbage collector and so any
    # finaliser; one calling into the same index would otherwise reuse the buffers the
    # outer match is reading.
    matcher = Matcher(native=True)
    matcher.add(1, "Russia OR NATO")
    refused: list[str] = []

    class CallsBack:
        def __init__(self) -> None:
            self.me = self  # a cycle: only the collector frees it, at any allocation

        def __del__(self) -> None:
            try:
                matcher.match("Russia", "")
            except RuntimeError as error:
                refused.append(str(error))

    threshold = gc.get_threshold()
    gc.set_threshold(1)
    try:
        for _ in range(200):
            CallsBack()
            found = matcher.match("Russia and NATO", "")
            assert [(m.subscription_id, m.matched) for m in found] == [(1, ("Russia", "NATO"))]
            if refused:
                break
    finally:
        gc.set_threshold(*threshold)
        gc.collect()
    assert refused
    assert "inside its own match" in refused[0]
    assert [m.subscription_id for m in matcher.match("NATO", "")] == [1]


@pytest.mark.skipif(len(MATCHER_BACKENDS) < 2, reason="compiled core not built (no C compiler)")
def test_odd_text_is_matched_alike() -> None:
    # Lone surrogates (from broken feeds), NULs, long words, many scripts: the tokenizer
    # splits them; both backends must then agree and neither may raise.
    python, native = Matcher(native=False), Matcher(native=True)
    for i, q in enumerate(["Russia", "secur*", "Москва", '"a b"', "=x"]):
        python.add(i, q)
        native.add(i, q)
    texts = [
        "Russia\ud800talks",
        "secur\x00ity Russia's",
        "x" * 100_000 + " Russia",
        "Москва\u0301 a b a\u200bb",
        "’’’ '' ' Russia’s",
    ]
    for text in texts:
        assert as_data(native.match(text, text)) == as_data(python.match(text, text))
