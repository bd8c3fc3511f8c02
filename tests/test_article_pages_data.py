"""The saved pages the summary benchmark reads are all there, each with its provenance."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

DATA = Path(__file__).parent / "data" / "articles"


def test_every_saved_page_has_its_source_and_a_hand_written_opening() -> None:
    pages = json.loads((DATA / "pages.json").read_text(encoding="utf-8"))["pages"]
    assert len(pages) >= 24
    assert len({p["language"] for p in pages}) >= 8
    for page in pages:
        html = gzip.decompress((DATA / page["file"]).read_bytes())
        assert b"<html" in html[:5000].lower() or b"<!doctype" in html[:5000].lower()
        source = page["source"]
        assert source["package"] == "newspaper4k"
        assert source["version"]
        assert source["path"].startswith("tests/data/html/")
        assert source["url"] or source["note"]
        assert page["title"].strip()
        assert len(page["expected_first_sentence"]) >= 20
