"""How often the article's lead newsbot extracts is the article's real opening, and how fast.

Runs the production path (bot/feeds/article.extract_text: trafilatura; then
bot/core/enrichment.lead_of) over the saved real pages in tests/data/articles/ (their
provenance is in pages.json and README.md there) and judges each lead against the
hand-written first sentence of that page: right when the lead starts with it (compared
after Unicode NFKC, whitespace and quote normalisation, case-folded).

Baseline, in the same process: the naive extractor a feed bot might write, the first
<p> of at least 60 characters (lxml). Prints one line per page, then the right-lead rate,
the median and worst time per page for both, and the time ratio. Aim: >= 90% right,
< 50 ms median per page.

    .venv/bin/python benchmarks/bench_summaries.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

import lxml.html  # type: ignore[import-untyped]  # trafilatura's dependency; no stubs

from bot.core.enrichment import lead_of
from bot.feeds.article import extract_text

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "articles"
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "\u00a0": " "})


def normalised(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).translate(_QUOTES).split()).casefold()


def newsbot_lead(html: bytes, title: str) -> str:
    return lead_of(extract_text(html), title)


def naive_lead(html: bytes, title: str) -> str:
    doc = lxml.html.fromstring(html)
    for p in doc.iter("p"):
        text = " ".join(p.text_content().split())
        if len(text) >= 60:
            return text
    return ""


def timed(
    lead: Callable[[bytes, str], str], html: bytes, title: str, rounds: int
) -> tuple[str, float, float]:
    """The lead, and the best wall and CPU seconds of `rounds` runs (CPU time is steadier
    on a machine shared with other work: it leaves out the waits for a core)."""
    best = best_cpu = float("inf")
    result = ""
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = lead(html, title)
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    return result, best, best_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timing: best of this many")
    args = parser.parse_args()
    pages = json.loads((DATA / "pages.json").read_text(encoding="utf-8"))["pages"]
    rows: list[tuple[str, str, bool, float, bool, float, float, float]] = []
    head = f"{'page':24} {'lang':4} {'newsbot':>8} {'ms':>7} {'cpu ms':>7}"
    print(f"{head}   {'naive':>6} {'ms':>7}   lead")
    for page in pages:
        html = gzip.decompress((DATA / page["file"]).read_bytes())
        expected = normalised(page["expected_first_sentence"])
        lead, took, cpu = timed(newsbot_lead, html, page["title"], args.rounds)
        naive, naive_took, naive_cpu = timed(naive_lead, html, page["title"], args.rounds)
        right = normalised(lead).startswith(expected)
        naive_right = normalised(naive).startswith(expected)
        name = page["file"].removesuffix(".html.gz")
        rows.append((name, page["language"], right, took, naive_right, naive_took, cpu, naive_cpu))
        print(
            f"{name:24} {page['language']:4} {'right' if right else 'WRONG':>8}"
            f" {took * 1000:7.1f} {cpu * 1000:7.1f}   {'right' if naive_right else 'WRONG':>6}"
            f" {naive_took * 1000:7.1f}   {lead[:60]!r}"
        )
    count = len(rows)
    ours = [r[3] for r in rows]
    base = [r[5] for r in rows]
    cpus = [r[6] for r in rows]
    base_cpus = [r[7] for r in rows]
    right_count = sum(r[2] for r in rows)
    naive_count = sum(r[4] for r in rows)
    print()
    print(
        f"newsbot (trafilatura + lead): {right_count}/{count} right ({right_count / count:.0%}),"
        f" median {statistics.median(ours) * 1000:.1f} ms, worst {max(ours) * 1000:.1f} ms"
        f" (CPU: median {statistics.median(cpus) * 1000:.1f} ms, worst {max(cpus) * 1000:.1f})"
    )
    print(
        f"baseline (first long <p>):    {naive_count}/{count} right"
        f" ({naive_count / count:.0%}), median {statistics.median(base) * 1000:.1f} ms,"
        f" worst {max(base) * 1000:.1f} ms"
    )
    ratio = statistics.median(ours) / statistics.median(base)
    cpu_ratio = statistics.median(cpus) / statistics.median(base_cpus)
    print(f"median time ratio newsbot/baseline: {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU")


if __name__ == "__main__":
    main()
