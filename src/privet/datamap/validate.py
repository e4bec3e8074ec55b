"""Cross-reference checks on a loaded manifest: every dangling key named with its file, line and a fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from privet.datamap import contacts, sources
from privet.datamap.loaded import LIST_SECTIONS, LoadedManifest
from privet.kit.errors import InvalidInput, PrivetError, Problem

_SINGULAR = {
    "systems": "system",
    "datastores": "datastore",
    "datasets": "dataset",
    "processing_activities": "processing activity",
    "recognizers": "recognizer",
}


def taxonomy_for(loaded: LoadedManifest) -> tuple[Any, list[Problem]]:
    """The default taxonomy plus the manifest's own `taxonomy:` section, and any problems in that section."""
    from privet.taxonomy.loader import default_taxonomy, load_taxonomy

    extension, source = loaded.taxonomy_extension
    if not extension:
        return default_taxonomy(), []
    try:
        return load_taxonomy(extension, source=source), []
    except PrivetError as exc:
        return default_taxonomy(), exc.problems or [Problem(exc.detail, source, exc.hint)]


def ensure_valid(loaded: LoadedManifest, taxonomy: Any = None) -> None:
    """Raise one InvalidInput listing every cross-reference problem (nothing is applied then)."""
    problems = check(loaded, taxonomy)
    if problems:
        raise InvalidInput(f"The data map has {len(problems)} problem(s)", problems=problems)


def _invalid(loaded: LoadedManifest, section: str) -> set[str]:
    """Keys declared in `section` whose objects failed structural checks (already reported)."""
    return loaded.invalid.get(section) or set()


def _unknown(what: str, value: str, known: Iterable[str], where: str, fix: str) -> Problem:
    close = difflib.get_close_matches(value, list(known), n=1)
    hint = f"did you mean `{close[0]}`? otherwise {fix}" if close else fix
    return Problem(f"unknown {what} `{value}`", where, hint)


def check(loaded: LoadedManifest, taxonomy: Any = None) -> list[Problem]:
    """Every cross-reference problem in the manifest (empty when it is consistent)."""
    problems: list[Problem] = []
    if taxonomy is None:
        taxonomy, problems = taxonomy_for(loaded)
    m, w = loaded.manifest, loaded.where
    if m.organisation is None and not _invalid(loaded, "organisation"):
        problems.append(
            Problem(
                "the data map has no `organisation` section",
                loaded.source,
                "add `organisation:` (key, name, profile, region, responsible) in one file",
            )
        )
    for section in LIST_SECTIONS:
        first: dict[str, int] = {}
        for i, obj in enumerate(getattr(m, section)):
            if obj.key in first:
                problems.append(
                    Problem(
                        f"duplicate {_SINGULAR[section]} key `{obj.key}` "
                        f"(first at {w(section, first[obj.key], 'key')})",
                        w(section, i, "key"),
                        "keys must be unique in their section; rename or remove one",
                    )
                )
            first.setdefault(obj.key, i)
    systems = {s.key for s in m.systems} | _invalid(loaded, "systems")
    for i, store in enumerate(m.datastores):
        if store.system not in systems:
            problems.append(
                _unknown("system", store.system, systems, w("datastores", i, "system"), "declare it under `systems:`")
            )
    problems += _check_datasets(loaded, taxonomy)
    problems += _check_activities(loaded, taxonomy)
    problems += sources.check(loaded, taxonomy) + contacts.check(loaded) + _check_recognizers(loaded, taxonomy)
    return problems


def _check_recognizers(loaded: LoadedManifest, taxonomy: Any) -> list[Problem]:
    """Each custom recognizer: a known category, a pattern that compiles, a validator discovery has."""
    import re

    from privet.datamap.discover.classify import VALIDATORS, custom_recognizer

    problems, w = [], loaded.where
    for i, rec in enumerate(loaded.manifest.recognizers):
        at, name = ("recognizers", i), f"recognizer `{rec.key}`"
        if rec.category not in taxonomy.categories:
            problems.append(
                _in(
                    name,
                    _unknown(
                        "data category",
                        rec.category,
                        taxonomy.categories,
                        w(*at, "category"),
                        "add it under `taxonomy: categories:`",
                    ),
                )
            )
        try:
            re.compile(rec.pattern)
        except re.error as exc:
            problems.append(
                Problem(
                    f"{name}: the pattern is not a valid regular expression ({exc.msg} at position {exc.pos})",
                    w(*at, "pattern"),
                    "fix the regular expression (Python syntax; quote it in YAML, e.g. 'ZK[A-Z]{2}\\d{8}')",
                )
            )
            continue
        if rec.validator and rec.validator not in VALIDATORS:
            problems.append(
                _in(
                    name,
                    _unknown(
                        "validator",
                        rec.validator,
                        VALIDATORS,
                        w(*at, "validator"),
                        f"use one of: {', '.join(sorted(VALIDATORS)) or '(none)'}, or leave `validator` out",
                    ),
                )
            )
            continue
        try:
            custom_recognizer(rec.key, rec.category, rec.pattern, rec.validator)
        except ValueError as exc:
            problems.append(Problem(f"{name}: {exc}", w(*at, "pattern"), "fix the pattern or the validator"))
    return problems


def _in(name: str, problem: Problem) -> Problem:
    return Problem(f"{name}: {problem.message}", problem.where, problem.hint)


def _check_datasets(loaded: LoadedManifest, taxonomy: Any) -> list[Problem]:
    m, w, problems = loaded.manifest, loaded.where, []
    stores = {d.key for d in m.datastores} | _invalid(loaded, "datastores")
    fields = {(d.key, t.name, f.name) for d in m.datasets for t in d.tables for f in t.fields}
    broken = _invalid(loaded, "datasets")  # their fields are unknown, so references into them are not judged
    for i, dataset in enumerate(m.datasets):
        if dataset.datastore not in stores:
            problems.append(
                _unknown(
                    "datastore",
                    dataset.datastore,
                    stores,
                    w("datasets", i, "datastore"),
                    "declare it under `datastores:`",
                )
            )
        tables: set[str] = set()
        for ti, table in enumerate(dataset.tables):
            at = ("datasets", i, "tables", ti)
            if table.name in tables:
                problems.append(
                    Problem(
                        f"duplicate table `{table.name}` in dataset `{dataset.key}`",
                        w(*at, "name"),
                        "list each table once",
                    )
                )
            tables.add(table.name)
            names: set[str] = set()
            for fi, f in enumerate(table.fields):
                here = (*at, "fields", fi)
                if f.name in names:
                    problems.append(
                        Problem(
                            f"duplicate field `{f.name}` in table `{table.name}`",
                            w(*here, "name"),
                            "list each field once",
                        )
                    )
                names.add(f.name)
                if f.category and f.category not in taxonomy.categories:
                    problems.append(
                        _unknown(
                            "data category",
                            f.category,
                            taxonomy.categories,
                            w(*here, "category"),
                            "add it under `taxonomy: categories:`",
                        )
                    )
                if f.identity and f.identity not in taxonomy.identity_types:
                    problems.append(
                        _unknown(
                            "identity type",
                            f.identity,
                            taxonomy.identity_types,
                            w(*here, "identity"),
                            "add it under `taxonomy: identity_types:`",
                        )
                    )
                if f.references:
                    parts = f.references.split(".")
                    target = (dataset.key, *parts) if len(parts) == 2 else tuple(parts)
                    if target not in fields and not (len(target) == 3 and target[0] in broken):
                        problems.append(
                            _unknown_reference(
                                f.references, target, dataset.key, m.datasets, fields, w(*here, "references")
                            )
                        )
            for column in table.primary_key:
                if column not in names:
                    problems.append(
                        _unknown(
                            "primary key field",
                            column,
                            names,
                            w(*at, "primary_key"),
                            f"list it under the fields of `{table.name}`",
                        )
                    )
    return problems


def _unknown_reference(reference: str, target: tuple, here: str, datasets: list, fields: set, where: str) -> Problem:
    """A reference to a field that is not declared, saying which part is missing: the dataset, the table or the
    field (a table of another dataset is written `dataset.table.field`)."""
    key, table, name = target
    tables = {(d.key, t.name) for d in datasets for t in d.tables}
    elsewhere = sorted(d for d, t in tables if t == table and d != key)
    if key not in {d.key for d in datasets}:
        missing = f"there is no dataset `{key}`"
    elif (key, table) not in tables:
        missing = f"dataset `{key}` has no table `{table}`"
    else:
        missing = f"table `{table}` has no field `{name}`"
    problem = _unknown(
        "reference target",
        reference,
        [".".join(x[1:] if x[0] == here else x) for x in fields],
        where,
        "write `table.field` (same dataset) or `dataset.table.field` naming a declared field",
    )
    hint = problem.hint
    if (key, table) not in tables and elsewhere:
        hint = f"`{table}` is a table of dataset {', '.join(f'`{d}`' for d in elsewhere)}: write "
        if len(elsewhere) == 1 and (elsewhere[0], table, name) in fields:
            hint += f"`{table}.{name}`" if elsewhere[0] == here else f"`{elsewhere[0]}.{table}.{name}`"
        else:
            hint += f"`dataset.{table}.field` naming a declared field"
    return Problem(f"{problem.message}: {missing}", where, hint)


def _check_activities(loaded: LoadedManifest, taxonomy: Any) -> list[Problem]:
    m, w, problems = loaded.manifest, loaded.where, []
    datasets = {d.key for d in m.datasets} | _invalid(loaded, "datasets")
    profile = m.organisation.profile.value if m.organisation else None
    for i, act in enumerate(m.processing_activities):
        at = ("processing_activities", i)
        if act.purpose not in taxonomy.purposes:
            problems.append(
                _unknown(
                    "purpose", act.purpose, taxonomy.purposes, w(*at, "purpose"), "add it under `taxonomy: purposes:`"
                )
            )
        basis = taxonomy.legal_bases.get(act.legal_basis)
        if basis is None:
            problems.append(
                _unknown(
                    "legal basis",
                    act.legal_basis,
                    taxonomy.legal_bases,
                    w(*at, "legal_basis"),
                    "use a legal basis from the taxonomy",
                )
            )
        elif profile and getattr(basis, "profiles", None) and profile not in basis.profiles:
            valid = sorted(k for k, b in taxonomy.legal_bases.items() if not b.profiles or profile in b.profiles)
            problems.append(
                Problem(
                    f"legal basis `{act.legal_basis}` is not available under the {profile.upper()} profile",
                    w(*at, "legal_basis"),
                    f"use one of: {', '.join(valid)}",
                )
            )
        for name, known, what, fix in (
            ("subject_types", taxonomy.subject_types, "subject type", "add it under `taxonomy: subject_types:`"),
            ("datasets", datasets, "dataset", "declare it under `datasets:`"),
            ("required_categories", taxonomy.categories, "data category", "add it under `taxonomy: categories:`"),
            ("optional_categories", taxonomy.categories, "data category", "add it under `taxonomy: categories:`"),
        ):
            for j, value in enumerate(getattr(act, name)):
                if value not in known:
                    problems.append(_unknown(what, value, known, w(*at, name, j), fix))
        for j, value in enumerate(act.optional_categories):
            if value in act.required_categories:
                problems.append(
                    Problem(
                        f"category `{value}` is both required and optional",
                        w(*at, "optional_categories", j),
                        "keep it in one of the two lists",
                    )
                )
    return problems
