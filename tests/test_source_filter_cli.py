"""`newsbot match` honours `source:` terms as the bot does (words first, then outlets)."""

from __future__ import annotations

import json

from tests.test_match_command import newsbot, presstv_sample


def test_newsbot_match_applies_source_terms() -> None:
    kept = newsbot("--query", "NATO source:presstv", presstv_sample())
    assert kept.returncode == 0, kept.stderr
    records = [json.loads(line) for line in kept.stdout.decode().splitlines()]
    assert [r["query"] for r in records] == ["NATO source:presstv"]
    assert records[0]["source"] == "Press TV - World"
    left_out = newsbot("--query", "NATO -source:presstv", presstv_sample())
    assert left_out.returncode == 0, left_out.stderr
    assert left_out.stdout == b""
    elsewhere = newsbot("--query", 'NATO source:"Moscow Times"', presstv_sample())
    assert elsewhere.stdout == b""
