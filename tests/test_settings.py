from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings


def run_newsbot(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "bot", *(args or ("run",))],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.mark.parametrize(
    ("name", "value", "expects"),
    [
        ("NEWSBOT_POLL_INTERVAL", "0", "greater than or equal to 1"),
        ("NEWSBOT_POLL_INTERVAL", "soon", "valid integer"),
        ("LOG_FORMAT", "xml", "'text' or 'json'"),
        (
            "DATABASE_URL",
            "mysql://db/newsbot",
            "sqlite:///PATH (e.g. sqlite:///newsbot.db)"
            " or postgresql://USER:PASSWORD@HOST:PORT/DATABASE",
        ),
        ("SLACK_HTTP_PORT", "70000", "less than or equal to 65535"),
    ],
)
def test_bad_setting_exits_2_naming_it(tmp_path: Path, name: str, value: str, expects: str) -> None:
    result = run_newsbot({name: value}, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert name in lines[0]
    assert expects in lines[0]


def test_missing_feed_list_names_the_setting(tmp_path: Path) -> None:
    result = run_newsbot({"NEWSBOT_FEEDS_FILE": str(tmp_path / "nope.txt")}, tmp_path)
    assert result.returncode == 2
    assert "NEWSBOT_FEEDS_FILE" in result.stderr


def test_secret_values_never_printed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(discord_token=["not", "a", "string"])  # wrong type, secret field
    assert "DISCORD_TOKEN" in str(info.value)
    assert "not" not in str(info.value).replace("DISCORD_TOKEN", "")


def test_env_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("NEWSBOT_POLL_INTERVAL=42\nLOG_FORMAT=JSON\n")
    settings = load_settings()
    assert settings.newsbot_poll_interval == 42
    assert settings.log_format == "json"


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///newsbot.db"
    assert settings.newsbot_poll_interval == 300
    assert settings.discord_token is None
    assert not settings.chat_configured


def test_every_setting_is_documented_in_env_example() -> None:
    example = (Path(__file__).parent.parent / ".env.example").read_text()
    from bot.config import Settings

    for name in Settings.model_fields:
        assert f"{name.upper()}=" in example, f"{name.upper()} missing from .env.example"
