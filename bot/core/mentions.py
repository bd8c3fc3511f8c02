"""Who an alert mentions: a person (their platform user id), or a whole role or group.

A subscription's `mention` holds one of them. A role or group is written with its kind
in front, `role:<id>` (a Discord role) or `subteam:<id>` (a Slack user group), so it
can never be mistaken for a person, and each adapter renders only the kinds it knows
(`<@&id>` with exactly that role allowed on Discord, `<!subteam^id>` on Slack). Only
someone who may manage the channel may make a subscription mention a whole group.
"""

from __future__ import annotations

from collections.abc import Callable, Set
from dataclasses import replace

from bot.core.models import Alert

ROLE = "role:"
GROUP = "subteam:"

NEEDS_MANAGE = (
    "Mentioning a role or user group needs the Manage Channels permission (Discord) or a "
    "workspace admin (Slack); subscribe without it, or ask someone who has it."
)


def role_mention(role_id: str) -> str:
    return ROLE + role_id


def group_mention(group_id: str) -> str:
    return GROUP + group_id


def is_group(mention: str | None) -> bool:
    """A role or user group, rather than one person."""
    return mention is not None and mention.startswith((ROLE, GROUP))


def role_id(mention: str) -> str | None:
    return mention[len(ROLE) :] if mention.startswith(ROLE) else None


def group_id(mention: str) -> str | None:
    return mention[len(GROUP) :] if mention.startswith(GROUP) else None


class DeadMentions:
    """Role or group mentions found dead (the role deleted, the group disabled) and left
    out of alerts; each is logged the first time only, as every later alert of the same
    subscription meets it again."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def drop(self, alert: Alert, dead: Set[str], warn: Callable[[str], None]) -> Alert:
        """`alert` without the `dead` mentions; `warn(mention)` for each not seen before."""
        if not dead:
            return alert
        for mention in dead - self._seen:
            warn(mention)
        self._seen |= dead
        return replace(alert, mentions=tuple(m for m in alert.mentions if m not in dead))
