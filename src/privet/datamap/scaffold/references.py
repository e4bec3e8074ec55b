"""References a database does not declare, inferred from column names and types (`customer_id` → `customers.id`).

Many company databases declare no foreign keys at all; without references a request finds the customer row and
none of their orders. Scaffold drafts what the names say and marks it `inferred: true` for review. The ways a
column may name its target are data (`STRATEGIES`), tried in order; the first that finds any candidate decides:
- named after a table: `customer_id`, `CustomerId`, `CustomerID`, `customer_ref`, `id_customer` → the table
  `customer`, `customers`, `Customer`, `tb_customer` (or, failing that, `shop_customer`), and for a qualified
  name its last words (`billing_address_id` → `addresses`, `manager_staff_id` → `staff`);
- named like another table's own key (`emp_no` → `employees.emp_no`; a key named `id` says nothing);
- a self-reference (`parent_id` in any table; `reports_to`, `manager_id`, `referred_by`… in a table of people);
- a role (`support_rep_id`, `assigned_to`, `created_by`) → the one staff/employee table (for who-did-it columns
  failing that, the one users/accounts table);
- an abbreviation (`cust_id` → `customers`), only when it fits exactly one table.
The target must have a single-column primary key the column can be compared with (`id`, `customer_id`,
`CustomerId`, or the column's own name). Two equally plausible targets, a key of another type, or a name that
cannot be written as `table.field` leave a note on the field instead of a reference.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from privet.datamap.scaffold.guesses import bare, snake
from privet.datamap.scaffold.relations import ROLE_COLUMN, STAFF_WORD, people_table, staff_table

REF_NAME = re.compile(r"^[A-Za-z_]\w*$")  # what schemas.Field_.references can spell
_KEY_COLUMN = re.compile(r"^(?:id_(?P<pre>[a-z0-9_]+)|(?P<stem>[a-z0-9_]+?)_(?:id|ref|key|fk))$")
SELF_ANY = r"parent(_id)?"
SELF_PEOPLE = (
    r"(reports_to|manager|supervisor|superior|mentor|referred_by|referrer|referral|sponsor|inviter"
    r"|invited_by)(_id)?"
)
WHO_DID_IT = r"(created|updated|modified|deleted|approved|reviewed|checked|processed|closed|resolved)_by(_id)?"
USER_TABLE = r"([a-z0-9]+_)?(users?|accounts?)"


def kind(type_: object) -> str:
    """A column type's family for comparing keys: int, text, uuid, or another name."""
    try:
        python = type_.python_type  # type: ignore[attr-defined]  # any object: one without it is named below
    except (AttributeError, NotImplementedError):
        return str(type_).lower()
    if python is Decimal:
        return "int" if getattr(type_, "scale", None) == 0 else "number"
    return {int: "int", str: "text", uuid.UUID: "uuid", bool: "bool"}.get(python, python.__name__)


@dataclass
class Shape:
    """What inference needs to know of a table: column kinds and primary key."""

    name: str
    kinds: dict[str, str]
    primary_key: list[str] = field(default_factory=list)

    @property
    def key(self) -> str | None:
        return self.primary_key[0] if len(self.primary_key) == 1 else None


@dataclass(frozen=True)
class Inferred:
    """A drafted reference (`target` set) or only a note for the reviewer (`target` None)."""

    target: str | None = None
    target_column: str | None = None
    note: str | None = None


def singular(word: str) -> str:
    """`customers` → `customer`, `addresses` → `address`, `categories` → `category`, `people` → `person`."""
    for plural, one in (
        ("people", "person"),
        ("ies", "y"),
        ("sses", "ss"),
        ("xes", "x"),
        ("ches", "ch"),
        ("shes", "sh"),
    ):
        if word.endswith(plural):
            return word[: -len(plural)] + one
    return word[:-1] if word.endswith("s") and not word.endswith(("ss", "us", "is")) else word


@lru_cache(maxsize=8192)
def _noun(table: str) -> str:
    return singular(bare(table))


def _stems(column: str) -> list[str]:
    """Table names a key column may be named after, longest first (`billing_address_id` → billing_address,
    address)."""
    found = _KEY_COLUMN.match(snake(column))
    if not found:
        return []
    words = (found["pre"] or found["stem"]).split("_")
    return [singular("_".join(words[i:])) for i in range(len(words))]


def _by_stem(table: Shape, column: str, tables: Mapping[str, Shape]) -> list[str]:
    for stem in _stems(column):
        exact = [t for t in tables if _noun(t) == stem]
        prefixed = [t for t in tables if _noun(t).endswith("_" + stem)]  # Django-style `shop_customer`
        if exact or prefixed:
            return exact or prefixed
    return []


def _by_key_name(table: Shape, column: str, tables: Mapping[str, Shape]) -> list[str]:
    name = snake(column)
    if name == "id" or table.key == column:  # a table's own key named like another's says nothing of direction
        return []
    return [t for t, s in tables.items() if t != table.name and s.key and snake(s.key) == name]


def _by_self(table: Shape, column: str, tables: Mapping[str, Shape]) -> list[str]:
    name = snake(column)
    if re.fullmatch(SELF_ANY, name) or (re.fullmatch(SELF_PEOPLE, name) and people_table(table.name)):
        return [table.name]
    return []


def _by_role(table: Shape, column: str, tables: Mapping[str, Shape]) -> list[str]:
    name = snake(column)
    if not re.search(rf"(?:^|_)(?:{ROLE_COLUMN}|{STAFF_WORD})(?:_|$)", name):
        return []
    staff = [t for t in tables if staff_table(t)]
    if staff or not re.fullmatch(WHO_DID_IT, name):
        return staff
    return [t for t in tables if re.fullmatch(USER_TABLE, bare(t))]


def _by_abbreviation(table: Shape, column: str, tables: Mapping[str, Shape]) -> list[str]:
    stems = _stems(column)
    if not stems or "_" in stems[0] or len(stems[0]) < 3:
        return []
    return [t for t in tables if (first := _noun(t).split("_")[0]).startswith(stems[0]) and first != stems[0]]


Strategy = Callable[[Shape, str, Mapping[str, Shape]], list[str]]
# How a column may name the table it points at, tried in order (see the module docstring).
STRATEGIES: list[Strategy] = [_by_stem, _by_key_name, _by_self, _by_role, _by_abbreviation]


def _key_fits(column: str, target: Shape) -> bool:
    key = target.key
    if key is None:
        return False
    noun = _noun(target.name)
    stems = _stems(column)
    return snake(key) in {
        "id",
        snake(column),
        f"{noun}_id",
        f"id_{noun}",
        *(f"{s}_id" for s in stems),
        *(f"id_{s}" for s in stems),
    }


def infer(table: Shape, column: str, tables: Mapping[str, Shape]) -> Inferred | None:
    """The reference `table.column` most plausibly stands for, a note when it cannot be drafted, or None."""
    source = table.kinds.get(column, "")
    if source not in ("int", "text", "uuid"):
        return None
    for strategy in STRATEGIES:
        # only a self-reference rule may lead back to the column's own table (`customers.customer_id` is the
        # customer's business number, not a reference), and never from the key to itself
        own = strategy is _by_self
        candidates = [t for t in strategy(table, column, tables) if (t == table.name) == own]
        if not candidates:
            continue
        fitting = [
            t for t in candidates if (tables[t].key not in (None, column) if own else _key_fits(column, tables[t]))
        ]
        if len(fitting) > 1:
            names = " or ".join(f"{t}.{tables[t].key}" for t in sorted(fitting))
            return Inferred(
                note=f"review: could reference {names}; no reference drafted (names alone cannot tell which)"
            )
        if not fitting:
            return Inferred(
                note=f"review: named like a key of {' or '.join(sorted(candidates))}, whose primary "
                "key does not fit; no reference drafted"
            )
        return _checked(column, source, tables[fitting[0]])
    return None


def _checked(column: str, source: str, target: Shape) -> Inferred:
    key = target.key or ""
    wanted = target.kinds.get(key, "")
    where = f"{target.name}.{key}"
    if not (REF_NAME.match(target.name) and REF_NAME.match(key)):
        return Inferred(note=f"review: looks like a reference to {where}, which cannot be written as table.field")
    if source == wanted:
        return Inferred(target.name, key)
    if source == "text" and wanted in ("int", "uuid"):
        return Inferred(target.name, key, f"review: holds {where} ({wanted}) as text; values are compared as text")
    return Inferred(
        note=f"review: named like a reference to {where}, but a column of type {source} cannot "
        f"hold its {wanted} key; no reference drafted"
    )
