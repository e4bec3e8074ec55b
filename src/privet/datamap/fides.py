"""Convert a Fides dataset YAML (collections, fields, `fides_meta`, data_categories) into Privet's format.

Decisions, so a reviewer knows what to expect:
- Each Fides dataset becomes one Privet dataset; each collection a table; `fides_key` is snake-cased.
- Nested fields (object/JSON columns) are flattened to `parent.child` names, one Privet field per leaf,
  so every leaf keeps its own category and identity; the parent itself is not listed.
- Fides allows several categories per field, Privet one: the first personal one wins, the rest are noted
  in the field's description. `system.*` categories mean "not personal" and give no category.
- A category maps through the taxonomy's fideslang column: exactly, or (unless `strict`) to the nearest
  mapped ancestor, noted on the field for review. Categories that map to nothing are errors listed with their
  lines. An identity field Fides labels only `system.*` gets its identity type's category, noted.
- `fides_meta` (or the older `fidesops_meta`) gives the identity type, primary key and references. A reference's
  `direction` says which way Fides walks, which is whose row it is: `from` (this collection is reached from the
  referenced one: `orders.customer_id` from `customer.id`) is `relation: belongs_to`; `to` (the referenced
  collection is reached from this one as part of the person's data: `customer.address_id` to `address.id`) is
  `owns`, unless the names say the target is someone else's (a self-reference, a role such as `support_rep_id`,
  a staff/employee collection: `scaffold.relations.names_someone_else`), then `points_to`; no direction is
  `belongs_to` with a note to review.
- `masking_strategy_override` becomes `erasure:`: on a collection `delete` → delete_row; on a collection or
  field `null_rewrite` → null, `hash`/`hmac` → hash, `string_rewrite`/`random_string_rewrite` → mask. Anything
  else (a field-level delete, `aes_encrypt`, a strategy's configuration) is a note. So are `skip_processing`
  and `erase_after`, which Privet has no equivalent of.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from privet.kit.errors import InvalidInput, Problem
from privet.kit.yamlio import LineDict, LineList, load_file

if TYPE_CHECKING:
    from privet.taxonomy.loader import Taxonomy

# Fides identity names whose Privet name differs; others are kept (snake-cased) as custom identity types.
IDENTITIES = {
    "phone_number": "phone",
    "phone": "phone",
    "email": "email",
    "user_id": "user_id",
    "external_id": "user_id",
    "device_serial": "device_serial",
    "serial_number": "device_serial",
    "wechat_openid": "wechat_openid",
}
_WORD = re.compile(r"^[A-Za-z_]\w*$")
# Fides masking strategies as Privet erasure actions; a collection may also say `delete` (its rows).
MASKING = {
    "null_rewrite": "null",
    "hash": "hash",
    "hmac": "hash",
    "string_rewrite": "mask",
    "random_string_rewrite": "mask",
}
FIELD_ORDER = ("name", "category", "identity", "references", "relation", "erasure", "description")
# The category an identity field needs (Privet erases a person through it) when Fides gives no personal one.
IDENTITY_CATEGORIES = {
    "email": "user.contact.email",
    "phone": "user.contact.phone",
    "user_id": "user.account.user_id",
    "device_serial": "user.device.serial_number",
    "wechat_openid": "user.account.third_party_id",
}


def convert_fides(
    path: Path, *, datastore_key: str | None = None, strict: bool = False, taxonomy: Taxonomy | None = None
) -> dict:
    """Read a Fides dataset file and return Privet manifest sections (`datasets`, plus datastore stubs)."""
    from privet.taxonomy.loader import default_taxonomy

    data = load_file(path)
    conv = _Converter(str(path), taxonomy or default_taxonomy(), strict)
    if not isinstance(data, dict) or not isinstance(data.get("dataset"), list):
        raise InvalidInput(
            "Not a Fides dataset file",
            problems=[
                Problem(
                    "expected a top-level `dataset:` list",
                    f"{path}:{getattr(data, 'line', 1)}",
                    "a Fides dataset file starts with `dataset:` followed by `- fides_key: ...` entries",
                )
            ],
        )
    datasets = [conv.dataset(item, datastore_key) for item in data["dataset"]]
    if conv.problems:
        raise InvalidInput(
            f"The Fides file cannot be converted ({len(conv.problems)} problems)", problems=conv.problems
        )
    out: dict[str, Any] = {}
    if not datastore_key:
        out["datastores"] = [
            {
                "key": d["datastore"],
                "system": "todo",
                "kind": "manual",
                "region": "CN",
                "description": "TODO: set system, kind, region and secret of this datastore",
            }
            for d in datasets
        ]
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
            self._bad(
                item,
                f"dataset {item['fides_key']!r} has no `collections:` list",
                "list the dataset's tables under `collections:`",
            )
            collections = []
        out: dict[str, Any] = {"key": key, "datastore": datastore_key or key}
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
        meta = item.get("fides_meta") or item.get("fidesops_meta") or {}
        meta = meta if isinstance(meta, dict) else {}
        notes: list[str | None] = [str(item["description"])] if item.get("description") else []
        erasure, note = _erasure(meta.get("masking_strategy_override"), collection=True)
        notes.append(note)
        if meta.get("skip_processing"):
            notes.append(
                "review: Fides skips this collection (skip_processing); Privet reads and erases it unless "
                "its fields carry no category"
            )
        if meta.get("erase_after"):
            after = (
                ", ".join(str(a) for a in meta["erase_after"])
                if isinstance(meta["erase_after"], list)
                else str(meta["erase_after"])
            )
            notes.append(f"review: Fides erases it after {after}; Privet orders erasure by references only")
        if any(notes):
            table["description"] = "; ".join(n for n in notes if n)
        fields: list[dict] = []
        primary_key: list[str] = []
        for node in fields_node:
            self.field(node, "", fields, primary_key, item["name"])
        if primary_key:
            table["primary_key"] = primary_key
        if erasure:
            table["erasure"] = erasure
        table["fields"] = fields
        return table

    def field(self, node: Any, prefix: str, out: list[dict], primary_key: list[str], collection: str) -> None:
        if not isinstance(node, dict) or not isinstance(node.get("name"), str):
            self._bad(node, "a field needs a `name`", "add `name: column_name` to the field")
            return
        name = prefix + node["name"]
        if isinstance(node.get("fields"), list):  # object/JSON column: flatten its leaves
            for child in node["fields"]:
                self.field(child, f"{name}.", out, primary_key, collection)
            return
        meta = node.get("fides_meta") or node.get("fidesops_meta") or {}
        if not isinstance(meta, dict):
            self._bad(node, f"`fides_meta` of field {name!r} is not a mapping", "indent its keys under it")
            meta = {}
        field: dict[str, Any] = {"name": name}
        notes: list[str | None] = [str(node["description"])] if node.get("description") else []
        category, extra, inexact = self.categories(cast(LineDict, node), name)  # the loader's mappings are LineDicts
        notes += inexact
        if meta.get("identity"):
            field["identity"] = IDENTITIES.get(str(meta["identity"]), dataset_key(str(meta["identity"])))
            if not category:  # Privet erases a person through their identity fields, so each needs a category
                category = self._identity_category(field["identity"])
                notes.append(f"review: Fides gives this identity no personal category; {category} assumed")
        if category:
            field["category"] = category
        notes += [f"Fides also labels it {', '.join(extra)}"] if extra else []
        reference, more = self.references(meta, node, collection, name)
        field.update(reference)
        notes += more
        if meta.get("primary_key") is True:
            primary_key.append(name)
        erasure, note = _erasure(
            meta.get("masking_strategy_override") or node.get("masking_strategy_override"), collection=False
        )
        if erasure:
            field["erasure"] = erasure
        notes.append(note)
        if any(notes):
            field["description"] = "; ".join(n for n in notes if n)
        out.append({k: field[k] for k in FIELD_ORDER if k in field})

    def _identity_category(self, identity: str) -> str:
        wanted: str | None = IDENTITY_CATEGORIES.get(identity, "user.account.user_id")
        while wanted and wanted not in self.taxonomy.categories:
            wanted = wanted.rpartition(".")[0] or None
        return wanted or "user"

    def categories(self, node: LineDict, name: str) -> tuple[str | None, list[str], list[str]]:
        """The Privet category of a field, its other Fides labels (kept as a note) and notes on inexact
        mappings."""
        raw = node.get("data_categories") or []
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list):
            self._bad(node, f"`data_categories` of field {name!r} is not a list", "write [user.contact.email]")
            return None, [], []
        chosen, extra, inexact = None, [], []
        for i, fides in enumerate(raw):
            fides = str(fides)
            if fides == "system" or fides.startswith("system."):
                continue  # fideslang's system.* labels say "operational data, not personal"
            line = raw.item_lines[i] if isinstance(raw, LineList) else node.line
            mapped, exact = self.map_category(fides, node, line)
            if mapped and chosen is None:
                chosen = mapped
                if not exact:
                    inexact.append(f"review: Fides category {fides} has no exact Privet category; mapped to {mapped}")
            elif mapped and mapped != chosen:
                extra.append(fides)
        return chosen, extra, inexact

    def map_category(self, fides: str, node: Any, line: int) -> tuple[str | None, bool]:
        """(Privet category, whether the mapping is exact); None when refused (a problem is recorded)."""
        mapped = self.taxonomy.by_fideslang(fides)
        exact = any(c.fideslang == fides for c in self.taxonomy.categories.values())
        if mapped and (exact or not self.strict):
            return getattr(mapped, "key", mapped), exact
        if mapped:
            self._bad(
                node,
                f"fideslang category {fides!r} has no exact Privet mapping (nearest: {getattr(mapped, 'key', mapped)})",
                f"add an entry with `fideslang: {fides}` to the company "
                "taxonomy, or run without --strict to use the nearest mapped parent",
                line,
            )
        else:
            self._bad(
                node,
                f"fideslang category {fides!r} has no Privet mapping",
                f"add an entry with `fideslang: {fides}` to the company taxonomy",
                line,
            )
        return None, False

    def references(self, meta: dict, node: Any, collection: str, name: str) -> tuple[dict, list[str | None]]:
        """`references` and `relation` of a field (empty when it references nothing), and notes (None: none)."""
        refs = meta.get("references") or []
        if not isinstance(refs, list):
            self._bad(node, "`references` is not a list", "write `references: [{dataset: d, field: t.f}]`")
            return {}, []
        targets: list[tuple[str, Any] | None] = []
        for ref in refs:
            if not isinstance(ref, dict) or not isinstance(ref.get("field"), str) or "." not in ref["field"]:
                self._bad(
                    ref if isinstance(ref, dict) else node,
                    "a reference needs `field: collection.field`",
                    "name the referenced field as collection.field",
                )
                continue
            parts = ref["field"].split(".")
            if len(parts) != 2 or not all(_WORD.match(p) for p in parts):
                targets.append(None)  # a nested target (coll.parent.child) has no Privet spelling
                continue
            if ref.get("dataset") and ref["dataset"] != self.current:
                parts = [dataset_key(str(ref["dataset"])), *parts]
            targets.append((".".join(parts), ref.get("direction")))
        usable = [t for t in targets if t]
        notes: list[str | None] = [f"review: Fides also references {t}" for t, _d in usable[1:]]
        if len(usable) < len(targets):
            notes.append("review: a reference to a nested field could not be expressed")
        if not usable:
            return {}, notes
        target, direction = usable[0]
        relation, note = _relation(collection, name, target, direction)
        return {"references": target, "relation": relation}, [note, *notes]


def _relation(collection: str, name: str, target: str, direction: Any) -> tuple[str, str | None]:
    """Fides' walk direction as whose row the reference leads to (see the module docstring)."""
    from privet.datamap.scaffold.relations import names_someone_else

    if direction == "from":
        return "belongs_to", None
    if direction == "to":
        why = names_someone_else(collection, name, target.split(".")[-2])
        return ("points_to", f"review: points_to, {why}") if why else ("owns", None)
    return "belongs_to", "review: Fides gives no direction; belongs_to assumed"


def _erasure(override: Any, *, collection: bool) -> tuple[dict | None, str | None]:
    """A Fides `masking_strategy_override` as a Privet `erasure:`, or a note when it has no equivalent."""
    if not override:
        return None, None
    strategy = str(override.get("strategy")) if isinstance(override, dict) else str(override)
    action = "delete_row" if collection and strategy == "delete" else MASKING.get(strategy)
    if action is None:
        if strategy == "delete":
            return None, (
                "review: Fides deletes on this field, but a field cannot delete its row: set the table's erasure"
            )
        return None, f"review: Fides masking strategy {strategy} has no Privet erasure action; set `erasure:` by hand"
    config = override.get("configuration") if isinstance(override, dict) else None
    note = (
        f"review: Fides {strategy} configuration ({', '.join(map(str, config))}) is not carried over"
        if config
        else None
    )
    return {"action": action}, note
