"""Turn pydantic validation errors into rules.yaml issues with readable messages."""

from __future__ import annotations

import re
import types
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from router.issues import IssueCollector, Path, did_you_mean

M = TypeVar("M", bound=BaseModel)


def validate_entry(model: type[M], raw: Any, path: Path, issues: IssueCollector) -> M | None:
    """Validate ``raw`` against ``model``; on failure report every error under ``path``."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(part for part in error["loc"] if part != "[key]")
            issues.error((*path, *loc), _message(model, error, loc))
        return None


def _message(model: type[BaseModel], error: Any, loc: tuple[Any, ...]) -> str:
    kind, msg, given = error["type"], error["msg"], error.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        return f"unknown key {key!r}{did_you_mean(key, allowed_keys(model, loc[:-1]))}"
    if kind == "missing":
        return f"missing required key {loc[-1]!r}" if loc else "missing value"
    if kind == "value_error":
        return str(msg).removeprefix("Value error, ")
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
        hint = did_you_mean(str(given), choices) if isinstance(given, str) else ""
        return f"expected one of {', '.join(choices)}, got {_short(given)}{hint}"
    if kind == "model_type" or kind == "dict_type":
        return f"expected a mapping, got {_short(given)}"
    text = str(msg)
    return f"{text[:1].lower()}{text[1:]}, got {_short(given)}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys the mapping at ``loc`` (inside ``model``) accepts, for did-you-mean hints."""
    annotation: Any = model
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = {info.alias or name: info for name, info in annotation.model_fields.items()}
            info = fields.get(str(part))
            if info is None:
                return []
            annotation = info.annotation
        elif get_origin(annotation) in (list, dict):
            annotation = get_args(annotation)[-1]
        else:
            return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [info.alias or name for name, info in annotation.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [arg for arg in get_args(annotation) if arg is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            annotation = models[0] if models else args[0]
        else:
            return annotation
