"""Translated titles: a story in another language than the channel's shows its title in
the channel's language with the original beneath, or the original marked [ru]."""

from __future__ import annotations

from pathlib import Path

from bot.adapters.console.render import render_alert as console_render
from bot.adapters.discord.render import render_alert as discord_render
from bot.adapters.slack.blocks import render as slack_render
from tests.support.enriched import Item, enriched_bot
from tests.support.watch import NEWSROOM

RU_TITLE = "Финляндия закрыла границу с Россией"
RU_TEXT = (
    "Правительство Финляндии приняло решение закрыть все пункты пропуска на границе с"
    " Россией, заявил министр внутренних дел на пресс-конференции в Хельсинки."
)


async def test_a_russian_story_in_an_english_channel_shows_both_titles(tmp_path: Path) -> None:
    async with enriched_bot(tmp_path, with_model=True) as e:
        await e.bot.say("/news subscribe Финлянд*")
        assert "en" in await e.bot.say("/news language en")
        await e.story([Item("r1", RU_TITLE, e.site.url("/article"), RU_TEXT)])
        assert await e.deliver() == 1
        [alert] = e.inbox.sent
        assert alert.title == f"Translated: {RU_TITLE}"  # what the model answered
        assert alert.extra["original_title"] == RU_TITLE
        assert alert.extra["title_language"] == "ru"
        assert alert.summary == RU_TEXT  # the feed's text was useful: kept as it is
        assert e.model is not None
        [prompt] = e.model.prompts
        assert "'en'" in prompt.system
        assert prompt.user == RU_TITLE
        # The detector's verdict is kept with the story.
        assert await e.bot.store.story_fact(alert.feed_id, "r1", "language", "") == "ru"

        assert f"(ru) {RU_TITLE}" in console_render(alert)
        discord = discord_render(alert).embed
        assert discord.title == f"Translated: {RU_TITLE}"
        first = discord.fields[0]
        assert (first.name, first.value) == ("Original title (ru)", RU_TITLE)
        headline = slack_render(alert).blocks[0]["text"]["text"]
        assert f"Translated: {RU_TITLE}" in headline
        assert headline.splitlines()[1] == f"(ru) {RU_TITLE}"  # beneath the headline


async def test_without_a_model_the_original_title_names_its_language(tmp_path: Path) -> None:
    async with enriched_bot(tmp_path) as e:
        await e.bot.say("/news subscribe Финлянд*")
        await e.bot.say("/news language en")
        await e.story([Item("r1", RU_TITLE, e.site.url("/article"), RU_TEXT)])
        await e.deliver()
        [alert] = e.inbox.sent
        assert alert.title == f"[ru] {RU_TITLE}"
        assert "original_title" not in alert.extra


async def test_a_story_in_the_channels_language_is_left_alone(tmp_path: Path) -> None:
    async with enriched_bot(tmp_path, with_model=True) as e:
        await e.bot.say("/news subscribe Финлянд*")
        await e.bot.say("/news language ru")
        await e.story([Item("r1", RU_TITLE, e.site.url("/article"), RU_TEXT)])
        await e.deliver()
        assert [a.title for a in e.inbox.sent] == [RU_TITLE]
        assert e.model is not None
        assert e.model.prompts == []


async def test_the_feeds_declared_language_wins_over_the_detector(tmp_path: Path) -> None:
    title = "Helsinki Pride: the parade in pictures"
    text = "Thousands marched through the centre of Helsinki on Saturday for the Pride parade."
    async with enriched_bot(tmp_path) as e:
        await e.bot.say("/news subscribe Helsinki")
        await e.bot.say("/news language en")
        await e.story([Item("h1", title, e.site.url("/article"), text)], language="fi-FI")
        await e.deliver()
        assert [a.title for a in e.inbox.sent] == [f"[fi] {title}"]


async def test_summary_and_language_need_manage_and_say_what_they_accept(
    tmp_path: Path,
) -> None:
    async with enriched_bot(tmp_path) as e:
        refused = await e.bot.say("/news language de", manage=False)
        assert "Manage Channels" in refused
        assert "Manage Channels" in await e.bot.say("/news summary model", manage=False)
        assert "Usage: /news language" in await e.bot.say("/news language deutsch")
        assert "Usage: /news summary" in await e.bot.say("/news summary shorter")
        await e.bot.say("/news language pt-BR")
        assert "summaries: article; language: pt" in await e.bot.say("/news status")
        settings = await e.bot.store.channel_settings(NEWSROOM)
        assert settings.language == "pt"
        await e.bot.say("/news language off")
        settings = await e.bot.store.channel_settings(NEWSROOM)
        assert settings.language is None
        assert settings.summary_mode == "article"  # untouched by the refused commands
