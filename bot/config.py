"""Settings from the environment and `.env`, typed and validated once at start.

Field names are the environment variable names in lower case, so each setting is
declared once and `.env.example` documents the same names.
"""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_FIELDS = frozenset(
    {"discord_token", "slack_bot_token", "slack_app_token", "slack_signing_secret"}
    | {"newsbot_llm_api_key"}
)


# This process's default lease owner: unique per start, so a restarted process never
# mistakes the leases of its previous life for its own.
PROCESS_ID = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


# NEWSBOT_ROLES: poll feeds (the watcher), deliver alerts (the outbox), serve chat (the
# platforms' connections: commands and events).
ROLES = ("poll", "deliver", "chat")


class ConfigError(Exception):
    """One line naming the variable and what it expects; the CLI exits 2 with it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    database_url: str = "sqlite:///newsbot.db"
    newsbot_feeds_file: Path | None = None
    newsbot_poll_interval: int = Field(300, ge=1)
    newsbot_backfill: int = Field(0, ge=0)
    newsbot_fetch_timeout: float = Field(30.0, gt=0)
    newsbot_max_feed_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    newsbot_max_poll_interval: int = Field(86400, ge=1)
    newsbot_pause_after_failures: int = Field(10, ge=1)
    newsbot_poll_concurrency: int = Field(20, ge=1)
    newsbot_per_host_concurrency: int = Field(2, ge=1)
    newsbot_seen_per_feed: int = Field(5000, ge=1)
    newsbot_duplicate_window: int = Field(86400, ge=0)

    # Several processes on one database (PostgreSQL): this process's name in the leases it
    # takes (empty: host-pid-random, new at every start), how long a lease on a feed's
    # refresh or a channel's sending lasts (a process that dies loses them after this),
    # and how often the subscriptions are reloaded whatever notifications said.
    newsbot_instance_id: str = ""
    newsbot_lease_seconds: float = Field(120.0, ge=1)
    newsbot_reconcile_seconds: float = Field(30.0, gt=0, le=60)

    # Topics (bot/core/topics): how long after leaving office an official still names a
    # topic, and the operator's file that extends the packs (default ./newsbot-topics.toml).
    newsbot_topic_grace_days: int = Field(730, ge=0)
    newsbot_topics_file: str | None = None

    # Subscriptions (bot/core/limits.py): each tenant's share.
    newsbot_max_subscriptions_per_channel: int = Field(100, ge=1)
    newsbot_max_subscriptions_per_workspace: int = Field(1000, ge=1)

    # Delivery (bot/delivery): summaries, bursts, retries and pacing.
    newsbot_summary_length: int = Field(300, ge=40, le=2000)
    newsbot_burst_count: int = Field(5, ge=1)
    newsbot_burst_window: float = Field(600.0, ge=0)
    newsbot_retry_base: float = Field(2.0, gt=0)
    newsbot_retry_max: float = Field(600.0, gt=0)
    newsbot_rate_discord_channel: str = "4/5"
    newsbot_rate_discord_global: str = "40/1"
    newsbot_rate_slack_channel: str = "1/1.1"
    newsbot_rate_slack_global: str = "20/1"

    # Enriched alerts (bot/delivery/enrich.py): the article's lead when the feed gives only
    # a headline, and, with a model endpoint set, model summaries and translated titles.
    newsbot_article_fetch: Literal["off", "auto"] = "auto"
    newsbot_article_timeout: float = Field(5.0, gt=0, le=60)
    newsbot_llm_url: str | None = None  # an OpenAI-compatible .../v1/chat/completions
    newsbot_llm_model: str | None = None
    newsbot_llm_api_key: SecretStr | None = None
    newsbot_llm_timeout: float = Field(10.0, gt=0, le=120)
    newsbot_llm_daily_limit: int = Field(1000, ge=0)

    discord_token: SecretStr | None = None
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    discord_guild_id: int | None = Field(None, ge=1)
    discord_shard_count: int | Literal["auto"] = 1
    discord_shard_ids: str = ""  # comma-separated shards this process runs (empty: all)

    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_http_port: int = Field(3000, ge=1, le=65535)
    slack_api_url: str | None = None
    slack_admin_users: str = ""  # comma-separated Slack user ids allowed to manage feeds

    # What this process does (comma-separated): poll feeds, deliver alerts, serve chat.
    newsbot_roles: str = "poll,deliver,chat"

    # The operator's port: /metrics, /livez, /readyz (bot/observe). None: not served.
    newsbot_http_port: int | None = Field(None, ge=0, le=65535)
    newsbot_http_host: str = "0.0.0.0"  # a container's health check and Prometheus reach it

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["text", "json"] = "text"

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _normalise_case(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        return value.lower() if value.lower() in {"text", "json"} else value.upper()

    @field_validator(
        "newsbot_rate_discord_channel",
        "newsbot_rate_discord_global",
        "newsbot_rate_slack_channel",
        "newsbot_rate_slack_global",
    )
    @classmethod
    def _rate(cls, value: str) -> str:
        head, _, tail = value.strip().partition("/")
        try:
            ok = int(head) >= 0 and (not tail or float(tail) > 0)
        except ValueError:
            ok = False
        if not ok:
            raise ValueError("expected COUNT/SECONDS, e.g. 4/5 (0 for no limit)")
        return value.strip()

    @field_validator("discord_shard_count", mode="before")
    @classmethod
    def _shard_count(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() == "auto":
            return "auto"
        if isinstance(value, str) and not value.strip():
            return 1
        if isinstance(value, str) and not value.strip().isdigit():
            raise ValueError("expected a whole number of shards (1 or more) or auto")
        if isinstance(value, (str, int)) and int(value) < 1:
            raise ValueError("expected a whole number of shards (1 or more) or auto")
        return value

    @field_validator("newsbot_roles")
    @classmethod
    def _roles(cls, value: str) -> str:
        named = [r.strip().lower() for r in value.split(",") if r.strip()]
        unknown = [r for r in named if r not in ROLES]
        if unknown or not named:
            raise ValueError(
                f"expected one or more of {', '.join(ROLES)}, comma-separated"
                + (f"; unknown role {unknown[0]!r}" if unknown else "")
            )
        return ",".join(r for r in ROLES if r in named)

    @field_validator("discord_shard_ids")
    @classmethod
    def _shard_ids(cls, value: str, info: ValidationInfo) -> str:
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if not all(p.isdigit() for p in parts):
            raise ValueError("expected shard numbers separated by commas, e.g. 0,1")
        ids = sorted({int(p) for p in parts})
        count = info.data.get("discord_shard_count", 1)
        if ids and not isinstance(count, int):
            raise ValueError(
                "needs DISCORD_SHARD_COUNT as a number, not auto (every process must agree on it)"
            )
        if ids and isinstance(count, int) and ids[-1] >= count:
            raise ValueError(
                f"shard {ids[-1]} does not exist with DISCORD_SHARD_COUNT={count} "
                f"(shards are numbered 0 to {count - 1})"
            )
        return ",".join(str(n) for n in ids)

    @field_validator("discord_guild_id", "newsbot_http_port", mode="before")
    @classmethod
    def _blank_guild(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "discord_token",
        "slack_bot_token",
        "slack_app_token",
        "slack_signing_secret",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `.env.example` copied as is leaves these empty: that means "not configured".
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def slack_admin_user_ids(self) -> frozenset[str]:
        return frozenset(u.strip() for u in self.slack_admin_users.split(",") if u.strip())

    @property
    def owner_id(self) -> str:
        """Who this process is in the leases it takes (NEWSBOT_INSTANCE_ID or its own)."""
        return self.newsbot_instance_id.strip() or PROCESS_ID

    @property
    def roles(self) -> frozenset[str]:
        """What this process does: any of ROLES (NEWSBOT_ROLES)."""
        return frozenset(self.newsbot_roles.split(","))

    @property
    def discord_shard_id_list(self) -> list[int]:
        """The shards this process runs (DISCORD_SHARD_IDS); empty: every shard."""
        return [int(p) for p in self.discord_shard_ids.split(",") if p]

    @property
    def chat_configured(self) -> bool:
        return self.discord_token is not None or self.slack_bot_token is not None


def _describe(error: dict[str, object]) -> str:
    loc = error.get("loc") or ("?",)
    name = str(loc[0]) if isinstance(loc, tuple) else str(loc)
    message = str(error.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ")
    line = f"invalid setting {name.upper()}: {message}"
    if name not in SECRET_FIELDS and "input" in error and error["input"] is not None:
        line += f" (got {error['input']!r})"
    return line


def load_settings(**overrides: object) -> Settings:
    """Read the environment; raise ConfigError naming the first bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise ConfigError(_describe(dict(first))) from None
