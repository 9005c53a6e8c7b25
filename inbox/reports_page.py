"""GET /admin/reports: the support lead's dashboard, rendered on the server with inline SVG.

It reads its figures through the same functions as the API (dialogs.reports), with the same
query parameters. Access control is the /admin middleware's (the inbox login), not this page's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from aiohttp import web

from dialogs.model import ChannelKind
from dialogs.reports import ReportInputError, build_summary, build_timeseries
from inbox.api_reports import report_filters, report_period
from inbox.charts import bar_chart, heat_map, line_chart
from inbox.context import ROUTING_SERVICES, SERVICES
from inbox.errors import ApiError

_STYLE = """body{font:15px/1.45 system-ui,sans-serif;margin:1.5rem auto;max-width:64rem;
padding:0 1rem;color:#1f2328}h1{font-size:1.5rem}h2{font-size:1.1rem;margin-top:2rem}
form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end}label{display:flex;flex-direction:column;
font-size:.8rem}input,select{font:inherit;padding:.2rem}.tiles{display:grid;
grid-template-columns:repeat(auto-fill,minmax(10rem,1fr));gap:.6rem;margin:1rem 0}
.tile{border:1px solid #ddd;border-radius:6px;padding:.5rem .7rem}.tile b{display:block;
font-size:1.3rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eee;
padding:.3rem .5rem;text-align:right}td:first-child,th:first-child{text-align:left}
svg{width:100%;height:auto;font-size:11px;fill:#555}.error{color:#b42318}
.legend span{margin-right:1rem}
"""


def duration(value: float | None) -> str:
    if value is None:
        return "—"
    minutes = value / 60
    if minutes < 60:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f} h"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _tiles(t: Mapping[str, Any]) -> str:
    tiles = [
        ("New dialogs", str(t["dialogs"])),
        ("Messages in / out", f"{t['messages_in']} / {t['messages_out']}"),
        ("First response (median)", duration(t["first_response_median_s"])),
        ("First response (p90)", duration(t["first_response_p90_s"])),
        ("Resolution (median)", duration(t["resolution_median_s"])),
        ("Resolution (p90)", duration(t["resolution_p90_s"])),
        ("SLA attainment", percent(t["sla_attainment"])),
        ("SLA breaches", str(t["sla_first_response_breached"] + t["sla_resolution_breached"])),
        ("Reopen rate", percent(t["reopen_rate"])),
        ("Backlog (waiting)", f"{t['backlog_open']} ({t['backlog_waiting']})"),
    ]
    cells = "".join(f'<div class="tile">{escape(k)}<b>{escape(v)}</b></div>' for k, v in tiles)
    return f'<div class="tiles">{cells}</div>'


def _table(rows: Sequence[Mapping[str, Any]], key: str, title: str) -> str:
    head = (
        f"<tr><th>{escape(title)}</th><th>Handled</th><th>Open</th><th>First response</th>"
        "<th>p90</th><th>Resolution</th><th>SLA</th><th>Breaches</th></tr>"
    )
    body = "".join(
        f"<tr><td>{escape(str(r[key]))}</td><td>{r['tasks_resolved']}</td>"
        f"<td>{r['backlog_open']}</td><td>{duration(r['first_response_median_s'])}</td>"
        f"<td>{duration(r['first_response_p90_s'])}</td>"
        f"<td>{duration(r['resolution_median_s'])}</td><td>{percent(r['sla_attainment'])}</td>"
        f"<td>{r['sla_first_response_breached'] + r['sla_resolution_breached']}</td></tr>"
        for r in rows
    )
    return f"<table>{head}{body or '<tr><td>none</td></tr>'}</table>"


def _form(query: Mapping[str, str]) -> str:
    def field(name: str, label: str, kind: str = "text") -> str:
        value = escape(query.get(name, ""), quote=True)
        return f'<label>{label}<input type="{kind}" name="{name}" value="{value}"></label>'

    channels = "".join(
        f"<option{' selected' if query.get('channel') == c else ''}>{escape(c)}</option>"
        for c in ("", *(str(k) for k in ChannelKind))
    )
    return (
        '<form method="get" action="/admin/reports">'
        + field("from", "From", "date")
        + field("to", "To", "date")
        + field("tz", "Time zone")
        + f'<label>Channel<select name="channel">{channels}</select></label>'
        + field("queue", "Queue")
        + field("team", "Team")
        + field("agent", "Agent")
        + field("tag", "Tag")
        + "<button>Show</button></form>"
    )


def _charts(series: Mapping[str, Any]) -> str:
    points = series["points"]
    labels = [_day_label(p["start"], series["timezone"]) for p in points]
    volume = bar_chart(
        "Volume per day",
        labels,
        [
            ("messages in", [p["messages_in"] for p in points], "#2563eb"),
            ("new dialogs", [p["dialogs"] for p in points], "#f59e0b"),
        ],
        lambda v: f"{v:.0f}",
    )
    response = line_chart(
        "First response time per day (business hours)",
        labels,
        [
            ("median", [p["first_response_median_s"] for p in points], "#16a34a"),
            ("p90", [p["first_response_p90_s"] for p in points], "#dc2626"),
        ],
        duration,
    )
    sla = bar_chart(
        "SLA attainment per day",
        labels,
        [("attainment", [p["sla_attainment"] for p in points], "#7c3aed")],
        percent,
    )
    heat = heat_map(
        "Inbound messages by weekday and hour",
        [d.capitalize() for d in series["heatmap"]["days"]],
        series["heatmap"]["counts"],
    )
    return (
        f"<h2>Volume</h2><p class='legend'><span style='color:#2563eb'>■ messages in</span>"
        f"<span style='color:#f59e0b'>■ new dialogs</span></p>{volume}"
        f"<h2>Response times</h2><p class='legend'><span style='color:#16a34a'>● median</span>"
        f"<span style='color:#dc2626'>● p90</span></p>{response}"
        f"<h2>SLA</h2>{sla}<h2>Busiest hours</h2>{heat}"
    )


def _day_label(start: str, zone: str) -> str:
    from zoneinfo import ZoneInfo

    moment = datetime.fromisoformat(start.replace("Z", "+00:00")).astimezone(ZoneInfo(zone))
    return moment.strftime("%m-%d")


async def reports_page(request: web.Request) -> web.Response:
    svc = request.config_dict[SERVICES]
    ruleset = request.config_dict[ROUTING_SERVICES].rulebook.current
    now = svc.clock()
    query = request.query
    try:
        period, filters = report_period(query, now), report_filters(query)
        summary = await build_summary(svc.db, ruleset, period, filters, now)
        series = await build_timeseries(svc.db, ruleset, period, filters, now, "day")
    except (ApiError, ReportInputError) as exc:
        message = exc.message if isinstance(exc, ApiError) else str(exc)
        body = f'{_form(query)}<p class="error">{escape(message)}</p>'
        return _page(body, status=400)
    shown = (
        f"{escape(summary['from'])} – {escape(summary['to'])} ({escape(summary['timezone'])}),"
        f" figures up to {escape(summary['until'])}"
    )
    body = (
        f"{_form(query)}<p>{shown}</p>{_tiles(summary['totals'])}{_charts(series)}"
        f"<h2>Agents</h2>{_table(summary['agents'], 'agent', 'Agent')}"
        f"<h2>Queues</h2>{_table(summary['queues'], 'queue', 'Queue')}"
        f"<p><small>Rendered {escape(datetime.now(UTC).isoformat(timespec='seconds'))}. The same"
        " figures: <code>GET /api/v1/reports/summary</code>, <code>relaydesk report</code>."
        "</small></p>"
    )
    return _page(body)


def _page(body: str, status: int = 200) -> web.Response:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Reports · Relaydesk</title>"
        f"<style>{_STYLE}</style></head><body><h1>Reports</h1>{body}</body></html>"
    )
    return web.Response(text=html, content_type="text/html", status=status)
