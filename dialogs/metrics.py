"""Prometheus counters of this process (prometheus-client), in a registry of Relaydesk's own.

Counters count what this process did, so with several `relaydesk serve` processes each is
scraped and Prometheus sums them. What is shared (queue lengths, outbox backlog) is read from
the database at scrape time instead: see inbox/metrics_endpoint.py.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)

MESSAGES_INGESTED = Counter(
    "relaydesk_messages_ingested",
    "Inbound messages stored, by channel kind",
    ["channel"],
    registry=REGISTRY,
)
MESSAGES_DUPLICATE = Counter(
    "relaydesk_messages_duplicate",
    "Redeliveries of inbound messages already stored, by channel kind",
    ["channel"],
    registry=REGISTRY,
)
ROUTING_DECISIONS = Counter(
    "relaydesk_routing_decisions",
    "Inbound messages decided by the rules",
    registry=REGISTRY,
)
ROUTING_BATCHES = Histogram(
    "relaydesk_routing_batch_messages",
    "Inbound messages per routing transaction: small batches cost more per message",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200),
    registry=REGISTRY,
)
TASKS_CREATED = Counter(
    "relaydesk_tasks_created", "Tasks made by routing, by queue", ["queue"], registry=REGISTRY
)
TASKS_ASSIGNED = Counter(
    "relaydesk_tasks_assigned", "Tasks assigned by the dispatcher", registry=REGISTRY
)
SLA_BREACHES = Counter(
    "relaydesk_sla_breaches", "Tasks flagged as breaching their SLA", registry=REGISTRY
)
REPLIES_SENT = Counter(
    "relaydesk_replies_sent",
    "Outbound messages the channel accepted",
    ["channel"],
    registry=REGISTRY,
)
REPLY_RETRIES = Counter(
    "relaydesk_reply_retries",
    "Sends that failed and will be retried",
    ["channel"],
    registry=REGISTRY,
)
REPLIES_FAILED = Counter(
    "relaydesk_replies_failed",
    "Outbound messages given up on (marked failed)",
    ["channel"],
    registry=REGISTRY,
)
