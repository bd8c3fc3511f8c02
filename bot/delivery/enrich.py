"""Enriching an alert just before it is sent: the article's lead, a model's summary, a
translated title. Never required: every step has a budget and a fallback.

Why here, between the outbox and the platform: the alert is already stored (queued with
its story in one transaction), so nothing enrichment does can lose it; a crash while
enriching leaves it plainly pending (delivery marks it in flight only after), and the
next pass enriches it again from the caches. Channel settings (summary mode, language)
are known here, and alerts of one story to many channels share one fetch and one model
call: everything learnt is kept in the store (EnrichmentStore), and work under way is
shared in this process (one task per URL, per story and language).

Budgets: the article gets NEWSBOT_ARTICLE_TIMEOUT, a model answer NEWSBOT_LLM_TIMEOUT.
Past a budget the alert goes on with what it has; the fetch itself may go on in the
background and be cached for the next channel. `prefetch` starts an alert's article read
as soon as delivery sees it, so a channel waiting its turn does not add to the wait.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Protocol

from bot.core.channel_settings import ChannelSettings
from bot.core.clock import Clock
from bot.core.enrichment import (
    MODEL_SUMMARY_LIMIT,
    MODEL_TITLE_LIMIT,
    Prompt,
    article_summary,
    feed_text_useless,
    language_tag,
    model_text,
    summary_prompt,
    title_prompt,
)
from bot.core.models import Alert, Channel
from bot.core.ports import CachedArticle, EnrichmentStore, StoryFactKind
from bot.core.summary import DEFAULT_SUMMARY_LIMIT
from bot.delivery.enrich_digest import translate_digest
from bot.delivery.language import detect_language
from bot.delivery.llm import ModelError

log = logging.getLogger(__name__)

# How long fetched articles and learnt story facts are kept (a resend after a long outage
# within it needs no new fetch or model call).
KEEP = timedelta(days=7)
# After a model call fails or outlasts its budget, no new call for this long (seconds).
MODEL_REST = 60.0

# Alert.extra keys the renderers read.
ORIGINAL_TITLE = "original_title"
TITLE_LANGUAGE = "title_language"
SUMMARY_FROM = "summary_from"
# Alert.extra key the watcher fills with the feed's declared language, when it has one.
FEED_LANGUAGE = "language"


class ArticleOutcome(Protocol):
    @property
    def text(self) -> str | None: ...

    @property
    def note(self) -> str: ...


class ArticleSource(Protocol):
    async def read(self, url: str) -> ArticleOutcome: ...


SettingsReader = Callable[[Channel], Awaitable[ChannelSettings]]


class Model(Protocol):
    async def complete(self, prompt: Prompt) -> str: ...


@dataclass(frozen=True, slots=True)
class EnrichPolicy:
    article_fetch: bool = True  # NEWSBOT_ARTICLE_FETCH=auto
    article_timeout: float = 5.0
    model_timeout: float = 10.0
    daily_limit: int = 1000
    summary_length: int = DEFAULT_SUMMARY_LIMIT


class Enricher:
    def __init__(
        self,
        *,
        store: EnrichmentStore,
        clock: Clock,
        policy: EnrichPolicy | None = None,
        articles: ArticleSource | None = None,
        model: Model | None = None,
        detect: Callable[[str], str | None] = detect_language,
        channel_settings: SettingsReader | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.policy = policy or EnrichPolicy()
        self.articles = articles if self.policy.article_fetch else None
        self.model = model
        self.detect = detect
        self.channel_settings = channel_settings  # for prefetch: does the channel want it
        self._prefetching: set[asyncio.Task[None]] = set()
        self._forgot_at: datetime | None = None
        self._article_deadline: dict[str, float] = {}  # loop time each read's budget ends
        self._model_rests_until = 0.0  # loop time; see _model_failed
        self._work: dict[tuple[str, ...], asyncio.Task[str | None]] = {}
        self._capped_day: date | None = None
        self.model_calls = 0  # this process's, for the logs and the tests

    async def close(self) -> None:
        """Stop work still under way (fetches past their budget, prefetches): at shutdown
        nothing waits for it, and what it would have cached is fetched again next time."""
        pending = [*self._work.values(), *self._prefetching]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    # -- sharing work ------------------------------------------------------------------

    def _shared(
        self, key: tuple[str, ...], make: Callable[[], Awaitable[str | None]]
    ) -> asyncio.Task[str | None]:
        """One task per key in this process: a second asker joins the first one's work."""
        task = self._work.get(key)
        if task is None:
            task = asyncio.ensure_future(make())
            self._work[key] = task
            task.add_done_callback(lambda _t: self._work.pop(key, None))
        return task

    @staticmethod
    async def _within(task: asyncio.Task[str | None], budget: float) -> str | None:
        """The task's result if it ends within `budget`; it goes on either way."""
        done, _ = await asyncio.wait({task}, timeout=budget)
        if not done or task.cancelled() or task.exception() is not None:
            return None
        return task.result()

    # -- the article -----------------------------------------------------------------

    def _wants_article(self, alert: Alert, mode: str) -> bool:
        if self.articles is None or mode == "feed" or not alert.link:
            return False
        return mode == "model" or feed_text_useless(alert.title, alert.summary)

    def _forget_old(self) -> None:
        """Drop cached articles and story facts older than KEEP, at most once an hour (in
        the background): by then their stories are long sent, and the caches must not
        grow forever."""
        now = self.clock.now()
        if self._forgot_at is not None and now - self._forgot_at < timedelta(hours=1):
            return
        self._forgot_at = now
        task = asyncio.ensure_future(self._forget(now - KEEP))
        self._prefetching.add(task)
        task.add_done_callback(self._prefetching.discard)

    async def _forget(self, before: datetime) -> None:
        try:
            dropped = await self.store.forget_enrichment(before)
        except Exception:
            log.exception("could not drop old cached articles")
            return
        if dropped:
            log.info("dropped %d cached articles and story facts", dropped)

    def prefetch(self, alert: Alert) -> None:
        """Start reading the alert's article now if its channel will want it."""
        if alert.kind != "alert" or self.articles is None or self.channel_settings is None:
            return
        task = asyncio.ensure_future(self._prefetch(alert, self.channel_settings))
        self._prefetching.add(task)
        task.add_done_callback(self._prefetching.discard)

    async def _prefetch(self, alert: Alert, settings: SettingsReader) -> None:
        try:
            mode = (await settings(alert.channel)).summary_mode
        except Exception:  # the send itself will read them again, and say what failed
            return
        if self._wants_article(alert, mode):
            self._article_task(alert.link)

    def _article_task(self, url: str) -> asyncio.Task[str | None]:
        key = ("article", url)
        if key not in self._work:
            # The budget runs from the moment the read starts (often the prefetch), not
            # from each alert's turn: a burst of alerts whose pages never answer waits
            # one budget in all, not one each.
            self._article_deadline[url] = asyncio.get_running_loop().time() + (
                self.policy.article_timeout
            )
        task = self._shared(key, lambda: self._read_article(url))
        task.add_done_callback(lambda _t: self._article_deadline.pop(url, None))
        return task

    def _article_budget(self, url: str) -> float:
        deadline = self._article_deadline.get(url)
        if deadline is None:  # already done: no waiting
            return 0.0
        return max(0.0, deadline - asyncio.get_running_loop().time())

    async def _read_article(self, url: str) -> str | None:
        cached = await self.store.cached_article(url)
        if cached is not None:
            return cached.text
        assert self.articles is not None
        try:
            outcome = await self.articles.read(url)
            text, note = outcome.text, outcome.note
        except Exception as exc:  # a bug in extraction must not cost the alert
            log.exception("article read failed", extra={"article_url": url})
            text, note = None, f"internal error: {exc!r}"[:200]
        await self.store.save_article(CachedArticle(url, text, note, self.clock.now()))
        return text

    # -- facts about the story -------------------------------------------------------

    async def _fact(
        self,
        story: tuple[int, str],
        kind: StoryFactKind,
        language: str,
        make: Callable[[], Awaitable[str | None]],
    ) -> str | None:
        cached = await self.store.story_fact(*story, kind, language)
        if cached is not None:
            return cached
        value = await make()
        if value:
            await self.store.save_story_fact(*story, kind, language, value, self.clock.now())
        return value

    async def _language(self, alert: Alert) -> str | None:
        declared = alert.extra.get(FEED_LANGUAGE)
        text = f"{alert.title}. {alert.summary}"
        return await self.story_language((alert.feed_id, alert.story_id), declared, text)

    async def story_language(
        self, story: tuple[int, str], declared: str | None, text: str
    ) -> str | None:
        """The story's language: the feed's word for it, else the detector's on `text`,
        kept with the story (feed id, story id) so it is told once for all channels."""
        if tag := language_tag(declared):
            return tag

        async def detect() -> str | None:
            return await asyncio.to_thread(self.detect, text)

        if not story[1]:  # a story that cannot be named (an old digest's item)
            return await detect()
        key = ("language", str(story[0]), story[1])
        return await self._shared(key, lambda: self._fact(story, "language", "", detect))

    async def _ask(
        self, alert: Alert, kind: StoryFactKind, prompt: Prompt, limit: int
    ) -> str | None:
        """A model's answer made safe, counted against the day's cap; None on any failure."""
        extra = {"story_id": alert.story_id, "feed_id": alert.feed_id, "kind": kind}
        answer = await self.ask(prompt, extra)
        return (model_text(answer, limit) or None) if answer else None

    async def ask(self, prompt: Prompt, extra: dict[str, object]) -> str | None:
        """The model's raw answer, counted against the day's cap; None on any failure.
        Untrusted: the caller makes it safe (model_text, parse_titles)."""
        assert self.model is not None
        today = self.clock.now().date()
        if not await self.store.reserve_model_call(today, self.policy.daily_limit):
            if self._capped_day != today:
                self._capped_day = today
                log.warning(
                    "model daily limit of %d calls reached (NEWSBOT_LLM_DAILY_LIMIT);"
                    " alerts use the article or feed text until tomorrow (UTC)",
                    self.policy.daily_limit,
                )
            return None
        self.model_calls += 1
        log.info("model call", extra=extra | {"calls": self.model_calls})
        try:
            return await self.model.complete(prompt)
        except ModelError as exc:
            log.warning("model call failed: %s", exc, extra=extra)
            self._model_failed()
            return None

    async def within_budget(
        self, key: tuple[str, ...], make: Callable[[], Awaitable[str | None]]
    ) -> str | None:
        """`make`'s answer (shared per key) within the model's budget; None past it, or
        at once while the model rests after a failure. Past the budget `make` goes on and
        caches what it gets for the next asker."""
        if asyncio.get_running_loop().time() < self._model_rests_until and key not in self._work:
            return None
        task = self._shared(key, make)
        answer = await self._within(task, self.policy.model_timeout)
        if not task.done():
            self._model_failed()  # too slow: the same rest as a failure
        return answer

    def _model_failed(self) -> None:
        """Rest the model for MODEL_REST: the alerts behind this one go out at once with
        their fallback instead of each waiting out its own budget."""
        self._model_rests_until = asyncio.get_running_loop().time() + MODEL_REST

    async def _model_fact(
        self, alert: Alert, kind: StoryFactKind, language: str, prompt: Callable[[], Prompt]
    ) -> str | None:
        limit = MODEL_SUMMARY_LIMIT if kind == "summary" else MODEL_TITLE_LIMIT
        key = (kind, str(alert.feed_id), alert.story_id, language)
        if asyncio.get_running_loop().time() < self._model_rests_until and key not in self._work:
            # The model failed or timed out a moment ago: what is cached, no new call.
            return await self.store.story_fact(alert.feed_id, alert.story_id, kind, language)
        story = (alert.feed_id, alert.story_id)
        return await self.within_budget(
            key,
            lambda: self._fact(
                story, kind, language, lambda: self._ask(alert, kind, prompt(), limit)
            ),
        )

    # -- the whole alert -------------------------------------------------------------

    async def enrich(self, alert: Alert, settings: ChannelSettings) -> Alert:
        """The alert as the channel should see it; the alert as it was when nothing helps."""
        if alert.kind == "digest" and settings.language:
            return await translate_digest(self, alert, settings.language)
        if alert.kind != "alert":
            return alert
        self._forget_old()
        title_work = asyncio.ensure_future(self._title(alert, settings))
        try:
            summary, source = await self._summary(alert, settings)
        finally:
            title, extra = await title_work
        return replace(alert, title=title, summary=summary, extra=alert.extra | extra | source)

    async def _summary(self, alert: Alert, settings: ChannelSettings) -> tuple[str, dict[str, str]]:
        mode = settings.summary_mode
        article = ""
        if self._wants_article(alert, mode):
            task = self._article_task(alert.link)
            article = await self._within(task, self._article_budget(alert.link)) or ""
        if mode == "model" and self.model is not None:
            language = settings.language or await self._language(alert) or "en"
            made = await self._model_fact(
                alert,
                "summary",
                language,
                lambda: summary_prompt(alert.title, alert.summary, article, language),
            )
            if made:
                return made, {SUMMARY_FROM: "model"}
        if article and feed_text_useless(alert.title, alert.summary):
            lead = article_summary(article, alert.title, self.policy.summary_length)
            if lead:
                return lead, {SUMMARY_FROM: "article"}
        return alert.summary, {}

    async def _title(self, alert: Alert, settings: ChannelSettings) -> tuple[str, dict[str, str]]:
        wanted = settings.language
        if not wanted:
            return alert.title, {}
        try:
            language = await self._language(alert)
        except Exception:
            log.exception("language detection failed", extra={"story_id": alert.story_id})
            return alert.title, {}
        if language is None or language == wanted:
            return alert.title, {}
        if self.model is not None:
            translated = await self._model_fact(
                alert, "title", wanted, lambda: title_prompt(alert.title, wanted)
            )
            if translated:
                return translated, {ORIGINAL_TITLE: alert.title, TITLE_LANGUAGE: language}
        return f"[{language}] {alert.title}", {TITLE_LANGUAGE: language}
