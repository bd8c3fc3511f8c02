"""Find an earlier post of an alert in a channel's recent messages, before a resend.

Discord remembers a message nonce for a few minutes only, so an alert resent after a longer
outage (delivery's maybe_sent) would be posted twice on the nonce alone. Discord never
returns the nonce in a channel's history, but it does return the buttons' custom ids, and
those carry the alert's key (render.alert_key). A message of the bot without any key (a
notice, an alert whose topics had no active subscription, a message posted before keys
existed) is recognised by its embed instead: the same title, description, footer and time,
all of which come from the outbox row, so a different alert does not share them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import discord

from bot.adapters.discord.render import UNSUBSCRIBE_PATTERN

# An alert in flight at a crash is among the channel's last few messages: delivery posts a
# handful per channel every few seconds. One request returns at most 100.
HISTORY_LOOKBACK = 50

_KEYED_CUSTOM_ID = re.compile(UNSUBSCRIBE_PATTERN)

Fingerprint = tuple[str, str, str, datetime | None]


async def find_posted(
    client: discord.Client, channel_id: int, key: str, embed: discord.Embed
) -> str | None:
    """The id of a message the bot already posted for the alert with `key`, or None.

    `embed` is the alert as it would be posted now (for messages that carry no key).
    Raises what discord.py raises when the history cannot be read.
    """
    messages = await client.http.logs_from(channel_id, HISTORY_LOOKBACK)
    bot_id = str(client.user.id) if client.user is not None else None
    wanted = fingerprint(embed.to_dict())
    for message in messages:
        if is_post_of(message, key, wanted, bot_id):
            return str(message["id"])
    return None


def is_post_of(
    message: Mapping[str, Any], key: str, wanted: Fingerprint, bot_id: str | None
) -> bool:
    """Whether `message` (as Discord returns it) is the bot's post of the alert `key`."""
    if bot_id is not None and str((message.get("author") or {}).get("id")) != bot_id:
        return False
    keys = message_keys(message)
    if keys:
        return key in keys
    embeds = message.get("embeds") or []
    return bool(embeds) and fingerprint(embeds[0]) == wanted


def message_keys(message: Mapping[str, Any]) -> set[str]:
    """The alert keys in the custom ids of a message's components."""
    keys: set[str] = set()
    for component in _components(message.get("components") or []):
        match = _KEYED_CUSTOM_ID.fullmatch(str(component.get("custom_id") or ""))
        if match is not None and match["key"]:
            keys.add(match["key"])
    return keys


def fingerprint(embed: Mapping[str, Any]) -> Fingerprint:
    """What identifies an embed as Discord stores it (whitespace trimmed, time to the second)."""
    footer = embed.get("footer") or {}
    return (
        str(embed.get("title") or "").strip(),
        str(embed.get("description") or "").strip(),
        str(footer.get("text") or "").strip(),
        _second(embed.get("timestamp")),
    )


def _second(raw: object) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        return datetime.fromisoformat(raw).replace(microsecond=0)
    except ValueError:
        return None


def _components(items: list[Any]) -> Iterator[Mapping[str, Any]]:
    """Every component, through action rows (and any nesting Discord adds)."""
    for item in items:
        if isinstance(item, Mapping):
            yield item
            yield from _components(item.get("components") or [])
