"""Short plain-text summaries for alerts."""

from __future__ import annotations

import re

DEFAULT_SUMMARY_LIMIT = 300
ELLIPSIS = "…"

_SENTENCE_END = re.compile(r"[.!?。！？][\"'”’)\]]?\s")


def summarise(text: str, limit: int = DEFAULT_SUMMARY_LIMIT) -> str:
    """Cut `text` to at most `limit` characters at a sentence, else a word, boundary.

    A cut text ends with an ellipsis (counted in the limit), so readers know there is more.
    """
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    room = limit - len(ELLIPSIS)
    head = text[: room + 1]
    # Prefer the last full sentence if it keeps at least half the room.
    ends = [m.end() for m in _SENTENCE_END.finditer(head)]
    if ends and ends[-1] >= room // 2:
        return text[: ends[-1]].rstrip()
    cut = head.rfind(" ")
    if cut < room // 2:
        cut = room  # one very long word: cut inside it rather than lose the whole summary
    return text[:cut].rstrip(" ,;:-") + ELLIPSIS
