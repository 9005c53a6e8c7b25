"""Builders for domain values in tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from dialogs.model import ChannelKind, ContactProfile, InboundMessage
from storage import agents as agent_repo


def inbound(
    external_id: str,
    *,
    contact: str = "c-1",
    channel: ChannelKind = ChannelKind.API,
    text: str = "hello",
    name: str = "",
    email: str | None = None,
    phone: str | None = None,
    **extra: Any,
) -> InboundMessage:
    return InboundMessage(
        channel=channel,
        external_id=external_id,
        contact=ContactProfile(address=contact, name=name, email=email, phone=phone),
        text=text,
        **extra,
    )


def api_message(
    external_id: str, *, contact: str = "c-1", text: str = "hello", **extra: Any
) -> dict[str, Any]:
    return {
        "channel": "api",
        "external_id": external_id,
        "contact": {"id": contact, "name": extra.pop("name", "Ann")},
        "text": text,
        **extra,
    }


async def add_agent(tx: AsyncConnection, login: str, status: str, now: datetime) -> None:
    """An agent account with no password or token, and its presence."""
    await agent_repo.create_agent(
        tx, login=login, name=login, role="agent", password_hash=None, token_hash=None, now=now
    )
    await agent_repo.set_agent_status(tx, login, status, now)
