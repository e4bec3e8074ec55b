"""The "completed" message in a person's words: tables and columns become the data categories they hold, named
from the taxonomy in the person's language; purposes by their names; reasons without doubled punctuation.

`summary` (privet.requests.execution.executor) speaks in datastore, table and field keys, which mean nothing to the
person the message goes to; `in_plain_words` turns it into names. Counts stay counts of rows changed.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.datamap.models import DatamapDataset, DatamapField
from privet.requests.messages.render import texts
from privet.subjects.senders import language_of
from privet.taxonomy.loader import Taxonomy
from privet.taxonomy.service import effective

_Fields = dict[tuple[str, str], list[tuple[str, str | None, str | None]]]  # (store, table) → (field, category, action)


def _fields(session: Session) -> _Fields:
    rows = session.execute(
        select(
            DatamapDataset.datastore_key,
            DatamapField.table_name,
            DatamapField.name,
            DatamapField.category,
            DatamapField.erasure_action,
        )
        .join(DatamapDataset, DatamapDataset.key == DatamapField.dataset_key)
        .order_by(DatamapField.position)
    )
    out: _Fields = defaultdict(list)
    for store, table, name, category, action in rows:
        out[(store, table)].append((name, category, action))
    return out


def _broad(key: str) -> str:
    """`user.contact.email` → `user.contact`: the level people recognise ("contact details")."""
    return ".".join(key.split(".")[:2])


def _label(taxonomy: Taxonomy, key: str, language: str) -> str:
    entry = taxonomy.categories.get(key)
    return entry.label(language) if entry else key.replace(".", " ").replace("_", " ")


def _join(names: list[str], language: str) -> str:
    """Names in one phrase: "Contact details, name" / "联系方式、姓名"."""
    names = list(dict.fromkeys(n for n in names if n))
    if language == "zh_CN":
        return "、".join(names)
    lowered = [n if i == 0 or n[1:2].isupper() else n[:1].lower() + n[1:] for i, n in enumerate(names)]
    return ", ".join(lowered)


def sentence(text: str) -> str:
    """A reason as one sentence ending in exactly one full stop (the data map's text may or may not end in one)."""
    text = " ".join(str(text or "").split()).rstrip(" .。;；,，")
    if not text:
        return ""
    chinese = "\u4e00" <= text[-1] <= "\u9fff"  # a Chinese reason ends 。, an English one (in any message) .
    return text[:1].upper() + text[1:] + ("。" if chinese else ".")


class _Namer:
    def __init__(self, session: Session, language: str) -> None:
        self.language, self.taxonomy, self.fields = language, effective(session), _fields(session)
        self.parts = texts(language)["parts"]

    def table(self, item: dict, *, skip_retained: bool = False) -> str:
        """The broad categories a table holds, e.g. "Contact details, name"; "other records about you" else."""
        keys = [
            _broad(c)
            for _, c, action in self.fields.get((item.get("datastore", ""), item.get("table", "")), [])
            if c and not (skip_retained and action == "retain")
        ]
        return (
            _join([_label(self.taxonomy, k, self.language) for k in keys], self.language) or self.parts["other_records"]
        )

    def field(self, item: dict) -> str:
        """The field's own category ("Purchase history"), else the table's categories."""
        category = item.get("category") or next(
            (
                c
                for name, c, _ in self.fields.get((item.get("datastore", ""), item.get("table", "")), [])
                if name == item.get("field") and c
            ),
            None,
        )
        return _label(self.taxonomy, category, self.language) if category else self.table(item)

    def purpose(self, key: str) -> str:
        entry = self.taxonomy.purposes.get(key)
        return entry.label(self.language) if entry else key.replace(".", " ").replace("_", " ")


def in_plain_words(session: Session, language: str, values: dict) -> dict:
    """The completed message's values with every key replaced by a name in `language` (en or zh_CN)."""
    language = language_of(language)
    namer = _Namer(session, language)
    changes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for key, done in (values.get("changes") or {}).items():
        store, _, table = key.partition(".")
        name = namer.table({"datastore": store, "table": table}, skip_retained=True)
        for kind, n in done.items():
            changes[name][kind] += int(n)
    consent = {namer.purpose(k): event for k, event in (values.get("consent") or {}).items()}
    retained, seen = [], set()
    for item in values.get("retained") or []:
        kind = item.get("kind")
        reason = (
            namer.parts[f"retained_{kind}"] if f"retained_{kind}" in namer.parts else sentence(item.get("reason", ""))
        )
        name = namer.field(item) if item.get("field") else namer.table(item)
        line = (name, reason, item.get("until"))
        if line not in seen:
            seen.add(line)
            retained.append({"item": name, "reason": reason, "until": item.get("until")})
    exceptions = [{**x, "item": namer.table(x)} for x in values.get("exceptions") or []]
    # the keyed counts stay beside the words (never rendered): what a proof or a check compares with the rows
    return {
        **values,
        "changes": {k: dict(v) for k, v in changes.items()},
        "changes_by_table": dict(values.get("changes") or {}),
        "consent": consent,
        "retained": retained,
        "exceptions": exceptions,
    }
