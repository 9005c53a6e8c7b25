"""Helpers for CLI tests: run `relaydesk` in-process and keep its logging set-up out of the way."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_global_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process commands must not reconfigure structlog for the rest of the test session."""
    monkeypatch.setattr("relaydesk.commands.configure_logging", lambda *args, **kwargs: None)
    monkeypatch.setattr("relaydesk.commands_report.configure_logging", lambda *args, **kwargs: None)
