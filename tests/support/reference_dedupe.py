"""The plain definition of "the same story by title" that the duplicate index is held to.

Kept apart from bot/feeds/dedupe.py on purpose: the index computes the same ratio from
hashed word counts, and a reference must not share the code it checks.
"""

from __future__ import annotations


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 0.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)
