"""FakeSlack refuses what real Slack refuses, through the real slack_sdk client.

Each rule newsbot relies on gets its refusal shown here with Slack's own answer, so a
test elsewhere that passes against the fake would pass against Slack for these reasons.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.support.fake_slack import (
    APP_TOKEN,
    BOT_TOKEN,
    FakeSlack,
    SlackSender,
    event_body,
    slash_command_form,
)
from tests.support.slack_alerts import notifier_for, slack_alert
from tests.support.slack_limits import FakeClock
from tests.support.slack_workspace import ALICE, NEWS


def frozen(fake: FakeSlack) -> None:
    """Stop the fake's clock: rate windows refill only when the test advances it, however
    slowly the calls go (a loaded machine must not let a burst through)."""
    fake.clock = FakeClock(lambda: 1000.0)


def client(fake: FakeSlack, token: str = BOT_TOKEN) -> AsyncWebClient:
    """slack_sdk's client with no retry handlers: every answer reaches the test."""
    return AsyncWebClient(token=token, base_url=fake.api_url, retry_handlers=[])


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(label: str, n: int = 0) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": f"b{n}",
        "text": {"type": "plain_text", "text": label},
        "value": "v",
    }


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


# Each layout over one Block Kit limit, the same layout at the limit, and Slack's detail.
LIMITS = {
    "section text": (
        [section("x" * 3001)],
        [section("x" * 3000)],
        "must be less than 3001 characters [json-pointer:/blocks/0/text/text]",
    ),
    "header": (
        [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
        [{"type": "header", "text": {"type": "plain_text", "text": "h" * 150}}],
        "must be less than 151 characters [json-pointer:/blocks/0/text/text]",
    ),
    "button text": (
        [{"type": "actions", "elements": [button("b" * 76)]}],
        [{"type": "actions", "elements": [button("b" * 75)]}],
        "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]",
    ),
    "context elements": (
        [{"type": "context", "elements": [mrkdwn(f"c{n}") for n in range(11)]}],
        [{"type": "context", "elements": [mrkdwn(f"c{n}") for n in range(10)]}],
        "no more than 10 items allowed [json-pointer:/blocks/0/elements]",
    ),
    "context text": (
        [{"type": "context", "elements": [mrkdwn("&" * 3001)]}],
        [{"type": "context", "elements": [mrkdwn("&" * 3000)]}],
        "must be less than 3001 characters [json-pointer:/blocks/0/elements/0/text]",
    ),
    "actions elements": (
        [{"type": "actions", "elements": [button("b", n) for n in range(26)]}],
        [{"type": "actions", "elements": [button("b", n) for n in range(25)]}],
        "no more than 25 items allowed [json-pointer:/blocks/0/elements]",
    ),
    "blocks": (
        [section("s")] * 51,
        [section("s")] * 50,
        "no more than 50 items allowed [json-pointer:/blocks]",
    ),
    "section fields": (
        [{"type": "section", "fields": [mrkdwn("f")] * 11}],
        [{"type": "section", "fields": [mrkdwn("f")] * 10}],
        "no more than 10 items allowed [json-pointer:/blocks/0/fields]",
    ),
    "field text": (
        [{"type": "section", "fields": [mrkdwn("f" * 2001)]}],
        [{"type": "section", "fields": [mrkdwn("f" * 2000)]}],
        "must be less than 2001 characters [json-pointer:/blocks/0/fields/0/text]",
    ),
    "emoji count twice": (  # UTF-16 units: never fewer than Slack counts
        [section("😀" * 1501)],
        [section("😀" * 1500)],
        "must be less than 3001 characters [json-pointer:/blocks/0/text/text]",
    ),
}


@pytest.mark.parametrize("name", list(LIMITS))
async def test_a_layout_over_a_block_kit_limit_is_refused_whole(
    fake_slack: FakeSlack, name: str
) -> None:
    over, at, detail = LIMITS[name]
    frozen(fake_slack)
    fake_slack.join(NEWS)
    web_api = client(fake_slack)
    with pytest.raises(SlackApiError) as refused:
        await web_api.chat_postMessage(channel=NEWS, text="fallback", blocks=over)
    data = refused.value.response.data
    assert isinstance(data, dict)
    assert data["error"] == "invalid_blocks"
    assert data["response_metadata"]["messages"] == [f"[ERROR] {detail}"]
    assert fake_slack.posted == []
    fake_slack.clock.advance(60)  # the refusals above counted against the channel's rate
    accepted = await web_api.chat_postMessage(channel=NEWS, text="fallback", blocks=at)
    assert accepted["ok"] is True
    assert len(fake_slack.posted) == 1


async def test_a_message_with_neither_text_nor_blocks_is_no_text(fake_slack: FakeSlack) -> None:
    fake_slack.join(NEWS)
    # slack_sdk warns before sending; Slack itself refuses.
    with pytest.warns(UserWarning, match="text"), pytest.raises(SlackApiError, match="no_text"):
        await client(fake_slack).chat_postMessage(channel=NEWS, text="")
    assert fake_slack.posted == []


async def test_posts_need_a_channel_that_exists_and_the_bot_in_it(fake_slack: FakeSlack) -> None:
    web_api = client(fake_slack)
    for method in (web_api.chat_postMessage, web_api.conversations_history):
        with pytest.raises(SlackApiError, match="channel_not_found"):
            await method(channel="CNOWHERE", text="hi")
    fake_slack.add_channel("CQUIET", ALICE, bot=False)
    with pytest.raises(SlackApiError, match="not_in_channel"):
        await web_api.chat_postMessage(channel="CQUIET", text="hi")
    with pytest.raises(SlackApiError, match="not_in_channel"):
        await web_api.conversations_history(channel="CQUIET")
    info = await web_api.conversations_info(channel="CQUIET")
    assert info["channel"]["is_member"] is False
    fake_slack.join("CQUIET")  # /invite @newsbot
    assert (await web_api.chat_postMessage(channel="CQUIET", text="hi"))["ok"] is True
    fake_slack.leave("CQUIET")
    with pytest.raises(SlackApiError, match="not_in_channel"):
        await web_api.chat_postMessage(channel="CQUIET", text="hi")
    assert [p.channel for p in fake_slack.posted] == ["CQUIET"]


async def test_a_burst_of_posts_to_one_channel_gets_a_429_with_retry_after(
    fake_slack: FakeSlack,
) -> None:
    frozen(fake_slack)
    fake_slack.join(NEWS)
    fake_slack.join("COTHER")
    web_api = client(fake_slack)
    for n in range(3):  # a short burst is tolerated
        await web_api.chat_postMessage(channel=NEWS, text=f"post {n}")
    with pytest.raises(SlackApiError) as limited:
        await web_api.chat_postMessage(channel=NEWS, text="one too many")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "1"
    assert limited.value.response["error"] == "ratelimited"
    # The limit is per channel: another channel posts at once.
    await web_api.chat_postMessage(channel="COTHER", text="elsewhere")
    fake_slack.clock.advance(1)  # one second later, one more post is due
    await web_api.chat_postMessage(channel=NEWS, text="in time")
    assert len(fake_slack.posts_in(NEWS)) == 4
    assert [c.args["text"] for c in fake_slack.rate_limited] == ["one too many"]


@pytest.mark.parametrize(
    ("method", "per_minute"),
    [("users.info", 100), ("conversations.info", 50)],
    ids=["tier4", "tier3"],
)
async def test_other_methods_are_limited_by_their_tier(
    fake_slack: FakeSlack, method: str, per_minute: int
) -> None:
    frozen(fake_slack)
    fake_slack.join(NEWS)
    web_api = client(fake_slack)
    args = {"user": ALICE} if method == "users.info" else {"channel": NEWS}
    for _ in range(per_minute):
        await web_api.api_call(method, params=args)
    with pytest.raises(SlackApiError) as limited:
        await web_api.api_call(method, params=args)
    assert limited.value.response.status_code == 429
    assert int(limited.value.response.headers["Retry-After"]) >= 1
    fake_slack.clock.advance(60 / per_minute)
    assert (await web_api.api_call(method, params=args))["ok"] is True


async def test_the_notifier_waits_out_a_natural_429_and_posts_each_alert_once(
    fake_slack: FakeSlack,
) -> None:
    notifier = notifier_for(fake_slack)
    for n in range(4):  # faster than Slack's one a second: the fourth meets a 429
        await notifier.send(slack_alert(alert_id=n, story_id=f"s{n}"))
    assert len(fake_slack.rate_limited) == 1
    assert len(fake_slack.called("chat.postMessage")) == 5
    ids = [p.metadata["event_payload"]["alert_id"] for p in fake_slack.posts_in(NEWS) if p.metadata]
    assert ids == [0, 1, 2, 3]


async def test_a_response_url_takes_five_messages_in_thirty_minutes(
    fake_slack: FakeSlack,
) -> None:
    many, late = fake_slack.response_url("many"), fake_slack.response_url("late")
    async with aiohttp.ClientSession() as session:

        async def respond(url: str, n: int) -> tuple[int, str]:
            async with session.post(url, json={"text": f"reply {n}"}) as response:
                return response.status, await response.text()

        for n in range(5):
            assert await respond(many, n) == (200, "ok")
        assert await respond(many, 5) == (404, "used_url")
        assert await respond(late, 0) == (200, "ok")
        fake_slack.clock.advance(30 * 60 + 1)
        assert await respond(late, 1) == (404, "expired_url")
    assert len(fake_slack.responses_to("many")) == 5
    assert len(fake_slack.responses_to("late")) == 1
    assert [r["_error"] for r in fake_slack.refused_responses] == ["used_url", "expired_url"]


async def test_an_http_request_answered_after_three_seconds_is_an_ack_failure(
    fake_slack: FakeSlack,
) -> None:
    async def slow_app(request: web.Request) -> web.StreamResponse:
        fake_slack.clock.advance(3.5)  # the app took 3.5 s to answer
        return web.Response(text="")

    app = web.Application()
    app.router.add_post("/slack/events", slow_app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        sender = SlackSender(f"http://127.0.0.1:{port}/slack/events", fake=fake_slack)
        form = slash_command_form(
            "list", user=ALICE, channel=NEWS, response_url=fake_slack.response_url("s")
        )
        status, _ = await sender.command(form)
        assert status == 200
    finally:
        await runner.cleanup()
    [failure] = fake_slack.take_ack_failures()
    assert "answered after 3.5 s" in failure


async def test_ack_failures_fail_the_test_at_stop() -> None:
    fake = FakeSlack()
    await fake.start()
    fake.ack_failed("a command nobody acknowledged")
    with pytest.raises(AssertionError, match="a command nobody acknowledged"):
        await fake.stop()


async def socket(
    fake: FakeSlack, session: aiohttp.ClientSession
) -> aiohttp.ClientWebSocketResponse:
    """A Socket Mode connection as an app opens one, without Bolt (it would ack)."""
    opened = await client(fake, APP_TOKEN).apps_connections_open(app_token=APP_TOKEN)
    ws = await session.ws_connect(str(opened["url"]))
    hello = await ws.receive_json()
    assert hello["type"] == "hello"
    return ws


async def test_socket_mode_sends_an_unacknowledged_event_again_with_its_retry_attempt(
    fake_slack: FakeSlack,
) -> None:
    event = {"type": "event_callback", "event_id": "Ev1", "event": {"type": "channel_archive"}}
    async with aiohttp.ClientSession() as session:
        ws = await socket(fake_slack, session)
        first_id = await fake_slack.push_envelope("events_api", event)
        first = await ws.receive_json()
        assert (first["envelope_id"], first["retry_attempt"]) == (first_id, 0)
        fake_slack.clock.advance(3.1)  # no ack within 3 s
        await fake_slack.check_acks()
        again = await ws.receive_json()
        assert again["payload"] == event
        assert (again["retry_attempt"], again["retry_reason"]) == (1, "timeout")
        assert again["envelope_id"] != first_id
        await ws.send_str(json.dumps({"envelope_id": again["envelope_id"]}))
        await fake_slack.wait_for(lambda: not fake_slack.unacked())
        fake_slack.clock.advance(10)
        await fake_slack.check_acks()
        assert fake_slack.redelivered == [again]  # acknowledged: never sent a third time
        await ws.close()
    assert fake_slack.take_ack_failures() == []


async def test_socket_mode_commands_not_acknowledged_in_time_are_ack_failures(
    fake_slack: FakeSlack,
) -> None:
    form = slash_command_form("list", user=ALICE, channel=NEWS, response_url="http://x/")
    async with aiohttp.ClientSession() as session:
        ws = await socket(fake_slack, session)
        never = await fake_slack.push_envelope("slash_commands", form)
        late = await fake_slack.push_envelope("interactive", {"type": "block_actions"})
        await ws.receive_json()
        await ws.receive_json()
        fake_slack.clock.advance(3.5)
        await ws.send_str(json.dumps({"envelope_id": late}))
        await fake_slack.wait_for(
            lambda: never not in fake_slack.unacked() or late not in fake_slack.unacked()
        )
        await fake_slack.check_acks()
        await ws.close()
    failures = fake_slack.take_ack_failures()
    assert f"envelope {late} (interactive) acknowledged after 3.5 s" in failures
    assert f"envelope {never} (slash_commands) never acknowledged" in failures
    assert fake_slack.redelivered == []  # Slack does not resend a command; the person saw an error


async def test_an_event_answered_with_a_server_error_is_sent_again_with_retry_headers(
    fake_slack: FakeSlack,
) -> None:
    seen: list[tuple[str | None, str | None]] = []

    async def flaky_app(request: web.Request) -> web.StreamResponse:
        seen.append(
            (request.headers.get("X-Slack-Retry-Num"), request.headers.get("X-Slack-Retry-Reason"))
        )
        return web.Response(status=500 if len(seen) == 1 else 200)

    app = web.Application()
    app.router.add_post("/slack/events", flaky_app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        sender = SlackSender(f"http://127.0.0.1:{port}/slack/events", fake=fake_slack)
        status, _ = await sender.event(event_body({"type": "channel_archive", "channel": NEWS}))
    finally:
        await runner.cleanup()
    assert status == 200
    assert seen == [(None, None), ("1", "http_error")]
    assert sender.retries == [(1, "http_error")]


async def test_a_response_url_refuses_a_reply_with_neither_text_nor_blocks(
    fake_slack: FakeSlack,
) -> None:
    url = fake_slack.response_url("empty")
    async with aiohttp.ClientSession() as session, session.post(url, json={"text": ""}) as answer:
        assert (answer.status, await answer.text()) == (400, "no_text")
    assert fake_slack.responses_to("empty") == []
    assert [r["_error"] for r in fake_slack.refused_responses] == ["no_text"]
