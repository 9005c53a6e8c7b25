"""Canned replies' variables: ``{{contact.name}}``, ``{{agent.name}}`` … filled in. Pure.

Unknown variables are left as written, so a typo shows in the draft instead of vanishing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

VARIABLES = (
    "contact.name",
    "contact.email",
    "contact.phone",
    "agent.name",
    "agent.login",
    "dialog.id",
    "dialog.channel",
    "dialog.subject",
)
_VARIABLE = re.compile(r"\{\{\s*([a-z]+\.[a-z]+)\s*\}\}")


def fill_canned(body: str, values: Mapping[str, str]) -> str:
    return _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), body)
