"""Convert a Fides dataset YAML (collections, fields, `fides_meta`, data_categories) into Privet's format.

Decisions, so a reviewer knows what to expect:
- Each Fides dataset becomes one Privet dataset; each collection a table; `fides_key` is snake-cased.
- Nested fields (object/JSON columns) are flattened to `parent.child` names, one Privet field per leaf,
  so every leaf keeps its own category and identity; the parent itself is not listed.
- Fides allows several categories per field, Privet one: the first personal one wins, the rest are noted
  in the field's description. `system.*` categories mean "not personal" and give no category.
- A category maps through the taxonomy's fideslang column: exactly, or (unless `strict`) to the nearest
  mapped ancestor. Categories that map to nothing are errors listed with their lines.
- `fides_meta` (or the older `fidesops_meta`) gives the identity type, primary key and references; both
  reference directions become Privet's `references` (the relation is the same, only Fides' walk differs).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from privet.kit.errors import InvalidInput, Problem
from privet.kit.yamlio import LineDict, LineList, load_file

if TYPE_CHECKING:
    from privet.taxonomy.loader import Taxonomy

# Fides identity names whose Privet name differs; others are kept (snake-cased) as custom identity types.
IDENTITIES = {"phone_number": "phone", "phone": "phone", "email": "email", "user_id": "user_id",
              "external_id": "user_id", "device_serial": "device_serial", "serial_number": "device_serial",
              "wechat_openid": "wechat_openid"}
_WORD = re.compile(r"^[A-Za-z_]\w*$")


def convert_fides(path: Path, *, datastore_key: str | None = None, strict: bool = False,
                  taxonomy: Taxonomy | None = None) -> dict:
    """Read a Fides dataset file and return Privet manifest sections (`datasets`, plus datastore stubs)."""
    from privet.taxonomy.loader import default_taxonomy

    data = load_file(path)
    conv = _Converter(str(path), taxonomy or default_taxonomy(), strict)
    if not isinstance(data, dict) or not isinstance(data.get("dataset"), list):
        raise InvalidInput("Not a Fides dataset file", problems=[Problem(
            "expected a top-level `dataset:` list", f"{path}:{getattr(data, 'line', 1)}",
            "a Fides dataset file starts with `dataset:` followed by `- fides_key: ...` entries")])
    datasets = [conv.dataset(item, datastore_key) for item in data["dataset"]]
    if conv.problems:
        raise InvalidInput(f"The Fides file cannot be converted ({len(conv.problems)} problems)",
                           problems=conv.problems)
    out: dict[str, Any] = {}
    if not datastore_key:
        out["datastores"] = [{"key": d["datastore"], "system": "todo", "kind": "manual", "region": "CN",
                              "description": "TODO: set system, kind, region and secret of this datastore"}
                             for d in datasets]
    out["datasets"] = datasets
    return out


def dataset_key(fides_key: str) -> str:
    """A Fides key (`postgres-example.test`) as a Privet key (`postgres_example_test`)."""
    key = re.sub(r"[^a-z0-9]+", "_", fides_key.lower()).strip("_")
    return key if re.match(r"^[a-z]", key) else f"d_{key}"


class _Converter:
    def __init__(self, source: str, taxonomy: Any, strict: bool) -> None:
        self.source, self.taxonomy, self.strict = source, taxonomy, strict
        self.problems: list[Problem] = []
        self.current = ""

    def _bad(self, node: Any, message: str, hint: str, line: int | None = None) -> None:
        self.problems.append(Problem(message, f"{self.source}:{line or getattr(node, 'line', 1)}", hint))

    def dataset(self, item: Any, datastore_key: str | None) -> dict:
        if not isinstance(item, dict) or not isinstance(item.get("fides_key"), str):
            self._bad(item, "a dataset needs a `fides_key`", "add `fides_key: my_dataset` to the entry")
            return {}
        key = dataset_key(item["fides_key"])
        self.current = item["fides_key"]
        collections = item.get("collections")
        if not isinstance(collections, list) or not collections:
            self._bad(item, f"dataset {item['fides_key']!r} has no `collections:` list",
                      "list the dataset's tables under `collections:`")
            collections = []
        out = {"key": key, "datastore": datastore_key or key}
        description = item.get("description") or item.get("name")
        if description:
            out["description"] = str(description)
        out["tables"] = [t for t in (self.collection(c) for c in collections) if t]
        return out

    def collection(self, item: Any) -> dict | None:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            self._bad(item, "a collection needs a `name`", "add `name: table_name` to the collection")
            return None
        fields_node = item.get("fields")
        if not isinstance(fields_node, list):
            self._bad(item, f"collection {item['name']!r} has no `fields:` list", "list its columns under `fields:`")
            return None
        table: dict[str, Any] = {"name": item["name"]}
        if item.get("description"):
            table["description"] = str(item["description"])
        fields: list[dict] = []
        primary_key: list[str] = []
        for node in fields_node:
            self.field(node, "", fields, primary_key)
        if primary_key:
            table["primary_key"] = primary_key
        table["fields"] = fields
        return table

    def field(self, node: Any, prefix: str, out: list[dict], primary_key: list[str]) -> None:
        if not isinstance(node, dict) or not isinstance(node.get("name"), str):
            self._bad(node, "a field needs a `name`", "add `name: column_name` to the field")
            return
        name = prefix + node["name"]
        if isinstance(node.get("fields"), list):  # object/JSON column: flatten its leaves
            for child in node["fields"]:
                self.field(child, f"{name}.", out, primary_key)
            return
        meta = node.get("fides_meta") or node.get("fidesops_meta") or {}
        if not isinstance(meta, dict):
            self._bad(node, f"`fides_meta` of field {name!r} is not a mapping", "indent its keys under it")
            meta = {}
        field: dict[str, Any] = {"name": name}
        notes = [str(node["description"])] if node.get("description") else []
        category, extra = self.categories(node, name)
        if category:
            field["category"] = category
        notes += [f"Fides also labels it {', '.join(extra)}"] if extra else []
        if meta.get("identity"):
            field["identity"] = IDENTITIES.get(str(meta["identity"]), dataset_key(str(meta["identity"])))
        reference, more = self.references(meta, node)
        if reference:
            field["references"] = reference
        notes += more
        if meta.get("primary_key") is True:
            primary_key.append(name)
        if notes:
            field["description"] = "; ".join(notes)
        out.append(field)

    def categories(self, node: LineDict, name: str) -> tuple[str | None, list[str]]:
        """The Privet category of a field, and its other Fides labels (kept as a note)."""
        raw = node.get("data_categories") or []
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list):
            self._bad(node, f"`data_categories` of field {name!r} is not a list", "write [user.contact.email]")
            return None, []
        chosen, extra = None, []
        for i, fides in enumerate(raw):
            fides = str(fides)
            if fides == "system" or fides.startswith("system."):
                continue  # fideslang's system.* labels say "operational data, not personal"
            line = raw.item_lines[i] if isinstance(raw, LineList) else node.line
            mapped = self.map_category(fides, node, line)
            if mapped and chosen is None:
                chosen = mapped
            elif mapped and mapped != chosen:
                extra.append(fides)
        return chosen, extra

    def map_category(self, fides: str, node: Any, line: int) -> str | None:
        mapped = self.taxonomy.by_fideslang(fides)
        exact = any(c.fideslang == fides for c in self.taxonomy.categories.values())
        if mapped and (exact or not self.strict):
            return getattr(mapped, "key", mapped)
        if mapped:
            self._bad(node, f"fideslang category {fides!r} has no exact Privet mapping (nearest: "
                      f"{getattr(mapped, 'key', mapped)})", f"add an entry with `fideslang: {fides}` to the company "
                      "taxonomy, or run without --strict to use the nearest mapped parent", line)
        else:
            self._bad(node, f"fideslang category {fides!r} has no Privet mapping",
                      f"add an entry with `fideslang: {fides}` to the company taxonomy", line)
        return None

    def references(self, meta: dict, node: Any) -> tuple[str | None, list[str]]:
        refs = meta.get("references") or []
        if not isinstance(refs, list):
            self._bad(node, "`references` is not a list", "write `references: [{dataset: d, field: t.f}]`")
            return None, []
        targets = []
        for ref in refs:
            if not isinstance(ref, dict) or not isinstance(ref.get("field"), str) or "." not in ref["field"]:
                self._bad(ref if isinstance(ref, dict) else node, "a reference needs `field: collection.field`",
                          "name the referenced field as collection.field")
                continue
            parts = ref["field"].split(".")
            if len(parts) != 2 or not all(_WORD.match(p) for p in parts):
                targets.append(None)  # a nested target (coll.parent.child) has no Privet spelling
                continue
            if ref.get("dataset") and ref["dataset"] != self.current:
                parts = [dataset_key(str(ref["dataset"])), *parts]
            targets.append(".".join(parts))
        usable = [t for t in targets if t]
        notes = [f"review: Fides also references {t}" for t in usable[1:]]
        if len(usable) < len(targets):
            notes.append("review: a reference to a nested field could not be expressed")
        return (usable[0] if usable else None), notes
