"""The rules in force: loaded at start, swapped atomically on reload, never left invalid."""

from __future__ import annotations

from pathlib import Path

import structlog

from dialogs.model import AgentRouting
from router import RuleSet, load_rules

log = structlog.get_logger(__name__)


class Rulebook:
    def __init__(self, text: str, *, path: Path | None = None) -> None:
        self._path = path
        self._ruleset = load_rules(text, str(path or "rules.yaml"))
        self._text = text

    @classmethod
    def from_file(cls, path: Path) -> Rulebook:
        return cls(path.read_text(encoding="utf-8"), path=path)

    @property
    def current(self) -> RuleSet:
        return self._ruleset

    @property
    def text(self) -> str:
        return self._text

    @property
    def path(self) -> Path | None:
        return self._path

    def replace(self, text: str) -> RuleSet:
        """Validate `text` and put it in force; on error (RulesError) the old rules stay."""
        ruleset = load_rules(text, str(self._path or "rules.yaml"))
        self._ruleset, self._text = ruleset, text
        log.info("rules_reloaded", rules_version=ruleset.version)
        return ruleset

    def agent_routing(self, login: str) -> AgentRouting:
        rs = self._ruleset
        profile = rs.agents.get(login)
        if profile is None:
            return AgentRouting(capacity=0)
        teams = tuple(sorted(name for name, members in rs.teams.items() if login in members))
        return AgentRouting(profile.capacity, tuple(sorted(profile.skills)), teams)
