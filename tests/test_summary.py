"""Summaries and titles at the platforms' limits: long words, emoji, right-to-left text."""

from __future__ import annotations

import regex
from hypothesis import given
from hypothesis import strategies as st

from bot.core.summary import (
    DISCORD_TITLE_LIMIT,
    ELLIPSIS,
    emphasis_spans,
    emphasised_segments,
    fit,
    summarise,
    text_length,
)

GRAPHEMES = regex.compile(r"\X")


def clusters(text: str) -> list[str]:
    return GRAPHEMES.findall(text)


def test_short_text_is_kept_whole() -> None:
    assert summarise("NATO leaders  met\nin Vilnius.") == "NATO leaders met in Vilnius."


def test_long_text_is_cut_at_a_sentence_end() -> None:
    first = "NATO leaders met in Vilnius on Tuesday to discuss security guarantees. "
    text = first * 3 + "x" * 400
    out = summarise(text)
    assert text_length(out) <= 300
    assert out.endswith("guarantees.")
    assert out.count("Vilnius") == 3


def test_long_text_without_sentences_is_cut_at_a_word_with_an_ellipsis() -> None:
    text = " ".join(["ceasefire"] * 100)
    out = summarise(text, 50)
    assert text_length(out) <= 50
    assert out.endswith("ceasefire" + ELLIPSIS)


def test_one_enormous_word_is_cut_inside_it() -> None:
    out = summarise("https://example.org/" + "a" * 5000)
    assert text_length(out) == 300
    assert out.endswith(ELLIPSIS)


def test_emoji_sequences_are_never_split() -> None:
    family = "👨\u200d👩\u200d👧\u200d👦"  # one grapheme, 11 UTF-16 units
    flag = "🇺🇦"
    text = (family + flag) * 200
    out = fit(text, DISCORD_TITLE_LIMIT)
    assert text_length(out) <= DISCORD_TITLE_LIMIT
    body = out.removesuffix(ELLIPSIS)
    assert all(c in (family, flag) for c in clusters(body))


def test_right_to_left_text_is_cut_at_a_word_and_loses_its_bidi_overrides() -> None:
    arabic = "اجتمع قادة حلف شمال الأطلسي في فيلنيوس "
    text = "\u202e" + arabic * 30 + "\u202c"
    out = summarise(text, 120)
    assert text_length(out) <= 120
    assert "\u202e" not in out
    assert out.removesuffix(ELLIPSIS).split()[-1] in arabic.split()


@given(st.text(min_size=0, max_size=600), st.integers(min_value=2, max_value=400))
def test_any_text_fits_any_limit(text: str, limit: int) -> None:
    out = summarise(text, limit)
    assert text_length(out) <= limit
    assert text_length(fit(text, limit)) <= limit


def test_matched_words_are_emphasised_as_whole_words_in_any_case() -> None:
    text = "Nato and NATOs: NATO leaders discuss Security  Guarantees."
    spans = emphasis_spans(text, ("NATO", "security guarantees"))
    assert [text[s.start : s.end] for s in spans] == ["Nato", "NATO", "Security  Guarantees"]
    pieces = emphasised_segments(text, ("NATO",))
    assert "".join(p for p, _ in pieces) == text
    assert [p for p, bold in pieces if bold] == ["Nato", "NATO"]
