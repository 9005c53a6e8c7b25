"""What the web layer needs from the composition root, under one typed application key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from aiohttp import web

from dialogs.dispatch import Dispatcher
from dialogs.events import EventBus
from dialogs.ingest import Ingestor
from dialogs.model import AgentRouting
from dialogs.rulebook import Rulebook
from dialogs.rules_file import RulesWatcher
from dialogs.signals import Signals
from dialogs.tasks import TaskEditor
from storage import Database


class Profiles(Protocol):
    def agent_routing(self, login: str) -> AgentRouting: ...


@dataclass(frozen=True, slots=True)
class Services:
    db: Database
    ingestor: Ingestor
    bus: EventBus
    profiles: Profiles
    api_token: str | None
    clock: Callable[[], datetime]


SERVICES = web.AppKey("services", Services)
# Live-only events (typing, viewing): published to every process, stored nowhere.
SIGNALS = web.AppKey("signals", Signals)


@dataclass(frozen=True, slots=True)
class RoutingServices:
    """Assignment and rules administration, for inbox/api_routing.py."""

    rulebook: Rulebook
    dispatcher: Dispatcher
    editor: TaskEditor
    watcher: RulesWatcher | None = None


ROUTING_SERVICES = web.AppKey("routing_services", RoutingServices)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an agent's login and role, or the static token ("api", admin)."""

    login: str
    role: str


PRINCIPAL_KEY = web.RequestKey("principal", Principal)
