from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot.cli.demo import sample_feeds
from tests.support.feed_server import FeedServer, rss


def newsbot(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "match", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )


def presstv_sample() -> str:
    return next(p for p in sample_feeds() if "presstv" in p)


def test_prints_one_json_object_per_story_and_query() -> None:
    result = newsbot("--query", "NATO", "--query", "Kremlin", presstv_sample())
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert {(r["query"], r["title"][:20]) for r in records} == {
        ("NATO", "Russia-US talks on s"),
        ("Kremlin", "Kremlin says Putin a"),
    }
    lavrov = next(r for r in records if r["query"] == "NATO")
    assert set(lavrov) == {"query", "title", "link", "published", "source", "matched"}
    assert lavrov["matched"] == ["NATO"]
    assert lavrov["source"] == "Press TV - World"
    assert lavrov["published"] == "2021-12-27T14:10:00+00:00"
    # The tracking parameter in the feed's link is gone from the canonical link.
    assert lavrov["link"] == (
        "https://www.presstv.ir/Detail/2021/12/27/Russia-US-talks-security-guarantees-Lavrov"
    )


def test_no_match_is_still_success() -> None:
    result = newsbot("--query", "Antarctica", presstv_sample())
    assert result.returncode == 0
    assert result.stdout == b""


def test_reads_stdin() -> None:
    body = rss(("a", "NATO summit opens", "Leaders meet."))
    result = newsbot("--query", "nato", "-", stdin=body.encode())
    assert result.returncode == 0, result.stderr
    [record] = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert record["title"] == "NATO summit opens"


async def test_reads_a_url(feed_server: FeedServer) -> None:
    url = feed_server.serve("/f.rss", rss(("a", "Ukraine grain exports rise", "Ports busy.")))
    import asyncio

    result = await asyncio.to_thread(newsbot, "--query", "Ukraine", url)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["link"] == "https://news.example/a"


def test_bad_query_exits_2_with_reason() -> None:
    result = newsbot("--query", "   ", presstv_sample())
    assert result.returncode == 2
    assert b"empty" in result.stderr


def test_unreadable_source_exits_2(tmp_path: Path) -> None:
    result = newsbot("--query", "NATO", str(tmp_path / "missing.xml"))
    assert result.returncode == 2
    assert b"cannot read" in result.stderr
    junk = tmp_path / "junk.xml"
    junk.write_bytes(b"\x00\x01 not a feed at all")
    result = newsbot("--query", "NATO", str(junk))
    assert result.returncode == 2
    assert b"not" in result.stderr


def test_subscriptions_file_runs_every_line_and_names_it(tmp_path: Path) -> None:
    subs = tmp_path / "subs.txt"
    subs.write_text(
        'Kremlin\n\n"security guarantees" -Japan\ntitle:snow\nAntarctica\nRussia OR Ukraine\n',
        encoding="utf-8",
    )
    result = newsbot("--subscriptions", str(subs), "--query", "NATO", presstv_sample())
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.decode().splitlines()]
    caught = {(r["query"], r["title"][:20]) for r in records}
    assert ('"security guarantees" -Japan', "Russia-US talks on s") in caught
    assert ("Kremlin", "Kremlin says Putin a") in caught
    assert ("title:snow", "Heavy snow disrupts ") in caught
    assert ("NATO", "Russia-US talks on s") in caught
    assert "Antarctica" not in {r["query"] for r in records}
    lavrov = next(r for r in records if r["query"] == "Russia OR Ukraine")
    assert lavrov["matched"] == ["Russia", "Ukraine"]


def test_a_bad_line_in_the_subscriptions_file_exits_2_naming_it(tmp_path: Path) -> None:
    subs = tmp_path / "subs.txt"
    subs.write_text("NATO\n(Russia OR Ukraine\n", encoding="utf-8")
    result = newsbot("--subscriptions", str(subs), presstv_sample())
    assert result.returncode == 2
    assert f"{subs}:2".encode() in result.stderr
    assert b"this `(` is never closed (at character 1)" in result.stderr
    missing = newsbot("--subscriptions", str(tmp_path / "nope.txt"), presstv_sample())
    assert missing.returncode == 2
    assert b"cannot read subscriptions" in missing.stderr


def test_no_query_at_all_exits_2() -> None:
    result = newsbot(presstv_sample())
    assert result.returncode == 2
    assert b"--subscriptions" in result.stderr
