"""A neutral Alert as a Discord message: an embed, unsubscribe buttons and safe mentions.

Every documented limit is respected here, so Discord never refuses an alert for its size
(a 400 "Invalid Form Body" is not fixed by any retry): title 256, description 4096,
field name 256 and value 1024, footer 2048, 25 fields, 6000 characters over the message,
2000 characters of content, custom ids 100, button labels 80, 5 buttons per row. Discord
also refuses a field or a footer whose text is empty or blank, so a field with nothing to
say is left out and a blank source falls back to newsbot's name.
The buttons' custom ids also carry the alert's key (alert_key), which is how a resend finds
an earlier post of the same alert in the channel's history (history.py).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

import discord

from bot.core.digest import digest_items
from bot.core.mentions import role_id
from bot.core.models import Alert
from bot.core.summary import emphasised_segments, fit, text_length

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
MESSAGE_EMBED_LIMIT = 6000
MAX_FIELDS = 25
CONTENT_LIMIT = 2000
LABEL_LIMIT = 80
BUTTONS_PER_ROW = 5

UNSUBSCRIBE_PREFIX = "newsbot:unsub:"
CUSTOM_ID_LIMIT = 100
ALERT_KEY_LENGTH = 25  # Discord's documented maximum for a nonce: the key is the nonce too
# `newsbot:unsub:<subscription id>[:<alert key>]`. Messages posted before the key was added
# carry the short form; their buttons must keep working.
UNSUBSCRIBE_PATTERN = (
    re.escape(UNSUBSCRIBE_PREFIX) + r"(?P<id>[0-9]{1,18})(?::(?P<key>[a-z2-7]{1,32}))?"
)

COLOUR_ALERT = discord.Colour.blurple()
COLOUR_NOTICE = discord.Colour.orange()
COLOUR_DIGEST = discord.Colour.teal()

_HTTP = re.compile(r"https?://\S+\Z", re.IGNORECASE)


def cut(text: str, limit: int) -> str:
    """`text` within `limit` (counted in UTF-16 units, never fewer than Discord counts)."""
    return fit(text, limit)


def web_url(url: str | None) -> str | None:
    """The URL if Discord accepts it in an embed (http or https), else None."""
    if url and _HTTP.match(url.strip()):
        return url.strip()
    return None


def emphasise(text: str, words: tuple[str, ...]) -> str:
    """Markdown-escaped `text` with each matched word or phrase in bold."""
    return "".join(
        f"**{discord.utils.escape_markdown(piece)}**"
        if bold
        else discord.utils.escape_markdown(piece)
        for piece, bold in emphasised_segments(text, words)
    )


def alert_key(alert: Alert) -> str:
    """The same 25 characters every time this outbox row is sent to this channel.

    Sent as the message nonce and kept in the buttons' custom ids, where Discord returns
    it in the channel's history (it never returns the nonce there): a resend long after a
    crash finds the first post by it. The story identity is mixed in so that a fresh
    database reusing row ids can never match an earlier, different alert.
    """
    key = f"{alert.channel}|{alert.id}|{alert.feed_id}|{alert.story_id}|{alert.kind}"
    digest = hashlib.sha256(key.encode()).digest()
    return base64.b32encode(digest).decode().lower()[:ALERT_KEY_LENGTH]


def unsubscribe_custom_id(subscription_id: int, key: str | None = None) -> str:
    """Stable across restarts: the button carries all it needs (see buttons.py).

    `key` (alert_key) marks which alert the message is; the button ignores it.
    """
    custom_id = f"{UNSUBSCRIBE_PREFIX}{subscription_id}"
    return f"{custom_id}:{key}" if key else custom_id


ALLOWED_IDS = 100


@dataclass(frozen=True, slots=True)
class Rendered:
    """What one alert becomes: pass these to discord.py's message parameters."""

    embed: discord.Embed
    content: str | None
    allowed_mentions: discord.AllowedMentions
    view: discord.ui.View | None


def allowed_for(
    user_ids: tuple[str, ...], role_ids: tuple[str, ...] = ()
) -> discord.AllowedMentions:
    """Ping exactly these users and roles (roles a manager asked for); never @everyone,
    @here or any other role, whatever a feed says."""
    users = [discord.Object(id=int(u)) for u in user_ids if u.isdigit()]
    roles = [discord.Object(id=int(r)) for r in role_ids if r.isdigit()]
    return discord.AllowedMentions(
        everyone=False, roles=roles or False, users=users or False, replied_user=False
    )


def render_alert(alert: Alert, subscription_ids: Mapping[str, int] | None = None) -> Rendered:
    """The Discord message for `alert`.

    `subscription_ids` maps each topic of the alert's channel to its subscription id, for
    the unsubscribe buttons; topics without an id get no button.
    """
    if alert.kind == "notice":
        embed = _notice(alert)
    elif alert.kind == "digest":
        embed = _digest(alert)
    else:
        embed = _story(alert)
    _fit_message(embed)
    # Discord takes at most 100 ids in each allowed_mentions list (400 beyond).
    mentions = tuple(m for m in dict.fromkeys(alert.mentions) if m.isdigit())[:ALLOWED_IDS]
    roles = tuple(
        r for m in dict.fromkeys(alert.mentions) if (r := role_id(m)) is not None and r.isdigit()
    )[:ALLOWED_IDS]
    pings = [f"<@&{r}>" for r in roles] + [f"<@{m}>" for m in mentions]
    content = cut(" ".join(pings), CONTENT_LIMIT) if pings else None
    view = _buttons(alert, subscription_ids or {}) if alert.kind != "notice" else None
    return Rendered(embed, content, allowed_for(mentions, roles), view)


def _story(alert: Alert) -> discord.Embed:
    embed = discord.Embed(
        title=cut(alert.title or alert.link or "(untitled)", TITLE_LIMIT),
        url=web_url(alert.link),
        description=cut(emphasise(alert.summary, alert.matched), DESCRIPTION_LIMIT) or None,
        colour=COLOUR_ALERT,
        timestamp=alert.published,
    )
    if image := web_url(alert.image):
        embed.set_thumbnail(url=image)
    if original := alert.extra.get("original_title"):  # the title was translated
        language = alert.extra.get("title_language", "?")
        name = f"Original title ({discord.utils.escape_markdown(language)})"
        _add_field(embed, name, discord.utils.escape_markdown(original), inline=False)
    _add_field(embed, "Matched topics", _listed(alert.topics), inline=True)
    _add_field(embed, "Matched words", _listed(alert.matched), inline=True)
    also = alert.extra.get("also_reported_by")
    if also:
        _add_field(embed, "Also reported by", _also_reported(also), inline=False)
    embed.set_footer(text=_footer(alert.source, "newsbot"))
    return embed


def _add_field(embed: discord.Embed, name: str, value: str, *, inline: bool) -> None:
    """A field within Discord's limits, or none: an empty or blank value is refused."""
    value = cut(value.strip(), FIELD_VALUE_LIMIT)
    if value:
        embed.add_field(name=name, value=value, inline=inline)


def _listed(items: tuple[str, ...]) -> str:
    return ", ".join(i.strip() for i in items if i.strip())


def _footer(source: str | None, fallback: str) -> str:
    """The footer text; Discord refuses a blank one."""
    return cut((source or "").strip() or fallback, FOOTER_LIMIT)


def _also_reported(raw: str) -> str:
    """`extra["also_reported_by"]`: the other outlets' names, comma-separated (bot/store)."""
    names = [n.strip() for n in raw.split(",") if n.strip()]
    return ", ".join(discord.utils.escape_markdown(n) for n in names)


def _notice(alert: Alert) -> discord.Embed:
    embed = discord.Embed(
        title=cut(alert.title or "newsbot notice", TITLE_LIMIT),
        url=web_url(alert.link),
        description=cut(discord.utils.escape_markdown(alert.summary), DESCRIPTION_LIMIT) or None,
        colour=COLOUR_NOTICE,
        timestamp=alert.published,
    )
    embed.set_footer(text="newsbot notice")
    return embed


def _link_text(text: str) -> str:
    return discord.utils.escape_markdown(text).replace("[", "(").replace("]", ")")


def _digest(alert: Alert) -> discord.Embed:
    """One linked line per story (from `extra["items"]`), else delivery's plain text."""
    lines: list[str] = []
    try:
        items = digest_items(alert)
    except (ValueError, KeyError, TypeError):
        items = []
    for item in items:
        title = _link_text(cut(item.title, 200))
        link = web_url(item.link)
        head = f"[{title}]({link.replace(')', '%29')})" if link else title
        source = discord.utils.escape_markdown(item.source)
        entry = f"• {head}" + (f" · {source}" if source else "")
        if item.original:  # the title was translated: the feed's own beneath, as text
            entry += "\n  " + _link_text(f"({item.language}) {cut(item.original, 200)}")
        lines.append(entry)
    description = _whole_items(lines) if lines else discord.utils.escape_markdown(alert.summary)
    embed = discord.Embed(
        title=cut(alert.title or "newsbot digest", TITLE_LIMIT),
        description=cut(description, DESCRIPTION_LIMIT) or None,
        colour=COLOUR_DIGEST,
        timestamp=alert.published,
    )
    _add_field(embed, "Matched topics", _listed(alert.topics), inline=True)
    embed.set_footer(text=_footer(alert.source, "newsbot digest"))
    return embed


def _whole_items(entries: list[str]) -> str:
    """The digest's items that fit the description whole, then how many did not: a cut
    inside one would break its link's markup, and a silent cut would hide stories."""
    kept: list[str] = []
    for n, entry in enumerate(entries):
        rest = len(entries) - n - 1
        more = f"\n… and {rest} more" if rest else ""
        if text_length("\n".join([*kept, entry]) + more) > DESCRIPTION_LIMIT:
            return "\n".join([*kept, f"… and {len(entries) - n} more"])
        kept.append(entry)
    return "\n".join(kept)


def embed_length(embed: discord.Embed) -> int:
    """What counts toward Discord's 6000 per message, in UTF-16 units (the strict count)."""
    parts = [embed.title or "", embed.description or "", embed.footer.text or ""]
    parts.append(embed.author.name or "")
    parts += [f"{f.name or ''}{f.value or ''}" for f in embed.fields]
    return sum(text_length(p) for p in parts)


def _fit_message(embed: discord.Embed) -> None:
    """Shrink the description until the whole embed is within Discord's 6000 characters."""
    while len(embed.fields) > MAX_FIELDS:
        embed.remove_field(-1)
    excess = embed_length(embed) - MESSAGE_EMBED_LIMIT
    if excess > 0 and embed.description:
        room = max(1, text_length(embed.description) - excess)
        embed.description = cut(embed.description, room)


def _buttons(alert: Alert, subscription_ids: Mapping[str, int]) -> discord.ui.View | None:
    view = discord.ui.View(timeout=None)
    key = alert_key(alert)
    for topic in alert.topics:
        sub_id = subscription_ids.get(topic)
        if sub_id is None or len(view.children) >= BUTTONS_PER_ROW:
            continue
        view.add_item(
            discord.ui.Button(
                style=discord.ButtonStyle.secondary,
                label=cut(f"Unsubscribe: {topic}", LABEL_LIMIT),
                custom_id=unsubscribe_custom_id(sub_id, key),
            )
        )
    return view if view.children else None
