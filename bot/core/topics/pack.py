"""The topics `topic:` knows: loaded from the generated pack, dated, extended by the operator.

The pack (`data/generated.json`, made by bot.core.topics.build from CLDR, GeoNames,
pymorphy3, simplemma and `data/curated.toml`) lists each topic's names with their
grammatical forms already made, so loading is reading JSON: no dictionary package is
imported by the bot. Loading happens once, on the first `topic:` query (benchmarks/
bench_topics.py measures it).

Officials carry the dates they held office. A topic is loaded *as of* a day: a name whose
holder left office more than `grace` before it (default 2 years; NEWSBOT_TOPIC_GRACE_DAYS,
passed in by bot.runtime through `configure`) or took office after it is left out, so an
old name does not fire forever.

Operator overrides: a file `newsbot-topics.toml` in the working directory (or the file
NEWSBOT_TOPICS_FILE names) adds names to topics, or new topics, without changing the code:

    [topics.RU]                       # an existing topic: by its key (see /news topics)
    names = ["Rossiya", "Rosiya"]     # more names (any language; forms are not generated)
    weak = ["Rossiya"]                # optional, as in curated.toml
    unless."Rossiya" = ["airline"]    # optional
    [topics.ACME]                     # a new topic
    display = "Acme Corp"
    names = ["Acme", "Acme Corporation"]
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bot.core.query.inflect import inflects, word_forms
from bot.core.query.text import WORD_RE, has_cjk, normalise, split_cjk

PACK = Path(__file__).with_name("data") / "generated.json"
OVERRIDE_FILE = "newsbot-topics.toml"  # looked for in the working directory
DEFAULT_GRACE = timedelta(days=730)
SUGGEST_CUTOFF = 0.6  # difflib similarity of a name worth suggesting
SUGGEST_MARGIN = 0.1


@dataclass(frozen=True, slots=True)
class Name:
    """One name of a topic (`Лавров`, `White House`), with what limits it."""

    label: str  # as the pack writes it: what an alert says fired
    flags: str  # see bot.core.topics.build: w weak, A capitals only, C capitalised, o, k
    since: date | None = None
    until: date | None = None
    unless: frozenset[str] = frozenset()  # story words that make this name something else

    @property
    def weak(self) -> bool:
        return "w" in self.flags


@dataclass(slots=True)
class Topic:
    key: str
    display: str
    kind: str
    names: list[Name] = field(default_factory=list)
    lookup: set[str] = field(default_factory=set)  # normalised names `topic:` accepts
    # A one-word form -> the names it is a form of; a phrase by its first word ->
    # (its other words, the name).
    words: dict[str, list[int]] = field(default_factory=dict)
    phrases: dict[str, list[tuple[tuple[str, ...], int]]] = field(default_factory=dict)
    # A Chinese or Japanese name -> the other topics' names that hold it, each with where
    # it sits in them: `俄罗斯` (Russia) is inside `白俄罗斯` (Belarus) at word 1, and there
    # it is not a name of Russia (see `_mark_inside`; read by bot.core.topics.judge).
    inside: dict[int, list[tuple[tuple[str, ...], int]]] = field(default_factory=dict)
    cjk: list[tuple[tuple[str, ...], int]] = field(default_factory=list)  # (words, name)
    _heads: frozenset[str] | None = None

    def heads(self) -> frozenset[str]:
        """The words a name can begin with (one-word forms, phrases' first words)."""
        if self._heads is None:
            self._heads = frozenset(self.words) | frozenset(self.phrases)
        return self._heads

    def add(self, name: Name, variants: Iterable[str]) -> None:
        at = len(self.names)
        self.names.append(name)
        self._heads = None
        for variant in variants:
            # The pack keeps names whole; the matcher reads Chinese and Japanese in pairs
            # of characters (bot.core.query.text), so a name is split as a story is.
            words = [piece for word in variant.split() for piece in split_cjk(word)]
            if has_cjk(variant):
                self.cjk.append((tuple(words), at))
            if len(words) == 1:
                self.words.setdefault(words[0], []).append(at)
            elif words:
                self.phrases.setdefault(words[0], []).append((tuple(words[1:]), at))

    def triggers(self) -> frozenset[str]:
        """The story words the matcher files this topic under: every one-word form, and
        the longest (rarest, by Zipf's law of abbreviation) word of each phrase. A story
        holding none of them cannot be about the topic; one holding some is then judged
        (bot.core.topics.judge)."""
        out = set(self.words)
        for head, rests in self.phrases.items():
            for rest, _ in rests:
                out.add(max((head, *rest), key=len))
        return frozenset(out)


@dataclass(slots=True)
class Pack:
    topics: dict[str, Topic]  # by key
    by_lookup: dict[str, str]  # normalised name -> key
    as_of: date
    _triggers: dict[str, frozenset[str]] = field(default_factory=dict)

    def find(self, name: str) -> Topic | None:
        key = self.by_lookup.get(normalise_name(name))
        return self.topics.get(key) if key is not None else None

    def triggers(self, key: str) -> frozenset[str]:
        found = self._triggers.get(key)
        if found is None:
            found = self._triggers[key] = self.topics[key].triggers()
        return found

    def suggestions(self, name: str, limit: int = 3) -> list[str]:
        """The displays of the known topics closest to `name` (`Rusia` -> Russia)."""
        import difflib

        wanted = normalise_name(name)
        best: dict[str, float] = {}  # display -> its closest lookup name's similarity
        for lookup, key in self.by_lookup.items():
            ratio = difflib.SequenceMatcher(None, wanted, lookup).ratio()
            display = self.topics[key].display
            if ratio >= SUGGEST_CUTOFF and ratio > best.get(display, 0.0):
                best[display] = ratio
        if not best:
            return []
        # Only those about as close as the closest: `Rusia` is Russia, not also USA.
        top = max(best.values())
        ranked = sorted(best, key=lambda d: -best[d])
        return [d for d in ranked if best[d] >= top - SUGGEST_MARGIN][:limit]

    def listing(self, prefix: str = "") -> list[Topic]:
        want = normalise_name(prefix)
        found = [t for t in self.topics.values() if normalise_name(t.display).startswith(want)]
        return sorted(found, key=lambda t: t.display.casefold())


def normalise_name(name: str) -> str:
    return " ".join(normalise(w) for w in WORD_RE.findall(name))


def load(
    *,
    as_of: date | None = None,
    grace: timedelta | None = None,
    overrides: Path | None = None,
    pack: Path = PACK,
) -> Pack:
    """The pack as of `as_of` (today), extended by the operator's file if there is one."""
    day = as_of or date.today()
    keep = grace if grace is not None else _configured.grace
    data = json.loads(pack.read_text(encoding="utf-8"))
    topics: dict[str, Topic] = {}
    by_lookup: dict[str, str] = {}
    for row in data["topics"]:
        topic = Topic(row["key"], row["display"], row["kind"], lookup=set(row["lookup"]))
        unless: Mapping[str, list[str]] = row["unless"]
        for label, flags, since, until, variants in row["names"]:
            start = date.fromisoformat(since) if since else None
            end = date.fromisoformat(until) if until else None
            if start is not None and start > day:
                continue  # not yet in office on that day
            if end is not None and end + keep < day:
                continue  # left office too long ago
            contexts = frozenset(unless.get(normalise_name(label), ()))
            topic.add(Name(label, flags, start, end, contexts), variants)
        topics[topic.key] = topic
    path = overrides if overrides is not None else _configured.overrides
    path = path if path is not None else Path.cwd() / OVERRIDE_FILE
    if path is not None and path.exists():
        _apply_overrides(topics, tomllib.loads(path.read_text(encoding="utf-8")), path)
    for topic in topics.values():
        for lookup in topic.lookup:
            by_lookup.setdefault(lookup, topic.key)
    _mark_inside(topics)
    return Pack(topics, by_lookup, day)


def _mark_inside(topics: Mapping[str, Topic]) -> None:
    """Fill each topic's `inside`: written without spaces, a Chinese or Japanese name can
    stand inside another topic's (`俄罗斯` Russia in `白俄罗斯` Belarus, `苏丹` Sudan in
    `南苏丹` South Sudan), where it is not a name at all. Found from the names themselves,
    so no list of such pairs is kept by hand."""
    holding: dict[str, list[tuple[tuple[str, ...], str]]] = {}  # a word -> names with it
    for topic in topics.values():
        for words, _ in topic.cjk:
            for word in set(words):
                holding.setdefault(word, []).append((words, topic.key))
    for topic in topics.values():
        for words, at in topic.cjk:
            size = len(words)
            found = {
                (other, start)
                for other, key in holding.get(words[0], ())
                if key != topic.key and len(other) > size
                for start in range(len(other) - size + 1)
                if other[start : start + size] == words
            }
            if found:
                topic.inside.setdefault(at, []).extend(sorted(found))


def _apply_overrides(topics: dict[str, Topic], data: dict[str, Any], path: Path) -> None:
    specs = data.get("topics")
    if not isinstance(specs, dict):
        raise ValueError(f"{path}: expected [topics.KEY] tables")
    by_name = {normalise_name(t.display): t for t in topics.values()}
    for key, spec in specs.items():
        if not isinstance(spec, dict):
            raise ValueError(f"{path}: [topics.{key}] must be a table")
        topic = topics.get(key) or by_name.get(normalise_name(key))
        if topic is None:
            display = str(spec.get("display") or key)
            topic = topics[key] = Topic(key, display, str(spec.get("kind", "custom")))
            topic.lookup |= {normalise_name(display), normalise_name(key)}
        names = spec.get("names", [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError(f"{path}: topics.{key}.names must be a list of strings")
        weak = {normalise_name(n) for n in spec.get("weak", [])}
        unless = {normalise_name(k): v for k, v in spec.get("unless", {}).items()}
        for label in names:
            norm = normalise_name(label)
            if not norm:
                raise ValueError(f"{path}: topics.{key}: {label!r} has no letter or digit")
            contexts = frozenset(normalise_name(w) for w in unless.get(norm, ()))
            name = Name(label, "w" if norm in weak else "", unless=contexts)
            topic.add(name, _forms(norm))
        topic.lookup |= {normalise_name(x) for x in spec.get("lookup", [])}


def _forms(norm: str) -> set[str]:
    """An operator's name and, for a Latin-letter last word, its English forms."""
    words = norm.split()
    if not inflects(words[-1]):
        return {norm}
    return {" ".join([*words[:-1], form]) for form in word_forms(words[-1])}


@dataclass(slots=True)
class _Configured:
    grace: timedelta = DEFAULT_GRACE
    overrides: Path | None = None  # None: newsbot-topics.toml in the working directory


_configured = _Configured()
_LOADED: Pack | None = None


def configure(*, grace: timedelta, overrides: Path | None) -> None:
    """The settings `current()` loads with (bot.runtime, from NEWSBOT_TOPIC_GRACE_DAYS and
    NEWSBOT_TOPICS_FILE); a pack already loaded is loaded again on next use."""
    global _LOADED
    _configured.grace = grace
    _configured.overrides = overrides
    _LOADED = None


def current() -> Pack:
    """The process's pack, loaded on first use (as of the day it is first used)."""
    global _LOADED
    if _LOADED is None:
        _LOADED = load()
    return _LOADED


def install(pack: Pack | None) -> None:
    """Replace the process's pack (tests; a reload): None loads it again on next use."""
    global _LOADED
    _LOADED = pack
