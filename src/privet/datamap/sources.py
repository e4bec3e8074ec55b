"""Where a dataset's data comes from (P3, P40): each source per category, with the third party it is received from
and the legal basis for obtaining it. A dataset's `sources:` may still be plain keys (`[registration, support]`):
such a source covers every category of the dataset and names no basis."""

from __future__ import annotations

import difflib
from typing import Any

from privet.datamap.loaded import LoadedManifest
from privet.kit.errors import Problem


def _overlaps(a: str, b: str) -> bool:
    """Dotted categories overlap when one is the other or lies beneath it."""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def _unknown(what: str, value: str, known: Any, where: str, fix: str) -> Problem:
    close = difflib.get_close_matches(value, list(known), n=1)
    return Problem(f"unknown {what} `{value}`", where, f"did you mean `{close[0]}`? otherwise {fix}" if close else fix)


def normalised(sources: list | None) -> list[dict]:
    """Each source as a dict with key, categories, third_party, legal_basis and description (plain keys too)."""
    out = []
    for source in sources or []:
        if isinstance(source, str):
            source = {"key": source}
        elif hasattr(source, "model_dump"):
            source = source.model_dump(mode="json")
        out.append(
            {
                "key": source["key"],
                "categories": list(source.get("categories") or []),
                "third_party": source.get("third_party"),
                "legal_basis": source.get("legal_basis"),
                "description": source.get("description"),
            }
        )
    return out


def covering(sources: list | None, categories: set[str]) -> list[dict]:
    """The sources that brought any of `categories`, each with the categories of them it brought (a source naming
    none brought them all)."""
    out = []
    for source in normalised(sources):
        mine = sorted(
            c for c in categories if not source["categories"] or any(_overlaps(c, s) for s in source["categories"])
        )
        if mine:
            out.append({**source, "brought": mine})
    return out


def check(loaded: LoadedManifest, taxonomy: Any) -> list[Problem]:
    """Source categories unknown to the taxonomy or held by no field of the dataset, and unknown legal bases."""
    problems = []
    for i, dataset in enumerate(loaded.manifest.datasets):
        held = {f.category for t in dataset.tables for f in t.fields if f.category}
        for j, source in enumerate(dataset.sources):
            if isinstance(source, str):
                continue
            at = ("datasets", i, "sources", j)
            for k, category in enumerate(source.categories):
                if category not in taxonomy.categories:
                    problems.append(
                        _unknown(
                            "data category",
                            category,
                            taxonomy.categories,
                            loaded.where(*at, "categories", k),
                            "add it under `taxonomy: categories:`",
                        )
                    )
                elif not any(_overlaps(category, h) for h in held):
                    problems.append(
                        Problem(
                            f"dataset `{dataset.key}` holds no field of category `{category}`",
                            loaded.where(*at, "categories", k),
                            "name categories of this dataset's fields (or leave `categories` out: all of them)",
                        )
                    )
            if source.legal_basis and source.legal_basis not in taxonomy.legal_bases:
                problems.append(
                    _unknown(
                        "legal basis",
                        source.legal_basis,
                        taxonomy.legal_bases,
                        loaded.where(*at, "legal_basis"),
                        "use a legal basis from the taxonomy",
                    )
                )
    return problems
