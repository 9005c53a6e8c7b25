"""The aiohttp application that wires storage, ingestion, routing and the web layer together."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import sys
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO

import structlog
from aiohttp import web

from channels.base import Channel, StatusUpdate
from dialogs.dispatch import Dispatcher
from dialogs.events import EventBus, VisitorTyping, decode_events
from dialogs.ingest import Ingestor, utcnow
from dialogs.model import EditOutcome, InboundEdit, InboundMessage, IngestResult
from dialogs.outbox import Outbox, OutboxWorker
from dialogs.routing import RoutingWorker
from dialogs.rulebook import Rulebook
from dialogs.rules_file import RulesWatcher
from dialogs.signals import Signals
from dialogs.tasks import TaskEditor
from inbox.api import OPERATIONS, add_operations, api_auth, public_handlers
from inbox.api_replay import REPLAYER
from inbox.api_replies import OUTBOX
from inbox.auth import hash_password, hash_token, new_password, new_token
from inbox.context import ROUTING_SERVICES, SERVICES, SIGNALS, RoutingServices, Services
from inbox.errors import Handler, json_errors
from inbox.metrics_endpoint import get_metrics, request_metrics
from inbox.pages import start_page
from inbox.reports_page import reports_page
from inbox.session import load_or_create_secret
from inbox.web import add_web_ui
from inbox.web_auth import web_session
from relaydesk.channels import build_channels
from relaydesk.replay_service import replay_summary
from relaydesk.settings import Settings
from router import warm_up_language_detector
from storage import Database
from storage import agents as agent_repo
from storage.notify import EventRelay

log = structlog.get_logger(__name__)

SETTINGS = web.AppKey("settings", Settings)
ROUTING = web.AppKey("routing", RoutingWorker)
RULEBOOK = web.AppKey("rulebook", Rulebook)
CHANNELS = web.AppKey("channels", dict[str, Channel])

# The shipped default, used when the configured rules file is the default and is absent.
PACKAGED_RULES = Path(__file__).resolve().parent.parent / "rules.yaml"


def load_rulebook(settings: Settings) -> Rulebook:
    """The configured rules file. With the default name and no such file in the working
    directory, the shipped rules are in force, and saving them (the rules editor, PUT
    /api/v1/rules) creates ./rules.yaml rather than rewriting the shipped file."""
    path = settings.rules_path
    if not path.exists() and path == Path("rules.yaml") and PACKAGED_RULES.exists():
        return Rulebook(PACKAGED_RULES.read_text(encoding="utf-8"), path=path)
    return Rulebook.from_file(path)


# Request ids: a random per-process prefix and a counter (cheaper than random bytes each time).
_REQUEST_PREFIX = secrets.token_hex(4)
_request_seq = itertools.count(1)


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = request.headers.get("X-Request-Id") or f"{_REQUEST_PREFIX}-{next(_request_seq)}"
    with structlog.contextvars.bound_contextvars(request_id=request_id[:64]):
        response = await handler(request)
    response.headers["X-Request-Id"] = request_id[:64]
    return response


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    console: TextIO | None = None,
    bootstrap_admin: bool = True,
) -> web.Application:
    """Build the whole application; start-up migrates, starts workers; clean-up stops them."""
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        middlewares=[
            request_metrics,
            request_context,
            json_errors,
            web_session,
            api_auth(public_handlers(OPERATIONS)),
        ],
    )
    app[SETTINGS] = settings
    app[RULEBOOK] = load_rulebook(settings)  # fail fast, before binding a port
    add_operations(app, OPERATIONS)
    app.router.add_get("/", start_page)
    add_web_ui(
        app,
        secret_key=settings.secret_key or load_or_create_secret(settings.data_dir / "secret_key"),
        attachments_root=settings.data_dir / "attachments",
        clock=clock,
    )
    app[REPLAYER] = lambda ruleset, since: replay_summary(app[SERVICES].db, ruleset, since)
    app.router.add_get("/metrics", get_metrics)
    app.router.add_get("/admin/reports", reports_page)  # behind the /admin login middleware

    # Channels are built now, to register their webhooks; the core reaches them at start-up.
    async def ingest(message: InboundMessage) -> IngestResult:
        return await app[SERVICES].ingestor.ingest(message)

    async def edit(change: InboundEdit) -> EditOutcome:
        return await app[SERVICES].ingestor.apply_edit(change)

    async def status_update(update: StatusUpdate) -> None:
        await app[OUTBOX].record_status(update)

    async def visitor_typing(dialog_id: int) -> None:
        await app[SIGNALS].publish([VisitorTyping(dialog_id)])

    channels = build_channels(
        settings,
        ingest=ingest,
        edit=edit,
        status_update=status_update,
        database=lambda: app[SERVICES].db,
        events=lambda: app[SERVICES].bus.stream(),
        typing=visitor_typing,
    )
    for channel in channels.values():
        for method, path, handler in channel.routes():
            app.router.add_route(method, path, handler)
    app[CHANNELS] = channels

    async def close_live_connections(app: web.Application) -> None:
        """End the event streams and close channels' open sockets (the widget's), so a
        shutdown does not wait on them."""
        if SERVICES in app:
            app[SERVICES].bus.close()
        for channel in channels.values():
            close = getattr(channel, "close_connections", None)
            if close is not None:
                await close()

    app.on_shutdown.append(close_live_connections)

    async def services_ctx(app: web.Application) -> AsyncIterator[None]:
        db = Database(settings.database_url)
        await db.upgrade()
        bus = EventBus()
        routing: RoutingWorker | None = None
        dispatcher: Dispatcher | None = None
        sender: OutboxWorker | None = None

        def on_payload(payload: str) -> None:
            bus.deliver(decode_events(payload))

        def on_remote(payload: str, sender_works: bool) -> None:
            """Another process's change (PostgreSQL). This process's own changes woke the
            workers they concern directly, and a process that runs workers routes what it
            stores and sends its own replies. What frees an agent or queues a task is still
            offered to this dispatcher, which may have room."""
            events = decode_events(payload)
            kinds = {e.get("type") for e in events}
            if not sender_works and kinds & {"message_received", "resync"}:
                if routing is not None:
                    routing.wake()
                if sender is not None:
                    sender.wake()
            if dispatcher is None:
                return
            if kinds & {"agent_changed", "resync"} or not sender_works:
                dispatcher.wake()
            elif any(
                e.get("type") == "task_changed" and e.get("status") != "assigned" for e in events
            ):
                dispatcher.tasks_created()  # a task waits, or one closed: capacity may fit it

        relay = EventRelay(
            db, on_payload, on_remote=on_remote, runs_workers=settings.workers == "all"
        )
        app[SIGNALS] = Signals(db, relay)
        dispatcher = Dispatcher(
            db, relay, app[RULEBOOK], clock=clock, assignment_timeout=settings.assignment_timeout
        )
        routing = RoutingWorker(
            db,
            relay,
            app[RULEBOOK],
            clock=clock,
            dispatcher=dispatcher,
            outbound_channels=frozenset(channels),
            on_outbound=lambda: sender.wake() if sender is not None else None,
            # Routing waits for this process's ingest in flight (acknowledgements first) and
            # routes it in the same batch: a batch's fixed cost (about 1.2 ms of CPU on SQLite,
            # 3 ms on PostgreSQL, whose statements are round trips) is shared by more messages.
            ingest_quiet=lambda: ingestor.quiet(),
        )
        editor = TaskEditor(db, relay, app[RULEBOOK], clock=clock, on_change=dispatcher.wake)
        watcher = RulesWatcher(app[RULEBOOK], on_reloaded=dispatcher.wake)
        app[ROUTING_SERVICES] = RoutingServices(app[RULEBOOK], dispatcher, editor, watcher)
        ingestor = Ingestor(
            db,
            relay,
            files_root=settings.data_dir / "attachments",
            reopen_window=settings.reopen_window,
            on_stored=routing.wake,
            clock=clock,
        )
        app[SERVICES] = Services(
            db=db,
            ingestor=ingestor,
            bus=bus,
            profiles=app[RULEBOOK],
            api_token=settings.api_token,
            clock=clock,
        )
        app[ROUTING] = routing
        files_root = settings.data_dir / "attachments"
        sender = OutboxWorker(
            db,
            relay,
            channels,
            files_root=files_root,
            clock=clock,
            lease=settings.outbox_lease,
            retry_base=settings.outbox_retry_base,
            max_attempts=settings.outbox_max_attempts,
        )
        app[OUTBOX] = Outbox(
            db, relay, channels, files_root=files_root, clock=clock, on_queued=sender.wake
        )
        if app[RULEBOOK].current.uses_language:  # load the model now, not in the first request
            await asyncio.to_thread(warm_up_language_detector)
        await relay.start()
        ingestor.start()
        for channel in channels.values():
            await channel.start()
        if settings.workers == "all":  # "ingest": other processes route, assign and send
            routing.start()
            dispatcher.start()
            watcher.start()
            sender.start()
        if bootstrap_admin:
            await ensure_admin(db, settings, clock(), console or sys.stdout)
        log.info(
            "relaydesk_started", dialect=db.dialect, rules_version=app[RULEBOOK].current.version
        )
        try:
            yield
        finally:
            await sender.stop()
            for channel in channels.values():
                await channel.stop()
            await ingestor.stop()
            await routing.stop()
            await watcher.stop()
            await dispatcher.stop()
            await relay.stop()
            await db.dispose()

    app.cleanup_ctx.append(services_ctx)
    return app


async def ensure_admin(db: Database, settings: Settings, now: datetime, console: TextIO) -> None:
    """On a first start with no agent accounts, create `admin` and say how to log in."""
    async with db.write() as tx:
        if await agent_repo.has_agents(tx):
            return
        password = settings.admin_password or new_password()
        token = new_token()
        await agent_repo.create_agent(
            tx,
            login="admin",
            name="Administrator",
            role="admin",
            password_hash=hash_password(password),
            token_hash=hash_token(token),
            now=now,
        )
    log.info("admin_created", login="admin")
    shown = "(from RELAYDESK_ADMIN_PASSWORD)" if settings.admin_password else password
    console.write(
        "\nFirst start: created the admin account.\n"
        f"  login:     admin\n  password:  {shown}\n  API token: {token}\n"
        "Keep them now: they are not shown again.\n\n"
    )
    console.flush()
