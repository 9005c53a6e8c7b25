"""`relaydesk report`: XLSX read back with openpyxl equals the API's figures; CSV parses with
the csv module; Polish and Cyrillic text survive both; customer text never becomes a formula."""

from __future__ import annotations

import asyncio
import csv
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from openpyxl import load_workbook

from dialogs.reports import COLUMNS
from relaydesk.cli import main
from storage import Database
from tests.conftest import AUTH
from tests.dialogs.reports.history import REFUNDS, RULES, SUPPORT, generate, store
from tests.dialogs.reports.test_history import PERIOD, app_settings

CLI_PERIOD = ["--from", PERIOD["from"], "--to", PERIOD["to"], "--tz", PERIOD["tz"]]


@pytest.fixture
async def api(
    aiohttp_client, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> TestClient:  # type: ignore[no-untyped-def]
    """The planted history in the database, the API over it, and the CLI pointed at both."""
    from relaydesk.app import create_app

    db = Database(db_url)
    try:
        await store(db, generate(n_dialogs=1500, seed=5))
    finally:
        await db.dispose()
    monkeypatch.setenv("RELAYDESK_DATABASE_URL", db_url)
    monkeypatch.setenv("RELAYDESK_RULES", str(RULES))
    client: TestClient = await aiohttp_client(
        create_app(app_settings(db_url, tmp_path), bootstrap_admin=False)
    )
    return client


async def cli(*args: str) -> int:
    return await asyncio.to_thread(main, list(args))


def sheet_rows(path: Path) -> tuple[Any, list[dict[str, Any]]]:
    sheet = load_workbook(path).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    return sheet, [dict(zip(header, row, strict=True)) for row in rows[1:]]


def same(cell: Any, figure: Any) -> bool:
    if figure is None:
        return cell is None
    return bool(cell == pytest.approx(figure, abs=1e-3))


async def test_xlsx_by_group_equals_the_api(api: TestClient, tmp_path: Path) -> None:
    """For --by queue, agent and channel, and the totals, every cell equals the API's figure."""
    r = await api.get("/api/v1/reports/summary", params=PERIOD, headers=AUTH)
    summary = await r.json()
    for by, rows in (("queue", "queues"), ("agent", "agents"), ("channel", "channels")):
        out = tmp_path / f"by-{by}.xlsx"
        assert await cli("report", *CLI_PERIOD, "--by", by, "--format", "xlsx", "-o", str(out)) == 0
        _, got = sheet_rows(out)
        assert [row[by] for row in got] == [row[by] for row in summary[rows]]
        for cells, figures in zip(got, summary[rows], strict=True):
            assert all(same(cells[c], figures[c]) for c in COLUMNS), (by, cells[by])
    assert {row["queue"] for row in summary["queues"]} == {SUPPORT, REFUNDS}
    out = tmp_path / "total.xlsx"
    assert await cli("report", *CLI_PERIOD, "-o", str(out)) == 0  # format from the suffix
    sheet, [total] = sheet_rows(out)
    assert all(same(total[c], summary["totals"][c]) for c in COLUMNS)
    assert sheet["A1"].font.b and sheet.freeze_panes == "A2"
    assert isinstance(total["tasks_created"], int) and isinstance(total["sla_attainment"], float)


async def test_xlsx_by_day_equals_the_timeseries(api: TestClient, tmp_path: Path) -> None:
    """--by day: one typed date row per local day, equal to the timeseries points."""
    r = await api.get("/api/v1/reports/timeseries", params=PERIOD, headers=AUTH)
    points = (await r.json())["points"]
    out = tmp_path / "days.xlsx"
    assert await cli("report", *CLI_PERIOD, "--by", "day", "--format", "xlsx", "-o", str(out)) == 0
    _, got = sheet_rows(out)
    assert len(got) == len(points) == 22
    assert isinstance(got[0]["day"], datetime) and got[0]["day"].date().isoformat() == "2026-03-08"
    for cells, figures in zip(got, points, strict=True):
        assert all(same(cells[c], figures[c]) for c in COLUMNS)


async def test_csv_exports_parse_with_polish_and_cyrillic(api: TestClient, tmp_path: Path) -> None:
    """Grouped and row-level CSV files read back with csv: names intact, formulas defused."""
    out = tmp_path / "queues.csv"
    assert await cli("report", *CLI_PERIOD, "--by", "queue", "--format", "csv", "-o", str(out)) == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # the BOM spreadsheet software wants
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["queue"] for r in rows] == sorted([SUPPORT, REFUNDS])
    r = await api.get("/api/v1/reports/summary", params=PERIOD, headers=AUTH)
    api_queues = {q["queue"]: q for q in (await r.json())["queues"]}
    for row in rows:
        assert int(row["tasks_created"]) == api_queues[row["queue"]]["tasks_created"]

    dialogs_csv = tmp_path / "dialogs.csv"
    assert await cli("report", *CLI_PERIOD, "--rows", "dialogs", "-o", str(dialogs_csv)) == 0
    with dialogs_csv.open(encoding="utf-8-sig", newline="") as f:
        dialogs = list(csv.DictReader(f))
    names = {d["contact_name"] for d in dialogs}
    assert {"Zażółć Gęślą Jaźń", "Ольга Петрова", "Łukasz Wąs"} <= names
    assert '\'=HYPERLINK("x")' in names  # a leading quote: text, not a formula
    assert {d["subject"] for d in dialogs} >= {
        "Zwrot pieniędzy — zamówienie",
        "Возврат денег за заказ",
    }
    first = dialogs[0]
    assert datetime.fromisoformat(first["created_at"]) and int(first["messages_in"]) >= 1


async def test_task_rows_xlsx_are_typed(api: TestClient, tmp_path: Path) -> None:
    """--rows tasks: one row per task created in the period, timestamps as dates, counts as
    numbers, Cyrillic queues, and business-time durations that match the planted ones."""
    out = tmp_path / "tasks.xlsx"
    assert await cli("report", *CLI_PERIOD, "--rows", "tasks", "-o", str(out)) == 0
    _, rows = sheet_rows(out)
    assert rows and all(isinstance(r["created_at"], datetime) for r in rows)
    assert {r["queue"] for r in rows} == {SUPPORT, REFUNDS}
    assert all(isinstance(r["id"], int) for r in rows)
    planted = {t.id: t for t in generate(n_dialogs=1500, seed=5).tasks}
    answered = [r for r in rows if r["first_response_at"] is not None]
    assert len(answered) > 500
    for r in answered:
        assert r["first_response_business_s"] == pytest.approx(planted[r["id"]].frt)
        if r["status"] == "done":
            assert r["resolution_business_s"] == pytest.approx(planted[r["id"]].resolution)
    assert all(r["breached"] in (True, False) for r in rows)


async def test_bad_arguments_exit_2(
    api: TestClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown format, a bad date or an unknown team is refused before anything is written."""
    out = tmp_path / "x.txt"
    assert await cli("report", *CLI_PERIOD, "-o", str(out)) == 2
    assert "--format csv or --format xlsx" in capsys.readouterr().err
    assert (
        await cli("report", "--from", "soon", "--to", "2026-03-09", "-o", str(tmp_path / "a.csv"))
        == 2
    )
    assert "from: 'soon' is not a date" in capsys.readouterr().err
    assert await cli("report", *CLI_PERIOD, "--team", "nobody", "-o", str(tmp_path / "b.csv")) == 2
    assert "unknown team 'nobody'" in capsys.readouterr().err
    assert not out.exists()
