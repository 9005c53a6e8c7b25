"""Conditions of a rule's ``when:``: compiled once at load, evaluated per message.

Every condition has ``expr`` (how the file wrote it), ``cost`` (cheap ones are evaluated first),
``test(ctx)`` (the fast path) and ``detail(ctx)`` (why, rendered only when a trace is read).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from router.hours import Calendar, is_business_time


class Context(Protocol):
    """What conditions read: the message's facts as attributes, plus lazily computed views."""

    channel: str
    kind: str
    text: str
    tags: frozenset[str]  # the dialog's tags plus those added by rules above
    contact_tags: frozenset[str]
    contact_attrs: Mapping[str, str]
    is_first_message: bool
    is_automated: bool
    now: datetime
    # regex pattern -> its search result over `text`: a matched rule's trace reports the
    # match its test found, without searching again
    matches: dict[re.Pattern[str], re.Match[str] | None]

    @property
    def folded_text(self) -> str: ...
    @property
    def literal_text(self) -> str: ...
    @property
    def language(self) -> str | None: ...


class Condition(Protocol):
    @property
    def expr(self) -> str: ...
    @property
    def cost(self) -> int: ...

    def test(self, ctx: Context) -> bool: ...
    def detail(self, ctx: Context) -> str: ...


def _show(values: tuple[str, ...]) -> str:
    return values[0] if len(values) == 1 else "[" + ", ".join(values) + "]"


@dataclass(frozen=True, slots=True)
class OneOf:
    """A fact (``attr``: channel, kind, language) equal to one of ``values``."""

    expr: str
    cost: int
    attr: str
    values: frozenset[str]

    def test(self, ctx: Context) -> bool:
        return getattr(ctx, self.attr) in self.values

    def detail(self, ctx: Context) -> str:
        return f"{self.attr} is {getattr(ctx, self.attr) or 'unknown'}"


@dataclass(frozen=True, slots=True)
class ContactAttr:
    """The contact attribute ``name`` equal to one of ``values``."""

    expr: str
    cost: int
    name: str
    values: frozenset[str]

    def test(self, ctx: Context) -> bool:
        return ctx.contact_attrs.get(self.name) in self.values

    def detail(self, ctx: Context) -> str:
        value = ctx.contact_attrs.get(self.name)
        return (
            f"contact.{self.name} is {value!r}" if value is not None else f"no contact.{self.name}"
        )


@dataclass(frozen=True, slots=True)
class AnyTag:
    """At least one of ``values`` among the dialog's (or the contact's) tags."""

    expr: str
    cost: int
    label: str
    values: frozenset[str]
    attr: str  # "tags" or "contact_tags"

    def test(self, ctx: Context) -> bool:
        return not self.values.isdisjoint(getattr(ctx, self.attr))

    def detail(self, ctx: Context) -> str:
        have = sorted(getattr(ctx, self.attr))
        return f"{self.label}: [{', '.join(have)}]" if have else f"{self.label}: none"


@dataclass(frozen=True, slots=True)
class IsFlag:
    expr: str
    cost: int
    label: str
    value: bool
    attr: str  # "is_first_message" or "is_automated"

    def test(self, ctx: Context) -> bool:
        return getattr(ctx, self.attr) is self.value

    def detail(self, ctx: Context) -> str:
        return f"{self.label} is {str(getattr(ctx, self.attr)).lower()}"


@dataclass(frozen=True, slots=True)
class TextContains:
    expr: str
    cost: int
    needles: tuple[str, ...]  # casefolded

    def test(self, ctx: Context) -> bool:
        text = ctx.folded_text
        for needle in self.needles:  # noqa: SIM110 - a loop: no generator on the hot path
            if needle in text:
                return True
        return False

    def detail(self, ctx: Context) -> str:
        found = [needle for needle in self.needles if needle in ctx.folded_text]
        return f"found {found[0]!r}" if found else "none found"


@dataclass(frozen=True, slots=True)
class TextMatches:
    expr: str
    cost: int
    pattern: re.Pattern[str]
    required: tuple[str, ...] = ()  # see router/regex_prefilter.py

    def test(self, ctx: Context) -> bool:
        if self.required:
            text = ctx.literal_text
            for literal in self.required:
                if literal not in text:
                    return False
        match = ctx.matches[self.pattern] = self.pattern.search(ctx.text)
        return match is not None

    def detail(self, ctx: Context) -> str:
        if self.pattern in ctx.matches:
            match = ctx.matches[self.pattern]
        else:  # the test stopped before this pattern (a required literal was missing)
            match = self.pattern.search(ctx.text)
        return f"matched {match.group(0)!r}" if match else "no match"


@dataclass(frozen=True, slots=True)
class InBusinessHours:
    expr: str
    cost: int
    calendar: Calendar

    def test(self, ctx: Context) -> bool:
        return is_business_time(self.calendar, ctx.now)

    def detail(self, ctx: Context) -> str:
        local = ctx.now.astimezone(self.calendar.timezone)
        inside = "inside" if self.test(ctx) else "outside"
        return f"{local:%a %Y-%m-%d %H:%M %Z} is {inside} {self.calendar.name} hours"


@dataclass(frozen=True, slots=True)
class Combined:
    """``any:``, ``all:`` or ``not:`` over nested conditions."""

    expr: str
    cost: int
    op: str
    children: tuple[Condition, ...]

    def test(self, ctx: Context) -> bool:
        if self.op == "not":
            return not self.children[0].test(ctx)
        want = self.op == "any"  # any: the first true child decides; all: the first false one
        for child in self.children:
            if child.test(ctx) is want:
                return want
        return not want

    def detail(self, ctx: Context) -> str:
        parts = [
            f"{child.expr} -> {'yes' if child.test(ctx) else 'no'} ({child.detail(ctx)})"
            for child in self.children
        ]
        return "; ".join(parts)


def needs_language(condition: Condition) -> bool:
    """True when evaluating ``condition`` may need the message's language."""
    if isinstance(condition, OneOf):
        return condition.attr == "language"
    if isinstance(condition, Combined):
        return any(needs_language(child) for child in condition.children)
    return False
