"""Whose row a reference leads to (`belongs_to`, `owns`, `points_to`), proposed from names for a person to review.

A wrong relation is silent: `belongs_to` towards a staff member hands that staff member every row they touched,
`points_to` towards a person's own row leaves it out of their package. So scaffold writes the relation of every
reference explicitly, with the reason when it is not the default, and the rules are data (`RULES`), first match
wins:
- `points_to` for a self-reference (a manager, a parent category, the customer who referred this one), for a
  column naming another person's role (`support_rep_id`, `assigned_employee_id`, `created_by`…), and for
  staff or employees referenced from a row that has its own person (`rentals.staff_id` beside
  `rentals.customer_id`; `payslips.employee_id` alone stays `belongs_to`: there the employee is the person);
- `owns` when a person's row (a subject table, or a row belonging to one) points at a free-standing
  address/location/profile row (`customers.address_id`, `orders.shipping_address_id`), `points_to` when a
  row nobody owns does (`stores.address_id`: the address row may be a customer's);
- `belongs_to` otherwise (`orders.customer_id`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from privet.datamap.scaffold.guesses import bare, snake, subject_table
from privet.datamap.schemas import Relation

# Column words naming someone other than the row's own person (whole `_`-separated words of the snake name).
ROLE_COLUMN = (
    r"((support|sales|account)_)?reps?|agents?|salesperson|salesman|cashier|clerk|manager|supervisor"
    r"|superior|reports_to|assign(ed|ee)(_[a-z0-9_]+)?|handled_by|handler|approver|reviewer|auditor"
    r"|(created|updated|modified|deleted|approved|reviewed|checked|processed|closed|resolved)_by"
    r"|referred_by|referrer|referral|sponsor|inviter|invited_by|parent|guardian|mentor|teacher|doctor"
    r"|driver|courier|operator"
)
# Words (in a column) and table names holding staff: people, but not the person a customer's row belongs to.
STAFF_WORD = r"staffs?|employees?|emp|workers?|personnel"
STAFF_TABLE = (
    r"([a-z0-9]+_)?(staffs?|employees?|workers?|agents?|operators?|personnel|clerks?|admins?"
    r"|administrators?|admin_users?|(sales_|support_)?reps?)"
)
# Rows that are a person's own when a person's row points at them (their address, their household), shared when
# something else's does (erasure keeps a shared one untouched).
PLACE_TABLE = (
    r"([a-z0-9]+_)?(address(es)?|addrs?|locations?|places?|residences?|contact_?(info|infos|details?)"
    r"|profiles?|households?|homes?|famil(y|ies)|dizhi|jiating)"
)

_ROLE = re.compile(rf"(?:^|_)(?:{ROLE_COLUMN})(?:_|$)")
_STAFF = re.compile(rf"(?:^|_)(?:{STAFF_WORD})(?:_|$)")


def role_column(column: str) -> bool:
    """Whether a column's name says it holds another person in a role (a rep, an assignee, a creator)."""
    return _ROLE.search(snake(column)) is not None


def staff_table(table: str) -> bool:
    """Whether a table looks like it holds staff or employees."""
    return re.fullmatch(STAFF_TABLE, bare(table)) is not None


def place_table(table: str) -> bool:
    """Whether a table looks like addresses, locations or profiles (rows a person's row may own)."""
    return re.fullmatch(PLACE_TABLE, bare(table)) is not None


def people_table(table: str) -> bool:
    """Whether a table's rows are people by its name (subjects or staff)."""
    return subject_table(table) or staff_table(table)


@dataclass(frozen=True)
class Link:
    """One reference as the rules see it: `table.column` → a row of `target`."""

    table: str
    column: str
    target: str


@dataclass(frozen=True)
class _Context:
    """What the rules may ask about a link's tables, computed once per database."""

    owned: frozenset[str]  # people tables and the tables whose rows belong to a person
    attached: frozenset[str]  # tables whose rows belong to a person through a reference (child rows)
    with_person: frozenset[str]  # tables whose rows have their own person (not only a staff member)


def _staff(link: Link) -> bool:
    return staff_table(link.target) or _STAFF.search(snake(link.column)) is not None


def _free_place(link: Link, ctx: _Context) -> bool:
    # an address row that itself belongs to a person (addresses.customer_id) is that person's child row, and a
    # reference to it is an ordinary belongs_to; only a free-standing address row can be owned or shared
    return place_table(link.target) and link.target not in ctx.attached and link.target != link.table


Test = Callable[[Link, _Context], bool]
# The rules as data, first match wins: (test, relation, reason written on the field for a reviewer).
RULES: list[tuple[Test, Relation, str | None]] = [
    (
        lambda ln, cx: ln.table == ln.target,
        Relation.points_to,
        "a self-reference leads to another row: another person's or a shared one",
    ),
    (lambda ln, cx: role_column(ln.column), Relation.points_to, "the column names another person's role"),
    (
        lambda ln, cx: _staff(ln) and ln.table in cx.with_person,
        Relation.points_to,
        "a staff member or employee on a row that has its own person",
    ),
    (
        lambda ln, cx: _free_place(ln, cx) and ln.table in cx.owned,
        Relation.owns,
        "a person's row pointing at an address/profile-like row: theirs",
    ),
    (
        lambda ln, cx: _free_place(ln, cx),
        Relation.points_to,
        "an address/profile-like row used by a row that is no person's: shared",
    ),
    (lambda ln, cx: True, Relation.belongs_to, None),
]


def _context(links: list[Link], people: set[str]) -> _Context:
    owned, attached = set(people), set()
    personal = [k for k in links if k.table != k.target and not role_column(k.column)]
    grew = True
    while grew:  # a row belonging to a person's row belongs to that person: orders → order_items → returns
        grew = False
        for link in personal:
            if link.table in attached or link.target not in owned:
                continue
            if place_table(link.target) and link.target not in attached:
                continue  # pointing at a free-standing address makes nobody's row a person's
            attached.add(link.table)
            owned.add(link.table)
            grew = True
    with_person = set(people) | {
        k.table
        for k in personal
        if k.target in owned and not _staff(k) and not (place_table(k.target) and k.target not in attached)
    }
    return _Context(frozenset(owned), frozenset(attached), frozenset(with_person))


def propose(links: Iterable[Link], people: set[str]) -> dict[Link, tuple[Relation, str | None]]:
    """The proposed relation of each reference, with the reason when it is not plain `belongs_to`.

    `people` are the tables whose rows are people: subject and staff tables by name, and tables with an
    identity column."""
    links = list(links)
    ctx = _context(links, people)
    return {link: next((rel, why) for test, rel, why in RULES if test(link, ctx)) for link in links}


def names_someone_else(table: str, column: str, target: str) -> str | None:
    """Why a reference leads to someone else's row, from the names alone (None: nothing says so)."""
    link = Link(table, column, target)
    if table == target:
        return "a self-reference leads to another row"
    if role_column(column):
        return "the column names another person's role"
    if _staff(link):
        return "the referenced collection holds staff or employees"
    return None
