"""Short plain-text summaries for alerts, texts cut to platform limits, and emphasis.

Lengths are counted the strictest way a platform might count them: in UTF-16 code units
(an emoji outside the Basic Multilingual Plane counts 2), never fewer than code points.
Cuts never split a grapheme cluster (an emoji with its skin tone or ZWJ sequence, a flag,
a letter with its combining marks), so a cut text never shows a broken character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import regex

from bot.core.query.text import has_cjk
from bot.core.topics.display import emphasis_words

DEFAULT_SUMMARY_LIMIT = 300
ELLIPSIS = "…"

# Documented platform limits, for the adapters and for delivery's own checks.
DISCORD_TITLE_LIMIT = 256
DISCORD_DESCRIPTION_LIMIT = 4096
DISCORD_MESSAGE_LIMIT = 6000  # all embeds of one message together
SLACK_SECTION_LIMIT = 3000
SLACK_BLOCK_LIMIT = 50

_SENTENCE_END = re.compile(r"[.!?。！？؟][\"'”’)\]]?\s")
_GRAPHEME = regex.compile(r"\X")
# Explicit bidirectional embeddings, overrides and isolates (not the harmless LRM/RLM
# marks): a cut can leave one open, and in a chat message an unbalanced one reorders
# the text after it ("Trojan Source"). Summaries are plain text, so they are dropped.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def text_length(text: str) -> int:
    """Length in UTF-16 code units: what the strictest platform counts."""
    return len(text.encode("utf-16-le")) // 2


def _prefix_within(text: str, room: int) -> str:
    """The longest run of whole grapheme clusters of `text` that fits in `room`."""
    used = 0
    end = 0
    for cluster in _GRAPHEME.finditer(text):
        size = text_length(cluster.group(0))
        if used + size > room:
            break
        used += size
        end = cluster.end()
    return text[:end]


def plain(text: str) -> str:
    """One line of plain text: whitespace runs collapsed, bidi controls dropped."""
    return " ".join(_BIDI_CONTROLS.sub("", text).split())


def fit(text: str, limit: int) -> str:
    """`text` cut to at most `limit` (UTF-16 units) at a word boundary, with an ellipsis.

    For titles and fields with a hard platform limit: unlike `summarise`, it does not
    look for a sentence end, and a text that fits is returned unchanged.
    """
    if text_length(text) <= limit:
        return text
    if limit <= text_length(ELLIPSIS):
        return _prefix_within(text, limit)
    room = limit - text_length(ELLIPSIS)
    head = _prefix_within(text, room + 1)  # one more, to see whether a word ends here
    cut = head.rfind(" ")
    # One very long word (a URL, German compounds, CJK with no spaces): cut inside it.
    head = _prefix_within(text, room) if cut < len(head) // 2 else head[:cut]
    head = _prefix_within(head, room)
    return head.rstrip(" ,;:-") + ELLIPSIS


def summarise(text: str, limit: int = DEFAULT_SUMMARY_LIMIT) -> str:
    """Cut `text` to at most `limit` characters at a sentence, else a word, boundary.

    A cut text ends with an ellipsis (counted in the limit), so readers know there is more.
    """
    text = plain(text)
    if text_length(text) <= limit:
        return text
    room = limit - text_length(ELLIPSIS)
    head = _prefix_within(text, room + 1)
    # Prefer the last full sentence if it keeps at least half the room.
    ends = [m.end() for m in _SENTENCE_END.finditer(head)]
    if ends and text_length(head[: ends[-1]]) >= room // 2:
        return text[: ends[-1]].rstrip()
    return fit(text, limit)


@dataclass(frozen=True, slots=True)
class Span:
    """Characters [start, end) of a text that an adapter shows emphasised (bold)."""

    start: int
    end: int


def emphasis_spans(text: str, words: tuple[str, ...] | list[str]) -> list[Span]:
    """Where the matched `words` occur in `text`: whole words, any case, in order.

    A word may be a phrase (`security guarantees`: any spacing between its words) or end
    in `*` (a prefix). Overlapping occurrences are merged. Chinese and Japanese have no
    word breaks, so a word that begins (ends) with such a character is found after
    (before) any letter, as the matcher finds it (bot.core.query.text): `俄罗斯` inside
    `俄罗斯总统普京表示`.
    """
    patterns: list[str] = []
    for word in emphasis_words(words):  # a topic's match bolds the names that fired
        parts = regex.findall(r"\w+", word)
        if not parts:
            continue
        body = r"\W+".join(regex.escape(p) for p in parts)
        tail = r"\w*" if word.rstrip().endswith("*") else ""
        head = "" if has_cjk(parts[0][0]) else r"(?<!\w)"
        end = "" if has_cjk(parts[-1][-1]) and not tail else r"(?!\w)"
        patterns.append(head + body + tail + end)
    if not patterns:
        return []
    finder = regex.compile(
        "|".join(sorted(patterns, key=len, reverse=True)), regex.IGNORECASE | regex.UNICODE
    )
    spans: list[Span] = []
    for m in finder.finditer(text, overlapped=True):
        if spans and m.start() <= spans[-1].end:
            if m.end() > spans[-1].end:
                spans[-1] = Span(spans[-1].start, m.end())
            continue
        spans.append(Span(m.start(), m.end()))
    return spans


def emphasised_segments(text: str, words: tuple[str, ...] | list[str]) -> list[tuple[str, bool]]:
    """`text` as (segment, emphasised) pieces, ready to escape and render piece by piece."""
    pieces: list[tuple[str, bool]] = []
    at = 0
    for span in emphasis_spans(text, words):
        if span.start > at:
            pieces.append((text[at : span.start], False))
        pieces.append((text[span.start : span.end], True))
        at = span.end
    if at < len(text):
        pieces.append((text[at:], False))
    return pieces
