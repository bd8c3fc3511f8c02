"""Opt-in model summaries: what is sent, once per story and language, within a budget and
a daily cap, and rendered as harmless as feed text."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from bot.adapters.discord.render import render_alert as discord_render
from bot.adapters.slack.blocks import render as slack_render
from bot.core.enrichment import model_text, summary_prompt
from bot.core.models import Channel
from bot.delivery.llm import ChatModel, ModelError, ModelSettings
from tests.support.article_pages import LEAD
from tests.support.enriched import EnrichedBot, Item, enriched_bot
from tests.support.fake_llm import FakeLLM
from tests.support.watch import NEWSROOM

TITLE = "Finland passes border bill"
DESK = Channel("console", "local", "desk")
SUMMARY = "A model summary of the story in two sentences. It says what happened."


async def _model_channel(e: EnrichedBot) -> None:
    await e.bot.say("/news subscribe Finland")
    assert "model" in await e.bot.say("/news summary model")


async def test_a_model_summary_is_made_from_this_storys_text_only(tmp_path: Path) -> None:
    async with enriched_bot(tmp_path, with_model=True) as e:
        await _model_channel(e)
        await e.bot.say("/news subscribe confidential-merger-talks", DESK)
        await e.story([Item("a1", TITLE, e.site.url("/article"), "Read more")])
        assert await e.deliver() == 1
        [alert] = e.inbox.to(NEWSROOM)
        assert alert.summary == SUMMARY
        assert alert.extra["summary_from"] == "model"
        assert e.model is not None
        [prompt] = e.model.prompts
        assert prompt.model == "test-model"
        assert TITLE in prompt.user
        assert LEAD in prompt.user  # the article's text, fetched for the model
        # Nothing but the story: no other channel's subscriptions, no channel names.
        for private in ("confidential-merger-talks", "desk", "newsroom"):
            assert private not in prompt.user
            assert private not in prompt.system


async def test_one_model_call_per_story_and_language_whatever_the_channels(
    tmp_path: Path,
) -> None:
    async with enriched_bot(tmp_path, with_model=True) as e:
        await _model_channel(e)
        await e.bot.say("/news subscribe border", DESK)
        await e.bot.say("/news summary model", DESK)
        await e.story([Item("a1", TITLE, e.site.url("/article"), "Read more")])
        assert await e.deliver() == 2
        assert [a.summary for a in e.inbox.sent] == [SUMMARY, SUMMARY]
        assert e.model is not None
        assert len(e.model.prompts) == 1
        # Kept in the store in the story's language (the channels set none): a restart or
        # another process asks no model again.
        feed_id = e.inbox.sent[0].feed_id
        assert await e.bot.store.story_fact(feed_id, "a1", "summary", "en") == SUMMARY


@pytest.mark.parametrize("mode", ["fail", "429", "garbage"])
async def test_a_failing_model_falls_back_to_the_articles_lead(tmp_path: Path, mode: str) -> None:
    async with enriched_bot(tmp_path, with_model=True) as e:
        assert e.model is not None
        e.model.mode = mode  # type: ignore[assignment]
        await _model_channel(e)
        await e.story([Item("a1", TITLE, e.site.url("/article"), "Read more")])
        assert await e.deliver() == 1
        [alert] = e.inbox.sent
        assert alert.summary.startswith(LEAD)
        assert alert.extra["summary_from"] == "article"
        assert len(e.model.prompts) == 1


async def test_a_slow_model_does_not_hold_the_alert_past_its_budget(tmp_path: Path) -> None:
    # The fake never answers while the test runs: the alert went out by giving up.
    async with enriched_bot(tmp_path, with_model=True, model_timeout=0.5) as e:
        assert e.model is not None
        e.model.mode = "slow"
        await _model_channel(e)
        await e.story([Item("a1", TITLE, e.site.url("/article"), "Read more")])
        async with asyncio.timeout(30):
            assert await e.deliver() == 1
        [alert] = e.inbox.sent
        assert alert.summary.startswith(LEAD)
        assert len(e.model.prompts) == 1


async def test_past_the_daily_cap_summaries_fall_back_with_one_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with enriched_bot(tmp_path, with_model=True, daily_limit=1) as e:
        await _model_channel(e)
        caplog.set_level(logging.WARNING, logger="bot.delivery.enrich")
        await e.story(
            [
                Item("a1", TITLE, e.site.url("/article"), "Read more"),
                Item("a2", "Finland ferry strike ends", e.site.url("/article?p=2"), "Read more"),
                Item(
                    "a3", "Finland wins ice hockey final", e.site.url("/article?p=3"), "Read more"
                ),
            ]
        )
        assert await e.deliver() == 3
        summaries = [a.summary for a in e.inbox.sent]
        assert summaries.count(SUMMARY) == 1
        assert sum(s.startswith(LEAD) for s in summaries) == 2
        assert e.model is not None
        assert len(e.model.prompts) == 1
        capped = [r for r in caplog.records if "daily limit" in r.getMessage()]
        assert len(capped) == 1


HOSTILE = (
    "@everyone Breaking: <!channel> <@U123> read [the full story](https://evil.example/x)"
    " and www.evil.example now. **Act fast** @here"
)


def test_model_text_drops_links_and_platform_controls_and_is_cut() -> None:
    cleaned = model_text(HOSTILE, 600)
    assert "evil.example" not in cleaned
    assert "<!channel>" not in cleaned
    assert "<@U123>" not in cleaned
    assert "the full story" in cleaned  # the link's words stay, without the link
    assert len(model_text("word " * 500, 100)) <= 100


async def test_a_hostile_model_summary_is_harmless_on_discord_and_slack(tmp_path: Path) -> None:
    async with enriched_bot(tmp_path, with_model=True) as e:
        assert e.model is not None
        e.model.reply = lambda system, user: HOSTILE
        await _model_channel(e)
        await e.story([Item("a1", TITLE, e.site.url("/article"), "Read more")])
        await e.deliver()
        [alert] = e.inbox.sent
        assert "Breaking" in alert.summary

        discord = discord_render(alert)
        assert discord.content is None  # no mention at all, so nobody is pinged
        assert discord.allowed_mentions.everyone is False
        assert discord.allowed_mentions.roles is False
        assert discord.allowed_mentions.users is False
        description = discord.embed.description or ""
        assert "evil.example" not in description
        assert "](" not in description
        assert "\\*\\*Act fast\\*\\*" not in description  # no markup to escape, even

        slack = slack_render(alert)
        text = json.dumps([slack.blocks, slack.text])
        assert "evil.example" not in text
        for ping in ("<!channel", "<!here", "<!everyone", "<!subteam"):
            assert ping not in text
        assert "<@" not in text  # no user mention


@pytest.mark.parametrize("mode", ["slow", "fail"])
async def test_after_a_failed_or_slow_call_the_next_alerts_do_not_wait_for_the_model(
    tmp_path: Path, mode: str
) -> None:
    # One call fails (or outlasts its budget); the alerts behind it in the burst go out
    # with the article's lead without a call of their own (the model rests a minute).
    async with enriched_bot(tmp_path, with_model=True, model_timeout=0.5) as e:
        assert e.model is not None
        e.model.mode = mode  # type: ignore[assignment]
        await _model_channel(e)
        await e.story(
            [
                Item(f"a{n}", f"Finland w{n}a w{n}b", e.site.url(f"/article?p={n}"), "Read more")
                for n in range(5)
            ]
        )
        async with asyncio.timeout(30):
            assert await e.deliver() == 5
        assert len(e.model.prompts) == 1
        assert all(a.summary.startswith(LEAD) for a in e.inbox.sent)


async def test_the_api_key_is_sent_as_a_bearer_token_and_a_wrong_one_is_a_failure() -> None:
    fake = FakeLLM(api_key="sk-right")
    await fake.start()
    prompt = summary_prompt(TITLE, "Read more", LEAD, "en")
    right = ChatModel(ModelSettings(fake.url, "m", "sk-right"))
    wrong = ChatModel(ModelSettings(fake.url, "m", "sk-wrong"))
    try:
        assert await right.complete(prompt) == SUMMARY
        with pytest.raises(ModelError, match="401"):
            await wrong.complete(prompt)
        assert fake.refused == ["missing or wrong API key"]
        assert len(fake.prompts) == 1
    finally:
        await right.close()
        await wrong.close()
        await fake.stop()
