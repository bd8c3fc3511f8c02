"""A digest in its channel's language: the items in another language show their title
translated (the feed's own beside it), or marked with their language ("[ru] ...").

Like an alert's title (bot/delivery/enrich.py), but a digest asks the model once for all
its items: their titles go as one numbered list and come back as one (parse_titles), so
ten foreign stories cost one request of the day's limit and one budget
(NEWSBOT_LLM_TIMEOUT), not ten. A reply that does not pair up line for line is not used
at all: every item then shows its mark, never another story's translation.

What is learnt is kept with each story, as for alerts: its language (told once for all
channels) and its title's translation into the channel's language (the same cached fact
an alert of the story uses). A digest sent again after a crash (enrichment happens
before the in-flight mark, so it is still pending) finds them and asks nothing again.
No article is read: a digest shows titles only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.core.digest import ITEM_TITLE_LIMIT, DigestItem, digest_items, with_items
from bot.core.enrichment import MODEL_TITLE_LIMIT, parse_titles, titles_prompt
from bot.core.models import Alert
from bot.core.summary import fit

if TYPE_CHECKING:  # enrich.py imports this module to hand digests over
    from bot.delivery.enrich import Enricher

log = logging.getLogger(__name__)


async def translate_digest(enricher: Enricher, digest: Alert, wanted: str) -> Alert:
    """The digest as a channel reading `wanted` should see it; as it was if all its items
    are in that language (or theirs cannot be told)."""
    try:
        items = digest_items(digest)
    except (ValueError, KeyError, TypeError):  # a foreign payload: its plain text stands
        return digest
    languages = await asyncio.gather(*(_language(enricher, item) for item in items))
    foreign = {n: lang for n, lang in enumerate(languages) if lang and lang != wanted}
    if not foreign:
        return digest
    translated: dict[int, str] = {}
    if enricher.model is not None:
        translated = await _translations(enricher, digest, items, sorted(foreign), wanted)
    shown = list(items)
    for n, language in foreign.items():
        item = items[n]
        if n in translated:
            title = fit(translated[n], ITEM_TITLE_LIMIT)
            shown[n] = replace(item, title=title, original=item.title, language=language)
        else:
            shown[n] = replace(item, title=f"[{language}] {item.title}", language=language)
    return with_items(digest, shown)


async def _language(enricher: Enricher, item: DigestItem) -> str | None:
    try:
        text = f"{item.title}. {item.sample}" if item.sample else item.title
        story = (item.feed_id, item.story_id)
        return await enricher.story_language(story, item.feed_language or None, text)
    except Exception:  # one item's trouble leaves it as it is, not the digest unsent
        log.exception("language detection failed", extra={"story_id": item.story_id})
        return None


def _cacheable(item: DigestItem) -> bool:
    """A translation is kept as the story's own only when the digest held its whole title
    (a title cut to fit the digest would give alerts a cut translation)."""
    return bool(item.story_id) and not item.title.endswith("…")


async def _translations(
    enricher: Enricher, digest: Alert, items: Sequence[DigestItem], wanted_items: list[int], to: str
) -> dict[int, str]:
    """Translated titles by item number: the cached ones, and what one model request
    gives for the rest within the budget; the items it could not give are left out."""
    store = enricher.store
    found: dict[int, str] = {}
    for n in wanted_items:
        item = items[n]
        if item.story_id:
            cached = await store.story_fact(item.feed_id, item.story_id, "title", to)
            if cached:
                found[n] = cached
    missing = [n for n in wanted_items if n not in found]
    if not missing:
        return found
    titles = [items[n].title for n in missing]

    async def ask() -> str | None:
        extra: dict[str, object] = {"story_id": digest.story_id, "kind": "digest titles"}
        answer = await enricher.ask(titles_prompt(titles, to), extra)
        parsed = parse_titles(answer, len(titles), MODEL_TITLE_LIMIT) if answer else None
        if parsed is None:
            if answer:
                log.warning("the model's list of titles did not pair up; marks shown", extra=extra)
            return None
        now = enricher.clock.now()
        for n, title in zip(missing, parsed, strict=True):
            item = items[n]
            if _cacheable(item):
                await store.save_story_fact(item.feed_id, item.story_id, "title", to, title, now)
        return answer

    key = ("digest titles", digest.story_id, to, *(items[n].story_id for n in missing))
    answer = await enricher.within_budget(key, ask)
    parsed = parse_titles(answer, len(titles), MODEL_TITLE_LIMIT) if answer else None
    if parsed is not None:
        found.update(zip(missing, parsed, strict=True))
    return found
