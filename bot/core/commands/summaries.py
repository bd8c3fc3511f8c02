"""summary and language: what an alert's summary is made of, and the channel's language."""

from __future__ import annotations

from bot.core.commands.base import CommandDeps, Invocation, Reply, command
from bot.core.enrichment import parse_language, parse_summary_mode

_MODES = {
    "feed": "the feed's own text, as it comes",
    "article": "the feed's text, or the article's first sentences when the feed gives only"
    " a headline",
    "model": "1 to 3 sentences written by the configured model from the story's text"
    " (falls back to the article's lead when no model answers)",
}


@command("summary", "summary feed | article | model", needs_manage=True)
async def summary(args: str, inv: Invocation, deps: CommandDeps) -> Reply:
    """Choose what this channel's alert summaries are: the feed's, the article's or a model's."""
    mode = parse_summary_mode(args)
    if mode is None:
        current = (await deps.store.channel_settings(inv.channel)).summary_mode
        return Reply(
            f"Usage: /news summary feed | article | model (now: {current})", ok=not args.strip()
        )
    await deps.store.set_summary_mode(inv.channel, mode, deps.clock.now())
    return Reply(f"Summaries in this channel: {mode}, {_MODES[mode]}.", ephemeral=False)


@command("language", "language <code> | off", needs_manage=True)
async def language(args: str, inv: Invocation, deps: CommandDeps) -> Reply:
    """Set this channel's language (en, de...): other languages' titles are translated."""
    text = args.strip()
    if text.casefold() == "off":
        await deps.store.set_language(inv.channel, None, deps.clock.now())
        return Reply("Language off: titles are shown as the feeds give them.", ephemeral=False)
    code = parse_language(text) if text else None
    if code is None:
        current = (await deps.store.channel_settings(inv.channel)).language or "off"
        return Reply(
            f"Usage: /news language <two-letter code such as en, de, fr> | off (now: {current})",
            ok=not text,
        )
    await deps.store.set_language(inv.channel, code, deps.clock.now())
    return Reply(
        f"Language of this channel: {code}. Stories in another language show their title"
        f" translated into {code} (when a model is configured) with the original beneath,"
        " or the original marked with its language, like [ru].",
        ephemeral=False,
    )
