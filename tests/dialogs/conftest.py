"""Fixtures of the dialogs tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import Database
from tests.dialogs.desk import Desk, make_desk


@pytest.fixture
async def desk(db: Database, tmp_path: Path) -> AsyncIterator[Desk]:
    d = await make_desk(db, tmp_path)
    yield d
    await d.ingestor.stop()
    await d.relay.stop()
