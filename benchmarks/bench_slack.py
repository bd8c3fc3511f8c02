"""Slack: what rendering and posting an alert cost, each against a baseline measured here.

1. Rendering. Baseline: Block Kit for ordinary alerts. Measured: alerts whose summary is
   the worst case for escaping (3,000 characters of `&` and `<`, five times longer once
   escaped, with matched words to bold), which make the renderer cut and re-render. The
   ratio shows that cost stays a small constant factor.
2. Posting. Baseline: bare aiohttp POSTs of the same JSON payloads to the local fake Web
   API. Measured: SlackNotifier.send (render, slack_sdk's client and retry handlers,
   response checks) for the same number of alerts. The ratio is the notifier's overhead.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.adapters.slack.blocks import render
from bot.adapters.slack.client import web_client
from bot.adapters.slack.notifier import SlackNotifier
from bot.core.models import Alert, Channel
from tests.support.fake_slack import BOT_TOKEN, FakeSlack

RENDERS = 1000
POSTS = 300
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def alert(n: int, summary: str) -> Alert:
    return Alert(
        Channel("slack", "T1", "CNEWS"), 1, f"s{n}", f"NATO story {n}", f"https://x.example/{n}",
        "Wire", NOW, summary, ("NATO",), ("NATO",), id=n,
    )  # fmt: skip


def time_renders(summary: str, count: int) -> float:
    """Seconds per alert."""
    alerts = [alert(n, summary) for n in range(count)]
    start = time.perf_counter()
    for a in alerts:
        render(a)
    return (time.perf_counter() - start) / count


async def time_posts() -> tuple[float, float]:
    # Throughput of our own code against the fake: Slack's natural rate limits would
    # measure the limit instead (the tests keep them on).
    fake = FakeSlack(rate_limits=False)
    fake.join("CNEWS")
    await fake.start()
    try:
        alerts = [alert(n, "Leaders of NATO meet in Brussels. " * 8) for n in range(POSTS)]
        payloads = [
            {"channel": "CNEWS", "text": m.text, "blocks": m.blocks, "metadata": m.metadata}
            for m in map(render, alerts)
        ]
        headers = {"Authorization": f"Bearer {BOT_TOKEN}", "Content-Type": "application/json"}
        url = fake.api_url + "chat.postMessage"
        start = time.perf_counter()
        async with aiohttp.ClientSession() as session:
            for payload in payloads:
                async with session.post(url, data=json.dumps(payload), headers=headers) as r:
                    assert (await r.json())["ok"]
        baseline = time.perf_counter() - start

        notifier = SlackNotifier(web_client(BOT_TOKEN, fake.api_url, retry_connection_errors=False))
        start = time.perf_counter()
        for a in alerts:
            await notifier.send(a)
        measured = time.perf_counter() - start
        assert len(fake.posted) == 2 * POSTS
        return baseline, measured
    finally:
        await fake.stop()


def main() -> None:
    normal = time_renders("Leaders of NATO meet in Brussels to discuss Ukraine. " * 6, RENDERS)
    hostile = time_renders(("&<NATO>& " * 400)[:3000], RENDERS // 10)
    print(
        f"render one alert: ordinary {normal * 1e3:.2f} ms, worst-case escaping "
        f"{hostile * 1e3:.2f} ms; ratio {hostile / normal:.2f}"
    )
    baseline, measured = asyncio.run(time_posts())
    print(
        f"post {POSTS} alerts to the local fake: bare aiohttp {baseline * 1e3:.0f} ms, "
        f"SlackNotifier {measured * 1e3:.0f} ms; ratio {measured / baseline:.2f}"
    )


if __name__ == "__main__":
    main()
