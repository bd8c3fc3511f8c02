"""The `newsbot` command: run, demo, migrate, feeds, doctor, health, match."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import __version__
from bot.config import ConfigError, load_settings
from bot.logs import configure_logging


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbot",
        description="Keyword news alerts from feeds into Slack, Discord or a console.",
    )
    parser.add_argument("--version", action="version", version=f"newsbot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot (console when no chat token is set)")
    sub.add_parser("demo", help="replay the bundled sample feeds offline and print the alerts")
    migrate = sub.add_parser(
        "migrate", help="apply the database migrations DATABASE_URL needs, then exit"
    )
    migrate.add_argument(
        "--from",
        dest="source",
        metavar="URL",
        help="copy a SQLite install (sqlite:///PATH) into the PostgreSQL DATABASE_URL",
    )
    migrate.add_argument(
        "--force", action="store_true", help="with --from: replace what the target holds"
    )
    feeds = sub.add_parser("feeds", help="the feed list in and out: OPML or one URL per line")
    feeds_sub = feeds.add_subparsers(dest="feeds_command", required=True)
    feeds_import = feeds_sub.add_parser(
        "import", help="add the feeds of an OPML file (or a list of URLs, one a line)"
    )
    feeds_import.add_argument("file", type=Path, metavar="FILE")
    feeds_import.add_argument(
        "--trusted",
        action="store_true",
        help="store the URLs as they are, unchecked (default: check each as /news feed add does)",
    )
    feeds_sub.add_parser("export", help="print every feed as OPML 2.0")
    sub.add_parser(
        "doctor", help="check the settings, database, feeds and chat setup; change nothing"
    )
    health = sub.add_parser(
        "health", help="ask a running newsbot whether it is ready (exit 0) or not (exit 1)"
    )
    health.add_argument("--port", type=int, help="its NEWSBOT_HTTP_PORT (default: the setting)")
    health.add_argument("--host", default="127.0.0.1", help="where it runs (default: this host)")
    health.add_argument("--live", action="store_true", help="only ask whether it is alive")
    health.add_argument("--timeout", type=float, default=5.0, help="seconds to wait (default 5)")
    match = sub.add_parser("match", help="print the stories of feeds that queries match, as JSON")
    match.add_argument(
        "--query", action="append", default=[], metavar="Q", help="a subscription query"
    )
    match.add_argument(
        "--subscriptions",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="a file of queries, one per line (the output's query field is the line)",
    )
    match.add_argument(
        "sources", nargs="+", metavar="SOURCE", help="a feed file, an http(s) URL, or - for stdin"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "health":
        return _health(args)
    try:
        settings = load_settings()
    except ConfigError as exc:
        if args.command == "doctor":  # its first check: settings that do not load fail it
            from bot.cli.doctor import report_bad_settings

            return report_bad_settings(str(exc), sys.stdout)
        print(f"newsbot: {exc}", file=sys.stderr)
        return 2
    level = settings.log_level
    if args.command != "run" and "log_level" not in settings.model_fields_set:
        level = "WARNING"  # one-shot commands print results; progress logs would bury them
    configure_logging(level, settings.log_format)
    try:
        if args.command == "run":
            from bot.runtime import StartupError, run_bot

            try:
                return asyncio.run(run_bot(settings))
            except StartupError as exc:
                print(f"newsbot: {exc}", file=sys.stderr)
                return 1
        if args.command == "demo":
            from bot.cli.demo import run_demo

            return asyncio.run(run_demo(settings, sys.stdout))
        if args.command == "migrate":
            from bot.cli.migrate import MigrateError, MigrateUsageError, run_copy, run_migrate

            if args.force and args.source is None:
                print("newsbot migrate: --force goes with --from", file=sys.stderr)
                return 2
            try:
                if args.source is None:
                    return asyncio.run(run_migrate(settings.database_url, sys.stdout))
                return asyncio.run(
                    run_copy(args.source, settings.database_url, sys.stdout, force=args.force)
                )
            except MigrateUsageError as exc:
                print(f"newsbot migrate: {exc}", file=sys.stderr)
                return 2
            except MigrateError as exc:
                print(f"newsbot migrate: {exc}", file=sys.stderr)
                return 1
        if args.command == "feeds":
            from bot.cli.feeds import FeedsCommandError, run_export, run_import

            try:
                if args.feeds_command == "export":
                    return asyncio.run(run_export(settings, sys.stdout.buffer))
                return asyncio.run(
                    run_import(settings, args.file, sys.stdout, trusted=args.trusted)
                )
            except FeedsCommandError as exc:
                print(f"newsbot feeds: {exc}", file=sys.stderr)
                return 1
        if args.command == "doctor":
            from bot.cli.doctor import run_doctor

            return asyncio.run(run_doctor(settings, sys.stdout))
        if args.command == "match":
            from bot.cli.match import MatchUsageError, run_match

            try:
                return asyncio.run(
                    run_match(
                        args.query,
                        args.sources,
                        sys.stdout,
                        subscription_files=args.subscriptions,
                    )
                )
            except MatchUsageError as exc:
                print(f"newsbot match: {exc}", file=sys.stderr)
                return 2
    except ConfigError as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 2


def _health(args: argparse.Namespace) -> int:
    """`newsbot health`: with --port, no setting is read (a broken .env still gets an
    answer from the running instance)."""
    from bot.cli.health import HealthUsageError, health_main

    port: int | None = args.port
    if port is None:
        try:
            port = load_settings().newsbot_http_port
        except ConfigError as exc:
            print(f"newsbot health: {exc}", file=sys.stderr)
            return 2
    try:
        return health_main(port, args.host, args.live, args.timeout, sys.stdout)
    except HealthUsageError as exc:
        print(f"newsbot health: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
