"""How an alert names a topic match: `Russia (via Kremlin, Лаврова)`, and what to bold.

Kept free of imports beyond `re`: summary.py (bold words) and the adapters' renderers read
alerts through it without loading the topic pack.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_VIA = re.compile(r"^(?P<topic>.*) \(via (?P<names>.*)\)$", re.DOTALL)


def format_matched(display: str, names: Sequence[str]) -> str:
    """`Russia (via Kremlin, Лаврова)`: the topic, and the story's words that named it
    (a name that is the topic's own display is not repeated: `NATO`, not `NATO (via NATO)`)."""
    said = [n for n in names if n.casefold() != display.casefold()]
    return f"{display} (via {', '.join(said)})" if said else display


def has_via(matched: str) -> bool:
    return _VIA.match(matched) is not None


def emphasis_words(matched: Sequence[str]) -> list[str]:
    """The words to show in bold for an alert's `matched`: a topic's display and the names
    that fired (as the story wrote them), other terms as they are."""
    out: list[str] = []
    for item in matched:
        found = _VIA.match(item)
        if found is None:
            out.append(item)
        else:
            out.append(found.group("topic"))
            out += [n.strip() for n in found.group("names").split(",") if n.strip()]
    return out
