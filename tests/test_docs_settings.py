"""The settings the README and `.env.example` document are exactly the settings the code
reads, with the code's defaults and bounds, so the operator's reference cannot drift.

Every setting is a field of `bot.config.Settings` (the field name is the variable in lower
case); the last test checks that nothing else in bot/ reads the environment, so those
fields are the whole list.
"""

from __future__ import annotations

import re
from pathlib import Path

import annotated_types
from pydantic.fields import FieldInfo

from bot.config import Settings

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
ENV_EXAMPLE = (ROOT / ".env.example").read_text(encoding="utf-8")

# A variable of ours named anywhere: NEWSBOT_..., DISCORD_..., SLACK_..., LOG_...,
# DATABASE_URL; `NEWSBOT_RATE_*` (a family) keeps its `_*`.
VARIABLE = re.compile(
    r"\b((?:NEWSBOT|DISCORD|SLACK|LOG)_[A-Z0-9_]*[A-Z0-9]|DATABASE_URL)(_\*|(?![A-Za-z0-9_]))"
)
# Read by the tests, not the bot (tests/store_contract/backends.py); the README says so.
TEST_ONLY = {"NEWSBOT_TEST_DATABASE_URL"}


def code_settings() -> dict[str, FieldInfo]:
    return {name.upper(): field for name, field in Settings.model_fields.items()}


def readme_settings() -> dict[str, tuple[str, str]]:
    """The README's `## Settings` table: variable -> (default cell, meaning cell)."""
    section = README.split("\n## Settings\n", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `([A-Z0-9_]+)` \| ([^|]*) \| (.*) \|$", section, re.M)
    assert rows, "no settings table under ## Settings"
    table = {name: (default.strip(), meaning.strip()) for name, default, meaning in rows}
    assert len(table) == len(rows), "a variable is listed twice"
    return table


def env_example_settings() -> dict[str, str]:
    pairs = [
        line.split("=", 1)
        for line in ENV_EXAMPLE.splitlines()
        if line.strip() and not line.startswith("#")
    ]
    values = {name.strip(): value.strip() for name, value in pairs}
    assert len(values) == len(pairs), ".env.example sets a variable twice"
    return values


def same_default(documented: str, default: object) -> bool:
    """`documented` is how the docs write `default`: empty or "(...)" for unset."""
    if documented == "" or documented.startswith("("):
        return default is None or default == ""
    value = documented.strip("`")
    if isinstance(default, bool) or not isinstance(default, (int, float)):
        return value == str(default)
    try:
        return float(value) == float(default)
    except ValueError:
        return False


def test_the_readme_table_lists_exactly_the_settings_the_code_reads() -> None:
    code, readme = set(code_settings()), set(readme_settings())
    assert code - readme == set(), "settings missing from the README's table"
    assert readme - code == set(), "README documents settings the code does not read"


def test_env_example_sets_exactly_the_settings_the_code_reads() -> None:
    code, example = set(code_settings()), set(env_example_settings())
    assert code - example == set(), "settings missing from .env.example"
    assert example - code == set(), ".env.example sets variables the code does not read"


def test_documented_defaults_are_the_code_defaults() -> None:
    code = code_settings()
    wrong_readme = {
        name: (cell, code[name].default)
        for name, (cell, _) in readme_settings().items()
        if name in code and not same_default(cell, code[name].default)
    }
    assert wrong_readme == {}, "README default differs from bot/config.py"
    # .env.example's header says "the value shown is the default".
    assert "the value shown is the default" in ENV_EXAMPLE
    wrong_example = {
        name: (value, code[name].default)
        for name, value in env_example_settings().items()
        if name in code and not same_default(value, code[name].default)
    }
    assert wrong_example == {}, ".env.example value differs from bot/config.py"


def _bounds(field: FieldInfo) -> tuple[float | None, float | None, float | None]:
    ge = le = gt = None
    for item in field.metadata:
        if isinstance(item, annotated_types.Ge):
            ge = float(item.ge)  # type: ignore[arg-type]
        elif isinstance(item, annotated_types.Le):
            le = float(item.le)  # type: ignore[arg-type]
        elif isinstance(item, annotated_types.Gt):
            gt = float(item.gt)  # type: ignore[arg-type]
    return ge, gt, le


def test_documented_ranges_are_the_code_bounds() -> None:
    """ "(40-2000)", "(at most 60)" and "(minimum 1)" in the README's table are the
    field's ge/le bounds; a range stated where the code has none is a stale claim."""
    code = code_settings()
    checked = 0
    for name, (_, meaning) in readme_settings().items():
        if name not in code:
            continue  # the table's names are checked above
        ge, _gt, le = _bounds(code[name])
        if span := re.search(r"\((\d+)-(\d+)\)", meaning):
            assert (ge, le) == (float(span[1]), float(span[2])), name
            checked += 1
        if most := re.search(r"\bat most (\d+)\)", meaning):
            assert le == float(most[1]), name
            checked += 1
        if least := re.search(r"\(minimum (\d+)\)", meaning):
            assert ge == float(least[1]), name
            checked += 1
    assert checked >= 3  # the table states some; a changed wording must not skip them all


def test_every_variable_named_in_the_docs_is_one_the_code_reads() -> None:
    code = set(code_settings())
    docs = {
        "README.md": README,
        ".env.example": ENV_EXAMPLE,
        "compose.yaml": (ROOT / "compose.yaml").read_text(encoding="utf-8"),
        "Dockerfile": (ROOT / "Dockerfile").read_text(encoding="utf-8"),
        "manifest.yml": (ROOT / "manifest.yml").read_text(encoding="utf-8"),
    }
    stale = set()
    for doc, text in docs.items():
        for name, family in VARIABLE.findall(text):
            if family:  # NEWSBOT_RATE_*: some setting must start with it
                known = any(c.startswith(f"{name}_") for c in code)
            else:
                known = name in code or name in TEST_ONLY
            if not known:
                stale.add(f"{doc}: {name}{family}")
    assert stale == set()
    backends = (ROOT / "tests" / "store_contract" / "backends.py").read_text(encoding="utf-8")
    assert all(name in backends for name in TEST_ONLY)


def test_nothing_in_bot_reads_the_environment_but_the_settings() -> None:
    """So `Settings`' fields are every variable the bot reads (the table above is whole)."""
    readers = re.compile(r"\bos\.environ\b|\bos\.getenv\b|\bgetenv\(|\benviron\[")
    found = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "bot").rglob("*.py"))
        if path.name != "config.py" and readers.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []
