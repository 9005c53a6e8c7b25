"""Builders for domain values in tests."""

from __future__ import annotations

from typing import Any

from dialogs.model import ChannelKind, ContactProfile, InboundMessage


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
