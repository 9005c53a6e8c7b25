"""What the web layer needs from the composition root, under one typed application key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from aiohttp import web

from dialogs.events import EventBus
from dialogs.ingest import Ingestor
from dialogs.model import AgentRouting
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


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an agent's login and role, or the static token ("api", admin)."""

    login: str
    role: str


PRINCIPAL_KEY = web.RequestKey("principal", Principal)
