"""rules.yaml -> RuleSet: safe YAML, strict models, whole-file cross-checks, errors with lines."""

from __future__ import annotations

import hashlib
from pathlib import Path as FilePath
from types import MappingProxyType
from typing import Any

from router.crosscheck import check_references
from router.hours import Calendar, parse_days, parse_timezone, parse_windows
from router.issues import IssueCollector, Path, RulesError, did_you_mean
from router.language import SUPPORTED_LANGUAGES
from router.model import (
    Actions,
    AgentProfile,
    Example,
    QueueSpec,
    Rule,
    RuleSet,
    SlaPolicy,
)
from router.pydantic_issues import validate_entry
from router.schema import (
    TOP_LEVEL_KEYS,
    AgentModel,
    ExampleModel,
    HoursModel,
    QueueModel,
    RuleModel,
    SlaModel,
)
from router.templates import Template, parse_template
from router.when import MESSAGE_KINDS, ConditionCompiler
from router.yaml_source import parse_yaml_with_lines

DEFAULT_TITLE = "{text:.60}"


def load_rules_file(path: str | FilePath) -> RuleSet:
    """Read and load a rules file; issues name the file as given."""
    file = FilePath(path)
    return load_rules(file.read_text(encoding="utf-8"), filename=str(path))


def load_rules(text: str, filename: str = "rules.yaml") -> RuleSet:
    """Validate ``text`` and compile it; raise RulesError listing every problem with its line."""
    data, lines = parse_yaml_with_lines(text, filename)
    issues = IssueCollector(filename, lines)
    ruleset = _Loader(issues).load(data, text, filename)
    if issues.has_errors or ruleset is None:
        raise RulesError(issues.sorted_issues())
    return ruleset


def _sections(data: Any, issues: IssueCollector) -> dict[str, Any]:
    if not isinstance(data, dict):
        issues.error((), "the rules file must be a mapping with version: 1, agents:, rules: ...")
        return {}
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            issues.error((key,), f"unknown key {key!r}{did_you_mean(key, TOP_LEVEL_KEYS)}")
    version = data.get("version")
    if "version" not in data:
        issues.error((), "missing required key 'version' (write version: 1)")
    elif version != 1 or isinstance(version, bool):
        issues.error(
            ("version",), f"unsupported version {version!r} (this Relaydesk reads version 1)"
        )
    return data


class _Loader:
    def __init__(self, issues: IssueCollector) -> None:
        self.issues = issues

    def _mapping(self, data: dict[str, Any], key: str) -> dict[str, Any]:
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.issues.error((key,), f"{key} must be a mapping of name -> definition")
            return {}
        return value

    def _list(self, data: dict[str, Any], key: str) -> list[Any]:
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.issues.error((key,), f"{key} must be a list")
            return []
        return value

    def load(self, data: Any, text: str, filename: str) -> RuleSet | None:
        issues = self.issues
        data = _sections(data, issues)
        raw_agents, raw_teams = self._mapping(data, "agents"), self._mapping(data, "teams")
        raw_queues, raw_sla = self._mapping(data, "queues"), self._mapping(data, "sla")
        raw_hours = self._mapping(data, "hours")
        raw_rules, raw_tests = self._list(data, "rules"), self._list(data, "tests")

        agents = {
            login: self._agent(login, agent_model)
            for login, raw in raw_agents.items()
            if (agent_model := validate_entry(AgentModel, raw, ("agents", login), issues))
        }
        teams = {name: self._team(name, raw) for name, raw in raw_teams.items()}
        queues = {
            name: self._queue(name, queue_model)
            for name, raw in raw_queues.items()
            if (queue_model := validate_entry(QueueModel, raw, ("queues", name), issues))
        }
        calendars: dict[str, Calendar | None] = {
            name: self._calendar(name, raw) for name, raw in raw_hours.items()
        }
        sla_models = {
            name: sla_model
            for name, raw in raw_sla.items()
            if (sla_model := validate_entry(SlaModel, raw, ("sla", name), issues))
        }
        policies = {
            name: SlaPolicy(name, m.first_response, m.resolution, calendars.get(m.hours or ""))
            for name, m in sla_models.items()
        }
        compiler = ConditionCompiler(issues, calendars)
        rules = [
            self._rule(index, rule_model, raw, compiler)
            for index, raw in enumerate(raw_rules)
            if (rule_model := validate_entry(RuleModel, raw, ("rules", index), issues))
        ]
        examples = [
            self._example(index, example_model)
            for index, raw in enumerate(raw_tests)
            if (example_model := validate_entry(ExampleModel, raw, ("tests", index), issues))
        ]
        check_references(
            issues,
            names={
                "agent": set(raw_agents),
                "team": set(raw_teams),
                "queue": set(raw_queues),
                "sla": set(raw_sla),
                "calendar": set(raw_hours),
            },
            teams=teams,
            queues=queues,
            sla_models=sla_models,
            rules=rules,
            examples=examples,
        )
        if issues.has_errors:
            return None
        return RuleSet(
            version=hashlib.sha256(text.encode("utf-8")).hexdigest()[:12],
            filename=filename,
            agents=MappingProxyType(agents),
            teams=MappingProxyType(teams),
            queues=MappingProxyType(queues),
            sla=MappingProxyType(policies),
            calendars=MappingProxyType({k: v for k, v in calendars.items() if v is not None}),
            rules=tuple(rules),
            examples=tuple(examples),
            warnings=tuple(i for i in issues.sorted_issues() if i.severity == "warning"),
            team_sets=MappingProxyType({name: frozenset(m) for name, m in teams.items()}),
        )

    def _agent(self, login: str, model: AgentModel) -> AgentProfile:
        weights = MappingProxyType({str(k): v for k, v in model.weights.items()})
        return AgentProfile(login, model.capacity, frozenset(model.skills), weights)

    def _team(self, name: str, raw: Any) -> tuple[str, ...]:
        members = raw if isinstance(raw, list) else None
        if members is None or not all(isinstance(m, str) for m in members):
            self.issues.error(("teams", name), f"a team is a list of agent logins, got {raw!r}")
            return ()
        seen: set[str] = set()
        for index, login in enumerate(members):
            if login in seen:
                self.issues.error(("teams", name, index), f"agent {login!r} is listed twice")
            seen.add(login)
        return tuple(dict.fromkeys(members))

    def _queue(self, name: str, m: QueueModel) -> QueueSpec:
        after = m.overflow.after if m.overflow else None
        target = m.overflow.to if m.overflow else None
        return QueueSpec(
            name, m.team, m.strategy, frozenset(m.skills), m.sticky, after, target, m.sla
        )

    def _calendar(self, name: str, raw: Any) -> Calendar | None:
        path: Path = ("hours", name)
        model = validate_entry(HoursModel, raw, path, self.issues)
        if model is None:
            return None
        try:
            zone = parse_timezone(model.timezone)
        except ValueError as exc:
            self.issues.error((*path, "timezone"), str(exc))
            return None
        try:
            days = parse_days(model.days)
        except ValueError as exc:
            self.issues.error((*path, "days"), str(exc))
            return None
        try:
            windows = parse_windows(model.time)
        except ValueError as exc:
            self.issues.error((*path, "time"), str(exc))
            return None
        return Calendar(name, zone, days, windows, frozenset(model.holidays))

    def _template(self, source: str | None, path: Path) -> Template | None:
        if source is None:
            return None
        try:
            return parse_template(source)
        except ValueError as exc:
            self.issues.error(path, str(exc))
            return None

    def _rule(self, index: int, m: RuleModel, raw: Any, compiler: ConditionCompiler) -> Rule:
        path: Path = ("rules", index)
        conditions = compiler.compile(m.when, (*path, "when"))
        then = m.then
        task = then.task
        title = None
        if task is not None:
            title = self._template(task.title or DEFAULT_TITLE, (*path, "then", "task", "title"))
        actions = Actions(
            tags=tuple(dict.fromkeys(then.tag)),
            priority=then.priority,
            queue=task.queue if task else None,
            title=title,
            task_skills=frozenset(task.skills) if task else frozenset(),
            sla=then.sla,
            auto_reply=self._template(then.auto_reply, (*path, "then", "auto_reply")),
            assign=then.assign,
        )
        if not raw.get("then"):
            self.issues.error((*path, "then"), "then has no actions (tag, priority, task, ...)")
        ordered = tuple(sorted(conditions, key=lambda c: c.cost))
        return Rule(index, m.name, self.issues.line_of(path), ordered, actions, m.continue_)

    def _example(self, index: int, m: ExampleModel) -> Example:
        path: Path = ("tests", index)
        msg = m.message
        if msg.kind not in MESSAGE_KINDS:
            hint = did_you_mean(msg.kind, MESSAGE_KINDS)
            self.issues.error((*path, "message", "kind"), f"unknown kind {msg.kind!r}{hint}")
        if msg.language is not None and msg.language not in SUPPORTED_LANGUAGES:
            self.issues.error(
                (*path, "message", "language"), f"unsupported language {msg.language!r}"
            )
        if msg.at is not None and msg.at.utcoffset() is None:
            self.issues.error((*path, "message", "at"), "at must include a UTC offset, e.g. +03:00")
        facts = {
            "channel": msg.channel,
            "text": msg.text,
            "kind": msg.kind,
            "dialog_tags": frozenset(msg.tags),
            "contact_tags": frozenset(msg.contact_tags),
            "contact_attrs": MappingProxyType(dict(msg.contact_attrs)),
            "contact_name": msg.contact_name,
            "is_first_message": msg.first_message,
            "is_automated": msg.automated,
            "language": msg.language,
        }
        expect = {k: v for k, v in m.expect.model_dump().items() if v is not None}
        if not expect:
            self.issues.error((*path, "expect"), "expect names nothing to check")
        name = m.name or f"tests[{index}]"
        line = self.issues.line_of(path)
        return Example(index, line, name, MappingProxyType(facts), msg.at, MappingProxyType(expect))
