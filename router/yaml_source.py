"""Safe YAML parsing that keeps, for every key path, the line it was written on."""

from __future__ import annotations

from typing import Any

import yaml

from router.issues import Path, RuleIssue, RulesError, format_path


def parse_yaml_with_lines(text: str, filename: str) -> tuple[Any, dict[Path, int]]:
    """Parse ``text`` with the safe loader; return the data and a map key path -> 1-based line.

    A mapping key's path maps to the line of the key; a sequence item's path to the line where the
    item starts, except that a scalar value maps to its own line. Duplicate keys are errors (plain
    PyYAML silently keeps the last one).
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines: dict[Path, int] = {(): node.start_mark.line + 1}
        issues: list[RuleIssue] = []
        data = _build(loader, node, (), lines, issues, filename)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise RulesError([RuleIssue(filename, line, "", f"YAML syntax error: {problem}")]) from exc
    except yaml.YAMLError as exc:
        raise RulesError([RuleIssue(filename, 1, "", f"YAML error: {exc}")]) from exc
    finally:
        loader.dispose()
    if issues:
        raise RulesError(issues)
    return data, lines


def _build(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    path: Path,
    lines: dict[Path, int],
    issues: list[RuleIssue],
    filename: str,
) -> Any:
    if isinstance(node, yaml.MappingNode):
        written = sum(1 for key_node, _ in node.value if key_node.tag != "tag:yaml.org,2002:merge")
        loader.flatten_mapping(node)  # resolves "<<" merge keys: merged pairs come first
        merged = len(node.value) - written
        out: dict[Any, Any] = {}
        from_merge: set[Any] = set()  # keys an explicit key may still override once
        for position, (key_node, value_node) in enumerate(node.value):
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                key = str(key).lower() if isinstance(key, bool) else str(key)
            child = (*path, key)
            line = key_node.start_mark.line + 1
            if position < merged:
                if key in out:
                    continue  # the first merged mapping that has a key wins
                from_merge.add(key)
            elif key in from_merge:
                from_merge.discard(key)
            elif key in out:
                message = f"duplicate key {key!r}"
                issues.append(RuleIssue(filename, line, format_path(child), message))
            lines[child] = line
            if isinstance(value_node, yaml.ScalarNode):
                lines[child] = value_node.start_mark.line + 1
            out[key] = _build(loader, value_node, child, lines, issues, filename)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines[child] = item.start_mark.line + 1
            items.append(_build(loader, item, child, lines, issues, filename))
        return items
    return loader.construct_object(node, deep=True)
