"""What real Slack enforces, written down for FakeSlack: Block Kit limits, the rate tiers of
the Web API methods newsbot calls, and a clock a test can move.

The limits are Slack's published ones (Block Kit reference; slack_sdk's models carry the
same numbers). Slack refuses a layout that breaks one with `invalid_blocks` and names each
problem by a JSON pointer, e.g. "must be less than 3001 characters
[json-pointer:/blocks/0/text/text]" or "no more than 50 items allowed [json-pointer:/blocks]".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_BLOCKS = 50  # blocks in one message
MAX_VIEW_BLOCKS = 100  # blocks in a Home tab or modal view
SECTION_TEXT = 3000
SECTION_FIELDS = 10
SECTION_FIELD_TEXT = 2000
HEADER_TEXT = 150  # plain_text only
CONTEXT_ELEMENTS = 10
CONTEXT_TEXT = 3000  # a text object's own limit
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTION_ID = 255
BLOCK_ID = 255

ACK_DEADLINE = 3.0  # seconds Slack waits for the ack of a command, interaction or event
RESPONSE_URL_USES = 5  # a response_url takes at most 5 messages ...
RESPONSE_URL_LIFETIME = 30 * 60.0  # ... within 30 minutes of the request that carried it
SOCKET_RETRIES = 3  # Slack retries an unacknowledged Events API envelope up to 3 times


class FakeClock:
    """Seconds, as `time.monotonic` gives them, plus what a test added with `advance`.

    The bot runs in real time, so the fake's deadlines and rate windows follow real time
    too; a test moves past a deadline or refills a rate window at once with advance().
    """

    def __init__(self, base: Callable[[], float] = time.monotonic) -> None:
        self._base = base
        self._offset = 0.0

    def now(self) -> float:
        return self._base() + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += seconds


@dataclass(frozen=True)
class Tier:
    """`per_minute` calls a minute on average, of which `burst` may come at once."""

    name: str
    per_minute: float
    burst: float


# Slack's published tiers (Web API rate limits): Tier 1 "1+ per minute", Tier 2 "20+",
# Tier 3 "50+", Tier 4 "100+", each per method per workspace with some burst tolerated.
TIER_1 = Tier("Tier 1", 1, 2)
TIER_2 = Tier("Tier 2", 20, 20)
TIER_3 = Tier("Tier 3", 50, 50)
TIER_4 = Tier("Tier 4", 100, 100)
# chat.postMessage is "special": about one message per second per channel, short bursts
# allowed; the workspace-wide limit behind it is far above anything a test posts.
POST_PER_CHANNEL = Tier("chat.postMessage per channel", 60, 3)
# The methods newsbot calls, with the tier each method's reference page gives.
METHOD_TIERS: dict[str, Tier] = {
    "apps.connections.open": TIER_1,
    "auth.test": Tier("special", 600, 100),  # "hundreds of requests per minute"
    "conversations.history": TIER_3,
    "conversations.info": TIER_3,
    "conversations.open": TIER_3,
    "conversations.replies": TIER_3,
    "chat.update": TIER_3,
    "files.completeUploadExternal": TIER_4,
    "files.getUploadURLExternal": TIER_4,
    "users.info": TIER_4,
    "views.publish": TIER_4,
}


@dataclass
class Bucket:
    """A token bucket: `burst` calls at once, refilled at the tier's rate per second."""

    tier: Tier
    tokens: float = field(init=False)
    stamp: float | None = None

    def __post_init__(self) -> None:
        self.tokens = self.tier.burst

    def take(self, now: float) -> float:
        """0 when the call may go now (and it is counted); else seconds until it may."""
        rate = self.tier.per_minute / 60.0
        if self.stamp is not None:
            self.tokens = min(self.tier.burst, self.tokens + (now - self.stamp) * rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / rate


def units(text: str) -> int:
    """Length in UTF-16 code units: never less than what Slack counts."""
    return len(text.encode("utf-16-le")) // 2


def block_problems(blocks: list[Any], most: int = MAX_BLOCKS, at: str = "") -> list[str]:
    """Every limit the blocks break, worded as Slack words them, with its JSON pointer.

    `most` blocks at most (a view takes 100), under the pointer prefix `at` (`/view`).
    """
    problems: list[str] = []
    if len(blocks) > most:
        problems.append(f"no more than {most} items allowed [json-pointer:{at}/blocks]")
    for n, block in enumerate(blocks):
        where = f"{at}/blocks/{n}"
        if not isinstance(block, dict):
            problems.append(f"expected object [json-pointer:{where}]")
            continue
        problems += _length(block.get("block_id"), BLOCK_ID, f"{where}/block_id", min_size=0)
        kind = block.get("type")
        if kind == "section":
            problems += _section(block, where)
        elif kind == "header":
            problems += _text(block.get("text"), HEADER_TEXT, f"{where}/text", plain=True)
        elif kind == "context":
            problems += _elements(block, where, CONTEXT_ELEMENTS, _context_element)
        elif kind == "actions":
            problems += _elements(block, where, ACTIONS_ELEMENTS, _action_element)
    return problems


def _section(block: dict[str, Any], where: str) -> list[str]:
    text, fields = block.get("text"), block.get("fields")
    if text is None and not fields:
        return [f"must provide text or fields [json-pointer:{where}]"]
    problems = [] if text is None else _text(text, SECTION_TEXT, f"{where}/text")
    if fields is not None:
        if len(fields) > SECTION_FIELDS:
            problems.append(
                f"no more than {SECTION_FIELDS} items allowed [json-pointer:{where}/fields]"
            )
        for m, item in enumerate(fields):
            problems += _text(item, SECTION_FIELD_TEXT, f"{where}/fields/{m}")
    return problems


def _elements(
    block: dict[str, Any], where: str, most: int, check: Callable[[Any, str], list[str]]
) -> list[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [f"must provide at least 1 item [json-pointer:{where}/elements]"]
    problems = []
    if len(elements) > most:
        problems.append(f"no more than {most} items allowed [json-pointer:{where}/elements]")
    for m, element in enumerate(elements):
        problems += check(element, f"{where}/elements/{m}")
    return problems


def _context_element(element: Any, where: str) -> list[str]:
    if isinstance(element, dict) and element.get("type") == "image":
        return []  # FakeSlack checks images on their own (alt_text, image_url, download)
    return _text(element, CONTEXT_TEXT, where)


def _action_element(element: Any, where: str) -> list[str]:
    if not isinstance(element, dict):
        return [f"expected object [json-pointer:{where}]"]
    problems = _length(element.get("action_id"), ACTION_ID, f"{where}/action_id", min_size=0)
    if element.get("type") == "button":
        problems += _text(element.get("text"), BUTTON_TEXT, f"{where}/text", plain=True)
        problems += _length(element.get("value"), BUTTON_VALUE, f"{where}/value", min_size=0)
    return problems


def _text(obj: Any, limit: int, where: str, *, plain: bool = False) -> list[str]:
    """A text object `{"type": "mrkdwn"|"plain_text", "text": …}` at `where`."""
    if not isinstance(obj, dict) or obj.get("type") not in {"mrkdwn", "plain_text"}:
        return [f"must be a text object [json-pointer:{where}]"]
    if plain and obj.get("type") != "plain_text":
        return [f"must be a plain_text object [json-pointer:{where}/type]"]
    return _length(obj.get("text"), limit, f"{where}/text")


def _length(value: Any, limit: int, where: str, *, min_size: int = 1) -> list[str]:
    if value is None and min_size == 0:
        return []
    if not isinstance(value, str):
        return [f"must be a string [json-pointer:{where}]"]
    size = units(value)
    if size > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{where}]"]
    if size < min_size:
        return [f"must be more than {min_size - 1} characters [json-pointer:{where}]"]
    return []
