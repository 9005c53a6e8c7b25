"""`relaydesk report`: figures for a period (whole, or by agent/channel/queue/day), or one row
per dialog or task with all its timestamps, as CSV or XLSX."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from relaydesk.commands import rules_file
from relaydesk.logging import configure_logging
from relaydesk.report_files import FORMATS, Column, open_sheet
from relaydesk.settings import Settings

_GROUP_COLUMN = {
    None: [Column("from"), Column("to")],
    "agent": [Column("agent")],
    "channel": [Column("channel")],
    "queue": [Column("queue")],
    "day": [Column("day", "date")],
}
_DIALOG_COLUMNS = (
    *(Column(n, "int") for n in ("id",)),
    Column("channel"),
    Column("status"),
    Column("contact_id", "int"),
    Column("contact_name"),
    Column("subject"),
    Column("tags"),
    Column("priority"),
    *(
        Column(n, "datetime")
        for n in ("created_at", "first_inbound_at", "first_reply_at", "last_message_at")
    ),
    Column("closed_at", "datetime"),
    *(Column(n, "int") for n in ("messages_in", "messages_out", "tasks")),
)
_TASK_COLUMNS = (
    Column("id", "int"),
    Column("dialog_id", "int"),
    *(Column(n) for n in ("channel", "title", "queue", "status", "assignee", "priority", "tags")),
    Column("sla_policy"),
    *(
        Column(n, "datetime")
        for n in (
            "created_at",
            "assigned_at",
            "first_response_at",
            "first_response_due",
            "resolution_due",
            "held_at",
            "closed_at",
            "updated_at",
        )
    ),
    Column("breached", "bool"),
    Column("first_response_business_s", "seconds"),
    Column("resolution_business_s", "seconds"),
)


def add_report_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = sub.add_parser(
        "report",
        help="figures for a period, or one row per dialog or task, as CSV or XLSX",
        description="Dates are whole local days (both included); date-times are exact.",
    )
    report.add_argument("--from", dest="start", required=True, metavar="D")
    report.add_argument("--to", dest="end", required=True, metavar="D")
    shape = report.add_mutually_exclusive_group()
    shape.add_argument("--by", choices=("agent", "channel", "queue", "day"), default=None)
    shape.add_argument(
        "--rows", choices=("dialogs", "tasks"), default=None, help="one row per dialog or task"
    )
    report.add_argument("--format", choices=FORMATS, default=None, help="(from -o's suffix)")
    report.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")
    report.add_argument("--tz", default="UTC", help="time zone of dates and days (UTC)")
    for name in ("channel", "queue", "team", "agent", "tag"):
        report.add_argument(f"--{name}", default=None, help=f"only this {name}")
    report.add_argument("--rules", type=Path, default=None, help="rules file (SLA calendars)")
    report.add_argument("--db", default=None, help="database URL")


def report(args: argparse.Namespace, settings: Settings) -> int:
    from dialogs.reports import ReportInputError, parse_period, parse_zone
    from dialogs.rulebook import Rulebook
    from inbox.api_reports import report_filters
    from inbox.errors import ApiError
    from router import RulesError

    configure_logging(settings.log_format, "warning")
    fmt = args.format or args.output.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        print("relaydesk: say --format csv or --format xlsx", file=sys.stderr)
        return 2
    try:
        now = datetime.now(UTC)
        period = parse_period(args.start, args.end, parse_zone(args.tz), now)
        filters = report_filters({k: getattr(args, k) or "" for k in _FILTERS})
        ruleset = Rulebook.from_file(rules_file(settings, args.rules)).current
    except (ValueError, ApiError, RulesError, OSError) as exc:
        print(f"relaydesk: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    progress = Progress(args.output)
    try:
        count = asyncio.run(_export(args, settings, fmt, period, filters, ruleset, now, progress))
    except ReportInputError as exc:
        print(f"relaydesk: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"relaydesk: {exc}", file=sys.stderr)
        return 1
    progress.done(count)
    return 0


_FILTERS = ("channel", "queue", "team", "agent", "tag")


class Progress:
    """Row counts on standard error while a long export runs."""

    def __init__(self, path: Path, every: int = 10_000) -> None:
        self.path, self.every, self.total = path, every, 0

    def row(self, n: int) -> None:
        if n % self.every == 0:
            of = f"/{self.total}" if self.total else ""
            print(f"  {n}{of} rows", file=sys.stderr, flush=True)

    def done(self, n: int) -> None:
        print(f"wrote {n} rows to {self.path}", file=sys.stderr)


async def _export(
    args: argparse.Namespace,
    settings: Settings,
    fmt: str,
    period: Any,
    filters: Any,
    ruleset: Any,
    now: datetime,
    progress: Progress,
) -> int:
    from dialogs.reports import COLUMNS, build_table
    from storage import Database

    db = Database(settings.database_url)
    try:
        await db.upgrade()
        if args.rows is not None:
            return await _export_rows(db, args, fmt, period, ruleset, progress)
        rows = await build_table(db, ruleset, period, filters, now, args.by)
    finally:
        await db.dispose()
    columns = [*_GROUP_COLUMN[args.by], *(Column(n, _kind(n)) for n in COLUMNS)]
    sheet = open_sheet(fmt, args.output, f"by {args.by}" if args.by else "summary", columns)
    try:
        for row in rows:
            sheet.write(row)
    finally:
        sheet.close()
    return len(rows)


async def _export_rows(
    db: Any, args: argparse.Namespace, fmt: str, period: Any, ruleset: Any, progress: Progress
) -> int:
    from storage import exports

    is_tasks = args.rows == "tasks"
    stmt = (exports.task_rows if is_tasks else exports.dialog_rows)(period.start, period.end)
    columns = _TASK_COLUMNS if is_tasks else _DIALOG_COLUMNS
    sheet = open_sheet(fmt, args.output, args.rows, columns)
    count = 0
    try:
        async with db.read() as tx:
            progress.total = await exports.count_rows(tx, stmt)
            async for row in _with_durations(exports.stream_rows(tx, stmt), ruleset, is_tasks):
                sheet.write(row)
                count += 1
                progress.row(count)
    finally:
        sheet.close()
    return count


async def _with_durations(
    rows: AsyncIterator[dict[str, Any]], ruleset: Any, is_tasks: bool
) -> AsyncIterator[dict[str, Any]]:
    from router import business_time_between

    async for row in rows:
        if is_tasks:
            policy = ruleset.sla.get(row["sla_policy"]) if row["sla_policy"] else None
            calendar = policy.calendar if policy else None
            for name, end in (("first_response", "first_response_at"), ("resolution", "closed_at")):
                done = row[end] is not None and (name != "resolution" or row["status"] == "done")
                spent = (
                    business_time_between(calendar, row["created_at"], row[end]) if done else None
                )
                row[f"{name}_business_s"] = spent.total_seconds() if spent is not None else None
        yield row


def _kind(name: str) -> str:
    if name.endswith("_s"):
        return "seconds"
    if name in ("reopen_rate", "sla_attainment"):
        return "ratio"
    return "int"
