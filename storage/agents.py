"""Agent accounts: logins, roles, password hashes, API token hashes, presence."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from storage.db import ReadTx, WriteTx
from storage.tables import agents


async def create_agent(
    tx: WriteTx,
    *,
    login: str,
    name: str,
    role: str,
    password_hash: str | None,
    token_hash: str | None,
    now: datetime,
) -> int:
    result = await tx.execute(
        agents.insert().returning(agents.c.id),
        {
            "login": login,
            "name": name,
            "role": role,
            "password_hash": password_hash,
            "token_hash": token_hash,
            "status": "offline",
            "created_at": now,
        },
    )
    return int(result.scalar_one())


async def list_agents(tx: ReadTx) -> list[Any]:
    return list(await tx.execute(select(agents).order_by(agents.c.login)))


async def has_agents(tx: ReadTx) -> bool:
    return (await tx.execute(select(agents.c.id).limit(1))).first() is not None


async def find_agent_by_login(tx: ReadTx, login: str) -> Any | None:
    return (await tx.execute(select(agents).where(agents.c.login == login))).first()


async def find_agent_by_token_hash(tx: ReadTx, token_hash: str) -> Any | None:
    return (await tx.execute(select(agents).where(agents.c.token_hash == token_hash))).first()


async def set_agent_status(tx: WriteTx, login: str, status: str, now: datetime) -> bool:
    result = await tx.execute(
        update(agents).where(agents.c.login == login).values(status=status, status_changed_at=now)
    )
    return bool(result.rowcount)
