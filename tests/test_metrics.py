"""/metrics of a real `newsbot run` after a demo-sized run: the counters move, and the
exposition passes prometheus_client's parser (and `promtool check metrics` where the
machine has promtool: Debian's `prometheus` package)."""

from __future__ import annotations

import asyncio
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client.samples import Sample

from bot import __version__
from bot.adapters.console.adapter import CONSOLE_CHANNEL
from bot.cli.demo import DEMO_SUBSCRIPTIONS, sample_feeds
from bot.observe import metrics
from bot.store import open_store
from tests.support.ops import free_port, get, listening_ports, scrape, value, wait_for
from tests.support.process import start_newsbot


async def _install(tmp_path: Path) -> dict[str, str]:
    """A database whose console channel already subscribes as the demo does, so the
    very first poll alerts; the bundled feeds as the operator's feed list."""
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    store = await open_store(db)
    queries = [q.strip() for q in DEMO_SUBSCRIPTIONS.split(",")]
    await store.add_subscriptions(CONSOLE_CHANNEL, queries, "operator")
    await store.close()
    feeds = tmp_path / "feeds.txt"
    feeds.write_text("".join(f"{path}\n" for path in sample_feeds()), encoding="utf-8")
    return {
        "DATABASE_URL": db,
        "NEWSBOT_FEEDS_FILE": str(feeds),
        "NEWSBOT_BACKFILL": "10000",  # every bundled story alerts, as in the demo
        "NEWSBOT_BURST_WINDOW": "0",
    }


@dataclass(frozen=True)
class Run:
    samples: list[Sample]  # parsed by prometheus_client's text parser
    text: str  # the exposition as served
    printed: int  # alerts the console printed


async def _demo_sized_run(tmp_path: Path) -> Run:
    """`newsbot run` on the bundled feeds until every alert is sent; /metrics then."""
    port = free_port()
    env = await _install(tmp_path) | {"NEWSBOT_HTTP_PORT": str(port)}
    proc = await start_newsbot(env, tmp_path)
    try:

        async def delivered() -> object:
            samples = await scrape(port) if (await get(port, "/livez"))[0] == 200 else []
            sent = [s for s in samples if s.name == "newsbot_alerts_sent_total"]
            pending = [
                s
                for s in samples
                if s.name == "newsbot_outbox_alerts" and s.labels["state"] == "pending"
            ]
            if any(s.value for s in sent) and pending and not any(s.value for s in pending):
                return samples
            return None

        samples = await wait_for(delivered, "delivered every alert")
        status, text = await get(port, "/metrics")
        assert status == 200
        assert listening_ports(proc.pid) == {port}  # one port for metrics and health
    finally:
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return Run(samples, text, out.decode().count("── newsbot alert ·"))


async def test_metrics_after_a_demo_sized_run(tmp_path: Path) -> None:
    run = await _demo_sized_run(tmp_path)
    samples, printed = run.samples, run.printed
    assert printed > 0
    assert value(samples, "newsbot_build_info", version=__version__, matcher="compiled") == 1 or (
        value(samples, "newsbot_build_info", version=__version__, matcher="python") == 1
    )
    feeds = len(sample_feeds())
    assert value(samples, "newsbot_feed_fetches_total", outcome="ok") >= feeds
    assert value(samples, "newsbot_feed_fetches_total", outcome="timeout") == 0
    assert value(samples, "newsbot_feed_fetch_duration_seconds_count") >= feeds
    assert value(samples, "newsbot_stories_seen_total") >= printed
    # Every alert the console printed was queued, sent, and timed from first sight.
    assert value(samples, "newsbot_alerts_queued_total", platform="console") == printed
    assert value(samples, "newsbot_alerts_sent_total", platform="console") == printed
    assert value(samples, "newsbot_alert_latency_seconds_count", platform="console") == printed
    assert value(samples, "newsbot_alerts_failed_total", platform="console") == 0
    assert value(samples, "newsbot_feeds", state="ok") == feeds
    assert value(samples, "newsbot_feeds", state="failing") == 0
    assert value(samples, "newsbot_subscriptions", platform="console") == 3
    assert value(samples, "newsbot_outbox_oldest_pending_age_seconds", platform="console") == 0
    assert value(samples, "newsbot_matcher_stories_total") >= printed
    assert value(samples, "newsbot_matcher_stories_per_second") > 0

    # Bounded labels: every label value of ours comes from a fixed set, never a feed's
    # URL or title.
    allowed = {
        "platform": {*metrics.PLATFORMS, "other"},
        "outcome": set(metrics.FETCH_OUTCOMES),
        "state": {*metrics.FEED_STATES, *metrics.OUTBOX_STATES},
        "version": {__version__},
        "matcher": {"compiled", "python"},
        "le": None,
    }
    for sample in samples:
        if not sample.name.startswith("newsbot_"):
            continue
        for label, got in sample.labels.items():
            assert label in allowed, (sample.name, label)
            choices = allowed[label]
            assert choices is None or got in choices, (sample.name, label, got)


@pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool is not installed (Debian: apt-get install prometheus); "
    "the parser test above still checks the exposition",
)
async def test_metrics_pass_promtool_check_metrics(tmp_path: Path) -> None:
    run = await _demo_sized_run(tmp_path)
    lint = await asyncio.create_subprocess_exec(
        "promtool",
        "check",
        "metrics",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    said, _ = await asyncio.wait_for(lint.communicate(run.text.encode()), 30)
    assert lint.returncode == 0, said.decode()
    assert said.decode().strip() == "", said.decode()  # not even a lint remark


async def test_the_port_is_off_unless_set(tmp_path: Path) -> None:
    env = await _install(tmp_path)
    proc = await start_newsbot(env, tmp_path)
    try:
        # The bot has started and delivered (its stdout says so), listening on nothing.
        assert proc.stdout is not None
        async with asyncio.timeout(30):
            await proc.stdout.readuntil("── newsbot alert ·".encode())
        assert listening_ports(proc.pid) == set()
    finally:
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            await proc.communicate()
    assert proc.returncode == 0
