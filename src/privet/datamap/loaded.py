"""A loaded data map: the merged manifest with the file and line of every object in it, and the names of its
sections. Loading (`manifest`) and the cross-reference checks (`validate`) both build on this module."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from privet.datamap.schemas import Manifest
from privet.kit.yamlio import line_of

LIST_SECTIONS = ("systems", "datastores", "datasets", "processing_activities", "recognizers")
SINGLE_SECTIONS = ("organisation", "taxonomy")


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
    # Keys of objects that are declared but structurally invalid (left out of `manifest`): reference checks
    # count them as declared, so one typo does not also report every reference to that object.
    invalid: dict[str, set[str]] = field(default_factory=dict)

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
