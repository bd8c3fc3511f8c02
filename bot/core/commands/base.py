"""The shapes every command shares: who asked, where, and what to answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from bot.core.clock import Clock
from bot.core.limits import SubscriptionLimits
from bot.core.matching.index import SubscriptionIndex
from bot.core.models import Channel
from bot.core.ports import (
    ChannelSettingsStore,
    ChannelStatusStore,
    FeedProbe,
    FeedStore,
    HoldStore,
    ParkStore,
    StoryStore,
    SubscriptionStore,
)


def user_id_as_is(user: str) -> str:
    """How a person is shown when the adapter says nothing else: their id (the console's is
    already a name)."""
    return user


@dataclass(frozen=True, slots=True)
class Invocation:
    """One person running one command in one channel, as the adapter saw it."""

    channel: Channel
    user: str
    can_manage: bool = False  # Discord Manage Channels, Slack admin; the console is its owner's
    mention: str | None = None  # a platform user id the subscriptions it makes should mention
    # How a reply names a person, given their platform user id: the adapter's own way (a
    # Slack or Discord mention shows their name), so the core writes no platform markup.
    show_user: Callable[[str], str] = user_id_as_is
    # The person's own direct messages as a channel (bot.core.personal), where the
    # platform can send them; None where it cannot. Inside a DM it is also `channel`.
    personal: Channel | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a reply (`/news feed export`: the channel's feeds as OPML)."""

    filename: str
    content: bytes
    mime: str


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    ephemeral: bool = True  # only the person who asked sees it, where the platform allows
    ok: bool = True
    attachment: Attachment | None = None


class CommandStore(
    SubscriptionStore,
    FeedStore,
    StoryStore,
    HoldStore,
    ParkStore,
    ChannelStatusStore,
    ChannelSettingsStore,
    Protocol,
):
    """What commands (and the adapters' lifecycle handlers) read and change: everything
    but sending, which is delivery's alone (no command marks an alert sent)."""


@dataclass(slots=True)
class CommandDeps:
    """What the use-cases work with; built once by the runtime."""

    store: CommandStore
    index: SubscriptionIndex
    clock: Clock
    probe: FeedProbe | None = None  # for `/news feed add`; bot/feeds implements it
    limits: SubscriptionLimits = field(default_factory=SubscriptionLimits)


Handler = Callable[[str, Invocation, CommandDeps], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    usage: str
    summary: str
    handler: Handler
    needs_manage: bool = False


REGISTRY: dict[str, Command] = {}


def command(name: str, usage: str, *, needs_manage: bool = False) -> Callable[[Handler], Handler]:
    """Register a use-case under `/news <name>`; its docstring's first line is its help."""

    def register(handler: Handler) -> Handler:
        doc = (handler.__doc__ or "").strip().splitlines()
        REGISTRY[name] = Command(name, usage, doc[0] if doc else "", handler, needs_manage)
        return handler

    return register
