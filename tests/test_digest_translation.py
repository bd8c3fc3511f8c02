"""Digests follow the channel's language like alerts: an item in another language shows
its title translated (one model request for the whole digest) with the original beneath,
or marked [ru] when there is no model or it fails; items in the channel's language and
channels without a language are left alone."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.adapters.console.render import render_alert as console_render
from bot.adapters.discord.render import render_alert as discord_render
from bot.adapters.slack.blocks import render as slack_render
from bot.core.digest import DigestItem, digest_items, with_items
from bot.core.enrichment import parse_titles
from bot.core.models import Alert
from bot.delivery.enrich import Enricher
from bot.delivery.llm import ChatModel, ModelSettings
from tests.support.enriched import EnrichedBot, Item, enriched_bot
from tests.support.watch import NEWSROOM

RU_TITLE = "Финляндия закрыла границу с Россией"
RU_TEXT = (
    "Правительство Финляндии приняло решение закрыть все пункты пропуска на границе с"
    " Россией, заявил министр внутренних дел на пресс-конференции в Хельсинки."
)
EN_TITLE = "Finland closes every crossing on its border with Russia"
EN_TEXT = (
    "The Finnish government decided to close all crossing points on the border with"
    " Russia, the interior minister told a news conference in Helsinki."
)
HOSTILE = "@everyone <!channel> <@U123> read [this](https://evil.example/x) www.evil.example"


async def _digest_of_two(e: EnrichedBot, *, language: str | None = "en") -> Alert:
    """A Russian and an English story held for an hourly digest, then the digest sent."""
    await e.bot.say("/news subscribe Финлянд*")
    await e.bot.say("/news subscribe Finland")
    if language:
        assert language in await e.bot.say(f"/news language {language}")
    assert "hourly" in await e.bot.say("/news digest hourly")
    await e.story(
        [
            Item("r1", RU_TITLE, e.site.url("/article"), RU_TEXT),
            Item("e1", EN_TITLE, e.site.url("/other"), EN_TEXT),
        ]
    )
    assert await e.deliver() == 0  # held for the digest
    e.bot.clock.advance(3600)
    assert await e.deliver() == 1
    [digest] = e.inbox.sent
    assert digest.kind == "digest"
    return digest


def _ru_and_en(digest: Alert) -> tuple[DigestItem, DigestItem]:
    """The digest's Russian and English items, told apart by their titles."""
    items = digest_items(digest)
    assert len(items) == 2
    [ru] = [i for i in items if RU_TITLE in i.title or i.original == RU_TITLE]
    [en] = [i for i in items if EN_TITLE in i.title]
    return ru, en


async def test_a_russian_item_shows_its_translation_and_its_original(tmp_path: Path) -> None:
    async with enriched_bot(tmp_path, with_model=True) as e:
        digest = await _digest_of_two(e)
        ru, en = _ru_and_en(digest)
        assert (ru.title, ru.original, ru.language) == (f"Translated: {RU_TITLE}", RU_TITLE, "ru")
        assert (en.title, en.original, en.language) == (EN_TITLE, "", "")
        assert e.model is not None
        [prompt] = e.model.prompts  # one request for the digest, only the foreign title
        assert prompt.user == f"1. {RU_TITLE}"
        assert "'en'" in prompt.system
        assert e.enricher.model_calls == 1
        # Learnt with the story, for alerts and later digests of it.
        store = e.bot.store
        assert await store.story_fact(ru.feed_id, ru.story_id, "language", "") == "ru"
        assert await store.story_fact(ru.feed_id, ru.story_id, "title", "en") == ru.title

        console = console_render(digest).splitlines()
        at = console.index(next(line for line in console if f"Translated: {RU_TITLE}" in line))
        assert console[at + 1].strip() == f"(ru) {RU_TITLE}"  # the original beneath
        assert any(line.startswith(f"• {EN_TITLE}") for line in console)

        description = discord_render(digest).embed.description or ""
        lines = description.splitlines()
        at = next(n for n, line in enumerate(lines) if f"Translated: {RU_TITLE}" in line)
        assert lines[at + 1].strip() == f"(ru) {RU_TITLE}"

        sections = [
            b["text"]["text"] for b in slack_render(digest).blocks if b["type"] == "section"
        ]
        [ru_section] = [s for s in sections if "Translated:" in s]
        assert ru_section.splitlines()[1] == f"(ru) {RU_TITLE}"
        assert not any("Translated" in s for s in sections if EN_TITLE in s)


async def test_without_a_model_the_item_is_marked_with_its_language(tmp_path: Path) -> None:
    async with enriched_bot(tmp_path) as e:
        digest = await _digest_of_two(e)
        ru, en = _ru_and_en(digest)
        assert (ru.title, ru.original, ru.language) == (f"[ru] {RU_TITLE}", "", "ru")
        assert en.title == EN_TITLE
        assert f"• [ru] {RU_TITLE}" in console_render(digest)


async def test_without_a_language_the_digest_is_as_it_was(tmp_path: Path) -> None:
    async with enriched_bot(tmp_path, with_model=True) as e:
        digest = await _digest_of_two(e, language=None)
        assert [i.title for i in digest_items(digest)] == [RU_TITLE, EN_TITLE]
        assert e.model is not None
        assert e.model.prompts == []


@pytest.mark.parametrize("mode", ["fail", "slow", "garbage", "429"])
async def test_a_failing_or_slow_model_leaves_the_marks_and_the_digest_goes_out(
    tmp_path: Path, mode: str
) -> None:
    async with enriched_bot(tmp_path, with_model=True, model_timeout=0.5) as e:
        assert e.model is not None
        e.model.mode = mode  # type: ignore[assignment]
        async with asyncio.timeout(30):  # a guard against hanging, not a measurement
            digest = await _digest_of_two(e)
        ru, en = _ru_and_en(digest)
        assert (ru.title, ru.original) == (f"[ru] {RU_TITLE}", "")
        assert en.title == EN_TITLE
        assert len(e.model.prompts) == 1  # it was asked, once
        assert await e.bot.store.story_fact(ru.feed_id, ru.story_id, "title", "en") is None


@pytest.mark.parametrize(
    "reply",
    [
        "Here are the translations:\n1. Finland closed its border with Russia",  # a preamble
        "2. Finland closed its border with Russia",  # the wrong number
        "1. Finland closed its border\n2. with Russia",  # more lines than titles
        "Finland closed its border with Russia",  # no number
        "1. ",  # nothing translated
        "1. [](https://evil.example/)",  # nothing left once the link is gone
    ],
)
async def test_a_reply_that_does_not_pair_up_is_not_used(tmp_path: Path, reply: str) -> None:
    async with enriched_bot(tmp_path, with_model=True) as e:
        assert e.model is not None
        e.model.reply = lambda system, user: reply
        digest = await _digest_of_two(e)
        ru, _ = _ru_and_en(digest)
        assert (ru.title, ru.original) == (f"[ru] {RU_TITLE}", "")
        assert len(e.model.prompts) == 1


async def test_one_request_for_several_foreign_items_each_paired_with_its_own(
    tmp_path: Path,
) -> None:
    de_title = "Finnland schließt alle Grenzübergänge zu Russland"
    de_text = (
        "Die finnische Regierung hat beschlossen, alle Grenzübergänge zu Russland zu"
        " schließen, sagte die Innenministerin auf einer Pressekonferenz in Helsinki."
    )
    fr_title = "La Finlande ferme tous les points de passage avec la Russie"
    fr_text = (
        "Le gouvernement finlandais a décidé de fermer tous les points de passage à la"
        " frontière avec la Russie, a déclaré la ministre de l'Intérieur à Helsinki."
    )
    async with enriched_bot(tmp_path, with_model=True) as e:
        assert e.model is not None
        e.model.reply = lambda system, user: "\n".join(
            f"{n}. EN {len(line)}" for n, line in enumerate(user.splitlines(), 1)
        )
        for topic in ("Финлянд*", "Finland", "Finnland", "Finlande"):
            await e.bot.say(f"/news subscribe {topic}")
        await e.bot.say("/news language en")
        await e.bot.say("/news digest hourly")
        await e.story(
            [
                Item("r1", RU_TITLE, e.site.url("/ru"), RU_TEXT),
                Item("e1", EN_TITLE, e.site.url("/en"), EN_TEXT),
                Item("d1", de_title, e.site.url("/de"), de_text),
                Item("f1", fr_title, e.site.url("/fr"), fr_text),
            ]
        )
        await e.deliver()
        e.bot.clock.advance(3600)
        assert await e.deliver() == 1
        [digest] = e.inbox.sent
        [prompt] = e.model.prompts
        asked = prompt.user.splitlines()
        assert len(asked) == 3
        assert EN_TITLE not in prompt.user
        shown = {i.original or i.title: (i.title, i.language) for i in digest_items(digest)}
        for n, line in enumerate(asked, 1):
            original = line.removeprefix(f"{n}. ")
            # Each answer line went to the title asked on the same line, none other.
            assert shown[original][0] == f"EN {len(line)}"
        assert {lang for _, lang in shown.values()} == {"ru", "de", "fr", ""}
        assert shown[EN_TITLE] == (EN_TITLE, "")


async def test_past_the_daily_limit_the_digest_shows_marks_and_asks_nothing(
    tmp_path: Path,
) -> None:
    async with enriched_bot(tmp_path, with_model=True, daily_limit=0) as e:
        digest = await _digest_of_two(e)
        ru, _ = _ru_and_en(digest)
        assert ru.title == f"[ru] {RU_TITLE}"
        assert e.model is not None
        assert e.model.prompts == []


async def test_a_hostile_reply_cannot_ping_or_link(tmp_path: Path) -> None:
    async with enriched_bot(tmp_path, with_model=True) as e:
        assert e.model is not None
        e.model.reply = lambda system, user: f"1. {HOSTILE} **Finland**"
        digest = await _digest_of_two(e)
        ru, _ = _ru_and_en(digest)
        assert ru.original == RU_TITLE  # the reply was used, made safe
        for text in (ru.title, console_render(digest)):
            assert "evil.example" not in text
            assert "<!channel>" not in text
            assert "<@U123>" not in text

        discord = discord_render(digest)
        assert discord.content is None  # nobody is mentioned
        assert discord.allowed_mentions.everyone is False
        assert discord.allowed_mentions.users is False
        description = discord.embed.description or ""
        assert "evil.example" not in description
        assert description.count("](") == 2  # the two stories' own links, nothing else

        slack = slack_render(digest)
        text = json.dumps([slack.blocks, slack.text])
        assert "evil.example" not in text
        for ping in ("<!channel", "<!here", "<!everyone", "<@"):
            assert ping not in text


async def test_a_crash_while_translating_leaves_the_digest_pending_and_it_goes_once(
    tmp_path: Path,
) -> None:
    async with enriched_bot(tmp_path, with_model=True) as e:
        assert e.model is not None
        e.model.mode = "slow"
        await e.bot.say("/news subscribe Финлянд*")
        await e.bot.say("/news subscribe Finland")
        await e.bot.say("/news language en")
        await e.bot.say("/news digest hourly")
        await e.story(
            [
                Item("r1", RU_TITLE, e.site.url("/ru"), RU_TEXT),
                Item("e1", EN_TITLE, e.site.url("/en"), EN_TEXT),
            ]
        )
        await e.deliver()
        e.bot.clock.advance(3600)
        # The process dies while the model is translating the digest's titles.
        delivering = asyncio.ensure_future(e.deliver())
        async with asyncio.timeout(30):
            await e.model.asked.wait()
        delivering.cancel()
        with pytest.raises(asyncio.CancelledError):
            await delivering
        assert e.inbox.sent == []
        [stored] = await e.bot.pending()  # still pending, not in flight: it will go
        assert stored.kind == "digest"

        await e.enricher.close()  # what the dead process had under way is gone with it

        # The next process (the model well again) sends it once, translated.
        e.model.mode = "ok"
        client = ChatModel(ModelSettings(e.model.url, "test-model", "sk-test"))
        fresh = Enricher(store=e.bot.store, clock=e.bot.clock, model=client)
        e.dispatcher.enricher = fresh
        try:
            e.bot.clock.advance(600)  # past any lease the dead pass held
            assert await e.deliver() == 1
            assert await e.deliver() == 0
            [digest] = e.inbox.sent
            ru, _ = _ru_and_en(digest)
            assert (ru.title, ru.original) == (f"Translated: {RU_TITLE}", RU_TITLE)
            assert len(e.model.prompts) == 2

            # Sent again (say its message was lost), it asks the model nothing new.
            settings = await e.bot.store.channel_settings(stored.channel)
            again = await fresh.enrich(stored, settings)
            assert digest_items(again) == digest_items(digest)
            assert len(e.model.prompts) == 2
        finally:
            await fresh.close()
            await client.close()


def test_parse_titles_is_strict_and_makes_each_line_safe() -> None:
    assert parse_titles("1. One\n\n2) Two\n", 2, 300) == ["One", "Two"]
    assert parse_titles("1. One", 2, 300) is None  # too few
    assert parse_titles("2. Two\n1. One", 2, 300) is None  # out of order
    assert parse_titles("1. One\n2. Two\n3. Three", 2, 300) is None  # too many
    [cut] = parse_titles("1. " + "word " * 100, 1, 50) or []
    assert len(cut) <= 50
    [safe] = parse_titles(f"1. {HOSTILE} next", 1, 300) or []
    assert "evil.example" not in safe
    assert "<" not in safe


def test_a_digest_stored_before_items_named_their_story_still_reads() -> None:
    old = {
        "title": "Old item",
        "link": "https://news.example/a",
        "source": "Wire",
        "published": "2026-12-01T10:00:00+00:00",
        "topics": ["Finland"],
        "matched": ["finland"],
    }
    digest = Alert(
        channel=NEWSROOM,
        feed_id=0,
        story_id="digest:1-1",
        title="1 story for Finland",
        link="https://news.example/a",
        source="hourly digest",
        published=datetime(2026, 12, 1, 10, tzinfo=UTC),
        summary="• Old item (Wire) https://news.example/a",
        topics=("Finland",),
        matched=("finland",),
        kind="digest",
        extra={"items": json.dumps([old])},
    )
    [item] = digest_items(digest)
    assert (item.title, item.story_id, item.feed_id, item.original) == ("Old item", "", 0, "")
    marked = with_items(digest, [replace(item, title="[fi] Old item", language="fi")])
    assert digest_items(marked)[0].title == "[fi] Old item"
    assert marked.summary.startswith("• [fi] Old item (Wire)")
