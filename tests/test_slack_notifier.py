"""The Slack notifier against the fake Web API: once only, 429s waited out, errors mapped."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.adapters.slack import SlackAdapter, SlackOptions
from bot.adapters.slack.client import api_url
from bot.adapters.slack.errors import SlackStopped
from bot.core.ports import PermanentSendError
from tests.support.fake_slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.support.slack_alerts import notifier_for, slack_alert
from tests.support.slack_workspace import Workspace


async def test_a_resend_after_a_crash_finds_the_first_post(fake_slack: FakeSlack) -> None:
    notifier = notifier_for(fake_slack)
    first = await notifier.send(slack_alert())
    # The process died before recording it sent; delivery resends with maybe_sent.
    again = await notifier.send(slack_alert(), maybe_sent=True)
    assert again.remote_id == first.remote_id
    assert len(fake_slack.posts_in("CNEWS")) == 1
    [history] = fake_slack.called("conversations.history")
    assert str(history.args["include_all_metadata"]).lower() in {"true", "1"}


async def test_maybe_sent_posts_when_the_first_attempt_never_arrived(fake_slack: FakeSlack) -> None:
    notifier = notifier_for(fake_slack)
    await notifier.send(slack_alert(alert_id=1))  # another alert is in the history
    result = await notifier.send(slack_alert(alert_id=2), maybe_sent=True)
    posts = fake_slack.posts_in("CNEWS")
    assert len(posts) == 2
    assert result.remote_id == posts[-1].ts
    assert posts[-1].metadata == {
        "event_type": "newsbot_alert",
        "event_payload": {"alert_id": 2, "story_id": "lavrov-1"},
    }


async def test_a_429_is_waited_out_and_the_alert_arrives_once(fake_slack: FakeSlack) -> None:
    fake_slack.rate_limit("chat.postMessage", retry_after=1)
    result = await notifier_for(fake_slack).send(slack_alert())
    assert len(fake_slack.called("chat.postMessage")) == 2  # the 429, then the post
    [post] = fake_slack.posts_in("CNEWS")
    assert result.remote_id == post.ts


async def test_a_long_retry_after_goes_back_to_delivery(fake_slack: FakeSlack) -> None:
    fake_slack.rate_limit("chat.postMessage", retry_after=120)
    with pytest.raises(Exception, match="rate limit") as caught:
        await notifier_for(fake_slack).send(slack_alert())
    assert getattr(caught.value, "retry_after", None) == 120
    assert fake_slack.posts_in("CNEWS") == []


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("not_in_channel", "/invite"),
        ("channel_not_found", "channel is gone"),
        ("is_archived", "archived"),
    ],
)
async def test_channel_errors_are_permanent_with_a_reason(
    fake_slack: FakeSlack, code: str, says: str
) -> None:
    # channel_not_found: the fake does not know CGONE at all.
    if code == "not_in_channel":
        fake_slack.add_channel("CGONE", "UALICE", bot=False)  # the bot was never invited
    elif code == "is_archived":
        fake_slack.add_channel("CGONE")
        fake_slack.channel_errors["CGONE"] = code
    with pytest.raises(PermanentSendError, match=says):
        await notifier_for(fake_slack).send(slack_alert("CGONE"))


async def test_a_revoked_token_stops_slack_only_with_one_clear_line(
    fake_slack: FakeSlack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    slack = await Workspace.start(fake_slack, tmp_path)
    try:
        fake_slack.token_error = "token_revoked"
        with caplog.at_level(logging.ERROR), pytest.raises(SlackStopped):
            await slack.adapter.notifier.send(slack_alert())
        await slack.adapter.stopped.wait()
        # Later alerts wait for a restart instead of hammering Slack with a dead token.
        calls = len(fake_slack.calls)
        with pytest.raises(SlackStopped):
            await slack.adapter.notifier.send(slack_alert(alert_id=8))
        assert len(fake_slack.calls) == calls
        lines = [r for r in caplog.records if "SLACK_BOT_TOKEN" in r.getMessage()]
        assert len(lines) == 1
        assert "token_revoked" in lines[0].getMessage()
        # The rest of the bot is untouched: its store still answers.
        assert await slack.app.store.all_subscriptions() == []
    finally:
        await slack.close()


async def test_a_token_refused_at_start_leaves_slack_stopped_without_raising(
    fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    fake_slack.token_error = "invalid_auth"
    adapter = SlackAdapter(
        SlackOptions(
            bot_token=BOT_TOKEN,
            signing_secret=SIGNING_SECRET,
            http_port=0,
            http_host="127.0.0.1",
            api_url=fake_slack.api_url,
        )
    )
    with caplog.at_level(logging.ERROR):
        await adapter.start(deps=None)  # type: ignore[arg-type]  # never reached: no token
    await adapter.stopped.wait()
    assert adapter.port is None
    assert any("invalid_auth" in r.getMessage() for r in caplog.records)


def test_api_url_gets_the_trailing_slash_slack_sdk_needs() -> None:
    assert api_url("http://127.0.0.1:9/api") == "http://127.0.0.1:9/api/"
    assert api_url(None) == "https://slack.com/api/"


async def test_blocks_slack_refuses_fall_back_to_plain_text(fake_slack: FakeSlack) -> None:
    long = slack_alert(topics=tuple(f"t{n}" for n in range(3)))
    fake_slack.channel_errors.clear()
    original = fake_slack._chat_postMessage

    async def refuse_blocks(args: dict[str, object]) -> dict[str, object]:
        if args.get("blocks"):
            return {"ok": False, "error": "invalid_blocks"}
        return await original(args)

    fake_slack._chat_postMessage = refuse_blocks  # type: ignore[method-assign]
    result = await notifier_for(fake_slack).send(long)
    [post] = fake_slack.posts_in("CNEWS")
    assert post.blocks == []
    assert "Russia-US talks" in post.text
    assert result.remote_id == post.ts
