"""Loading data map manifests (one YAML file or a folder) with every problem named by `file:line`."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from privet.datamap.schemas import Manifest
from privet.kit.errors import InvalidInput, PrivetError, Problem
from privet.kit.yamlio import line_of, load_file, load_text

LIST_SECTIONS = ("systems", "datastores", "datasets", "processing_activities")
SINGLE_SECTIONS = ("organisation", "taxonomy")
_PATTERN_HINTS = {
    "region": "write an ISO 3166 code such as CN, US, DE (or EU, EEA, GLOBAL)",
    "references": "write `table.field` (same dataset) or `dataset.table.field`",
    "dotted": "write a lowercase dotted key such as contact.email",
    "key": "write a lowercase snake_case key such as crm_db",
}
_HINTS = {
    "enum": "use one of the values listed",
    "missing": "add the key; see the manifest reference in privet/datamap/schemas.py",
    "model_type": "write a mapping of `key: value` lines here",
    "list_type": "write a list here (lines starting with `- `)",
}


@dataclass
class Origin:
    """Where one merged object came from: its file and its raw YAML node (which knows its lines)."""

    source: str
    node: Any


@dataclass
class LoadedManifest:
    """A merged, structurally valid manifest plus the file and line of every object in it."""

    manifest: Manifest
    origins: dict[str, list[Origin]] = field(default_factory=dict)
    source: str = "<manifest>"

    def where(self, section: str, index: int | None = None, *path: Any) -> str:
        """`file:line` of `section[index].path…` (or a dotted path when no line is known)."""
        items = self.origins.get(section) or []
        position = 0 if index is None else index
        if position < len(items):
            origin = items[position]
            line = line_of(origin.node, path) if path else getattr(origin.node, "line", None)
            if line:
                return f"{origin.source}:{line}"
            source = origin.source
        else:
            source = self.source
        dotted = ".".join(str(p) for p in (section, *(() if index is None else (index,)), *path))
        return f"{source}.{dotted}"

    @property
    def taxonomy_extension(self) -> tuple[dict | None, str]:
        """The manifest's own `taxonomy:` section (raw, with lines) and the file it is in."""
        items = self.origins.get("taxonomy") or []
        if items and isinstance(items[0].node, dict):
            return items[0].node, items[0].source
        return self.manifest.taxonomy, self.source


def _files(path: Path) -> list[Path]:
    if not path.exists():
        raise InvalidInput(f"No such file or folder: {path}", "give the path of a manifest YAML file or folder")
    if path.is_file():
        return [path]
    found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml")
                   and not any(part.startswith(".") for part in p.relative_to(path).parts))
    if not found:
        raise InvalidInput(f"No *.yaml or *.yml files in {path}", "put the data map manifests in this folder")
    return found


def load_manifest(path: Path) -> LoadedManifest:
    """Load one manifest file or every `*.yaml`/`*.yml` under a folder; raise one InvalidInput with all problems."""
    documents, problems = [], []
    for file in _files(Path(path)):
        try:
            documents.append((str(file), load_file(file)))
        except PrivetError as exc:
            problems += exc.problems or [Problem(exc.detail, str(file), exc.hint)]
    return merge_documents(documents, problems, source=str(path))


def load_document(data: Any, source: str) -> LoadedManifest:
    """Validate one already-parsed document (YAML text from the API, or JSON)."""
    return merge_documents([(source, data)], [], source=source)


def load_yaml_text(text: str, source: str = "body") -> LoadedManifest:
    """Parse and validate one YAML document given as text."""
    return load_document(load_text(text, source), source)


def merge_documents(documents: Iterable[tuple[str, Any]], problems: list[Problem], *,
                    source: str) -> LoadedManifest:
    """Validate each document, merge the sections, and raise once with every problem found."""
    origins: dict[str, list[Origin]] = {s: [] for s in (*SINGLE_SECTIONS, *LIST_SECTIONS)}
    parts: list[Manifest] = []
    for name, data in documents:
        if data is None:
            continue  # an empty file is allowed (e.g. a placeholder)
        if not isinstance(data, dict):
            problems.append(Problem("the top level must be a mapping of sections", f"{name}:{_line(data)}",
                                    "start with `organisation:`, `systems:`, `datastores:`, `datasets:` or "
                                    "`processing_activities:`"))
            continue
        for section in SINGLE_SECTIONS:
            if data.get(section) is not None:
                if origins[section]:
                    first = origins[section][0].source
                    problems.append(Problem(f"`{section}` is given twice (also in {first})",
                                            f"{name}:{line_of(data, [section])}",
                                            f"keep a single `{section}:` section across {first} and {name}"))
                origins[section].append(Origin(name, data[section]))
        for section in LIST_SECTIONS:
            items = data.get(section)
            origins[section] += [Origin(name, item) for item in items] if isinstance(items, list) else []
        try:
            parts.append(Manifest.model_validate(data))
        except ValidationError as exc:
            problems += [_problem(err, data, name) for err in exc.errors()]
    if problems:
        raise InvalidInput(f"The data map has {len(problems)} problem(s)", problems=problems)
    merged = Manifest(
        organisation=next((p.organisation for p in parts if p.organisation), None),
        taxonomy=next((p.taxonomy for p in parts if p.taxonomy is not None), None),
        **{section: [item for p in parts for item in getattr(p, section)] for section in LIST_SECTIONS},
    )
    return LoadedManifest(merged, origins, source)


def _line(data: Any) -> int:
    return getattr(data, "line", 0) or 1


def _problem(err: dict, data: Any, source: str) -> Problem:
    """A Pydantic error as a Problem at the file and line of the offending key."""
    loc = tuple(err.get("loc", ()))
    line = line_of(data, loc) or _line(data)
    kind, label = err.get("type", ""), _label(data, loc)
    msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    hint = _HINTS.get(kind, "see the manifest reference in privet/datamap/schemas.py")
    if kind == "string_pattern_mismatch":
        pattern = _pattern_kind(loc)
        hint, msg = _PATTERN_HINTS[pattern], f"{err.get('input')!r} is not a valid {pattern}"
    if kind == "extra_forbidden":
        allowed = sorted(_model_at(loc[:-1]).model_fields) if _model_at(loc[:-1]) else []
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        message = f"unknown key `{loc[-1]}`" + (f" in {_label(data, loc[:-1])}" if loc[:-1] else "")
        hint = (f"did you mean `{close[0]}`? " if close else "") + (f"allowed: {', '.join(allowed)}" if allowed
                                                                   else "remove it")
        return Problem(message, f"{source}:{line}", hint)
    if kind == "missing":
        return Problem(f"missing required key `{loc[-1]}` in {_label(data, loc[:-1]) or 'the document'}",
                       f"{source}:{line}", f"add `{loc[-1]}:` here")
    return Problem(f"{label}: {msg}" if label else msg, f"{source}:{line}", hint)


def _pattern_kind(loc: tuple) -> str:
    names = [p for p in loc if isinstance(p, str)]
    last = names[-1] if names else ""
    if last in ("region", "destination", "storage_locations"):
        return "region"
    if last in ("references", "to"):
        return "references"
    if last in ("category", "purpose", "required_categories", "optional_categories"):
        return "dotted"
    return "key"


def _label(data: Any, loc: tuple) -> str:
    """`datasets.crm.tables.customers.fields.email` — list positions replaced by the item's key or name."""
    parts, node = [], data
    for part in loc:
        child = None
        if isinstance(node, dict) and part in node:
            child = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            child = node[part]
            name = child.get("key") or child.get("name") if isinstance(child, dict) else None
            parts.append(str(name) if isinstance(name, str) else f"[{part}]")
            node = child
            continue
        parts.append(str(part))
        node = child
    return ".".join(parts).replace(".[", "[")


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The schema class found by walking `loc` from Manifest (for listing the allowed keys)."""
    model: Any = Manifest
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return None
        model = _unwrap(model.model_fields[part].annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """`list[X]`, `X | None` → X."""
    while True:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        origin = typing.get_origin(annotation)
        if origin in (list, typing.Union, types.UnionType) and len(args) == 1:
            annotation = args[0]
        else:
            return annotation
