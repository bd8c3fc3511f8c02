"""Which finished feed claims still hold their lease: the same decision on every backend
(only the SQL that reads the tokens and writes the results differs)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.core.ports import FeedClaim, FetchState


def fenced(
    results: Sequence[tuple[FeedClaim, FetchState]], tokens: Mapping[int, int]
) -> tuple[list[tuple[FeedClaim, FetchState]], list[int]]:
    """The results whose claim's token is still the feed's (`tokens`: feed id -> current
    token), to be written; and the ids of the others, whose lease was taken over meanwhile:
    their results are stale and dropped, the new holder's stand."""
    held = [(c, s) for c, s in results if tokens.get(c.feed.id) == c.lease.token]
    kept = {c.feed.id for c, _ in held}
    return held, [c.feed.id for c, _ in results if c.feed.id not in kept]
