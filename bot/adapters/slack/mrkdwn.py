"""Slack mrkdwn from untrusted text: escaped so feed text can never ping, cut to limits.

In mrkdwn `<!channel>`, `<!here>`, `<@U…>` and `<#C…>` are control sequences, so every
`&`, `<` and `>` that comes from a feed or a user is escaped (Slack's "Escaping text" rules:
exactly these three, as `&amp;`, `&lt;`, `&gt;`). Nothing here sends `link_names` or
`parse=full`, which would turn a plain `@channel` into a ping as well.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from urllib.parse import urlsplit

from bot.core.mentions import group_id
from bot.core.summary import emphasised_segments, fit, text_length

SECTION_LIMIT = 3000  # characters of one section's text (Block Kit reference)
# A context element's text, measured escaped; Slack allows 3,000 (a text object's limit),
# this leaves room for what one line should ever need.
TEXT_OBJECT_LIMIT = 2000
BUTTON_TEXT_LIMIT = 75
BLOCK_LIMIT = 50  # blocks per message
HOME_BLOCK_LIMIT = 100  # blocks per App Home view

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")


def units(text: str) -> int:
    """Length the strict way (UTF-16 code units): an emoji may count twice, never less."""
    return text_length(text)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Slash-command text arrives with `&`, `<`, `>` escaped; the core wants what was typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def cut(text: str, limit: int) -> str:
    """Plain `text` in at most `limit` units, cut at a word with an ellipsis when too long."""
    return fit(text, limit)


def escaped(text: str, limit: int) -> str:
    """`text` escaped, in at most `limit` units once escaped (cut at a word with "…").

    The limit holds for what Slack receives, so it is measured after escaping: 2,000
    characters of `&` are 10,000 escaped. The plain text is cut, never the escaped one,
    so no `&amp;` is split.
    """
    return fit_rendered(text, escape, limit)


def safe_url(url: str) -> str | None:
    """`url` ready to sit inside `<…|…>`, or None when it is not an http(s) link."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return None
    # `|` ends the URL part of a link and whitespace breaks it: percent-encode both.
    cleaned = parts.geturl().replace("|", "%7C").replace(" ", "%20")
    return escape(cleaned)


def link(url: str, label: str) -> str:
    """A mrkdwn link whose label is escaped; the bare label when the URL is not http(s)."""
    target = safe_url(url)
    text = escape(label)
    return f"<{target}|{text}>" if target else text


def mention(user_id: str) -> str | None:
    """`<@U…>` for a well-formed user id only, so a stored value cannot smuggle markup;
    `<!subteam^S…>` for a user group a manager asked for (bot.core.mentions)."""
    group = group_id(user_id)
    if group is not None:
        return f"<!subteam^{group}>" if _GROUP_ID.match(group) else None
    return f"<@{user_id}>" if _USER_ID.match(user_id) else None


def mentions(user_ids: Sequence[str]) -> str:
    return " ".join(m for m in (mention(u) for u in user_ids) if m)


def date(when: datetime) -> str:
    """A date each reader sees in their own time zone, with a UTC fallback."""
    fallback = when.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(when.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def emphasise(text: str, words: Sequence[str]) -> str:
    """`text` escaped, with each whole-word occurrence of `words` in bold."""
    return "".join(
        f"*{escape(piece)}*" if bold else escape(piece)
        for piece, bold in emphasised_segments(text, list(words))
    )


def fit_rendered(plain: str, render: Callable[[str], str], limit: int) -> str:
    """render(cut(plain, n)) for a large n whose rendering fits in `limit` units.

    Escaping and bold markers make the rendering longer than the text, so the text is
    cut before rendering (a cut afterwards could split `&amp;` or a `*…*` pair). The
    budget shrinks by the rendering's growth ratio, so a text of nothing but `&` (five
    times longer escaped) still keeps a fifth of the room, usually in one pass.
    """
    whole = units(render(plain))
    if whole <= limit:
        return render(plain)
    # Start from the text's own growth ratio: usually the first cut fits.
    budget = max(1, min(limit, limit * units(plain) // whole))
    while True:
        rendered = render(cut(plain, budget))
        size = units(rendered)
        if size <= limit:
            return rendered
        if budget <= 1:
            return ""
        budget = max(1, min(budget - 1, budget * limit // size))
