"""Which matcher backends the tests run: pure Python always, the compiled core if built."""

from __future__ import annotations

from bot.core.matching.matcher import NATIVE_AVAILABLE

MATCHER_BACKENDS: list[bool] = [False, *([True] if NATIVE_AVAILABLE else [])]
BACKEND_IDS = ["python", "native"][: len(MATCHER_BACKENDS)]
