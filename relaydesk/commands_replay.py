"""`relaydesk rules replay NEW_FILE`: re-decide stored inbound messages, read-only, and compare."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from relaydesk.commands import masked_url
from relaydesk.commands_rules import load_ruleset
from relaydesk.replay import Change, Tally, compare, preview
from relaydesk.settings import Settings

if TYPE_CHECKING:
    from router import RuleSet
    from storage.history import StoredInbound

PROGRESS_EVERY = 1000


def facts_of(message: StoredInbound) -> Any:
    """The facts routing saw, as far as they are stored (see docs/rules.md, "Replay")."""
    from router import Facts

    stored = (message.decision or {}).get("input")
    seen: dict[str, frozenset[str]] = {}
    if isinstance(stored, dict):  # decisions stored before this was kept have none
        seen = {k: frozenset(map(str, v)) for k, v in stored.items() if isinstance(v, list)}
    return Facts(
        channel=message.channel,
        text=message.text,
        kind=message.kind,
        dialog_tags=seen.get("dialog_tags", message.dialog_tags),
        contact_tags=seen.get("contact_tags", message.contact_tags),
        contact_attrs=message.contact_attrs,
        contact_name=message.contact_name,
        is_first_message=message.is_first,
        is_automated=message.automated,
        now=message.created_at,  # business-hours rules replay as they were
    )


class _Replay:
    """Consumes messages page by page; prints or collects each change as it is found."""

    def __init__(self, ruleset: RuleSet, *, as_json: bool, limit: int | None) -> None:
        self.ruleset = ruleset
        self.as_json = as_json
        self.limit = limit
        self.tally = Tally()
        self.listed: list[dict[str, Any]] = []  # JSON mode: the changes to print at the end
        self.shown = 0
        self.unlisted = 0

    def feed(self, message: StoredInbound) -> None:
        from router import decide

        if message.decision is None:
            self.tally.undecided += 1
            return
        decision = decide(self.ruleset, facts_of(message))
        change = compare(message.decision, decision)
        self.tally.add(message.decision, decision, change)
        if change is not None:
            if self.limit is not None and self.shown >= self.limit:
                self.unlisted += 1
            else:
                self.shown += 1
                self._report(message, change)
        seen = self.tally.examined + self.tally.undecided
        if seen % PROGRESS_EVERY == 0:
            print(
                f"replay: {seen:,} messages read, {self.tally.changed:,} changed",
                file=sys.stderr,
                flush=True,
            )

    def _report(self, message: StoredInbound, change: Change) -> None:
        if self.as_json:
            self.listed.append(
                {
                    "message_id": message.id,
                    "dialog_id": message.dialog_id,
                    "channel": message.channel,
                    "created_at": message.created_at.isoformat(),
                    "text": message.text[:200],
                    "changed": list(change.fields),
                    "old": _outcome_json(change.old),
                    "new": _outcome_json(change.new),
                    "rule": change.rule,
                    "old_rules_version": message.decision and message.decision.get("rules_version"),
                }
            )
            return
        print(
            f"message {message.id} (dialog {message.dialog_id}, {message.channel}) "
            f"{preview(message.text)}"
        )
        print(f"    {change.describe()}  [now decided by {change.rule!r}]")


def _outcome_json(outcome: Any) -> dict[str, Any]:
    return {
        "queues": list(outcome.queues),
        "tags": list(outcome.tags),
        "priority": outcome.priority,
        "slas": list(outcome.slas),
        "assignees": list(outcome.assignees),
    }


async def _run(url: str, since: datetime, replay: _Replay) -> None:
    from storage import history

    async with history.read_only(url) as tx:
        async for page in history.iter_inbound(tx, since):
            for message in page:
                replay.feed(message)


def rules_replay(args: argparse.Namespace, settings: Settings) -> int:
    from router import parse_duration
    from storage.history import DatabaseUnavailable

    try:
        window = parse_duration(args.since)
    except ValueError as exc:
        print(f"relaydesk rules replay: --since: {exc}", file=sys.stderr)
        return 2
    if args.limit is not None and args.limit < 0:
        print("relaydesk rules replay: --limit must be 0 or more", file=sys.stderr)
        return 2
    ruleset = load_ruleset(args.new_file)
    if ruleset is None:
        return 1
    since = datetime.now(UTC) - window
    replay = _Replay(ruleset, as_json=args.json, limit=args.limit)
    try:
        asyncio.run(_run(settings.database_url, since, replay))
    except DatabaseUnavailable as exc:
        print(
            f"relaydesk rules replay: {masked_url(settings.database_url)}: {exc}", file=sys.stderr
        )
        return 1
    if args.json:
        print(json.dumps(_summary_json(replay, since, ruleset.version), ensure_ascii=False))
    else:
        print("\n".join(summary_lines(replay, since, window, ruleset.version)))
    return 0


def _summary_json(replay: _Replay, since: datetime, version: str) -> dict[str, Any]:
    t = replay.tally
    return {
        "since": since.isoformat(),
        "new_rules_version": version,
        "examined": t.examined,
        "changed": t.changed,
        "undecided": t.undecided,
        "unlisted": replay.unlisted,
        "changes": replay.listed,
        "queues": {q: {"old": o, "new": n, "delta": d} for q, o, n, d in t.queue_rows()},
        "agents": {a: {"old": o, "new": n, "delta": d} for a, o, n, d in t.agent_rows()},
        "old_rules_versions": dict(t.old_versions),
    }


def summary_lines(replay: _Replay, since: datetime, window: timedelta, version: str) -> list[str]:
    t = replay.tally
    from router import format_duration

    lines = [
        "",
        f"examined {t.examined} inbound messages of the last {format_duration(window)} "
        f"(since {since.isoformat(timespec='seconds')})",
        f"{t.changed} would be routed differently under rules version {version}",
    ]
    if replay.unlisted:
        lines.append(f"  ({replay.unlisted} more changed messages not listed: --limit)")
    if t.undecided:
        lines.append(f"  {t.undecided} messages have no stored decision yet and were skipped")
    if t.old_versions:
        made = ", ".join(f"{v} ({n})" for v, n in sorted(t.old_versions.items()))
        lines.append(f"  stored decisions were made under rules version {made}")
    lines.append(_table("queue", t.queue_rows(), "messages per queue"))
    if t.agent_rows():
        lines.append(_table("agent", t.agent_rows(), "messages assigned by hand (assign:)"))
    return lines


def _table(label: str, rows: list[tuple[str, int, int, int]], title: str) -> str:
    if not rows:
        return f"{title}: none"
    width = max(len(label), *(len(name) for name, *_ in rows))
    out = [f"{title}:", f"  {label:<{width}}  {'old':>7}  {'new':>7}  {'delta':>7}"]
    for name, old, new, delta in rows:
        out.append(f"  {name:<{width}}  {old:>7}  {new:>7}  {delta:>+7}")
    return "\n".join(out)
