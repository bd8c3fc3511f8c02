"""Slack Web API failures mapped to what delivery and people can act on.

Error codes are Slack's documented `error` values (chat.postMessage, conversations.history).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.core.ports import (
    MessageRejected,
    PermanentSendError,
    RateLimited,
    SendError,
    TransientSendError,
)

# The whole connection is dead, not one channel: the Slack side stops (see app.py).
TOKEN_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}
)

# The channel refuses for good; each maps to a reason a person can act on (shown by
# /news list once delivery pauses the channel with it).
CHANNEL_REASONS = {
    "channel_not_found": "the channel is gone or private without the bot; /invite the bot",
    "not_in_channel": "the bot is not in this channel; /invite it, then /news resume",
    "is_archived": "the channel is archived",
    "restricted_action": "posting is restricted in this channel (an admin setting)",
    "restricted_action_read_only_channel": "the channel is read-only",
    "restricted_action_thread_only_channel": "the channel allows posts in threads only",
    "restricted_action_non_threadable_channel": "posting is restricted in this channel",
    "ekm_access_denied": "the workspace's key management denied access",
    "missing_scope": "the Slack app lacks a scope; reinstall it from manifest.yml",
    "no_permission": "the bot lacks permission to post here",
    "team_access_not_granted": "the bot has no access to this workspace",
    # conversations.open for a personal subscription's direct messages.
    "cannot_dm_bot": "direct messages cannot go to a bot user",
    "user_not_found": "the person is no longer in this workspace",
    "user_disabled": "the person's account was deactivated",
}

# The message itself was refused: resending it unchanged cannot work.
MESSAGE_ERRORS = frozenset(
    {"invalid_blocks", "invalid_blocks_format", "msg_too_long", "invalid_metadata_format"}
)


# Codes under which Slack refuses a layout, naming the offending part in its details, e.g.
# "downloading image failed [json-pointer:/blocks/0/accessory/image_url]".
LAYOUT_ERRORS = frozenset({"invalid_blocks", "invalid_blocks_format"})

_POINTER = re.compile(r"\[json-pointer:([^\]]*)\]")


class SlackStopped(TransientSendError):
    """The Slack side stopped (token revoked): alerts wait for a restart with a new token."""


def error_code(exc: SlackApiError) -> str:
    data: Any = exc.response.data if exc.response is not None else None
    if isinstance(data, dict):
        return str(data.get("error") or f"http_{exc.response.status_code}")
    return f"http_{exc.response.status_code}"


def error_details(exc: SlackApiError) -> list[str]:
    """Slack's explanations of a refusal: `errors` and `response_metadata.messages`."""
    data: Any = exc.response.data if exc.response is not None else None
    if not isinstance(data, dict):
        return []
    meta = data.get("response_metadata")
    found = [data.get("errors"), meta.get("messages") if isinstance(meta, dict) else None]
    return [str(d) for each in found if isinstance(each, list) for d in each if d]


def image_refused(exc: SlackApiError, pointer: str) -> bool:
    """Slack refused the layout only because of the image element at `pointer`.

    Typically it could not download the picture. Every detail must point at or under
    `pointer` (or, pointing nowhere, speak of an image): a refusal that also names another
    block would fail again without the image, so it is not an image refusal.
    """
    if error_code(exc) not in LAYOUT_ERRORS:
        return False
    details = error_details(exc)
    if not details:
        return False
    for detail in details:
        where = _POINTER.findall(detail)
        if where:
            if not all(p == pointer or p.startswith(pointer + "/") for p in where):
                return False
        elif "image" not in detail.lower():
            return False
    return True


def retry_after(exc: SlackApiError) -> float | None:
    headers = exc.response.headers or {}
    for key, value in headers.items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return float(raw)
            except (TypeError, ValueError):
                return None
    return None


def to_send_error(exc: BaseException) -> SendError:
    """One exception delivery understands, with a one-line message."""
    if isinstance(exc, SlackApiError):
        code = error_code(exc)
        status = exc.response.status_code
        if status == 429 or code == "ratelimited":
            wait = retry_after(exc)
            return RateLimited(wait if wait is not None else 1.0, f"Slack rate limit ({code})")
        if code in TOKEN_ERRORS:
            return SlackStopped(f"Slack refused the bot token ({code}); Slack is stopped")
        if code in CHANNEL_REASONS:
            return PermanentSendError(f"Slack: {code}: {CHANNEL_REASONS[code]}")
        if code in MESSAGE_ERRORS:
            # Only after the text-only retry in the notifier failed as well; the channel
            # itself is fine, so delivery goes on with its next alert.
            return MessageRejected(f"Slack refused the message ({code})")
        return TransientSendError(
            f"Slack error {code} (HTTP {status})", retry_after=retry_after(exc)
        )
    if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | OSError):
        return TransientSendError(f"Slack unreachable: {type(exc).__name__}: {exc}".strip())
    return TransientSendError(f"Slack send failed: {type(exc).__name__}: {exc}")
