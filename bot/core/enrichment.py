"""What an alert's summary is made of when the feed's own text says nothing.

Pure decisions, no I/O: whether a feed's text is worth showing, which part of an article's
extracted text is its lead, whether a page is a consent wall or a paywall teaser rather
than the article, what is asked of a model, and how a model's answer is made safe to show.
The fetching, extracting and calling live in bot/feeds/article.py and bot/delivery/.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.core.summary import plain, summarise

SummaryMode = Literal["feed", "article", "model"]
SUMMARY_MODES: tuple[SummaryMode, ...] = ("feed", "article", "model")
DEFAULT_SUMMARY_MODE: SummaryMode = "article"
_MODES: dict[str, SummaryMode] = {m: m for m in SUMMARY_MODES}

# Shorter than this, a feed's text is a teaser or a caption, not a summary.
USEFUL_FEED_TEXT = 80
# The most of an article's text that is kept (cache) and shown to a model: the lead is
# in the first paragraphs, and a prompt must stay small for a local model.
ARTICLE_TEXT_LIMIT = 4000
# A model's summary is 1-3 sentences; anything longer is cut here (and again by delivery).
MODEL_SUMMARY_LIMIT = 600
MODEL_TITLE_LIMIT = 300
# Room for one translated headline of a digest's list (a 120-character title in a script
# a tokenizer splits finely, with its number): the answer must not be cut mid-list.
LIST_TOKENS_PER_TITLE = 100

# Teasers that stand for "there is more on the site" in the languages the bot sees most.
_BOILERPLATE = re.compile(
    r"^\W*(continue reading|read more|read the full (story|article)|click here|more\W*$|"
    r"full story|see more|learn more|weiterlesen|mehr lesen|lire la suite|en savoir plus|"
    r"leer m[aá]s|seguir leyendo|leggi (tutto|di più)|читать далее|подробнее|далее)",
    re.IGNORECASE,
)
# A page whose text is mostly about cookies, consent or subscribing is the wall in front
# of the article, not the article. Matched against the start of the extracted text.
_WALL = re.compile(
    r"\b(cookies?|consent|your privacy|privacy settings|accept all|reject all|"
    r"subscribe (now )?to (continue|read)|subscribers? only|already a subscriber|"
    r"to continue reading|sign in to (continue|read)|create a free account|"
    r"register to continue|log in to continue|this content is (only )?available|"
    r"zustimmen|einwilligung|abonnieren sie|bereits abonnent|jetzt abonnieren|"
    r"accepter (et fermer|les cookies)|vos choix|abonnez-vous|déjà abonné|"
    r"aceptar (todas|cookies)|suscr[ií]bete|подпишитесь|согласие на обработку|"
    r"только для подписчиков)\b",
    re.IGNORECASE,
)
# Lines above the lead that are not it: a byline (short, no full stop), and the site
# asking the reader to sign in, register or pay.
_BYLINE = re.compile(
    r"^(?:(?:by|von|par|por|di|door|av|af)\s|(?:autor(?:i|es|en)?|authors?|text|photos?|"
    r"fotos?)\s*:)",
    re.IGNORECASE,
)
_PROMPT = re.compile(
    r"\b(?:sign in|log in|subscribe (?:now|to|for)|subscribers? only|members? only|"
    r"register (?:now|to|for)|jetzt abonnieren|abonnez-vous|suscr[ií]bete)\b|"
    r"有料会員|会員登録|ログイン|登录|注册",
    re.IGNORECASE,
)
_FULL_STOP = (".", "!", "?", "。", "！", "？")
# Less text than this after extraction: a teaser, a wall, an index page; not an article.
MIN_ARTICLE_TEXT = 200
_SENTENCE_END = re.compile(r"[.!?。！？؟…»\"”’)]\s*$")
_WIDE = ("W", "F")  # East Asian wide scripts write a sentence in fewer characters
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


def _key(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.findall(r"\w+", folded))


def feed_text_useless(title: str, summary: str) -> bool:
    """True when the feed's text tells a reader nothing the headline does not."""
    text = plain(summary)
    if len(text) < USEFUL_FEED_TEXT:
        return True
    if _BOILERPLATE.match(text):
        return True
    key, title_key = _key(text), _key(title)
    # The title again, maybe with the outlet's name or a "Read more" stuck on.
    return bool(title_key) and (
        key == title_key or (key.startswith(title_key) and len(key) < len(title_key) + 40)
    )


def looks_like_wall(text: str) -> bool:
    """A consent page, a paywall teaser or too little text to be an article."""
    text = plain(text)
    if len(text) < MIN_ARTICLE_TEXT:
        return True
    head = text[:600]
    hits = len(_WALL.findall(head))
    # One passing mention of cookies in a story about cookies is fine; a wall repeats itself
    # or has little besides.
    return hits >= 2 or (hits == 1 and len(text) < 600)


def _min_paragraph(line: str) -> int:
    wide = sum(1 for ch in line[:60] if unicodedata.east_asian_width(ch) in _WIDE)
    return 20 if wide > 20 else 60


def lead_of(text: str, title: str = "") -> str:
    """The article's opening paragraphs from an extractor's text (one paragraph a line).

    Skips what extractors keep above the first paragraph: the headline repeated, a
    byline, a dateline, a photo credit, "Share this": short lines that are not sentences.
    Returns the paragraphs from the first real one on (cut by the caller), or "".
    """
    title_key = _key(title)
    lines: list[str] = []
    for raw in text.splitlines():
        line = plain(raw)
        if lines and line[:1].islower():
            # A paragraph broken by <br> ("Photos" / "which were released..."): rejoin.
            lines[-1] = f"{lines[-1]} {line}"
        else:
            lines.append(line)
    for at, line in enumerate(lines):
        if not line or (title_key and _key(line) == title_key):
            continue
        byline = _BYLINE.match(line) and len(line) < 120 and not line.endswith(_FULL_STOP)
        if byline or (len(line) < 200 and _PROMPT.search(line)):
            continue
        sentence_like = bool(_SENTENCE_END.search(line))
        if len(line) >= _min_paragraph(line) or (sentence_like and len(line) >= 30):
            return " ".join(ln for ln in lines[at:] if ln)[:ARTICLE_TEXT_LIMIT]
    return ""


def article_summary(text: str, title: str, limit: int) -> str:
    """The summary an article's text gives: its lead, cut at a sentence; "" if none."""
    lead = lead_of(text, title)
    return summarise(lead, limit) if lead else ""


def parse_summary_mode(text: str) -> SummaryMode | None:
    word = text.strip().casefold()
    return _MODES.get(word)


def parse_language(text: str) -> str | None:
    """An ISO 639-1 code (`en`, `de`; `pt-BR` counts as `pt`); None if it is not one."""
    code = text.strip().replace("_", "-").split("-")[0].casefold()
    return code if _LANGUAGE.match(code) else None


def language_tag(language: str | None) -> str | None:
    """A feed's declared language (`en-us`, `de-DE`) as the two-letter code, or None."""
    return parse_language(language) if language else None


@dataclass(frozen=True, slots=True)
class Prompt:
    """One chat-completions request's messages: instructions, then the story's text only."""

    system: str
    user: str
    max_tokens: int | None = None  # None: the endpoint's setting (enough for one summary)


def summary_prompt(title: str, feed_text: str, article_text: str, language: str) -> Prompt:
    """Ask for 1-3 sentences in `language`, from this one story's text and nothing else."""
    parts = [f"Title: {plain(title)}"]
    if plain(feed_text):
        parts.append(f"Feed text: {plain(feed_text)[:1000]}")
    if plain(article_text):
        parts.append(f"Article text: {plain(article_text)[:ARTICLE_TEXT_LIMIT]}")
    return Prompt(
        system=(
            "You summarise news stories for a chat channel. Write 1 to 3 plain sentences in"
            f" the language with ISO code '{language}', stating only facts from the text."
            " No title, no lists, no links, no markup, no preamble."
        ),
        user="\n\n".join(parts),
    )


def title_prompt(title: str, language: str) -> Prompt:
    return Prompt(
        system=(
            f"Translate the news headline into the language with ISO code '{language}'."
            " Answer with the translated headline only, no quotes, no notes."
        ),
        user=plain(title),
    )


def titles_prompt(titles: Sequence[str], language: str) -> Prompt:
    """Ask for a digest's headlines translated, as a numbered list: one request a digest."""
    listed = "\n".join(f"{n}. {plain(title)}" for n, title in enumerate(titles, 1))
    return Prompt(
        system=(
            "Translate each numbered news headline into the language with ISO code"
            f" '{language}'. Answer with exactly {len(titles)} lines, one per headline, in"
            " the same order: its number, a full stop, a space, then the translated headline"
            " only. No quotes, no notes, no other lines."
        ),
        user=listed,
        max_tokens=LIST_TOKENS_PER_TITLE * len(titles),
    )


_NUMBERED = re.compile(r"^\s*(\d{1,3})[.)]\s+(\S.*)$")


def parse_titles(answer: str, count: int, limit: int) -> list[str] | None:
    """A model's numbered list as `count` titles made safe (model_text), in order.

    Strict: None unless there are exactly `count` non-blank lines and line n is "n. text"
    with text left after cleaning. A list that does not pair up line for line is no answer
    at all, so a translation can never be shown under another story's original.
    """
    lines = [line for line in answer.splitlines() if line.strip()]
    if len(lines) != count:
        return None
    titles: list[str] = []
    for n, line in enumerate(lines, 1):
        match = _NUMBERED.match(line)
        if match is None or int(match.group(1)) != n:
            return None
        title = model_text(match.group(2), limit)
        if not title:
            return None
        titles.append(title)
    return titles


_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\(\s*[^)]*\)")
_URL = re.compile(r"(?:https?|ftp)://\S+|www\.\S+", re.IGNORECASE)
_SLACK_ANGLE = re.compile(r"<[!#@][^>]*>")


def model_text(answer: str, limit: int) -> str:
    """A model's answer as one line of plain text, at most `limit`: untrusted like a feed.

    Renderers escape it as they escape feed text (no ping, no markup); here links and
    platform control sequences are dropped too, so a model cannot steer readers to a
    site the story never named, and it is cut to `limit`. "" when nothing is left.
    """
    text = _MARKDOWN_LINK.sub(r"\1", answer)
    text = _SLACK_ANGLE.sub("", text)
    text = _URL.sub("", text)
    text = plain(text.replace("**", "").replace("__", "")).strip(" \"'“”«»")
    return summarise(text, limit) if text else ""
