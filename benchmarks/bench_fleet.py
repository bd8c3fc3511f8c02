"""A fleet of `newsbot run` processes on PostgreSQL under load, then with failures.

The world (tests/support/fleet.py): feeds on local servers spread over loopback addresses
(127.0.0.2 and up, as many hosts), subscriptions over Discord and Slack channels (the
test fakes, whose limits are the platforms'), and new stories published while it runs.
It runs 1 process, then 3 processes in which one, picked at random, is killed with
SIGKILL and started again several times; each run on a fresh PostgreSQL schema.

Printed per run: alerts delivered per second, one poll cycle's wall time (every feed gets
a story that matches nobody; until all of them are recorded as seen), p50 and p95 latency
from a story appearing in its feed to its alert reaching the fake, alerts lost and
delivered twice (counted at the fakes: both must be 0), the most messages any channel got
in any 1-second window against its budget, and each process's peak RSS. The ratio is the
3-process run against the 1-process baseline measured in the same invocation.

Full size as issue 13 asks: --feeds 2000 --hosts 50 --channels 200 --subscriptions 10000.
The defaults are scaled down to finish in about two minutes on a 2-core machine; the
README section "Running several processes" says what was run and measured.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import asyncpg

# Run as a script from anywhere: the repository root holds `bot` and `tests`.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core.pacing import Rate
from tests.store_contract.backends import pg_schema
from tests.support.discord_bot import eventually
from tests.support.fake_discord import FakeDiscord
from tests.support.fake_slack import FakeSlack
from tests.support.fleet import Fleet, FleetShape, Outcome, percentile, topic

BUDGETS = {"discord": Rate.parse("4/5"), "slack": Rate.parse("1/1.1")}  # the defaults


def per_second(rate: Rate) -> int:
    """The most messages a budget allows in any one second."""
    return rate.count if rate.per >= 1 else rate.count * int(1 / rate.per + 0.999)


async def poll_cycle(fleet: Fleet, timeout: float) -> float:
    """Seconds from a story appearing in every feed to all of them recorded as seen."""
    probe = f"cycleprobe{int(time.monotonic() * 1000)}"
    first = fleet.farm.shape.feeds
    ids = []
    start = time.monotonic()
    for feed in range(first):
        story = 10_000_000 + len(fleet.published) + feed + int(start)
        fleet.farm.publish(story, feed, f"Probe {probe} {feed} matches no subscription")
        ids.append(f"fleet-{story}")
    conn = await asyncpg.connect(fleet.database_url)
    try:
        async with asyncio.timeout(timeout):
            while True:
                seen = await conn.fetchval(
                    "SELECT count(*) FROM stories WHERE story_id = ANY($1::text[])", ids
                )
                if seen >= len(ids):
                    return time.monotonic() - start
                await asyncio.sleep(0.05)
    finally:
        await conn.close()


async def one_run(args: argparse.Namespace, processes: int, kills: int) -> dict[str, object]:
    discord = FakeDiscord()
    slack = FakeSlack()
    await discord.start()
    await slack.start()
    shape = FleetShape(
        feeds=args.feeds,
        hosts=args.hosts,
        discord_channels=args.channels // 2,
        slack_channels=args.channels - args.channels // 2,
        subscriptions_per_channel=max(1, args.subscriptions // args.channels),
        poll_interval=1,
        lease_seconds=5,
    )
    try:
        async with pg_schema() as db:
            with tempfile.TemporaryDirectory() as tmp:
                fleet = Fleet(shape, db.url, Path(tmp), discord, slack, seed=args.seed)
                try:
                    return await _measure(fleet, args, processes, kills)
                finally:
                    await fleet.close()
    finally:
        await discord.stop()
        await slack.stop()


async def _measure(
    fleet: Fleet, args: argparse.Namespace, processes: int, kills: int
) -> dict[str, object]:
    await fleet.prepare()
    await fleet.run(processes)
    await eventually(lambda: fleet.farm.polled_all(2), 300)
    cycle = await poll_cycle(fleet, 300)
    # Stories appear at a steady rate while the processes run; kills are spread over it.
    rounds = max(1, int(args.seconds / 0.5))
    per_round = max(1, args.stories // rounds)
    kill_rounds = {rounds * (k + 1) // (kills + 1) for k in range(kills)}
    start = time.monotonic()
    for round_ in range(rounds):
        fleet.publish(per_round)
        if round_ in kill_rounds:
            slot = await fleet.kill_one()
            await fleet.start(slot)
        await asyncio.sleep(max(0.0, start + (round_ + 1) * 0.5 - time.monotonic()))
        fleet.note_memory()
    await fleet.wait_delivered(len(fleet.published), args.drain)
    elapsed = time.monotonic() - start
    fleet.note_memory()
    codes = await fleet.stop_all()
    outcome: Outcome = fleet.outcome()
    return {
        "processes": processes,
        "kills": fleet.kills,
        "exit codes": codes,
        "stories": len(fleet.published),
        "alerts/s": outcome.delivered / elapsed,
        "cycle s": cycle,
        "p50 s": percentile(outcome.latencies, 0.50),
        "p95 s": percentile(outcome.latencies, 0.95),
        "lost": outcome.lost,
        "duplicated": outcome.duplicated,
        "most in 1 s": outcome.most_in_window,
        "most in budget window": {
            p: fleet.busiest(rate.per).get(p, 0) for p, rate in BUDGETS.items()
        },
        "429s": outcome.rate_limited,
        "peak RSS MB": sorted(round(kb / 1024) for kb in fleet.peak_rss.values()),
    }


def report(run: dict[str, object]) -> None:
    most = run["most in 1 s"]
    assert isinstance(most, dict)
    own = run["most in budget window"]
    assert isinstance(own, dict)
    budgets = ", ".join(
        f"{p} {most.get(p, 0)} (budget {per_second(BUDGETS[p])}/s;"
        f" {own.get(p, 0)} in {BUDGETS[p].per:g} s against {BUDGETS[p].count})"
        for p in sorted(BUDGETS)
    )
    print(
        f"{run['processes']} process(es), {run['kills']} SIGKILLs, {run['stories']} stories:"
        f" {run['alerts/s']:.1f} alerts/s; poll cycle {run['cycle s']:.2f} s;"
        f" latency p50 {run['p50 s']:.2f} s, p95 {run['p95 s']:.2f} s;"
        f" lost {run['lost']}, duplicated {run['duplicated']}; most per channel in 1 s:"
        f" {budgets}; 429s {run['429s']}; peak RSS MB {run['peak RSS MB']};"
        f" exit codes {run['exit codes']}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=400)
    parser.add_argument("--hosts", type=int, default=20, help="loopback addresses serving feeds")
    parser.add_argument("--channels", type=int, default=40, help="half Discord, half Slack")
    parser.add_argument("--subscriptions", type=int, default=2000)
    parser.add_argument("--stories", type=int, default=240, help="published while running")
    parser.add_argument("--seconds", type=float, default=12.0, help="publishing time")
    parser.add_argument("--kills", type=int, default=3, help="SIGKILLs in the 3-process run")
    parser.add_argument("--drain", type=float, default=120.0, help="seconds to finish sending")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    assert topic(args.channels) != topic(0)
    print(
        f"bench_fleet: {args.feeds} feeds on {args.hosts} loopback hosts, {args.channels}"
        f" channels, {args.subscriptions} subscriptions, {args.stories} stories over"
        f" {args.seconds:g} s; {os.cpu_count()} cores"
    )
    one = await one_run(args, 1, 0)
    report(one)
    three = await one_run(args, 3, args.kills)
    report(three)
    for key in ("alerts/s", "cycle s", "p50 s", "p95 s"):
        base, fleet = one[key], three[key]
        assert isinstance(base, float)
        assert isinstance(fleet, float)
        print(f"ratio 3 processes / 1 process, {key}: {fleet / base:.2f}")
    failed = any(run["lost"] or run["duplicated"] for run in (one, three))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    asyncio.run(main())
