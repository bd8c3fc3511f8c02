"""A loop's heartbeat: when it last got through a pass, for /readyz.

The poll and delivery loops tick about once a second while healthy, so a beat older than
two HEARTBEAT_INTERVALs means the loop is stuck (a hung query, a blocked await) or keeps
failing its passes (the database away): the process is alive but not doing its work.
"""

from __future__ import annotations

import time

HEARTBEAT_INTERVAL = 5.0  # seconds; a loop that ticks each second has ample slack


class Heartbeat:
    def __init__(self, name: str, interval: float = HEARTBEAT_INTERVAL) -> None:
        self.name = name
        self.interval = interval
        self.last: float | None = None  # time.monotonic() of the last beat

    def beat(self) -> None:
        self.last = time.monotonic()

    def problem(self, now: float | None = None) -> str | None:
        """Why the loop does not count as ticking, or None when it does."""
        if self.last is None:
            return f"the {self.name} has not completed a pass yet"
        age = (time.monotonic() if now is None else now) - self.last
        if age > 2 * self.interval:
            return f"the {self.name} has not completed a pass for {age:.0f} s"
        return None
