"""`relaydesk rules check` and `relaydesk rules test`: validate a rules file, dry-run a message."""

from __future__ import annotations

import argparse
import asyncio
import difflib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relaydesk.commands import masked_url, rules_file
from relaydesk.settings import Settings

if TYPE_CHECKING:
    from router import AgentState, RuleSet
    from storage.assignment import AgentRow


class UsageError(ValueError):
    """A bad command-line value: exit status 2."""


def load_ruleset(path: Path) -> RuleSet | None:
    """Load ``path``, printing ``file:line:`` errors to stderr; None when it is unusable."""
    from router import RulesError, load_rules

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
        return None
    try:
        return load_rules(text, str(path))
    except RulesError as exc:
        print(str(exc), file=sys.stderr)
        return None


def rules_check(args: argparse.Namespace, settings: Settings) -> int:
    from router import run_examples

    path = rules_file(settings, args.file)
    ruleset = load_ruleset(path)
    if ruleset is None:
        return 1
    for warning in ruleset.warnings:
        print(str(warning), file=sys.stderr)
    failures = run_examples(ruleset, datetime.now(UTC))
    for failure in failures:
        print(str(failure), file=sys.stderr)
    if failures:
        return 1
    print(f"{path}: OK ({len(ruleset.rules)} rules, {len(ruleset.examples)} tests passed)")
    return 0


def _choice(value: str, choices: tuple[str, ...] | frozenset[str], what: str) -> str:
    if value in choices:
        return value
    close = difflib.get_close_matches(value, sorted(choices), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise UsageError(f"unknown {what} {value!r}{hint}; use one of: {', '.join(sorted(choices))}")


def parse_at(raw: str | None) -> datetime:
    """``--at``: an ISO date-time with a UTC offset (``Z`` allowed); default now."""
    if raw is None:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        raise UsageError(
            f"--at {raw!r} is not an ISO date-time like 2026-03-04T10:00+03:00"
        ) from None
    if at.utcoffset() is None:
        raise UsageError(f"--at {raw!r} needs a UTC offset, e.g. 2026-03-04T10:00+03:00 or ...Z")
    return at


def build_facts(args: argparse.Namespace, at: datetime) -> Any:
    from router import CHANNEL_KINDS, MESSAGE_KINDS, Facts

    attrs = {}
    for item in args.contact_attr:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--contact-attr {item!r} must be KEY=VALUE")
        attrs[key] = value
    return Facts(
        channel=_choice(args.channel, tuple(CHANNEL_KINDS), "channel"),
        text=args.text,
        kind=_choice(args.kind, tuple(MESSAGE_KINDS), "kind"),
        dialog_tags=frozenset(args.tag),
        contact_tags=frozenset(args.contact_tag),
        contact_attrs=attrs,
        contact_name=args.contact_name,
        is_first_message=args.first,
        is_automated=args.automated,
        now=at,
    )


async def _fetch_assignment_state(url: str) -> tuple[list[AgentRow], dict[str, str]]:
    from storage import history

    async with history.read_only(url) as tx:
        return await history.fetch_assignment_state(tx)


def rules_test(args: argparse.Namespace, settings: Settings) -> int:
    from dialogs.dispatch_plan import build_agent_states
    from relaydesk.dry_run import build_outlook, render_outlook
    from relaydesk.replay import preview
    from router import decide
    from storage.history import DatabaseUnavailable

    try:
        at = parse_at(args.at)
        facts = build_facts(args, at)
    except UsageError as exc:
        print(f"relaydesk rules test: {exc}", file=sys.stderr)
        return 2
    path = rules_file(settings, args.file)
    ruleset = load_ruleset(path)
    if ruleset is None:
        return 1
    decision = decide(ruleset, facts)
    url = masked_url(settings.database_url)
    agents: list[AgentState] | None = None
    rr_state: dict[str, str] = {}
    db_error: str | None = None
    try:
        agent_rows, rr_state = asyncio.run(_fetch_assignment_state(settings.database_url))
    except DatabaseUnavailable as exc:
        db_error = str(exc)
        source = f"no database: {exc}; candidates from {path}"
    else:
        agents = build_agent_states(ruleset, agent_rows)
        source = f"presence and load from {url}"
    outlooks = build_outlook(ruleset, decision, facts.channel, at, agents, rr_state)
    if args.json:
        body = {
            "rules_file": str(path),
            "message": {
                "channel": facts.channel,
                "text": facts.text,
                "kind": facts.kind,
                "tags": sorted(facts.dialog_tags),
                "contact_tags": sorted(facts.contact_tags),
                "contact_attrs": dict(facts.contact_attrs),
                "first_message": facts.is_first_message,
                "automated": facts.is_automated,
                "at": at.isoformat(),
            },
            "decision": decision.to_dict(),
            "rules": list(decision.matched_rules),
            "tasks": [o.to_dict() for o in outlooks],
            "database": {"url": url, "reachable": agents is not None, "error": db_error},
        }
        print(json.dumps(body, ensure_ascii=False, indent=2))
        return 0
    order = "first message" if facts.is_first_message else "follow-up"
    text = preview(facts.text, 200)
    print(f"message: {facts.channel} {facts.kind}, {order}, at {at.isoformat()}: {text}")
    print(decision.explain())
    print("\n".join(render_outlook(outlooks, source, at.tzinfo)))
    return 0
