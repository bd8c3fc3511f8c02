"""An alert for a Slack channel and a notifier talking to FakeSlack, for notifier tests."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.adapters.slack.client import web_client
from bot.adapters.slack.notifier import SlackNotifier
from bot.core.models import Alert, Channel
from tests.support.fake_slack import BOT_TOKEN, TEAM, FakeSlack
from tests.support.slack_workspace import NEWS


def notifier_for(fake: FakeSlack) -> SlackNotifier:
    """A notifier as the adapter builds it; the bot is a member of NEWS, where alerts go."""
    fake.join(NEWS)
    return SlackNotifier(web_client(BOT_TOKEN, fake.api_url, retry_connection_errors=False))


def slack_alert(channel: str = NEWS, alert_id: int = 7, **changes: object) -> Alert:
    """The seed story as an outbox row for `channel`; `changes` replace any field."""
    fields: dict[str, object] = {
        "channel": Channel("slack", TEAM, channel),
        "feed_id": 1,
        "story_id": "lavrov-1",
        "title": "Russia-US talks on security guarantees: Lavrov",
        "link": "https://news.example/lavrov-1",
        "source": "Test Wire",
        "published": datetime(2021, 12, 27, 14, 10, tzinfo=UTC),
        "summary": "Talks with NATO over Ukraine are scheduled for January.",
        "topics": ("NATO",),
        "matched": ("NATO",),
        "id": alert_id,
    }
    fields.update(changes)
    return Alert(**fields)  # type: ignore[arg-type]
