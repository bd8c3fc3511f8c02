"""What the fake Discord refuses, as Discord's API does: message, command and reply rules.

Each rule is Discord's documented limit, answered the way Discord answers it: a 400 with
code 50035 "Invalid Form Body" and an `errors` tree keyed by the path of the offending
field (`embeds.0.fields.1.value`) whose leaves are `{"_errors": [{"code", "message"}]}`
(discord.py flattens that tree into "In embeds.0.fields.1.value: ..."), or 50006 "Cannot
send an empty message" for a message with no content, embed or component. None of these is
fixed by retrying, which is why the fake refuses them instead of accepting what the real
Discord would not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

CONTENT_LIMIT = 2000
EMBEDS_LIMIT = 10
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_FIELDS_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
AUTHOR_NAME_LIMIT = 256
EMBEDS_TOTAL_LIMIT = 6000
ROWS_LIMIT = 5  # action rows per message
ROW_COMPONENTS_LIMIT = 5  # buttons per action row
CUSTOM_ID_LIMIT = 100
LABEL_LIMIT = 80
CHOICES_LIMIT = 25  # autocomplete choices, and choices of a command option
CHOICE_NAME_LIMIT = 100
CHOICE_VALUE_LIMIT = 100
COMMAND_NAME_LIMIT = 32
COMMAND_DESCRIPTION_LIMIT = 100
COMMAND_OPTIONS_LIMIT = 25
NONCE_LIMIT = 25
# Chat-input command and option names: letters (lower-case where the letter has a lower
# case), digits, `-`, `_` and `'`, 1 to 32 of them. \w stands for Discord's letter and digit
# classes here; the lower-case rule is checked separately.
COMMAND_NAME = re.compile(r"[-_'\w]{1,32}")
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2


@dataclass(frozen=True, slots=True)
class FormError:
    """One refused field: where (dotted path), Discord's error code name, and its message."""

    path: str
    code: str
    message: str


def form_error_body(errors: Iterable[FormError]) -> dict[str, Any]:
    """The 400 body Discord sends for these refusals (code 50035, an `errors` tree)."""
    tree: dict[str, Any] = {}
    for error in errors:
        node = tree
        for part in error.path.split("."):
            node = node.setdefault(part, {})
        node.setdefault("_errors", []).append({"code": error.code, "message": error.message})
    return {"message": "Invalid Form Body", "code": 50035, "errors": tree}


EMPTY_MESSAGE = {"message": "Cannot send an empty message", "code": 50006}


def _too_long(path: str, value: str, limit: int) -> list[FormError]:
    if len(value) > limit:
        return [FormError(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")]
    return []


def _required(path: str, value: object) -> list[FormError]:
    # Discord trims strings before checking that a required one is there.
    if value is None or (isinstance(value, str) and not value.strip()):
        return [FormError(path, "BASE_TYPE_REQUIRED", "This field is required")]
    return []


def _too_many(path: str, items: list[Any], limit: int) -> list[FormError]:
    if len(items) > limit:
        return [FormError(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")]
    return []


def is_empty_message(body: dict[str, Any]) -> bool:
    """No content (blank counts as none), no embed, no component, no sticker, no poll."""
    content = str(body.get("content") or "").strip()
    return not (
        content
        or body.get("embeds")
        or body.get("components")
        or body.get("sticker_ids")
        or body.get("attachments")
        or body.get("poll")
    )


def message_errors(body: dict[str, Any]) -> list[FormError]:
    """Every documented limit of a message body (create, interaction reply, follow-up, edit)."""
    errors = _too_long("content", str(body.get("content") or ""), CONTENT_LIMIT)
    nonce = body.get("nonce")
    if nonce is not None:
        errors += _too_long("nonce", str(nonce), NONCE_LIMIT)
    embeds = list(body.get("embeds") or [])
    errors += _too_many("embeds", embeds, EMBEDS_LIMIT)
    total = 0
    for i, embed in enumerate(embeds):
        errors += _embed_errors(f"embeds.{i}", embed)
        total += embed_length(embed)
    if total > EMBEDS_TOTAL_LIMIT:
        errors.append(
            FormError(
                "embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"
            )
        )
    errors += components_errors(list(body.get("components") or []))
    return errors


def embed_length(embed: dict[str, Any]) -> int:
    """What counts toward the 6000 characters of a message's embeds."""
    fields = embed.get("fields") or []
    return (
        len(embed.get("title") or "")
        + len(embed.get("description") or "")
        + len((embed.get("footer") or {}).get("text") or "")
        + len((embed.get("author") or {}).get("name") or "")
        + sum(len(f.get("name") or "") + len(f.get("value") or "") for f in fields)
    )


def _embed_errors(at: str, embed: dict[str, Any]) -> list[FormError]:
    errors = _too_long(f"{at}.title", embed.get("title") or "", EMBED_TITLE_LIMIT)
    errors += _too_long(
        f"{at}.description", embed.get("description") or "", EMBED_DESCRIPTION_LIMIT
    )
    fields = list(embed.get("fields") or [])
    errors += _too_many(f"{at}.fields", fields, EMBED_FIELDS_LIMIT)
    for j, f in enumerate(fields):
        for key, limit in (("name", FIELD_NAME_LIMIT), ("value", FIELD_VALUE_LIMIT)):
            path = f"{at}.fields.{j}.{key}"
            errors += _required(path, f.get(key)) or _too_long(path, f.get(key) or "", limit)
    if "footer" in embed:
        path = f"{at}.footer.text"
        text = (embed.get("footer") or {}).get("text")
        errors += _required(path, text) or _too_long(path, text or "", FOOTER_LIMIT)
    if "author" in embed:
        path = f"{at}.author.name"
        name = (embed.get("author") or {}).get("name")
        errors += _required(path, name) or _too_long(path, name or "", AUTHOR_NAME_LIMIT)
    url = embed.get("url")
    if url is not None and not re.match(r"https?://", url):
        errors.append(FormError(f"{at}.url", "URL_TYPE_INVALID_PROTOCOL", _scheme(url)))
    for key in ("thumbnail", "image"):
        url = (embed.get(key) or {}).get("url")
        if url is not None and not re.match(r"https?://|attachment://", url):
            errors.append(FormError(f"{at}.{key}.url", "URL_TYPE_INVALID_PROTOCOL", _scheme(url)))
    return errors


def _scheme(url: str) -> str:
    scheme = url.split(":", 1)[0]
    return f"Scheme \"{scheme}\" is not supported. Scheme must be one of ('http', 'https')."


def components_errors(rows: list[dict[str, Any]]) -> list[FormError]:
    """At most 5 action rows of 1 to 5 buttons; custom ids 100, labels 80, ids unique."""
    errors = _too_many("components", rows, ROWS_LIMIT)
    seen: set[str] = set()
    for i, row in enumerate(rows):
        items = list(row.get("components") or [])
        if row.get("type") != 1:
            errors.append(
                FormError(f"components.{i}.type", "UNION_TYPE_CHOICES", "Value must be one of {1}.")
            )
        if not items:
            errors += _required(f"components.{i}.components", None)
        errors += _too_many(f"components.{i}.components", items, ROW_COMPONENTS_LIMIT)
        for j, item in enumerate(items):
            at = f"components.{i}.components.{j}"
            custom_id = item.get("custom_id")
            if custom_id is not None:
                errors += _too_long(f"{at}.custom_id", str(custom_id), CUSTOM_ID_LIMIT)
                if custom_id in seen:
                    errors.append(
                        FormError(
                            f"{at}.custom_id",
                            "COMPONENT_CUSTOM_ID_DUPLICATED",
                            "Component custom id cannot be duplicated",
                        )
                    )
                seen.add(str(custom_id))
            errors += _too_long(f"{at}.label", item.get("label") or "", LABEL_LIMIT)
    return errors


def autocomplete_errors(data: dict[str, Any]) -> list[FormError]:
    """An autocomplete answer (callback type 8): 25 choices at most, names 1-100."""
    choices = list(data.get("choices") or [])
    errors = _too_many("data.choices", choices, CHOICES_LIMIT)
    for i, choice in enumerate(choices):
        name_path = f"data.choices.{i}.name"
        name = choice.get("name")
        errors += _required(name_path, name) or _too_long(name_path, name or "", CHOICE_NAME_LIMIT)
        value = choice.get("value")
        if isinstance(value, str):
            errors += _too_long(f"data.choices.{i}.value", value, CHOICE_VALUE_LIMIT)
    return errors


def command_errors(commands: list[dict[str, Any]]) -> list[FormError]:
    """A bulk overwrite of application commands (PUT .../commands)."""
    errors: list[FormError] = []
    for i, cmd in enumerate(commands):
        errors += _command_errors(str(i), cmd)
    return errors


def _command_errors(at: str, cmd: dict[str, Any]) -> list[FormError]:
    name = str(cmd.get("name") or "")
    errors: list[FormError] = []
    if not COMMAND_NAME.fullmatch(name):
        errors.append(
            FormError(
                f"{at}.name",
                "APPLICATION_COMMAND_INVALID_NAME",
                f"Command name is invalid: {name!r}",
            )
        )
    elif name != name.lower():
        errors.append(
            FormError(
                f"{at}.name",
                "APPLICATION_COMMAND_INVALID_NAME",
                f"Command name must be lower-case: {name!r}",
            )
        )
    description = cmd.get("description")
    path = f"{at}.description"
    errors += _required(path, description) or _too_long(
        path, description or "", COMMAND_DESCRIPTION_LIMIT
    )
    options = list(cmd.get("options") or [])
    errors += _too_many(f"{at}.options", options, COMMAND_OPTIONS_LIMIT)
    optional_seen = False
    for j, opt in enumerate(options):
        errors += _command_errors(f"{at}.options.{j}", opt)
        choices = list(opt.get("choices") or [])
        errors += _too_many(f"{at}.options.{j}.choices", choices, CHOICES_LIMIT)
        if opt.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
            continue
        if opt.get("required"):
            if optional_seen:
                errors.append(
                    FormError(
                        f"{at}.options.{j}.required",
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
                )
        else:
            optional_seen = True
    return errors


@dataclass
class _Window:
    resets_at: float
    used: int = 0


@dataclass(frozen=True, slots=True)
class Allowance:
    """What the bucket of one request says: the X-RateLimit-* values, or how long to wait."""

    bucket: str
    limit: int
    remaining: int
    reset_after: float
    retry_after: float | None  # set: this request is refused (429)


class RateBuckets:
    """Discord's per-route limits: `limit` requests per `window` seconds per bucket.

    A bucket is a route's hash together with its top-level resource (a channel id, a
    webhook token), so messages in one channel never slow another. The window opens with
    the first request and resets `window` seconds later, as Discord's do; `clock` is the
    fake's (tests may move it by hand).
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._windows: dict[tuple[str, str], _Window] = {}

    def take(self, bucket: str, major: str, limit: int, window: float) -> Allowance:
        now = self.clock()
        current = self._windows.get((bucket, major))
        if current is None or now >= current.resets_at:
            current = self._windows[(bucket, major)] = _Window(now + window)
        reset_after = round(max(0.0, current.resets_at - now), 3)
        if current.used >= limit:
            return Allowance(bucket, limit, 0, reset_after, retry_after=reset_after)
        current.used += 1
        return Allowance(bucket, limit, limit - current.used, reset_after, retry_after=None)


ALLOWED_ROLES_LIMIT = 100  # ids in allowed_mentions.roles (and .users)


def allowed_mentions_errors(body: dict[str, Any]) -> list[FormError]:
    """Discord refuses `parse: ["roles"]` beside a `roles` list (and likewise for users),
    and more than 100 ids in either list."""
    allowed = body.get("allowed_mentions")
    if not isinstance(allowed, dict):
        return []
    errors: list[FormError] = []
    parse = allowed.get("parse") or []
    for kind in ("roles", "users"):
        listed = allowed.get(kind) or []
        if kind in parse and listed:
            errors.append(
                FormError(
                    "allowed_mentions",
                    "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                    f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
                )
            )
        errors += _too_many(f"allowed_mentions.{kind}", listed, ALLOWED_ROLES_LIMIT)
    return errors
