"""The fake Discord refuses what Discord refuses, so a test passing against it means something.

Each rule is shown at the wire (aiohttp against the fake, the way discord.py talks to it):
what Discord accepts is accepted, the same thing one step over the limit is refused with
Discord's status, code and field path. Rate limits and nonce memory run on a ManualClock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord
import pytest

from bot.adapters.discord.adapter import configure_endpoints, make_client
from tests.support.discord_bot import CHANNEL, GUILD, OTHER_CHANNEL
from tests.support.fake_discord import APP_ID, FakeDiscord, Interaction, ManualClock

MESSAGES = f"/channels/{CHANNEL}/messages"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


class Wire:
    """Plain HTTP to the fake, as a bot token would send it."""

    def __init__(self, fake: FakeDiscord, session: aiohttp.ClientSession) -> None:
        self.fake = fake
        self.session = session

    async def call(self, method: str, path: str, body: Any = None) -> Answer:
        async with self.session.request(
            method,
            self.fake.api_base + path,
            json=body,
            headers={"Authorization": "Bot fake-token"},
        ) as response:
            raw = await response.read()
            payload = await response.json(content_type=None) if raw else None
            return Answer(response.status, dict(response.headers), payload)

    async def post(self, body: dict[str, Any], channel: str = CHANNEL) -> Answer:
        return await self.call("POST", f"/channels/{channel}/messages", body)


@pytest.fixture
def clock(fake_discord: FakeDiscord) -> ManualClock:
    clock = ManualClock()
    fake_discord.clock = clock
    return clock


@pytest.fixture
async def wire(fake_discord: FakeDiscord) -> AsyncIterator[Wire]:
    async with aiohttp.ClientSession() as session:
        yield Wire(fake_discord, session)


def error_paths(answer: Answer) -> set[str]:
    """The dotted paths of a 50035 answer's `errors` tree."""
    assert answer.status == 400, answer
    assert answer.body["code"] == 50035
    paths: set[str] = set()

    def walk(node: dict[str, Any], at: str) -> None:
        for key, value in node.items():
            if key == "_errors":
                paths.add(at)
            else:
                walk(value, f"{at}.{key}" if at else key)

    walk(answer.body["errors"], "")
    return paths


def embed(**fields: Any) -> dict[str, Any]:
    return {"embeds": [{"title": "NATO summit", **fields}]}


def buttons(rows: int, per_row: int) -> dict[str, Any]:
    return {
        "content": "alert",
        "components": [
            {
                "type": 1,
                "components": [
                    {"type": 2, "style": 2, "label": "Unsubscribe", "custom_id": f"b{r}-{c}"}
                    for c in range(per_row)
                ],
            }
            for r in range(rows)
        ],
    }


# -- messages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [{}, {"content": ""}, {"content": "  \n"}, {"embeds": []}])
async def test_an_empty_message_is_refused_with_50006(wire: Wire, body: dict[str, Any]) -> None:
    answer = await wire.post(body)
    assert (answer.status, answer.body["code"]) == (400, 50006)
    assert answer.body["message"] == "Cannot send an empty message"
    assert wire.fake.posted(CHANNEL) == []
    assert (await wire.post({"content": "NATO"})).status == 200


@pytest.mark.parametrize("key", ["name", "value"])
@pytest.mark.parametrize("blank", ["", "   ", None])
async def test_an_embed_field_without_name_or_value_is_refused_with_its_path(
    wire: Wire, key: str, blank: str | None
) -> None:
    field = {"name": "Matched topics", "value": "NATO", key: blank}
    answer = await wire.post(embed(fields=[{"name": "Words", "value": "NATO"}, field]))
    assert error_paths(answer) == {f"embeds.0.fields.1.{key}"}
    assert wire.fake.posted(CHANNEL) == []


async def test_discord_py_reports_the_refused_field_by_its_path(
    fake_discord: FakeDiscord,
) -> None:
    configure_endpoints(fake_discord.api_base, fake_discord.gateway_url)
    client = make_client(1)
    try:
        await client.login("fake-token")
        with pytest.raises(discord.HTTPException) as refused:
            await client.http.send_message(
                int(CHANNEL),
                params=discord.http.handle_message_parameters(
                    embed=discord.Embed(title="NATO").add_field(name="Also reported by", value="")
                ),
            )
    finally:
        await client.close()
        configure_endpoints(None, None)
    assert refused.value.status == 400
    assert refused.value.code == 50035
    assert "In embeds.0.fields.0.value: This field is required" in refused.value.text


async def test_an_embed_author_name_is_at_most_256(wire: Wire) -> None:
    assert (await wire.post(embed(author={"name": "a" * 256}))).status == 200
    answer = await wire.post(embed(author={"name": "a" * 257}))
    assert error_paths(answer) == {"embeds.0.author.name"}


async def test_at_most_five_buttons_a_row_and_five_rows(wire: Wire) -> None:
    assert (await wire.post(buttons(rows=5, per_row=5))).status == 200
    assert error_paths(await wire.post(buttons(rows=1, per_row=6))) == {"components.0.components"}
    assert error_paths(await wire.post(buttons(rows=6, per_row=1))) == {"components"}
    assert len(wire.fake.posted(CHANNEL)) == 1


async def test_a_custom_id_is_unique_within_a_message(wire: Wire) -> None:
    body = buttons(rows=1, per_row=2)
    body["components"][0]["components"][1]["custom_id"] = "b0-0"
    assert error_paths(await wire.post(body)) == {"components.0.components.1.custom_id"}


# -- the guilds and channels the bot is in ----------------------------------------------------


@pytest.mark.parametrize("announce", [True, False], ids=["CHANNEL_DELETE sent", "unheard"])
async def test_a_deleted_channel_answers_unknown_channel_by_itself(
    wire: Wire, announce: bool
) -> None:
    assert (await wire.post({"content": "before"})).status == 200
    await wire.fake.delete_channel(GUILD, CHANNEL, announce=announce)
    for answer in (await wire.post({"content": "after"}), await wire.call("GET", MESSAGES)):
        assert (answer.status, answer.body["code"]) == (404, 10003)
    assert [m["content"] for m in wire.fake.posted(CHANNEL)] == ["before"]
    assert (await wire.post({"content": "elsewhere"}, OTHER_CHANNEL)).status == 200


async def test_a_channel_the_fake_never_had_is_unknown(wire: Wire) -> None:
    answer = await wire.post({"content": "hello"}, channel="810000000000000999")
    assert (answer.status, answer.body["code"]) == (404, 10003)


@pytest.mark.parametrize("announce", [True, False], ids=["GUILD_DELETE sent", "unheard"])
async def test_a_guild_the_bot_left_answers_missing_access_until_it_rejoins(
    wire: Wire, announce: bool
) -> None:
    await wire.fake.remove_from_guild(GUILD, announce=announce)
    for channel in (CHANNEL, OTHER_CHANNEL):
        answer = await wire.post({"content": "hello"}, channel)
        assert (answer.status, answer.body["code"]) == (403, 50001)
    assert wire.fake.posted(CHANNEL) == []

    await wire.fake.rejoin_guild(GUILD, CHANNEL)
    assert (await wire.post({"content": "back"})).status == 200


# -- interactions -----------------------------------------------------------------------------


async def test_no_command_comes_from_a_deleted_or_foreign_channel(wire: Wire) -> None:
    await wire.fake.delete_channel(GUILD, CHANNEL)
    with pytest.raises(AssertionError, match="no channel"):
        await wire.fake.slash("/news list", guild_id=GUILD, channel_id=CHANNEL, wait=False)
    with pytest.raises(AssertionError, match="no channel"):
        await wire.fake.slash(
            "/news list", guild_id="800000000000000009", channel_id=OTHER_CHANNEL, wait=False
        )


async def interaction(fake: FakeDiscord) -> Interaction:
    """An INTERACTION_CREATE nobody answers yet (no bot is connected)."""
    return await fake.slash("/news list", guild_id=GUILD, channel_id=CHANNEL, wait=False)


async def test_a_follow_up_before_the_first_response_is_an_unknown_webhook(wire: Wire) -> None:
    asked = await interaction(wire.fake)
    webhook = f"/webhooks/{APP_ID}/{asked.token}"
    for answer in (
        await wire.call("POST", webhook, {"content": "too early"}),
        await wire.call("PATCH", f"{webhook}/messages/@original", {"content": "too early"}),
    ):
        assert (answer.status, answer.body["code"]) == (404, 10015)
    assert asked.followups == asked.edits == []

    deferred = await wire.call(
        "POST", f"/interactions/{asked.id}/{asked.token}/callback", {"type": 5}
    )
    assert deferred.status == 204
    assert (await wire.call("POST", webhook, {"content": "now"})).status == 200
    assert asked.text == "now"


async def test_an_empty_reply_is_refused(wire: Wire) -> None:
    asked = await interaction(wire.fake)
    callback = f"/interactions/{asked.id}/{asked.token}/callback"
    answer = await wire.call("POST", callback, {"type": 4, "data": {"content": ""}})
    assert (answer.status, answer.body["code"]) == (400, 50006)
    assert asked.callbacks == []


async def test_at_most_25_autocomplete_choices(wire: Wire) -> None:
    choices = [{"name": f"#{n} NATO", "value": str(n)} for n in range(26)]
    too_many = await interaction(wire.fake)
    answer = await wire.call(
        "POST",
        f"/interactions/{too_many.id}/{too_many.token}/callback",
        {"type": 8, "data": {"choices": choices}},
    )
    assert error_paths(answer) == {"data.choices"}
    enough = await interaction(wire.fake)
    answer = await wire.call(
        "POST",
        f"/interactions/{enough.id}/{enough.token}/callback",
        {"type": 8, "data": {"choices": choices[:25]}},
    )
    assert answer.status == 204
    assert len(enough.choices) == 25


# -- application commands ---------------------------------------------------------------------


def command(name: str = "news", **changes: Any) -> dict[str, Any]:
    sub = {
        "type": 1,
        "name": "subscribe",
        "description": "Alert this channel about a query",
        "options": [
            {"type": 3, "name": "query", "description": "Words", "required": True},
            {"type": 5, "name": "mention", "description": "Mention you", "required": False},
        ],
    }
    return {"name": name, "description": "Keyword news alerts", "options": [sub], **changes}


async def test_command_names_are_lower_case(wire: Wire) -> None:
    path = f"/applications/{APP_ID}/commands"
    assert (await wire.call("PUT", path, [command()])).status == 200
    assert error_paths(await wire.call("PUT", path, [command("News")])) == {"0.name"}
    assert error_paths(await wire.call("PUT", path, [command("news alerts")])) == {"0.name"}
    assert [c["name"] for c in wire.fake.commands[None]] == ["news"]


async def test_required_options_come_before_optional_ones(wire: Wire) -> None:
    body = command()
    body["options"][0]["options"].reverse()  # mention (optional), then query (required)
    answer = await wire.call("PUT", f"/applications/{APP_ID}/commands", [body])
    assert error_paths(answer) == {"0.options.0.options.1.required"}


async def test_a_command_description_is_1_to_100(wire: Wire) -> None:
    path = f"/applications/{APP_ID}/commands"
    assert error_paths(await wire.call("PUT", path, [command(description="x" * 101)])) == {
        "0.description"
    }
    assert error_paths(await wire.call("PUT", path, [command(description="")])) == {"0.description"}


# -- rate limits ------------------------------------------------------------------------------


async def test_every_answer_carries_rate_limit_headers(wire: Wire) -> None:
    asked = await interaction(wire.fake)
    for answer in (
        await wire.call("GET", "/users/@me"),
        await wire.post({"content": "NATO"}),
        await wire.call("GET", MESSAGES),
        await wire.call("POST", f"/interactions/{asked.id}/{asked.token}/callback", {"type": 5}),
        await wire.post({}),  # refused, and still counted
    ):
        for header in ("Limit", "Remaining", "Reset", "Reset-After", "Bucket"):
            assert f"X-RateLimit-{header}" in answer.headers, (header, answer)
    first, second = wire.fake.calls("POST", f"{MESSAGES}$")
    assert first.status == 200
    assert second.status == 400


async def test_the_sixth_message_in_five_seconds_is_a_429_discord_py_can_wait_out(
    wire: Wire, clock: ManualClock
) -> None:
    remaining = [(await wire.post({"content": f"n{n}"})).headers for n in range(5)]
    assert [h["X-RateLimit-Remaining"] for h in remaining] == ["4", "3", "2", "1", "0"]
    assert {h["X-RateLimit-Limit"] for h in remaining} == {"5"}
    clock.advance(2)
    refused = await wire.post({"content": "n5"})
    assert refused.status == 429
    assert refused.headers["Content-Type"] == "application/json"
    assert refused.headers["Via"]  # without it discord.py takes it for a Cloudflare ban
    assert refused.body == {
        "message": "You are being rate limited.",
        "retry_after": 3.0,
        "global": False,
    }
    assert refused.headers["X-RateLimit-Reset-After"] == "3.000"
    assert len(wire.fake.posted(CHANNEL)) == 5
    assert wire.fake.rate_limited == wire.fake.calls("POST", f"{MESSAGES}$")[5:]

    # Another channel has its own bucket; this one opens again when the window ends.
    assert (await wire.post({"content": "elsewhere"}, OTHER_CHANNEL)).status == 200
    clock.advance(3)
    assert (await wire.post({"content": "n5"})).status == 200


async def test_discord_py_waits_out_a_natural_429_then_paces_itself_by_the_headers(
    fake_discord: FakeDiscord, wire: Wire
) -> None:
    # A one-second window keeps this quick; the shape is Discord's (5 a window, a channel).
    fake_discord.message_rate = (5, 1.0)
    # The bot's previous process used up the channel's window just before it restarted.
    for n in range(5):
        assert (await wire.post({"content": f"before {n}"})).status == 200
    configure_endpoints(fake_discord.api_base, fake_discord.gateway_url)
    client = make_client(1)
    try:
        await client.login("fake-token")
        # The new process knows nothing of the bucket: Discord's 429 tells it, discord.py
        # waits out retry_after and sends again; from then on it reads Remaining and waits
        # before the window is used up, so no other request is refused.
        for n in range(7):
            await client.http.send_message(int(CHANNEL), params=_content(f"after {n}"))
    finally:
        await client.close()
        configure_endpoints(None, None)
    [refused] = fake_discord.rate_limited
    assert refused.body["content"] == "after 0"
    contents = [m["content"] for m in fake_discord.posted(CHANNEL)]
    assert contents == [f"before {n}" for n in range(5)] + [f"after {n}" for n in range(7)]


def _content(text: str) -> discord.http.MultipartParameters:
    return discord.http.handle_message_parameters(content=text)


# -- nonces -----------------------------------------------------------------------------------


async def test_a_nonce_dedupes_only_within_the_nonce_memory(wire: Wire, clock: ManualClock) -> None:
    body = {"content": "NATO", "nonce": "alert-7", "enforce_nonce": True}
    first = await wire.post(body)
    clock.advance(wire.fake.nonce_memory - 1)
    again = await wire.post(body)
    assert again.body["id"] == first.body["id"]
    clock.advance(2)
    late = await wire.post(body)
    assert late.body["id"] != first.body["id"]
    assert len(wire.fake.posted(CHANNEL)) == 2
    # Without enforce_nonce Discord never dedupes.
    await wire.post({"content": "NATO", "nonce": "alert-8"})
    await wire.post({"content": "NATO", "nonce": "alert-8"})
    assert len(wire.fake.posted(CHANNEL)) == 4
