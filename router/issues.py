"""Validation issues of rules.yaml: each names the file, the line, the key path and the problem."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]
Path = tuple[str | int, ...]


def format_path(path: Sequence[str | int]) -> str:
    """Render ``("rules", 3, "then", "task")`` as ``rules[3].then.task``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return `` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True, slots=True)
class RuleIssue:
    """One problem found in a rules file; ``line`` is 1-based, ``path`` like ``rules[0].then``."""

    file: str
    line: int
    path: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        label = "warning: " if self.severity == "warning" else ""
        return f"{self.file}:{self.line}: {label}{where}{self.message}"


class RulesError(ValueError):
    """A rules file that cannot be used; ``issues`` lists every problem found (errors first)."""

    def __init__(self, issues: Sequence[RuleIssue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))

    @property
    def errors(self) -> list[RuleIssue]:
        """Only the issues of severity ``error``."""
        return [issue for issue in self.issues if issue.severity == "error"]


class IssueCollector:
    """Collects issues while loading, turning key paths into lines through the YAML line map."""

    def __init__(self, filename: str, lines: Mapping[Path, int]) -> None:
        self.filename = filename
        self.lines = lines
        self.issues: list[RuleIssue] = []

    def line_of(self, path: Path) -> int:
        """The line of ``path``, or of its closest ancestor that has one."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return 1

    def error(self, path: Path, message: str, *, line: int | None = None) -> None:
        self._add(path, message, "error", line)

    def warning(self, path: Path, message: str, *, line: int | None = None) -> None:
        self._add(path, message, "warning", line)

    def _add(self, path: Path, message: str, severity: Severity, line: int | None) -> None:
        where = self.line_of(path) if line is None else line
        self.issues.append(RuleIssue(self.filename, where, format_path(path), message, severity))

    @property
    def has_errors(self) -> bool:
        return any(issue.severity == "error" for issue in self.issues)

    def sorted_issues(self) -> list[RuleIssue]:
        """Errors before warnings, each group in file order."""
        return sorted(self.issues, key=lambda i: (i.severity != "error", i.line, i.path))
