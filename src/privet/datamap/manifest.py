"""Loading data map manifests (one YAML file or a folder) with every problem named by `file:line`."""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, PydanticKnownError

from privet.datamap.loaded import LIST_SECTIONS, SINGLE_SECTIONS, LoadedManifest, Origin
from privet.datamap.schemas import Manifest
from privet.datamap.validate import check
from privet.kit.errors import InvalidInput, PrivetError, Problem
from privet.kit.yamlio import line_of, load_file, load_text

_PATTERN_HINTS = {
    "region": "write an ISO 3166 code such as CN, US, DE (or EU, EEA, GLOBAL)",
    "references": "write `table.field` (same dataset) or `dataset.table.field`",
    "dotted": "write a lowercase dotted key such as contact.email",
    "key": "write a lowercase snake_case key such as crm_db",
}
_PATTERN_OF = {
    "region": "region",
    "destination": "region",
    "storage_locations": "region",
    "to": "references",
    "references": "references",
    "category": "dotted",
    "purpose": "dotted",
    "required_categories": "dotted",
    "optional_categories": "dotted",
}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")  # a label shows a key only when it is one
_HINTS = {
    "enum": "use one of the values listed",
    "model_type": "write a mapping of `key: value` lines here",
    "list_type": "write a list here (lines starting with `- `)",
}


def _files(path: Path) -> list[Path]:
    if not path.exists():
        raise InvalidInput(f"No such file or folder: {path}", "give the path of a manifest YAML file or folder")
    if path.is_file():
        return [path]
    found = sorted(
        p
        for p in path.rglob("*")
        if p.is_file()
        and p.suffix in (".yaml", ".yml")
        and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )
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


def merge_documents(documents: Iterable[tuple[str, Any]], problems: list[Problem], *, source: str) -> LoadedManifest:
    """Validate each document, merge the sections, and raise once with every problem found (cross-reference
    checks included: they run on the parts that are valid, so one run reports a typo and a dangling key)."""
    origins: dict[str, list[Origin]] = {s: [] for s in (*SINGLE_SECTIONS, *LIST_SECTIONS)}
    invalid: dict[str, set[str]] = {s: set() for s in (*SINGLE_SECTIONS, *LIST_SECTIONS)}
    parts: list[Manifest] = []
    first_in: dict[str, str] = {}
    readable = not problems  # a file that cannot be parsed hides what it declares: references can't be judged
    for name, data in documents:
        if data is None:
            continue  # an empty file is allowed (e.g. a placeholder)
        if not isinstance(data, dict):
            problems.append(
                Problem(
                    "the top level must be a mapping of sections",
                    f"{name}:{_line(data)}",
                    "start with `organisation:`, `systems:`, `datastores:`, `datasets:` or `processing_activities:`",
                )
            )
            readable = False
            continue
        for section in (s for s in SINGLE_SECTIONS if data.get(s) is not None):
            first = first_in.setdefault(section, name)
            if first != name:
                problems.append(
                    Problem(
                        f"`{section}` is given twice (also in {first})",
                        f"{name}:{line_of(data, [section])}",
                        f"keep a single `{section}:` section across {first} and {name}",
                    )
                )
        try:
            Manifest.model_validate(data)
            errors: list[ErrorDetails] = []
        except ValidationError as exc:
            errors = exc.errors()
            problems += [_problem(err, data, name) for err in errors]
        part, whole = _valid_part(data, name, errors, origins, invalid)
        parts.append(part)
        readable = readable and whole
    merged = Manifest(
        organisation=next((p.organisation for p in parts if p.organisation), None),
        taxonomy=next((p.taxonomy for p in parts if p.taxonomy is not None), None),
        **{section: [item for p in parts for item in getattr(p, section)] for section in LIST_SECTIONS},
    )
    loaded = LoadedManifest(merged, origins, source, invalid)
    if problems:
        if readable:
            problems += check(loaded)
        raise InvalidInput(f"The data map has {len(problems)} problem(s)", problems=problems)
    return loaded


def _valid_part(
    data: dict, name: str, errors: list[ErrorDetails], origins: dict[str, list[Origin]], invalid: dict[str, set[str]]
) -> tuple[Manifest, bool]:
    """The document's valid sections and list items (recording their origins), and whether every list
    section could be read item by item (else the keys it declares are unknown)."""
    bad_items = {tuple(e["loc"][:2]) for e in errors if len(e["loc"]) > 1 and isinstance(e["loc"][1], int)}
    bad_sections = {e["loc"][0] for e in errors if e["loc"] and (e["loc"][0] in SINGLE_SECTIONS or len(e["loc"]) == 1)}
    kept: dict[str, Any] = {}
    whole = True
    for section in SINGLE_SECTIONS:
        node = data.get(section)
        if node is not None and section in bad_sections:
            invalid[section].add(section)
        elif node is not None:
            kept[section] = node
            origins[section].append(Origin(name, node))
    for section in LIST_SECTIONS:
        items = data.get(section)
        if section in bad_sections or not isinstance(items, list):
            whole = whole and section not in bad_sections
            continue
        kept[section] = []
        for i, item in enumerate(items):
            if (section, i) in bad_items:
                key = item.get("key") if isinstance(item, dict) else None
                if isinstance(key, str):
                    invalid[section].add(key)
                else:
                    whole = False
                continue
            kept[section].append(item)
            origins[section].append(Origin(name, item))
    try:
        return Manifest.model_validate(kept), whole
    except ValidationError:  # cannot happen (every failing part was left out); stay safe and skip references
        return Manifest(), False


def _line(data: Any) -> int:
    return getattr(data, "line", 0) or 1


def _problem(err: ErrorDetails, data: Any, source: str) -> Problem:
    """A Pydantic error as a Problem at the file and line of the offending key (never quoting the value)."""
    loc = tuple(err.get("loc", ()))
    line = line_of(data, loc) or _line(data)
    kind, label = err.get("type", ""), _label(data, loc)
    msg = _message(err)
    hint = _HINTS.get(kind, "see the manifest reference in privet/datamap/schemas.py")
    value = err.get("input")
    if loc and loc[-1] == "secret" and isinstance(value, str) and "://" in value:
        return Problem(
            f"{label}: looks like a connection URL; name a secret instead (PRIVET_SECRETS)",
            f"{source}:{line}",
            "write a secret name such as crm_db and keep the URL in PRIVET_SECRETS or the secrets file",
        )
    if kind == "string_pattern_mismatch":
        pattern = _pattern_kind(loc)
        hint, msg = _PATTERN_HINTS[pattern], f"not a valid {pattern}"
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        allowed = sorted(model.model_fields) if model else []
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        message = f"unknown key `{loc[-1]}`" + (f" in {_label(data, loc[:-1])}" if loc[:-1] else "")
        hint = (f"did you mean `{close[0]}`? " if close else "") + (
            f"allowed: {', '.join(allowed)}" if allowed else "remove it"
        )
        return Problem(message, f"{source}:{line}", hint)
    if kind == "missing":
        return Problem(
            f"missing required key `{loc[-1]}` in {_label(data, loc[:-1]) or 'the document'}",
            f"{source}:{line}",
            f"add `{loc[-1]}:` here",
        )
    return Problem(f"{label}: {msg}" if label else msg, f"{source}:{line}", hint)


def _message(err: ErrorDetails) -> str:
    """Pydantic's message rebuilt from the error type and context only: its `msg` may quote the input,
    which can be a password or personal data, and problems are printed and returned by the API."""
    kind, ctx, value = err.get("type", ""), err.get("ctx") or {}, err.get("input")
    if kind in ("value_error", "assertion_error"):  # our own validators' text; some quote the value
        text = str(ctx.get("error", "invalid value"))
        if isinstance(value, str) and value:
            text = text.replace(repr(value), "the value")
            if len(value) > 2 and value in text:
                return "the value is not valid"
        return text
    try:
        return PydanticKnownError(
            kind,  # type: ignore[arg-type]  # any error type: one Pydantic does not know raises KeyError, caught below
            {k: v for k, v in ctx.items() if isinstance(v, (str, int, float))} or None,
        ).message()
    except (KeyError, TypeError, ValueError):
        return "invalid value"


def _pattern_kind(loc: tuple) -> str:
    names = [p for p in loc if isinstance(p, str)]
    return _PATTERN_OF.get(names[-1] if names else "", "key")


def _label(data: Any, loc: tuple) -> str:
    """`datasets.crm.tables.customers.fields.email` — list positions replaced by the item's key or name (when
    it looks like an identifier: a free-text value there could be personal data)."""
    parts, node = [], data
    for part in loc:
        child = None
        if isinstance(node, dict) and part in node:
            child = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            child = node[part]
            name = child.get("key") or child.get("name") if isinstance(child, dict) else None
            parts.append(name if isinstance(name, str) and _IDENTIFIER.match(name) else f"[{part}]")
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
