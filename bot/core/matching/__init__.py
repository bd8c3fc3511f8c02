"""Matching stories against every subscription at once.

The work splits by how often it happens:

- Once per subscription (when one is added or removed): `matcher` parses the query, shares
  equal queries, hands out term and entry ids; `plan` compiles each query into a cover (the
  atoms a story must hold for the query to be worth evaluating) and a plan to evaluate.
  `index` keeps the live subscriptions in a `Matcher` and turns matches into alerts.
  `shapes` lets queries that differ only in their plain words (`Biden OR Trump`, `Iran OR
  Iraq`) share one parse and one compile, which keeps building 100,000 quick; `waiting`
  holds queries out of the index until a story could match them (`newsbot match`).
- Once per story: a backend looks each story word up once, gathers the entries filed under
  the atoms it holds and evaluates only those. `native_backend` drives the C core
  (`_matchcore.c`, built at install where a compiler is); `python_backend` does the same in
  pure Python. `story` is the tokenised story both read; `spans` finds, lazily, where in the
  text each matched word stands, for bold words in alerts.
"""

from bot.core.matching.index import SubscriptionIndex
from bot.core.matching.matcher import NATIVE_AVAILABLE, Matcher

__all__ = ["NATIVE_AVAILABLE", "Matcher", "SubscriptionIndex"]
