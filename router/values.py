"""``value``: the dataclasses routing builds by the dozen per message, immutable to mypy.

A ``@dataclass(frozen=True)`` sets each field in ``__init__`` through ``object.__setattr__``:
building one of five fields costs 0.91 µs against 0.24 µs for the same class unfrozen
(Python 3.11). Routing builds about fourteen per message (facts, traces, task plans,
candidate views, assignments): 13% of its CPU went there (py-spy over bench/routing_cpu.py).

A ``value`` class is frozen where it is checked, by mypy (``frozen_default`` of
``dataclass_transform``: assigning a field is a type error), and unfrozen at run time. It
keeps a frozen dataclass's equality and field hash, and its ``__post_init__``, which may set
a field with ``object.__setattr__`` as in a frozen class.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar, dataclass_transform, overload

_T = TypeVar("_T")


@overload
def value(cls: type[_T], /) -> type[_T]: ...
@overload
def value(*, slots: bool = True) -> Callable[[type[_T]], type[_T]]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def value(
    cls: type[_T] | None = None, /, *, slots: bool = True
) -> type[_T] | Callable[[type[_T]], type[_T]]:
    """Make ``cls`` a value dataclass; ``slots=False`` for a class with cached properties."""

    def make(c: type[_T]) -> type[_T]:
        return dataclass(slots=slots, unsafe_hash=True)(c)

    return make if cls is None else make(cls)
