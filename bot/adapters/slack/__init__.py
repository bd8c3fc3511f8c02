"""Slack adapter (slack-bolt): the only importer of slack_bolt and slack_sdk."""
