from __future__ import annotations

import subprocess
import sys


def test_demo_prints_the_seed_story_alert() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    blocks = result.stdout.split("\n\n")
    seed = next(b for b in blocks if "Russia-US talks on security guarantees" in b)
    assert "https://www.presstv.ir/Detail/2021/12/27/" in seed
    assert "Matched: Russia, NATO, Ukraine" in seed
    alerts = [b for b in blocks if "newsbot alert" in b]
    assert len(alerts) >= 3
    # Stories about none of the topics stay out.
    assert "Webb telescope" not in result.stdout
    assert "Heavy snow" not in result.stdout
