"""Safe text templates for task titles and auto-replies: ``"Refund: {text:.40}"``.

Only the fields in ``TEMPLATE_FIELDS`` may appear, each with an optional format spec; attribute
access, indexing and conversions are rejected at load time, so a template can never reach into
objects. Rendering is plain concatenation of pre-parsed parts.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field

TEMPLATE_FIELDS: Mapping[str, str] = {
    "channel": "channel kind: email, telegram, whatsapp, widget or api",
    "contact_name": "the contact's display name (may be empty)",
    "text": "the message text on one line; '(photo)' and the like when there is no text",
    "kind": "message kind: text, photo, document, ...",
    "language": "detected language code, or 'unknown'",
}
_SAMPLE = dict.fromkeys(TEMPLATE_FIELDS, "sample")


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed template: literal text and (field, format spec) pairs, in order."""

    source: str
    parts: tuple[tuple[str, str | None, str], ...]
    fields: frozenset[str] = field(init=False)  # the fields it uses, worked out once

    def __post_init__(self) -> None:
        names = frozenset(name for _, name, _ in self.parts if name is not None)
        object.__setattr__(self, "fields", names)

    def render(self, values: Mapping[str, str]) -> str:
        out = []
        for literal, name, spec in self.parts:
            out.append(literal)
            if name is not None:
                out.append(format(values[name], spec))
        return "".join(out)


def parse_template(source: str) -> Template:
    """Parse and check ``source``; raise ValueError naming the offending field."""
    parts: list[tuple[str, str | None, str]] = []
    try:
        parsed = list(string.Formatter().parse(source))
    except ValueError as exc:
        raise ValueError(
            f"bad template {source!r}: {exc} (write a literal brace as {{{{ or }}}})"
        ) from exc
    for literal, name, spec, conversion in parsed:
        if name is None:
            parts.append((literal, None, ""))
            continue
        if name not in TEMPLATE_FIELDS:
            known = ", ".join(sorted(TEMPLATE_FIELDS))
            raise ValueError(f"unknown template field {{{name}}} (known fields: {known})")
        if conversion:
            raise ValueError(
                f"conversions like {{{name}!{conversion}}} are not allowed in templates"
            )
        if spec and "{" in spec:
            raise ValueError(f"nested fields in the format of {{{name}}} are not allowed")
        try:
            format(_SAMPLE[name], spec or "")
        except ValueError as exc:
            raise ValueError(f"bad format {spec!r} for {{{name}}}: {exc}") from exc
        parts.append((literal, name, spec or ""))
    return Template(source, tuple(parts))


def one_line(text: str) -> str:
    """Collapse all whitespace runs (newlines included) to single spaces."""
    return " ".join(text.split())
