"""What the README promises exists, and what exists is in the README: the `/news`
commands (README, `/news help`, Discord's command tree), the `newsbot` CLI and the
README's example invocations, the metrics, and the quick start's demo output."""

from __future__ import annotations

import argparse
import io
import re
import shlex
from datetime import UTC, datetime
from pathlib import Path

import pytest
from discord import app_commands
from prometheus_client import REGISTRY

from bot.adapters.discord.commands import NewsGroup
from bot.cli.demo import run_demo
from bot.cli.main import _parser
from bot.config import load_settings
from bot.core.commands import REGISTRY as COMMANDS
from bot.core.commands import CommandDeps, Invocation, handle_command
from bot.core.commands.feeds import USAGE as FEED_USAGE
from bot.core.matching.index import SubscriptionIndex
from bot.core.models import Channel
from bot.observe import metrics
from bot.store import SqliteStore
from tests.support.delivery import FakeClock

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    """The README's text under `title` (a `## ` or `### ` heading) up to the next heading
    of any level."""
    start = re.search(rf"^#+ {re.escape(title)}\n", README, re.M)
    assert start is not None, f"no README section {title!r}"
    rest = README[start.end() :]
    end = re.search(r"^#+ ", rest, re.M)
    return rest[: end.start()] if end else rest


def command_rows() -> dict[str, str]:
    """The README's command table: `name` or `feed sub` -> its whole row."""
    rows = {}
    for row in re.findall(r"^\| `/news [^\n]*$", section("Commands"), re.M):
        words = re.match(r"\| `/news ([a-z]+)(?: ([a-z]+))?", row)
        assert words is not None, row
        name = words[1] if words[1] != "feed" else f"feed {words[2]}"
        assert name not in rows, f"{name} is in the table twice"
        rows[name] = row
    return rows


def feed_subcommands() -> set[str]:
    return set(re.findall(r"\bfeed ([a-z]+)", FEED_USAGE))


# /news


def test_the_readme_command_table_is_every_command_the_bot_accepts() -> None:
    documented = set(command_rows())
    accepted = {name for name in COMMANDS if name != "feed"}
    accepted |= {f"feed {sub}" for sub in feed_subcommands()}
    assert accepted - documented == set(), "commands missing from the README's table"
    assert documented - accepted == set(), "README lists commands the bot does not accept"


def test_the_readme_marks_exactly_the_commands_that_need_a_manager() -> None:
    for name, row in command_rows().items():
        if name.startswith("feed "):
            # feed.py checks add, remove and resume itself; list and export are everyone's.
            manages = name in {"feed add", "feed remove", "feed resume"}
            assert ("needs" in row) == manages, row
            continue
        if name not in COMMANDS:
            continue  # an unknown name fails the test above
        marked = re.search(r"\(manage[;)]", row) is not None
        assert marked == COMMANDS[name].needs_manage, row


async def test_news_help_lists_every_command(store: SqliteStore) -> None:
    deps = CommandDeps(store=store, index=SubscriptionIndex(), clock=FakeClock(datetime.now(UTC)))
    inv = Invocation(Channel("console", "local", "console"), "ana")
    reply = await handle_command("/news help", inv, deps)
    assert reply.ok
    listed = set(re.findall(r"^/news ([a-z]+)", reply.text, re.M))
    assert listed == set(COMMANDS)
    for sub in feed_subcommands():
        assert f"feed {sub}" in reply.text
    # The query operators the README teaches under Queries are in the help too.
    queries = section("Queries")
    for operator in ("`=", "*`", "`title:", "`topic:", "source:", " OR ", " -"):
        assert operator.strip("`") in reply.text, operator
        assert operator in queries, operator


def test_discord_offers_every_command_under_news() -> None:
    group = NewsGroup()
    assert {c.name for c in group.commands} == set(COMMANDS)
    [feed] = [c for c in group.commands if c.name == "feed"]
    assert isinstance(feed, app_commands.Group)
    assert {c.name for c in feed.commands} == feed_subcommands()


# newsbot (the CLI)


def cli_commands() -> dict[str, argparse.ArgumentParser]:
    """`newsbot`'s subcommands, and `feeds import` style nested ones, by name."""
    found: dict[str, argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser, prefix: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    found[f"{prefix}{name}"] = child
                    walk(child, f"{prefix}{name} ")

    walk(_parser(), "")
    return found


def readme_invocations(*, names: bool = False) -> list[list[str]]:
    """Every `newsbot ...` command line in the README's sh blocks and inline code, as the
    arguments after `newsbot` (environment assignments, redirections, pipes and comments
    taken off). Inline code that only names a command (`newsbot match` in a heading) is
    not a whole command line: it counts only with `names`."""
    lines = [
        line
        for block in re.findall(r"^```sh\n(.*?)^```", README, re.M | re.S)
        for line in block.replace("\\\n", " ").splitlines()
    ]
    inline = re.findall(r"`((?:[A-Z_]+=\S+ )*(?:\S*/)?newsbot [a-z-][^`]*)`", README)
    lines += [span for span in inline if names or re.search(r"(^| )(-|[A-Z_]+=)", span)]
    invocations = []
    for line in lines:
        for segment in re.split(r"\||&&|;", line):
            words = shlex.split(segment, comments=True)
            while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
                words = words[1:]
            if not words or not (words[0] == "newsbot" or words[0].endswith("/bin/newsbot")):
                continue
            args = []
            for word in words[1:]:
                if word in {">", "<", "2>"}:
                    break
                args.append(word)
            invocations.append(args)
    return invocations


def test_every_cli_command_is_in_the_readme() -> None:
    shown = readme_invocations(names=True)
    invoked = {" ".join(args[:2]) for args in shown} | {args[0] for args in shown if args}
    missing = {name for name in cli_commands() if name not in invoked}
    assert missing == set(), "newsbot commands the README never shows"


def test_the_readme_examples_parse(capsys: pytest.CaptureFixture[str]) -> None:
    invocations = readme_invocations()
    assert len(invocations) >= 10  # the README shows many; a parsing slip must not hide them
    parser = _parser()
    for args in invocations:
        if args == ["--version"]:
            continue  # argparse prints and exits 0: checked below with --help
        try:
            parsed = parser.parse_args(args)
        except SystemExit as exc:
            raise AssertionError(f"newsbot {shlex.join(args)}: {capsys.readouterr().err}") from exc
        assert parsed.command in cli_commands()


@pytest.mark.parametrize("name", sorted(cli_commands()))
def test_each_cli_command_has_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        _parser().parse_args([*name.split(), "--help"])
    assert done.value.code == 0
    assert f"newsbot {name}" in capsys.readouterr().out


# Metrics


def cells(row: str) -> list[str]:
    """A Markdown table row's cells (`\\|` is a pipe inside a cell)."""
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]]


def metric_rows() -> dict[str, str]:
    """The README's metrics table: metric name -> its row (a row may name two)."""
    rows = {}
    for row in re.findall(r"^\| `newsbot_[^\n]*$", section("Metrics and health"), re.M):
        for name in re.findall(r"`(newsbot_[a-z_]+)`", cells(row)[0]):
            rows[name] = row
    return rows


def our_metrics() -> dict[str, list[str]]:
    """Every newsbot_* metric the process exports (as scraped), with its label names."""
    # What `newsbot run` does at start; an Info has no labels until it is given a value.
    native = SubscriptionIndex().matcher.native
    metrics.describe_build(matcher="compiled" if native else "python")
    found: dict[str, list[str]] = {}
    for family in REGISTRY.collect():
        if not family.name.startswith("newsbot_"):
            continue
        suffix = {"counter": "_total", "info": "_info"}.get(family.type, "")
        collectors = [c for c in vars(metrics).values() if getattr(c, "_name", None)]
        [collector] = [c for c in collectors if c._name == family.name]
        labels = list(collector._labelnames)
        if family.type == "info":  # an Info's labels are its value's keys
            labels = sorted({k for sample in family.samples for k in sample.labels})
        found[family.name + suffix] = labels
    return found


def test_the_readme_documents_every_metric_and_its_labels() -> None:
    exported, documented = our_metrics(), metric_rows()
    assert set(exported) - set(documented) == set(), "metrics missing from the README"
    assert set(documented) - set(exported) == set(), "README lists metrics that do not exist"
    values = {
        "outcome": metrics.FETCH_OUTCOMES,
        "state": (),  # two sets (feeds, outbox): checked per metric below
    }
    for name, labels in exported.items():
        labels_cell = cells(documented[name])[2]
        for label in labels:
            assert f"`{label}`" in labels_cell, (name, label)
            for value in values.get(label, ()):
                assert f"`{value}`" in labels_cell, (name, label, value)
        if not labels:
            assert labels_cell.strip() == "", (name, labels_cell)
    for state in metrics.FEED_STATES:
        assert f"`{state}`" in cells(documented["newsbot_feeds"])[2]
    for state in metrics.OUTBOX_STATES:
        assert f"`{state}`" in cells(documented["newsbot_outbox_alerts"])[2]
    platforms = re.search(r"`platform` is ([^;]*);", section("Metrics and health"))
    assert platforms is not None
    assert set(re.findall(r"`([a-z]+)`", platforms[1])) == {*metrics.PLATFORMS, "other"}


# Quick start


async def test_the_readme_demo_output_is_what_the_demo_prints(tmp_path: Path) -> None:
    """The quick start's `text` block, cut at its `...` lines, appears piece by piece in
    the output of `newsbot demo` (what `make demo` runs); alerts may come in any order,
    so each piece is looked for on its own."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo:.*\n\t\$\(BIN\)/newsbot demo$", makefile, re.M)
    quick = section("Quickstart")
    [shown] = re.findall(r"^```text\n(.*?)^```", quick, re.M | re.S)
    pieces = [p.strip("\n") for p in re.split(r"^\.\.\.$", shown, flags=re.M)]
    out = io.StringIO()
    assert await run_demo(load_settings(), out) == 0
    printed = out.getvalue()
    for piece in pieces:
        assert piece, "an empty piece: two `...` lines in a row"
        assert piece in printed, f"README shows {piece!r}; the demo prints:\n{printed}"
    assert printed.startswith(pieces[0])
    assert printed.rstrip("\n").endswith(pieces[-1])
