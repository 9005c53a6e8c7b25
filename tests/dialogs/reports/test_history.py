"""Every report figure, over 5,000 generated dialogs of known shape, equals the value computed
independently from what was planted; on SQLite and PostgreSQL, through the REST API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func

from relaydesk.settings import Settings
from storage import Database
from storage.tables import messages, tasks
from tests.conftest import AUTH, TOKEN
from tests.dialogs.reports.history import (
    REFUNDS,
    RULES,
    SUPPORT,
    History,
    expected,
    generate,
    store,
)

WARSAW = ZoneInfo("Europe/Warsaw")
NOW = datetime(2026, 4, 10, 12, 0, tzinfo=UTC)
# Warsaw dates, across the DST change of 2026-03-29; the `to` date is included
PERIOD = {"from": "2026-03-08", "to": "2026-03-29", "tz": "Europe/Warsaw"}
P_START = datetime(2026, 3, 8, tzinfo=WARSAW)
P_END = datetime(2026, 3, 30, tzinfo=WARSAW)


@pytest.fixture(scope="module")
def history() -> History:
    return generate()


@pytest.fixture
async def loaded(db_url: str, history: History) -> str:
    db = Database(db_url)
    try:
        await store(db, history)
    finally:
        await db.dispose()
    return db_url


def app_settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        api_token=TOKEN,
        data_dir=tmp_path / "data",
        rules_path=RULES,
        workers="ingest",  # no dispatcher: the planted history stays as planted
    )


@pytest.fixture
async def client(aiohttp_client, loaded: str, tmp_path: Path) -> AsyncIterator[TestClient]:  # type: ignore[no-untyped-def]
    from relaydesk.app import create_app

    app = create_app(app_settings(loaded, tmp_path), clock=lambda: NOW, bootstrap_admin=False)
    yield await aiohttp_client(app)


async def summary(client: TestClient, **params: str) -> dict[str, Any]:
    r = await client.get("/api/v1/reports/summary", params={**PERIOD, **params}, headers=AUTH)
    assert r.status == 200, await r.text()
    return dict(await r.json())


def assert_figures(got: dict[str, Any], want: dict[str, Any], where: str) -> None:
    for name, value in want.items():
        if isinstance(value, float):
            assert got[name] == pytest.approx(value, abs=1e-3), (where, name)
        else:
            assert got[name] == value, (where, name)


async def test_totals_equal_the_planted_history(client: TestClient, history: History) -> None:
    """Volumes, response and resolution times, SLA, waits, backlog, load and reopenings."""
    report = await summary(client)
    want = expected(history, P_START, P_END)
    assert want["tasks_reopened"] > 20 and want["sla_first_response_breached"] > 100
    assert want["first_responses"] > 1000 and want["backlog_waiting"] > 10
    assert_figures(report["totals"], want, "totals")
    assert report["from"] == "2026-03-07T23:00:00Z" and report["to"] == "2026-03-29T22:00:00Z"


async def test_breakdowns_by_queue_channel_and_agent(client: TestClient, history: History) -> None:
    """Each queue's, channel's and agent's row equals the figures of its own tasks."""
    report = await summary(client)
    queues = {row["queue"]: row for row in report["queues"]}
    assert set(queues) == {SUPPORT, REFUNDS}
    for name, row in queues.items():
        want = expected(history, P_START, P_END, lambda t, q=name: t.queue == q)
        want.update(dialogs=0, messages_in=0, messages_out=0)  # volumes are per channel only
        assert_figures(row, want, name)
    for row in report["channels"]:
        want = expected(
            history,
            P_START,
            P_END,
            lambda t, c=row["channel"]: t.channel == c,
            lambda d, c=row["channel"]: d["channel"] == c,
        )
        assert_figures(row, want, row["channel"])
    assert {row["agent"] for row in report["agents"]} == {"alice", "bob", "carol"}
    for row in report["agents"]:
        want = expected(
            history, P_START, P_END, lambda t, a=row["agent"]: t.assignee == a, owned=True
        )
        want.update(dialogs=0, messages_in=0, messages_out=0)
        assert_figures(row, want, row["agent"])


FILTERS: list[tuple[dict[str, str], Callable[[Any], bool]]] = [
    ({"channel": "telegram"}, lambda t: t.channel == "telegram"),
    ({"queue": REFUNDS}, lambda t: t.queue == REFUNDS),
    ({"team": "obsługa"}, lambda t: t.queue == SUPPORT),
    ({"agent": "bob"}, lambda t: t.assignee == "bob"),
    ({"tag": "vip"}, lambda t: "vip" in t.tags),
]


async def test_filters(client: TestClient, history: History) -> None:
    """A filter keeps its tasks, and the dialogs (and their messages) that have one; for an
    agent, each task from its assignment on."""
    for params, keep in FILTERS:
        report = await summary(client, **params)
        with_task = {t.dialog_id for t in history.tasks if keep(t)}
        if "channel" in params:
            with_task = {
                d["id"] for d in history.rows["dialogs"] if d["channel"] == params["channel"]
            }
        want = expected(
            history,
            P_START,
            P_END,
            keep,
            lambda d, w=with_task: d["id"] in w,
            owned="agent" in params,
        )
        assert_figures(report["totals"], want, str(params))


async def test_days_of_the_timeseries(client: TestClient, history: History) -> None:
    """Each local day's figures are that day's own period, the DST day included (23 hours)."""
    r = await client.get(
        "/api/v1/reports/timeseries", params={**PERIOD, "interval": "day"}, headers=AUTH
    )
    assert r.status == 200
    body = await r.json()
    points = body["points"]
    assert len(points) == 22
    day = date(2026, 3, 8)
    for point in points:
        start = datetime(day.year, day.month, day.day, tzinfo=WARSAW)
        end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=WARSAW)
        assert point["start"] == start.astimezone(UTC).isoformat().replace("+00:00", "Z")
        assert_figures(
            point,
            {k: v for k, v in expected(history, start, end).items() if k != "agent_load"},
            str(day),
        )
        day += timedelta(days=1)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=23)  # 2026-03-29
    inbound = sum(sum(row) for row in body["heatmap"]["counts"])
    assert inbound == expected(history, P_START, P_END)["messages_in"]


async def test_a_past_period_gives_the_same_figures_later(
    client: TestClient, loaded: str, history: History
) -> None:
    """Work done after the period (open tasks answered and closed, new replies) changes none of
    the period's figures."""
    before = await summary(client)
    later = NOW - timedelta(days=1)
    db = Database(loaded)
    try:
        async with db.write() as tx:
            await tx.execute(
                tasks.update()
                .where(tasks.c.closed_at.is_(None), tasks.c.held_at.is_(None))
                .values(
                    status="done",
                    closed_at=later,
                    first_response_at=func.coalesce(tasks.c.first_response_at, later),
                    assigned_at=func.coalesce(tasks.c.assigned_at, later),
                    assignee=func.coalesce(tasks.c.assignee, "alice"),
                )
            )
            reply = {
                "dialog_id": 1,
                "direction": "out",
                "channel": "email",
                "kind": "text",
                "text": "x",
                "status": "sent",
                "thread_hints": {},
                "history": [],
                "created_at": later,
            }
            await tx.execute(messages.insert(), [reply])
    finally:
        await db.dispose()
    after = await summary(client)
    assert after["totals"]["tasks_resolved"] == before["totals"]["tasks_resolved"]
    assert after == before
    later_period = {**PERIOD, "from": "2026-04-08", "to": "2026-04-09"}
    r = await client.get("/api/v1/reports/summary", params=later_period, headers=AUTH)
    assert (await r.json())["totals"]["messages_out"] == 1  # the new reply counts when it came


async def test_now_caps_the_period(
    aiohttp_client, loaded: str, tmp_path: Path, history: History
) -> None:  # type: ignore[no-untyped-def]
    """A period that runs into the future counts up to now, and says so."""
    from relaydesk.app import create_app

    now = datetime(2026, 3, 20, 15, 30, tzinfo=UTC)
    app = create_app(app_settings(loaded, tmp_path), clock=lambda: now, bootstrap_admin=False)
    client = await aiohttp_client(app)
    report = await summary(client)
    assert report["until"] == "2026-03-20T15:30:00Z"
    assert_figures(report["totals"], expected(history, P_START, now), "capped")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "yesterday"}, "from: 'yesterday' is not a date"),
        ({"from": "2026-03-10", "to": "2026-03-01"}, "to: must be after from"),
        ({"tz": "Mars/Olympus"}, "unknown time zone"),
        ({"channel": "fax"}, "channel: must be one of"),
        ({"team": "nobody"}, "team: unknown team 'nobody'"),
        ({"interval": "week"}, "interval: must be one of day, hour"),
    ],
    ids=["date", "order", "tz", "channel", "team", "interval"],
)
async def test_bad_queries_get_clear_errors(
    aiohttp_client, db_url: str, tmp_path: Path, params: dict[str, str], message: str
) -> None:  # type: ignore[no-untyped-def]
    """Malformed parameters are a 422 JSON error naming the parameter."""
    from relaydesk.app import create_app

    client = await aiohttp_client(create_app(app_settings(db_url, tmp_path), bootstrap_admin=False))
    r = await client.get("/api/v1/reports/timeseries", params=params, headers=AUTH)
    assert r.status == 422
    body = await r.json()
    assert body["error"]["code"] == "invalid" and message in body["error"]["message"]
