"""Compile a rule's ``when:`` mapping into conditions, reporting problems with their lines."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from router.conditions import (
    AnyTag,
    Combined,
    Condition,
    ContactAttr,
    InBusinessHours,
    IsFlag,
    OneOf,
    TextContains,
    TextMatches,
)
from router.hours import Calendar
from router.issues import IssueCollector, Path, did_you_mean
from router.language import SUPPORTED_LANGUAGES
from router.regex_prefilter import required_literals
from router.schema import CHANNEL_KINDS

MESSAGE_KINDS: tuple[str, ...] = (
    "text",
    "photo",
    "document",
    "voice",
    "audio",
    "video",
    "sticker",
    "location",
    "contact",
    "other",
)
CONDITION_KEYS: tuple[str, ...] = (
    "channel",
    "text",
    "kind",
    "tag",
    "contact.tag",
    "language",
    "first_message",
    "automated",
    "business_hours",
    "any",
    "all",
    "not",
)


def _show(values: tuple[str, ...]) -> str:
    return values[0] if len(values) == 1 else "[" + ", ".join(values) + "]"


class ConditionCompiler:
    """Turns the raw ``when:`` mapping into conditions, reporting problems with their lines."""

    def __init__(self, issues: IssueCollector, calendars: Mapping[str, Calendar | None]) -> None:
        self.issues = issues
        self.calendars = calendars  # None for a declared calendar that failed to load

    def compile(self, raw: Any, path: Path) -> tuple[Condition, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, dict):
            self.issues.error(path, "when must be a mapping of conditions, e.g. {channel: email}")
            return ()
        out: list[Condition] = []
        for key, value in raw.items():
            out.extend(self._one(key, value, (*path, key)))
        return tuple(out)

    def _one(self, key: str, value: Any, path: Path) -> list[Condition]:
        if key == "channel":
            return self._one_of(value, path, "channel", CHANNEL_KINDS, 0)
        if key == "kind":
            return self._one_of(value, path, "kind", MESSAGE_KINDS, 0)
        if key == "language":
            codes = tuple(sorted(SUPPORTED_LANGUAGES))
            return self._one_of(value, path, "language", codes, 9)
        if key in ("tag", "contact.tag"):
            names = self._names(value, path, "a tag")
            if not names:
                return []
            attr = "tags" if key == "tag" else "contact_tags"
            label = "dialog tags" if key == "tag" else "contact tags"
            return [AnyTag(f"{key}: {_show(names)}", 1, label, frozenset(names), attr)]
        if key in ("first_message", "automated"):
            if not isinstance(value, bool):
                self.issues.error(path, f"{key} must be true or false, got {value!r}")
                return []
            attr = "is_first_message" if key == "first_message" else "is_automated"
            label = "first message" if key == "first_message" else "automated sender"
            return [IsFlag(f"{key}: {str(value).lower()}", 0, label, value, attr)]
        if key == "business_hours":
            return self._business_hours(value, path)
        if key == "text":
            return self._text(value, path)
        if key in ("any", "all", "not"):
            return self._combined(key, value, path)
        if key.startswith("contact.") and len(key) > len("contact."):
            attr = key.removeprefix("contact.")
            names = self._names(value, path, "a value", scalars=True)
            if not names:
                return []
            return [ContactAttr(f"{key}: {_show(names)}", 1, attr, frozenset(names))]
        choices = (*CONDITION_KEYS, "contact.<attribute>")
        self.issues.error(path, f"unknown condition {key!r}{did_you_mean(key, choices)}")
        return []

    def _names(
        self, value: Any, path: Path, what: str, *, scalars: bool = False
    ) -> tuple[str, ...]:
        items = value if isinstance(value, list) else [value]
        allowed: tuple[type, ...] = (str, int, float, bool) if scalars else (str,)
        if not items or not all(isinstance(item, allowed) for item in items):
            self.issues.error(path, f"expected {what} or a list of them, got {value!r}")
            return ()
        return tuple(str(item).lower() if isinstance(item, bool) else str(item) for item in items)

    def _one_of(
        self,
        value: Any,
        path: Path,
        what: str,
        known: tuple[str, ...],
        cost: int,
    ) -> list[Condition]:
        names = self._names(value, path, f"a {what}")
        for name in names:
            if name not in known:
                hint = did_you_mean(name, known) or f" (known: {', '.join(known)})"
                self.issues.error(path, f"unknown {what} {name!r}{hint}")
                return []
        return [OneOf(f"{what}: {_show(names)}", cost, what, frozenset(names))] if names else []

    def _business_hours(self, value: Any, path: Path) -> list[Condition]:
        if not isinstance(value, str):
            self.issues.error(
                path, f"business_hours must name a calendar from hours:, got {value!r}"
            )
            return []
        if value not in self.calendars:
            hint = did_you_mean(value, self.calendars)
            self.issues.error(path, f"unknown calendar {value!r}{hint}")
            return []
        calendar = self.calendars[value]
        return [InBusinessHours(f"business_hours: {value}", 3, calendar)] if calendar else []

    def _text(self, value: Any, path: Path) -> list[Condition]:
        if not isinstance(value, dict) or not value:
            self.issues.error(path, "text must be a mapping with contains: and/or matches:")
            return []
        out: list[Condition] = []
        for key, item in value.items():
            here = (*path, key)
            if key == "contains":
                needles = self._names(item, here, "a string")
                if any(not needle for needle in needles):
                    self.issues.error(here, "contains must not be an empty string")
                elif needles:
                    folded = tuple(needle.casefold() for needle in needles)
                    out.append(TextContains(f"text.contains: {_show(needles)}", 4, folded))
            elif key == "matches":
                out.extend(self._regex(item, here))
            else:
                hint = did_you_mean(key, ("contains", "matches"))
                self.issues.error(here, f"unknown text condition {key!r}{hint}")
        return out

    def _regex(self, value: Any, path: Path) -> list[Condition]:
        if not isinstance(value, str) or not value:
            self.issues.error(path, f"matches must be a regular expression string, got {value!r}")
            return []
        try:
            pattern = re.compile(value, re.IGNORECASE)
        except re.error as exc:
            self.issues.error(path, f"bad regular expression {value!r}: {exc}")
            return []
        return [TextMatches(f"text.matches: /{value}/", 5, pattern, required_literals(pattern))]

    def _combined(self, op: str, value: Any, path: Path) -> list[Condition]:
        if op == "not":
            if not isinstance(value, dict) or not value:
                self.issues.error(path, "not must be a non-empty mapping of conditions")
                return []
            children = self.compile(value, path)
            if not children:
                return []
            inner = children[0]
            if len(children) > 1:
                expr = ", ".join(child.expr for child in children)
                inner = Combined(expr, max(c.cost for c in children), "all", children)
            return [Combined(f"not: {{{inner.expr}}}", inner.cost + 1, "not", (inner,))]
        if not isinstance(value, list) or not value:
            self.issues.error(path, f"{op} must be a non-empty list of condition mappings")
            return []
        children_out: list[Condition] = []
        for index, item in enumerate(value):
            here = (*path, index)
            if not isinstance(item, dict) or not item:
                self.issues.error(here, "each item must be a non-empty mapping of conditions")
                continue
            parts = self.compile(item, here)
            if len(parts) == 1:
                children_out.append(parts[0])
            elif parts:
                expr = ", ".join(part.expr for part in parts)
                children_out.append(
                    Combined(f"{{{expr}}}", max(p.cost for p in parts), "all", parts)
                )
        if not children_out:
            return []
        expr = f"{op}: [" + ", ".join(child.expr for child in children_out) + "]"
        cost = max(child.cost for child in children_out) + 1
        return [Combined(expr, cost, op, tuple(children_out))]
