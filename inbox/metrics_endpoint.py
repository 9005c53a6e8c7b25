"""GET /metrics in the Prometheus text format, and the request-latency middleware.

Counters (dialogs/metrics.py) are this process's own; queue lengths and the outbox backlog are
read from the database at each scrape, so several processes report the same shared values
(aggregate them with max(), not sum()). Scraping needs a bearer token: the static API token
or an admin's (Prometheus: ``authorization: {credentials: <token>}``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from aiohttp import web
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector

from dialogs.metrics import REGISTRY
from inbox.auth import bearer_token, hash_token, same_secret
from inbox.context import SERVICES
from inbox.errors import ApiError, Handler
from storage import agents as agent_repo
from storage.gauges import Gauges, load_gauges

REQUEST_SECONDS = Histogram(
    "relaydesk_http_request_duration_seconds",
    "Time to answer HTTP requests, by method, route and status",
    ["method", "route", "status"],
    registry=REGISTRY,
)


@web.middleware
async def request_metrics(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unmatched"
        elapsed = time.perf_counter() - started
        REQUEST_SECONDS.labels(request.method, route, str(status)).observe(elapsed)


class DatabaseGauges(Collector):
    """The shared state read for one scrape."""

    def __init__(self, gauges: Gauges, now: float) -> None:
        self._gauges, self._now = gauges, now

    def collect(self) -> Iterator[Metric]:
        g = self._gauges
        tasks = GaugeMetricFamily(
            "relaydesk_queue_tasks", "Open tasks by queue and status", labels=["queue", "status"]
        )
        for (queue, status), n in sorted(g.open_tasks.items()):
            tasks.add_metric([queue, status], n)
        yield tasks
        oldest = GaugeMetricFamily(
            "relaydesk_queue_oldest_waiting_seconds",
            "Age of the oldest task waiting in each queue",
            labels=["queue"],
        )
        for queue, created in sorted(g.oldest_waiting.items()):
            oldest.add_metric([queue], max(self._now - created.timestamp(), 0.0))
        yield oldest
        outbox = GaugeMetricFamily(
            "relaydesk_outbox_messages",
            "Outbound messages by outbox status (pending and sending are the backlog)",
            labels=["status"],
        )
        for status in ("pending", "sending", "sent", "failed"):
            outbox.add_metric([status], g.outbox.get(status, 0))
        yield outbox
        age = 0.0 if g.oldest_pending is None else self._now - g.oldest_pending.timestamp()
        yield GaugeMetricFamily(
            "relaydesk_outbox_oldest_pending_seconds",
            "Age of the oldest outbound message not yet sent (0 when none)",
            value=max(age, 0.0),
        )
        yield GaugeMetricFamily(
            "relaydesk_messages_unrouted",
            "Inbound messages stored but not yet routed",
            value=g.unrouted,
        )


async def get_metrics(request: web.Request) -> web.Response:
    svc = request.config_dict[SERVICES]
    token = bearer_token(request.headers.get("Authorization"))
    if token is None:
        raise ApiError(401, "unauthorized", "send Authorization: Bearer <token>")
    if not (svc.api_token and same_secret(token, svc.api_token)):
        async with svc.db.read() as tx:
            agent = await agent_repo.find_agent_by_token_hash(tx, hash_token(token))
        if agent is None or agent.role != "admin":
            raise ApiError(401, "unauthorized", "the API token or an admin's token")
    async with svc.db.read() as tx:
        gauges = await load_gauges(tx)
    shared = CollectorRegistry()
    shared.register(DatabaseGauges(gauges, svc.clock().timestamp()))
    body = generate_latest(REGISTRY) + generate_latest(shared)
    # the classic text format: every Prometheus version reads it
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})
