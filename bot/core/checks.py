"""One line of `newsbot doctor`: what was checked, what was found, what to do about it.

Neutral, so each adapter reports its own platform's checks in the same shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Outcome = Literal["ok", "fail", "warn", "info"]
MARKS: dict[Outcome, str] = {"ok": "[ok]  ", "fail": "[FAIL]", "warn": "[warn]", "info": "[info]"}


@dataclass(frozen=True, slots=True)
class Check:
    name: str  # what was checked: "Discord token", "feed https://..."
    outcome: Outcome
    detail: str  # what was found
    fix: str = ""  # what the operator should do (failures and warnings)

    @property
    def failed(self) -> bool:
        return self.outcome == "fail"

    def line(self) -> str:
        text = f"{MARKS[self.outcome]} {self.name}: {self.detail}"
        return f"{text} -> {self.fix}" if self.fix and self.outcome != "ok" else text


def ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def fail(name: str, detail: str, fix: str) -> Check:
    return Check(name, "fail", detail, fix)


def warn(name: str, detail: str, fix: str = "") -> Check:
    return Check(name, "warn", detail, fix)


def info(name: str, detail: str) -> Check:
    return Check(name, "info", detail)
