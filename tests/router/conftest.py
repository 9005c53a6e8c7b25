"""Shared fixtures for the router tests: a compact rules file exercising every section."""

from __future__ import annotations

from pathlib import Path

import pytest

from router import RuleSet, load_rules

RULES = """\
version: 1
agents:
  alice: {capacity: 3, skills: [en, ru], weights: {email: 0.5}}
  bob:   {capacity: 2, skills: [en]}
  carol: {capacity: 2, skills: [en, pl]}
teams:
  support: [alice, bob]
  billing: [carol]
  all: [alice, bob, carol]
queues:
  support: {team: support, strategy: least_loaded, sticky: true, sla: standard}
  billing: {team: billing, strategy: round_robin, sla: standard,
            overflow: {after: 30m, to: support}}
  polish:  {team: all, skills: [pl]}
sla:
  standard: {first_response: 1h, resolution: 1d, hours: office}
  urgent:   {first_response: 15m, resolution: 4h}
hours:
  office: {timezone: Europe/Moscow, days: mon-fri, time: "09:00-18:00", holidays: [2026-01-02]}
rules:
  - name: vip
    when: {contact.tag: vip}
    then: {tag: vip, priority: high}
  - name: refunds
    when: {channel: [email, whatsapp], text: {matches: "refund|возврат"}}
    then: {tag: refund, sla: urgent, task: {queue: billing, title: "Refund: {text:.20}"}}
  - name: everything else
    then: {task: {queue: support}}
"""


@pytest.fixture(scope="session")
def rules_text() -> str:
    return RULES


@pytest.fixture(scope="session")
def ruleset() -> RuleSet:
    return load_rules(RULES)


@pytest.fixture(scope="session")
def shipped_rules_path() -> Path:
    return Path(__file__).resolve().parents[2] / "rules.yaml"
