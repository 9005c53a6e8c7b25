"""The replay behind POST /api/v1/rules/replay: the CLI's comparison, over the app's database.

Capped at `MAX_MESSAGES` (the newest are left out, and `truncated` says so) and yielding to
the event loop between pages, so a long history cannot stall the server.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from relaydesk.commands_replay import facts_of
from relaydesk.replay import Tally, compare
from router import RuleSet, decide
from storage import Database, history

MAX_MESSAGES = 20_000
MAX_LISTED = 50


async def replay_summary(db: Database, ruleset: RuleSet, since: datetime) -> dict[str, Any]:
    tally = Tally()
    changes: list[dict[str, Any]] = []
    truncated = False
    async with db.read() as tx:
        async for page in history.iter_inbound(tx, since):
            for message in page:
                if tally.examined + tally.undecided >= MAX_MESSAGES:
                    truncated = True
                    break
                if message.decision is None:
                    tally.undecided += 1
                    continue
                decision = decide(ruleset, facts_of(message))
                change = compare(message.decision, decision)
                tally.add(message.decision, decision, change)
                if change is not None and len(changes) < MAX_LISTED:
                    changes.append(
                        {
                            "message_id": message.id,
                            "dialog_id": message.dialog_id,
                            "channel": message.channel,
                            "text": message.text[:200],
                            "changed": list(change.fields),
                            "describe": change.describe(),
                            "rule": change.rule,
                        }
                    )
            if truncated:
                break
            await asyncio.sleep(0)
    return {
        "since": since.isoformat(),
        "new_rules_version": ruleset.version,
        "examined": tally.examined,
        "changed": tally.changed,
        "undecided": tally.undecided,
        "truncated": truncated,
        "changes": changes,
        "queues": {q: {"old": o, "new": n, "delta": d} for q, o, n, d in tally.queue_rows()},
        "agents": {a: {"old": o, "new": n, "delta": d} for a, o, n, d in tally.agent_rows()},
    }
