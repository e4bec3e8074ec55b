"""YAML in and out with line numbers kept, so every complaint can name `file:line`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from privet.kit.errors import InvalidInput, Problem


class LineDict(dict):
    """A mapping that remembers the line of itself and of each key (1-based)."""

    line: int = 0
    key_lines: dict


class LineList(list):
    """A sequence that remembers the line of itself and of each item (1-based)."""

    line: int = 0
    item_lines: list


class _Loader(yaml.SafeLoader):
    """Safe loader that records lines and refuses duplicate keys."""

    source: str = "<yaml>"


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {out.key_lines[key]})", key_node.start_mark
            )
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode, deep: bool = False) -> LineList:
    out = LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_text(text: str, source: str = "<yaml>") -> Any:
    """Parse YAML text; syntax errors become `InvalidInput` naming `source:line`."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidInput(
            "The YAML could not be read",
            problems=[Problem(str(problem), where, "fix the YAML syntax (indentation, quotes, colons)")],
        ) from None
    except RecursionError:  # the parser recurses once per level of nesting
        raise InvalidInput(
            "The YAML nests too deeply to be read",
            problems=[Problem("nested deeper than the parser allows", source, "send a flatter document")],
        ) from None


def load_file(path: Path) -> Any:
    """Read and parse one YAML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"Cannot read {path}: {exc.strerror}", "check the path and permissions") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text", "save the file as UTF-8") from None
    return load_text(text, str(path))


def line_of(data: Any, loc: Iterable[Any]) -> int | None:
    """The line of the deepest node along `loc` (a Pydantic error location) that carries one."""
    line = getattr(data, "line", None)
    node = data
    for part in loc:
        if isinstance(node, LineDict) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            break
        line = getattr(node, "line", None) if isinstance(node, LineDict) and part is None else line
    return line


def dump(data: Any) -> str:
    """Plain block-style YAML that keeps key order and Unicode text readable."""
    return yaml.dump(_plain(data), Dumper=yaml.SafeDumper, sort_keys=False, allow_unicode=True, width=110)


def _plain(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_plain(v) for v in data]
    return data
