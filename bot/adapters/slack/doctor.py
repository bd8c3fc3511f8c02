"""`newsbot doctor` for Slack: what the tokens can do, read without changing anything.

The bot token (auth.test: workspace and bot name), the scopes Slack says it granted (the
`x-oauth-scopes` header of every Web API answer) against those manifest.yml asks for,
the mode (Socket Mode's app token, checked by apps.connections.open, which only hands
out a websocket URL; or HTTP mode's signing secret), and each channel holding
subscriptions: does it exist and is the bot a member (conversations.info)?
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.client import api_url, web_client
from bot.adapters.slack.errors import TOKEN_ERRORS, error_code
from bot.config import Settings
from bot.core.checks import Check, fail, info, ok, warn
from bot.core.models import Channel

# manifest.yml's oauth_config.scopes.bot (tests/test_doctor_slack.py keeps them equal).
REQUIRED_SCOPES = frozenset(
    {
        "commands",
        "chat:write",
        "users:read",
        "channels:history",
        "groups:history",
        "channels:read",
        "groups:read",
        "files:write",
        "im:write",
        "im:history",
        "usergroups:read",
    }
)
REINSTALL = (
    "add them under OAuth & Permissions -> Scopes (or update the app from manifest.yml), "
    "then reinstall the app and copy the new SLACK_BOT_TOKEN"
)


def granted_scopes(headers: object) -> set[str] | None:
    """The scopes in an answer's `x-oauth-scopes` header; None when it has none."""
    if not isinstance(headers, Mapping):
        return None
    for key, value in headers.items():
        if str(key).lower() == "x-oauth-scopes":
            raw = value[0] if isinstance(value, list) and value else value
            return {s.strip() for s in str(raw).split(",") if s.strip()}
    return None


async def slack_checks(settings: Settings, channels: Sequence[Channel]) -> list[Check]:
    """Every Slack check, in order; `channels`: the Slack channels holding subscriptions."""
    assert settings.slack_bot_token is not None
    base = api_url(settings.slack_api_url)
    client = web_client(
        settings.slack_bot_token.get_secret_value(), base, retry_connection_errors=True
    )
    try:
        auth = await client.auth_test()
    except SlackApiError as exc:
        code = error_code(exc)
        fix = "copy the Bot User OAuth Token (xoxb-...) from OAuth & Permissions"
        if code in TOKEN_ERRORS:
            return [fail("Slack token", f"Slack refused SLACK_BOT_TOKEN ({code})", fix)]
        return [fail("Slack token", f"auth.test failed: {code}", fix)]
    except OSError as exc:
        return [fail("Slack token", f"could not reach Slack: {exc}", "check the network")]
    team = str(auth.get("team_id") or "")
    found = [
        ok(
            "Slack token",
            f"valid: workspace {auth.get('team')} ({team}), bot {auth.get('user')}"
            f" ({auth.get('user_id')})",
        )
    ]
    found.append(_scopes_check(granted_scopes(auth.headers)))
    found.append(await _mode_check(settings, base))
    found += await _channel_checks(client, team, channels)
    return found


def _scopes_check(granted: set[str] | None) -> Check:
    if granted is None:
        return warn("Slack scopes", "Slack did not say which scopes the token has")
    missing = sorted(REQUIRED_SCOPES - granted)
    if missing:
        return fail("Slack scopes", f"missing {', '.join(missing)}", REINSTALL)
    extra = sorted(granted - REQUIRED_SCOPES)
    if extra:
        return warn(
            "Slack scopes",
            f"all needed; also granted, unused: {', '.join(extra)}",
            "remove them from the app: the bot needs no more than manifest.yml asks for",
        )
    return ok("Slack scopes", f"exactly what manifest.yml asks for ({len(granted)})")


async def _mode_check(settings: Settings, base: str) -> Check:
    if settings.slack_app_token is None:
        if settings.slack_signing_secret is None:
            return fail(
                "Slack mode",
                "neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (HTTP mode)",
                "set SLACK_APP_TOKEN (xapp-..., connections:write) for Socket Mode",
            )
        return ok(
            "Slack mode",
            f"HTTP mode: signing secret set; Slack must reach port {settings.slack_http_port}"
            " at /slack/events through your HTTPS proxy",
        )
    token = settings.slack_app_token.get_secret_value()
    fix = "Basic Information -> App-Level Tokens: create one with connections:write"
    if not token.startswith("xapp-"):
        return fail("Slack mode", "SLACK_APP_TOKEN is not an app-level token (xapp-...)", fix)
    app_client = AsyncWebClient(base_url=base)
    try:
        await app_client.apps_connections_open(app_token=token)
    except SlackApiError as exc:
        return fail("Slack mode", f"Slack refused SLACK_APP_TOKEN ({error_code(exc)})", fix)
    return ok("Slack mode", "Socket Mode: the app token is valid")


async def _channel_checks(
    client: AsyncWebClient, team: str, channels: Sequence[Channel]
) -> list[Check]:
    if not channels:
        return [info("Slack channels", "no channel holds subscriptions yet")]
    found: list[Check] = []
    for channel in sorted(set(channels), key=str):
        name = f"Slack channel {channel.channel}"
        if channel.workspace != team:
            found.append(
                warn(
                    name,
                    f"its subscriptions are in workspace {channel.workspace}, not {team}:"
                    " this token cannot check it",
                    "unsubscribe there if that workspace no longer uses newsbot",
                )
            )
            continue
        try:
            answer = await client.conversations_info(channel=channel.channel)
        except SlackApiError as exc:
            code = error_code(exc)
            if code == "channel_not_found":
                found.append(
                    fail(
                        name,
                        "not found: deleted, or private and the bot is not in it",
                        "type /invite @newsbot in the channel, or unsubscribe there",
                    )
                )
            else:
                found.append(warn(name, f"conversations.info failed: {code}"))
            continue
        details = answer.get("channel") or {}
        label = f"Slack channel #{details.get('name') or channel.channel} ({channel.channel})"
        if details.get("is_archived"):
            found.append(fail(label, "archived", "unarchive it, or unsubscribe there"))
        elif details.get("is_member"):
            found.append(ok(label, "the bot is a member"))
        else:
            found.append(
                fail(label, "the bot is not a member", "type /invite @newsbot in the channel")
            )
    return found
