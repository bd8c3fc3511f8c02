"""manifest.yml asks for what the code uses: the events it handles, the command, the mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.adapters.slack.events import HANDLED_EVENTS

MANIFEST = Path(__file__).resolve().parent.parent / "manifest.yml"


def manifest() -> dict[str, Any]:
    data = yaml.safe_load(MANIFEST.read_text())
    assert isinstance(data, dict)
    return data


def test_the_manifest_subscribes_to_exactly_the_events_the_bot_handles() -> None:
    events = manifest()["settings"]["event_subscriptions"]["bot_events"]
    assert len(events) == len(set(events))
    assert set(events) == HANDLED_EVENTS


def test_the_manifest_has_the_command_buttons_and_home_tab() -> None:
    data = manifest()
    [command] = data["features"]["slash_commands"]
    assert command["command"] == "/news"
    assert command["should_escape"] is False
    assert data["settings"]["interactivity"]["is_enabled"] is True
    assert data["features"]["app_home"]["home_tab_enabled"] is True
    assert data["settings"]["socket_mode_enabled"] is True


def test_the_manifest_asks_for_no_scope_the_bot_does_not_use() -> None:
    scopes = manifest()["oauth_config"]["scopes"]["bot"]
    # Each is justified in the manifest's comments; chat:write.public and any user
    # scope would let the bot post where nobody invited it or read more than it needs.
    assert sorted(scopes) == sorted(
        [
            "commands",
            "chat:write",
            "users:read",
            "channels:history",
            "groups:history",
            "channels:read",
            "groups:read",
            "im:write",
            "im:history",
            "usergroups:read",
            "files:write",
        ]
    )
    assert "user" not in manifest()["oauth_config"]["scopes"]
