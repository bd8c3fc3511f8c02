"""Wiring: the store, the index, the watcher, delivery and the adapters in one process."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from bot.config import ConfigError, Settings
from bot.core.alerts import set_channel_paused
from bot.core.clock import Clock, SystemClock
from bot.core.commands import CommandDeps
from bot.core.limits import SubscriptionLimits
from bot.core.matching.index import SubscriptionIndex
from bot.core.ports import Store
from bot.core.topics import pack as topic_pack
from bot.delivery.dispatcher import Dispatcher
from bot.delivery.enrich import Enricher, EnrichPolicy
from bot.delivery.llm import ChatModel, ModelSettings
from bot.delivery.policy import delivery_policy
from bot.feeds.article import ArticleReader
from bot.feeds.feed_list import FeedListError, read_feed_list
from bot.feeds.fetch import Fetcher
from bot.feeds.hosts import HostSlots
from bot.feeds.probe import HttpFeedProbe
from bot.feeds.subscription_sync import SubscriptionSync
from bot.feeds.watcher import Watcher, watch_policy
from bot.observe import metrics
from bot.observe.gauges import refresh_gauges
from bot.observe.health import Readiness
from bot.observe.http import OpsServer
from bot.runtime_adapters import Adapter, SharesRateLimits, select_adapters
from bot.store import StoreUnavailable, UnsupportedDatabaseUrl, open_store

log = logging.getLogger(__name__)

# Re-exported: the CLI and tests import these from bot.runtime.
__all__ = [
    "DRAIN_SECONDS",
    "Adapter",
    "App",
    "LoopEnded",
    "SharesRateLimits",
    "StartupError",
    "build_app",
    "role_loops",
    "run_bot",
    "select_adapters",
    "supervise",
]


@dataclass
class App:
    settings: Settings
    store: Store
    index: SubscriptionIndex
    fetcher: Fetcher
    watcher: Watcher
    dispatcher: Dispatcher
    deps: CommandDeps
    adapters: list[Adapter] = field(default_factory=list)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Follows subscription changes made through other processes (None: built by hand).
    sync: SubscriptionSync | None = None

    async def close(self) -> None:
        for adapter in self.adapters:
            await _stop_adapter(adapter)
        await self.fetcher.close()
        for close in self.closers:  # the article fetcher, the model client
            await close()
        await self.store.close()


async def _stop_adapter(adapter: Adapter) -> None:
    """Stop one adapter; one that fails to stop never keeps the others (or the store)
    from closing. Logged with its traceback: a platform connection left open is worth
    knowing about."""
    try:
        await adapter.stop()
    except Exception:
        log.exception("could not stop the %s adapter cleanly", adapter.platform)


async def build_app(
    settings: Settings,
    adapters: Sequence[Adapter],
    *,
    clock: Clock | None = None,
    feed_urls: Sequence[str] | None = None,
) -> App:
    clock = clock or SystemClock()
    try:
        store = await open_store(settings.database_url)
    except UnsupportedDatabaseUrl as exc:
        raise ConfigError(f"invalid setting DATABASE_URL: {exc}") from None
    except StoreUnavailable as exc:
        raise StartupError(str(exc)) from None
    try:
        urls = list(feed_urls) if feed_urls is not None else _operator_feeds(settings)
        for url in urls:
            await store.add_feed(url, trusted=True, added_by=None)
        _configure_topics(settings)  # before the index parses any topic: query
        index = SubscriptionIndex(await store.all_subscriptions())
    except BaseException:
        await store.close()
        raise
    fetcher = Fetcher(
        timeout=settings.newsbot_fetch_timeout, max_bytes=settings.newsbot_max_feed_bytes
    )
    host_slots = HostSlots(settings.newsbot_per_host_concurrency)
    enricher, closers = _enricher(settings, store, clock, host_slots)
    dispatcher = Dispatcher(
        enricher=enricher,
        store=store,
        notifiers={a.platform: a.notifier for a in adapters},
        clock=clock,
        policy=delivery_policy(settings),
        on_channel_paused=lambda channel, reason: set_channel_paused(index.by_id, channel, reason),
        pacing=store,  # the budget every process on this database shares
        owner=settings.owner_id,  # its channel leases (several processes, one outbox)
    )
    for adapter in adapters:
        if isinstance(adapter, SharesRateLimits):
            adapter.pacing = store  # a platform-wide 429 blocks every process's sends
    watcher = Watcher(
        store=store,
        index=index,
        fetcher=fetcher,
        clock=clock,
        policy=watch_policy(settings),
        on_alerts=dispatcher.wake,
        host_slots=host_slots,  # one per-host cap for feeds and the articles they link
        owner=settings.owner_id,  # its feed leases (several processes, one database)
    )
    limits = SubscriptionLimits(
        per_channel=settings.newsbot_max_subscriptions_per_channel,
        per_workspace=settings.newsbot_max_subscriptions_per_workspace,
    )
    deps = CommandDeps(
        store=store, index=index, clock=clock, limits=limits, probe=HttpFeedProbe(fetcher)
    )
    log.info(
        "ready: %d feeds, %d subscriptions, matcher=%s",
        len(urls),
        len(index),
        "compiled" if index.matcher.native else "python",
    )
    sync = SubscriptionSync(store, index, reconcile_every=settings.newsbot_reconcile_seconds)
    app = App(settings, store, index, fetcher, watcher, dispatcher, deps, list(adapters), closers)
    app.sync = sync
    return app


def _enricher(
    settings: Settings, store: Store, clock: Clock, host_slots: HostSlots
) -> tuple[Enricher, list[Callable[[], Awaitable[None]]]]:
    """Article leads (NEWSBOT_ARTICLE_*) and, with NEWSBOT_LLM_URL, a model."""
    articles = Fetcher(
        timeout=settings.newsbot_article_timeout, max_bytes=settings.newsbot_max_feed_bytes
    )
    model = None
    closers: list[Callable[[], Awaitable[None]]] = [articles.close]
    if settings.newsbot_llm_url:
        key = settings.newsbot_llm_api_key
        model = ChatModel(
            ModelSettings(
                url=settings.newsbot_llm_url,
                model=settings.newsbot_llm_model or "default",
                api_key=key.get_secret_value() if key else None,
                timeout=settings.newsbot_llm_timeout,
            )
        )
        closers.append(model.close)
    policy = EnrichPolicy(
        article_fetch=settings.newsbot_article_fetch == "auto",
        article_timeout=settings.newsbot_article_timeout,
        model_timeout=settings.newsbot_llm_timeout,
        daily_limit=settings.newsbot_llm_daily_limit,
        summary_length=settings.newsbot_summary_length,
    )
    enricher = Enricher(
        store=store,
        clock=clock,
        policy=policy,
        articles=ArticleReader(articles, host_slots),
        model=model,
        channel_settings=store.channel_settings,
    )
    # The enricher's work under way stops before the clients it uses close.
    return enricher, [enricher.close, *closers]


def _configure_topics(settings: Settings) -> None:
    """The topic pack's settings; an operator file is read now, so a mistake in it stops
    start-up with the reason instead of refusing someone's topic: query later."""
    named = settings.newsbot_topics_file
    path = Path(named) if named else None
    topic_pack.configure(grace=timedelta(days=settings.newsbot_topic_grace_days), overrides=path)
    where = path or Path.cwd() / topic_pack.OVERRIDE_FILE
    if named and not where.is_file():
        raise ConfigError(f"invalid setting NEWSBOT_TOPICS_FILE: no file {where}")
    if where.is_file():
        try:
            topic_pack.current()
        except (OSError, ValueError) as exc:  # TOMLDecodeError is a ValueError
            raise ConfigError(f"invalid topics file {where}: {exc}") from None


def _operator_feeds(settings: Settings) -> list[str]:
    if settings.newsbot_feeds_file is None:
        return []
    try:
        return read_feed_list(settings.newsbot_feeds_file)
    except FeedListError as exc:
        raise ConfigError(f"invalid setting NEWSBOT_FEEDS_FILE: {exc}") from None


async def run_bot(
    settings: Settings,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    *,
    stop: asyncio.Event | None = None,
) -> int:
    """`newsbot run`: poll, match, deliver and answer commands until SIGINT or SIGTERM.

    `stop` lets an in-process caller (a test) end it as a signal would.
    """
    app = await build_app(settings, select_adapters(settings, stdin, stdout))
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
    ops: OpsServer | None = None
    try:
        ops = await _serve_ops(settings, app)
        await _start_adapters(app)
        return await supervise(role_loops(app, settings.roles), stop)
    finally:
        if ops is not None:
            await ops.stop()
        await app.close()


def role_loops(
    app: App, roles: frozenset[str]
) -> dict[str, Callable[[asyncio.Event], Awaitable[None]]]:
    """The loops this process runs for its NEWSBOT_ROLES: poll, the watcher; deliver, the
    dispatcher; each adapter's loop watches its connection (chat) or, when it only sends,
    waits for stop."""
    loops: dict[str, Callable[[asyncio.Event], Awaitable[None]]] = {}
    if "poll" in roles:
        loops["watcher"] = app.watcher.run
        if app.sync is not None:  # what the watcher matches follows the other processes
            loops["subscriptions"] = app.sync.run
    if "deliver" in roles:
        loops["dispatcher"] = app.dispatcher.run
    loops.update({f"{a.platform} adapter": a.run for a in app.adapters})
    return loops


DRAIN_SECONDS = 10.0  # after SIGTERM: how long the sends in flight may take to finish


class LoopEnded(Exception):
    """A loop returned while the process was not stopping: it would serve nothing more."""


async def supervise(
    loops: Mapping[str, Callable[[asyncio.Event], Awaitable[None]]],
    stop: asyncio.Event,
    *,
    drain: float = DRAIN_SECONDS,
) -> int:
    """Run `loops` until `stop` is set; 0 then. A loop that fails (or ends on its own)
    is logged once with its traceback, the others are stopped, and the exit code is 1.

    Structured concurrency (asyncio.TaskGroup): a process whose watcher or delivery died
    must end, so that its supervisor (systemd, a container runtime) restarts it, rather
    than look alive and do nothing. Once stopping (SIGTERM), the loops get `drain`
    seconds to finish what they are doing (delivery: the sends in flight, starting no
    new one); what still runs then is cancelled, which loses nothing: an alert cut off
    mid-send is marked in flight and resent with the platform's dedupe at the next start.
    """
    failed = False
    tasks: list[asyncio.Task[None]] = []

    async def guarded(name: str, loop: Callable[[asyncio.Event], Awaitable[None]]) -> None:
        nonlocal failed
        try:
            await loop(stop)
            if not stop.is_set():
                raise LoopEnded(f"the {name} loop ended on its own")
        except Exception:
            log.critical("the %s loop failed; stopping newsbot", name, exc_info=True)
            failed = True
            stop.set()  # the other loops finish what they are doing and return

    async with asyncio.TaskGroup() as group:
        for name, loop in loops.items():
            tasks.append(group.create_task(guarded(name, loop), name=name))
        await stop.wait()
        log.info("stopping")
        _, busy = await asyncio.wait(tasks, timeout=drain)
        if busy:
            log.warning(
                "stopping: %s still busy after %g s; cancelled",
                ", ".join(sorted(t.get_name() for t in busy)),
                drain,
            )
            for task in busy:
                task.cancel()  # a child cancelled from outside is no error to the group
    return 1 if failed else 0


class StartupError(Exception):
    """No chat platform could start; the CLI prints this one line and exits 1."""


async def _start_adapters(app: App) -> None:
    """Start every adapter; one that cannot start never stops the others.

    A platform that fails keeps its alerts queued in the outbox (its notifier is taken
    out of delivery), so a restart once it is reachable sends them; nothing is lost.
    """
    failures: list[str] = []
    if not app.adapters:
        return  # NEWSBOT_ROLES=poll: nothing to send to, nothing to serve
    for adapter in list(app.adapters):
        try:
            await adapter.start(app.deps)
        except ConfigError:
            raise
        except Exception as exc:
            reason = f"{adapter.platform} could not start: {exc or type(exc).__name__}"
            log.error(
                "%s; its alerts stay queued until a restart reaches it",
                reason,
                extra={"platform": adapter.platform},
            )
            failures.append(reason)
            app.adapters.remove(adapter)
            app.dispatcher.notifiers.pop(adapter.platform, None)
            await _stop_adapter(adapter)
    if not app.adapters:
        raise StartupError("; ".join(failures))


async def _serve_ops(settings: Settings, app: App) -> OpsServer | None:
    """/metrics, /livez and /readyz on NEWSBOT_HTTP_PORT (bot/observe); None when unset.

    Readiness covers every platform configured (one that fails to start stays listed,
    not connected) and the heartbeat of each loop this process runs."""
    metrics.describe_build(matcher="compiled" if app.index.matcher.native else "python")
    if settings.newsbot_http_port is None:
        return None
    heartbeats = []
    if "poll" in settings.roles:
        heartbeats.append(app.watcher.heartbeat)
    if "deliver" in settings.roles:
        heartbeats.append(app.dispatcher.heartbeat)
    readiness = Readiness(
        store=app.store,
        platforms={a.platform: a.connected for a in app.adapters},
        heartbeats=heartbeats,
    )
    server = OpsServer(
        readiness,
        port=settings.newsbot_http_port,
        host=settings.newsbot_http_host,
        before_scrape=lambda: refresh_gauges(
            app.store, list(app.index.by_id.values()), datetime.now(UTC)
        ),
    )
    if settings.newsbot_http_port == settings.slack_http_port:
        # Slack's HTTP mode on the same port: one server, Slack's route beside ours.
        from bot.adapters.slack import EVENTS_PATH, SlackAdapter

        for adapter in app.adapters:
            if isinstance(adapter, SlackAdapter) and not adapter.options.socket_mode:
                server.forward_post(EVENTS_PATH)
                adapter.share_http(server)
    await server.start()
    return server
