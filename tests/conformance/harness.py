"""The conformance run of one schema on one dialect, as a company meets Privet: create the database, scaffold it,
make the schema's minimal edits, apply, then for each person file real requests and check seven properties.

- `found`: an access request by each identity the person has, as they would type it, finds their rows (and one
  with all their identities, after their subjects are merged);
- `complete`: the package holds every row the truth SQL gives;
- `only_theirs`: no package holds another person's personal values, nor any credential;
- `links_truthful`: the rows a package names as other people's or shared ("links") are none of the person's own;
- `erased`: after an erasure request no row of theirs holds its personal values unless the schema says it is
  kept (shared or retained; a referenced row stays but emptied) and the result gives a reason for it; a new
  access request finds nothing but kept rows;
- `honest_counts`: the result's deleted/updated counts per table and the completion message equal the rows that
  changed (every row of every table hashed before and after);
- `others_untouched`: every row that is not the person's is byte-for-byte unchanged;
- `kill_resume`: on a fresh copy of the database, the first person's erasure is killed at a step boundary and
  resumed (`kills`): `erased`, `honest_counts` and `others_untouched` hold for it all the same.
All access checks run first (nobody erased yet), then the erasures one person at a time.
"""

from __future__ import annotations

import copy
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from tests.conformance import checks
from tests.conformance.checks import PROPERTIES
from tests.conformance.databases import connect, new_database
from tests.conformance.runtime import Answer, Privet
from tests.conformance.schemas import Person, load
from tests.conformance.snapshot import diff, key_columns, tables, take


@dataclass
class Report:
    """What one schema × dialect run found: failures per property (empty: it holds), timings, the draft."""

    schema: str
    dialect: str
    people: int = 0
    failures: dict[str, list[str]] = field(default_factory=lambda: {p: [] for p in PROPERTIES})
    seconds: dict[str, float] = field(default_factory=dict)
    error: str | None = None  # the run itself broke (traceback): every property fails with it
    draft: dict | None = None

    def passed(self, prop: str) -> bool:
        return self.error is None and not self.failures[prop]

    def explain(self, prop: str) -> str:
        if self.error:
            return f"{self.schema} on {self.dialect}: the run broke:\n{self.error}"
        lines = self.failures[prop]
        return f"{self.schema} on {self.dialect}, {prop}: {len(lines)} problem(s)\n  " + "\n  ".join(lines[:40])


def manifest(name: str, region: str, draft: dict) -> dict:
    """The draft inside the organisation and system a company writes around it."""
    store = dict(draft["datastores"][0], system=name, region=region)
    return {
        "organisation": {
            "key": "conformance",
            "name": "Conformance Company",
            "profile": "pipl",
            "region": "CN",
            "responsible": {"name": "Privacy Office", "email": "privacy@conformance.example"},
        },
        "systems": [{"key": name, "name": f"{name} database", "owner": "operations"}],
        "datastores": [store],
        "datasets": draft["datasets"],
    }


def _mine(person: Person, lines: list[str]) -> list[str]:
    return [f"{person.label}: {line}" for line in lines]


class _Run:
    def __init__(self, name: str, schema: ModuleType, url: str, privet: Privet, report: Report) -> None:
        self.name, self.schema, self.url, self.privet, self.report = name, schema, url, privet, report
        self.datastore = f"{name}_db"
        with connect(url) as conn:
            self.ids = {t.name: key_columns(self.schema, t) for t in tables(conn, self.schema).values()}

    def fail(self, prop: str, person: Person, lines: list[str]) -> None:
        self.report.failures[prop] += _mine(person, lines)

    def got(self, answer: Answer) -> dict[str, set[tuple]]:
        return checks.package_keys(answer, self.datastore, self.ids)

    def access(self, people: list[Person]) -> None:
        with connect(self.url) as conn:
            snap = take(conn, self.schema)
        credentials = checks.secrets(snap, self.schema)
        for person in people:
            with connect(self.url) as conn:
                truth = self.schema.truth(conn, person)
            own = checks.personal_values(snap, self.schema, truth)
            others = {
                v: w for v, w in checks.personal_values(snap, self.schema, None, exclude=truth).items() if v not in own
            }
            subjects, last = [], None
            asks = [(t, v, t) for t, v in person.identities.items()]
            for kind, value, how in asks:
                answer = self.privet.request("access", kind, value)
                last = (answer, self.got(answer))
                self.fail("found", person, checks.found(answer, truth, last[1], how))
                self.fail("only_theirs", person, checks.only_theirs(answer, others, credentials, how))
                subjects.append(self.privet.subject_of(answer.request_id))
            if len(asks) > 1:  # the person proves every identity: one subject holds them all
                self.privet.merge([s for s in subjects if s])
                kind, value, _how = asks[0]
                answer = self.privet.request("access", kind, value)
                last = (answer, self.got(answer))
                self.fail("found", person, checks.found(answer, truth, last[1], "all identities"))
                self.fail("only_theirs", person, checks.only_theirs(answer, others, credentials, "all identities"))
            self.fail("complete", person, checks.complete(truth, last[1]))
            self.fail("links_truthful", person, checks.links_truthful(last[0], self.datastore, snap, truth))

    def erasure(self, people: list[Person]) -> None:
        for person in people:
            kind, value = next(iter(person.identities.items()))
            with connect(self.url) as conn:
                before = take(conn, self.schema)
                truth_before = self.schema.truth(conn, person)
                kept = self.schema.kept(conn, person)
            answer = self.privet.request("erasure", kind, value)
            with connect(self.url) as conn:
                after = take(conn, self.schema)
                truth_after = self.schema.truth(conn, person)
            again = self.privet.request("access", kind, value)
            changes = diff(before, after)
            self.check_erasure(person, answer, before, after, truth_before, truth_after, kept, again, changes)

    def check_erasure(
        self,
        person: Person,
        answer: Answer,
        before: dict,
        after: dict,
        truth_before: dict,
        truth_after: dict,
        kept: dict,
        again: Answer,
        changes: dict,
        *,
        prop: str | None = None,
        boundary: str = "",
    ) -> None:
        """The erasure properties of one person's erasure (all counted under `prop` when given)."""
        where = f"killed {boundary}: " if boundary else ""
        for name, lines in (
            (
                "erased",
                checks.erased(
                    self.schema, answer, before, after, truth_before, truth_after, kept, again, self.got(again)
                ),
            ),
            ("honest_counts", checks.honest_counts(answer, self.datastore, changes)),
            ("others_untouched", checks.others_untouched(before, after, truth_before)),
        ):
            self.fail(prop or name, person, [where + line for line in lines])


def _kills(
    name: str, dialect: str, folder: Path, schema: ModuleType, edited: dict, report: Report, boundaries: tuple[str, ...]
) -> None:
    """`kill_resume`: for each boundary a fresh copy of the database, the first person's erasure killed there and
    resumed, then the erasure properties."""
    from tests.conformance.kills import erase_killed_at

    for boundary in boundaries:
        (folder / f"kill-{boundary}").mkdir(parents=True, exist_ok=True)
        url, drop = new_database(dialect, folder / f"kill-{boundary}", f"{name}_k")
        privet = None
        try:
            person = schema.create(url)[0]
            privet = Privet(folder / f"kill-{boundary}" / "privet", {f"{name}_db": url})
            privet.apply(manifest(name, schema.REGION, edited))
            work = _Run(name, schema, url, privet, report)
            if len(person.identities) > 1:  # the person proved every identity before: one subject holds them all
                privet.merge(
                    [privet.subject_of(privet.request("access", k, v).request_id) for k, v in person.identities.items()]
                )
            kind, value = next(iter(person.identities.items()))
            with connect(url) as conn:
                before, truth_before, kept = take(conn, schema), schema.truth(conn, person), schema.kept(conn, person)
            answer = erase_killed_at(privet, boundary, kind, value)
            with connect(url) as conn:
                after, truth_after = take(conn, schema), schema.truth(conn, person)
            again = privet.request("access", kind, value)
            work.check_erasure(
                person,
                answer,
                before,
                after,
                truth_before,
                truth_after,
                kept,
                again,
                diff(before, after),
                prop="kill_resume",
                boundary=boundary,
            )
            if answer.status != "completed" and answer.status != "completed_with_exceptions":
                work.fail("kill_resume", person, [f"killed {boundary}: the request ended {answer.status}"])
        finally:
            if privet is not None:
                privet.close()
            drop()


def run(
    name: str,
    dialect: str,
    folder: Path,
    *,
    people: int | None = None,
    schema: ModuleType | None = None,
    kills: tuple[str, ...] | None = None,
) -> Report:
    """Run the conformance checks of schema `name` on `dialect` in `folder` (databases dropped at the end);
    `schema`: a stand-in for the module (the checks' own tests give them a wrong map or a wrong truth); `kills`: the
    boundaries `kill_resume` kills an erasure at (default: the two where commit and record part ways)."""
    from privet.datamap.scaffold import scaffold
    from tests.conformance.kills import IN_TESTS

    report = Report(name, dialect)
    folder.mkdir(parents=True, exist_ok=True)
    schema = schema or load(name)
    url, drop = new_database(dialect, folder, name)
    privet = None
    clock = time.perf_counter()

    def lap(what: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        report.seconds[what] = round(now - clock, 2)
        clock = now

    try:
        everyone = schema.create(url)
        lap("create")
        report.draft = scaffold(url, dataset_key=name, datastore_key=f"{name}_db", region=schema.REGION)
        edited = schema.edits(copy.deepcopy(report.draft))
        privet = Privet(folder / "privet", {f"{name}_db": url})
        privet.apply(manifest(name, schema.REGION, edited))
        lap("scaffold_apply")
        chosen = everyone[:people] if people else everyone
        report.people = len(chosen)
        work = _Run(name, schema, url, privet, report)
        work.access(chosen)
        lap("access")
        work.erasure(chosen)
        lap("erasure")
        _kills(name, dialect, folder / "kills", schema, edited, report, IN_TESTS if kills is None else kills)
        lap("kill_resume")
    except Exception:  # noqa: BLE001 - reported as the run's failure, with the traceback
        report.error = traceback.format_exc()
    finally:
        if privet is not None:
            privet.close()
        drop()
    return report
