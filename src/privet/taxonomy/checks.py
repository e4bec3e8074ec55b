"""Reading taxonomy YAML into entries: shape, duplicates, overrides, parents and cycles, each with file:line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from privet.kit.errors import Problem
from privet.kit.yamlio import line_of
from privet.taxonomy.entries import ENTRY_CLASSES, INPUT_CLASSES, SECTIONS, Entry

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

SHAPE_HINT = "see src/privet/taxonomy/default.yaml for the expected shape"
# An override may relabel an entry or make it stricter, never loosen what the law or the default says.
_FROZEN_ON_OVERRIDE = ("parent", "type", "consent", "category")


@dataclass
class Draft:
    """An entry being assembled, with where it was written (for problems)."""

    section: str
    fields: dict
    where: str
    company: bool = False

    @property
    def key(self) -> str:
        return self.fields["key"]


Drafts = dict[str, dict[str, Draft]]


class _Locator:
    def __init__(self, data: Any, source: str) -> None:
        self.data, self.source = data, source

    def __call__(self, *loc: Any) -> str:
        line = line_of(self.data, loc)
        return f"{self.source}:{line}" if line else self.source


Item = tuple[str, int, dict]  # section, index in the file, the entry's validated fields


def parse(data: Any, source: str, problems: list[Problem]) -> tuple[list[Item], _Locator, set[str]]:
    """Validate each entry's shape; bad entries become problems (naming `source:line`) and are left out."""
    where = _Locator(data, source)
    items: list[Item] = []
    broken: set[str] = set()  # keys of malformed entries, so their children do not also report them missing
    if not isinstance(data, Mapping):
        problems.append(
            Problem("the taxonomy is not a mapping; expected sections " + ", ".join(SECTIONS), where(), SHAPE_HINT)
        )
        return items, where, broken
    for section in data:
        if section not in SECTIONS:
            problems.append(
                Problem(f"unknown section `{section}`", where(section), "the sections are " + ", ".join(SECTIONS))
            )
            continue
        entries = data[section] if data[section] is not None else []
        if not isinstance(entries, list):
            problems.append(Problem(f"`{section}` must be a list of entries", where(section), SHAPE_HINT))
            continue
        for index, raw in enumerate(entries):
            try:
                model = INPUT_CLASSES[section].model_validate(raw)
            except ValidationError as exc:
                problems += [
                    Problem(_message(section, index, err), where(section, index, *err["loc"]), _hint(section, err))
                    for err in exc.errors()
                ]
                if isinstance(raw, Mapping) and isinstance(raw.get("key"), str):
                    broken.add(raw["key"])
                continue
            items.append((section, index, model.model_dump(exclude_unset=True)))
    return items, where, broken


def _message(section: str, index: int, err: ErrorDetails) -> str:
    loc = ".".join(str(p) for p in (section, index, *err["loc"]))
    if err["type"] == "extra_forbidden":
        return f"unknown field `{err['loc'][-1]}` at {loc}"
    if err["type"] == "model_type":
        return f"{loc} must be a mapping with `key:` and `name:`"
    return f"{loc}: {err['msg']}"


def _hint(section: str, err: ErrorDetails) -> str:
    kind, field = err["type"], str(err["loc"][-1]) if err["loc"] else ""
    if kind == "extra_forbidden":
        fields = ["key", *(f for f in INPUT_CLASSES[section].model_fields if f != "key")]
        return "remove it or fix the spelling; the fields here are " + ", ".join(fields)
    if kind == "string_pattern_mismatch" and field in ("key", "parent", "category", "fideslang"):
        return "keys are lowercase snake_case, dotted for categories and purposes (e.g. user.contact.email)"
    if kind == "string_pattern_mismatch" and field == "dpv":
        return "name a DPV term such as dpv-pd:EmailAddress or dpv:Marketing"
    if kind == "literal_error":
        return "use one of the values listed"
    if kind == "missing":
        return f"add `{field}:`"
    return SHAPE_HINT


def merge(base: Drafts, items: list[Item], where: _Locator, problems: list[Problem], *, company: bool) -> Drafts:
    """Add the parsed entries onto a copy of `base`: duplicates, overrides and missing names become problems."""
    out: Drafts = {
        section: {key: Draft(d.section, dict(d.fields), d.where, d.company) for key, d in entries.items()}
        for section, entries in base.items()
    }
    seen: dict[tuple[str, str], str] = {}
    for section, index, given in items:
        at = where(section, index)
        key = given["key"]
        if (section, key) in seen:
            problems.append(
                Problem(
                    f"duplicate {section} key `{key}` (first at {seen[section, key]})",
                    at,
                    "remove one of them or give it another key",
                )
            )
            continue
        seen[section, key] = at
        existing = out[section].get(key)
        if given.pop("override", False):
            if existing is None or existing.company:
                problems.append(
                    Problem(
                        f"`{key}` overrides nothing: the default has no such {section} key",
                        at,
                        "remove `override: true` to add it as a new entry",
                    )
                )
                continue
            out[section][key] = _override(existing, given, at, where, section, index, problems)
            continue
        if existing is not None:
            problems.append(
                Problem(
                    f"{section} key `{key}` is already defined by the default taxonomy",
                    at,
                    "choose another key, or add `override: true` to relabel it",
                )
            )
            continue
        if "en" not in (given.get("name") or {}):
            problems.append(Problem(f"`{key}` has no English name", at, "add `name: {en: ..., zh_CN: ...}`"))
            continue
        out[section][key] = Draft(section, given, at, company)
    return out


def _override(
    existing: Draft, given: dict, at: str, where: _Locator, section: str, index: int, problems: list[Problem]
) -> Draft:
    fields = dict(existing.fields)
    for name, value in given.items():
        old = fields.get(name)
        if name in _FROZEN_ON_OVERRIDE and value != old:
            problems.append(
                Problem(
                    f"an override cannot change `{name}` of `{existing.key}`",
                    where(section, index, name),
                    "add a new entry with its own key instead",
                )
            )
        elif name == "sensitive" and old is not None and value != old:
            problems.append(
                Problem(
                    f"`{existing.key}` is sensitive ({old}) by law; an override cannot change that",
                    where(section, index, name),
                    "remove `sensitive:` from the override",
                )
            )
        elif name == "profiles" and old is not None and not set(value) <= set(old):
            problems.append(
                Problem(
                    f"`{existing.key}` is valid only under {', '.join(old)}",
                    where(section, index, name),
                    "an override may only narrow `profiles`",
                )
            )
        elif name == "name":
            fields["name"] = {**(old or {}), **value}
        else:
            fields[name] = value
    return Draft(section, fields, at, company=True)


def check_graph(drafts: Drafts, problems: list[Problem], broken: frozenset[str] | set[str] = frozenset()) -> None:
    """Resolve parents, then report unknown parents, cycles, dangling identity categories and untyped purposes."""
    for section, entries in drafts.items():
        for draft in entries.values():
            key, parent = draft.key, draft.fields.get("parent")
            prefix = key.rsplit(".", 1)[0] if "." in key else None
            if parent is None and prefix is not None:
                draft.fields["parent"] = parent = prefix
            elif parent is not None and prefix is not None and parent != prefix:
                problems.append(
                    Problem(
                        f"`{key}` is dotted, so its parent is `{prefix}`, not `{parent}`",
                        draft.where,
                        "remove `parent:` or rename the key under its parent",
                    )
                )
                continue
            if parent is not None and parent not in entries and parent not in broken:
                problems.append(
                    Problem(
                        f"the parent `{parent}` of `{key}` is not a known {section} key",
                        draft.where,
                        "define the parent too, or fix the spelling",
                    )
                )
    problems += _cycles(drafts)
    problems += _inherit_and_link(drafts)


def _cycles(drafts: Drafts) -> list[Problem]:
    problems, reported = [], set()
    for entries in drafts.values():
        for start in entries.values():
            path: list[str] = []
            key: str | None = start.key
            while key is not None and key in entries and key not in path:
                path.append(key)
                key = entries[key].fields.get("parent")
            if key is not None and key in path:
                loop = path[path.index(key) :]
                if frozenset(loop) not in reported:
                    reported.add(frozenset(loop))
                    problems.append(
                        Problem(
                            "the parents form a cycle: " + " → ".join([*loop, key]),
                            entries[loop[0]].where,
                            "one entry in the loop must have no parent or a parent outside it",
                        )
                    )
    return problems


def _inherit_and_link(drafts: Drafts) -> list[Problem]:
    problems = []
    purposes = drafts["purposes"]
    for draft in purposes.values():
        node, visited = draft, set()
        while node.fields.get("type") is None and node.fields.get("parent") in purposes and node.key not in visited:
            visited.add(node.key)  # cycles are reported elsewhere; do not loop on them here
            node = purposes[node.fields["parent"]]
        if node.fields.get("type") is None and node.fields.get("parent") is None:
            problems.append(
                Problem(
                    f"purpose `{draft.key}` has no `type` and no typed parent",
                    draft.where,
                    "add `type:` (service, notice, marketing, analytics, legal, partner, "
                    "training, security, research, sharing or transfer)",
                )
            )
        elif draft.fields.get("type") is None:
            draft.fields["type"] = node.fields.get("type")
    for draft in drafts["identity_types"].values():
        category = draft.fields.get("category")
        if category is not None and category not in drafts["categories"]:
            problems.append(
                Problem(
                    f"identity type `{draft.key}` names the unknown category `{category}`",
                    draft.where,
                    "use a category key from `privet taxonomy list categories`",
                )
            )
    return problems


def finalise(drafts: Drafts) -> dict[str, dict[str, Entry]]:
    """Frozen entries, in definition order."""
    out: dict[str, dict[str, Entry]] = {}
    for section, entries in drafts.items():
        cls = ENTRY_CLASSES[section]
        built = {}
        for key, draft in entries.items():
            fields = {k: v for k, v in draft.fields.items() if v is not None}
            if "profiles" in fields:
                fields["profiles"] = tuple(fields["profiles"])
            built[key] = cls(**fields, source="company" if draft.company else "default")
        out[section] = built
    return out
