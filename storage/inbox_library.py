"""Agents' saved inbox views and the team's canned replies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from storage.db import ReadTx, WriteTx
from storage.sql import insert_or_ignore
from storage.tables import canned_replies, saved_views


async def list_views(tx: ReadTx, agent: str) -> list[Any]:
    return list(
        await tx.execute(
            select(saved_views).where(saved_views.c.agent == agent).order_by(saved_views.c.name)
        )
    )


async def save_view(tx: WriteTx, agent: str, name: str, query: str, now: datetime) -> bool:
    """False when the agent already has a view of that name (nothing changes)."""
    result = await tx.execute(
        insert_or_ignore(tx, saved_views).values(
            agent=agent, name=name, query=query, created_at=now
        )
    )
    return bool(result.rowcount)


async def delete_view(tx: WriteTx, agent: str, view_id: int) -> bool:
    result = await tx.execute(
        delete(saved_views).where(saved_views.c.id == view_id, saved_views.c.agent == agent)
    )
    return bool(result.rowcount)


async def list_canned(tx: ReadTx) -> list[Any]:
    return list(await tx.execute(select(canned_replies).order_by(canned_replies.c.title)))


async def add_canned(tx: WriteTx, title: str, body: str, author: str, now: datetime) -> bool:
    """False when a canned reply of that title exists (nothing changes)."""
    result = await tx.execute(
        insert_or_ignore(tx, canned_replies).values(
            title=title, body=body, created_by=author, created_at=now
        )
    )
    return bool(result.rowcount)


async def delete_canned(tx: WriteTx, canned_id: int) -> bool:
    result = await tx.execute(delete(canned_replies).where(canned_replies.c.id == canned_id))
    return bool(result.rowcount)
