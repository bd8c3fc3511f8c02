"""Slack adapter (slack-bolt): the only importer of slack_bolt and slack_sdk.

app.py serves the Bolt app (Socket Mode or HTTP), commands.py and events.py handle what
Slack sends, blocks.py and home.py render, notifier.py posts alerts, errors.py maps
Slack's error codes, permissions.py decides who may manage feeds.
"""

from bot.adapters.slack.app import EVENTS_PATH, SlackAdapter, SlackOptions
from bot.adapters.slack.notifier import SlackNotifier

__all__ = ["EVENTS_PATH", "SlackAdapter", "SlackNotifier", "SlackOptions"]
