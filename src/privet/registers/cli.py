"""`privet registers`: processors and alerts, recipients and shares, public disclosures, corporate transfers."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from privet.kit.cliutil import cli_actor, console
from privet.registers import screening

if TYPE_CHECKING:
    from privet.kit.crypto import Keyring

app = typer.Typer(
    help="Registers: processors, recipients and sharing, disclosures, corporate and cross-border transfers.",
    no_args_is_help=True,
)
DATE = ["%Y-%m-%d"]
PURPOSES = typer.Option(None, "--purpose", help="A taxonomy purpose key (repeat for several).")
CATEGORIES = typer.Option(None, "--category", help="A taxonomy data category key (repeat for several).")
SUBJECT_IDS = typer.Option(None, "--subject-id", help="A subject's id (repeat for several).")
SUBJECTS_FILE = typer.Option(
    None,
    "--file",
    exists=True,
    dir_okay=False,
    help="A file with one subject per line: a subject id, or `identity_type,value`.",
)
OUTPUT = typer.Option(
    None,
    "--output",
    "-o",
    dir_okay=False,
    help="Write the ids of the subjects who may be included to this file, one per line.",
)
GROUND = typer.Option(
    None, "--ground", help="A ground of the company's policy instead of consent (`privet registers grounds`)."
)
REFERENCE = typer.Option(None, "--reference", help="The law, court order or authority's letter the ground rests on.")
AS_JSON = typer.Option(False, "--json", help="Print JSON instead of a table.")


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


def _keyring() -> Keyring:
    from privet.kit.crypto import Keyring
    from privet.settings import get_settings

    return Keyring.from_settings(get_settings())


def _table(title: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*[str(v) if v not in (None, "", []) else "-" for v in row])
    console().print(table)


def _subjects(subject_ids: list[str] | None, file: Path | None) -> tuple[list[str], list[tuple[str, str]]]:
    ids: list[str] = list(subject_ids or [])
    identities: list[tuple[str, str]] = []
    if file is not None:
        more_ids, identities = screening.parse_people(file.read_text(encoding="utf-8"))
        ids.extend(more_ids)
    return ids, identities


def _write_allowed(output: Path | None, allowed: list[str]) -> None:
    if output is not None:
        output.write_text("".join(f"{sid}\n" for sid in allowed), encoding="utf-8")


def _counts(reasons: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in reasons.items()) or "-"


@app.command("processors")
def list_processors(as_json: bool = AS_JSON) -> None:
    """List registered processors with their agreements."""
    from privet.db.store import store_session
    from privet.registers import processors
    from privet.registers.schemas import ProcessorOut

    with store_session() as session:
        uses = processors.activities_by_processor(session)
        rows = [ProcessorOut.model_validate(p).with_activities(uses) for p in processors.list_processors(session)]
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows], indent=2, ensure_ascii=False))
        return
    _table(
        "processors",
        ("key", "name", "agreement", "signed", "expires", "purposes", "categories", "regions", "activities"),
        [
            (
                p.key,
                p.name,
                p.agreement_ref,
                p.signed_on,
                p.expires_on,
                ", ".join(p.purposes),
                ", ".join(p.categories),
                ", ".join(p.regions),
                ", ".join(p.activities),
            )
            for p in rows
        ],
    )


@app.command("processor-add")
def processor_add(
    key: str = typer.Argument(..., help="The processor's key, as the data map's activities name it."),
    name: str = typer.Option(..., help="The processor's name."),
    agreement: str = typer.Option(None, help="Reference of the signed processing agreement."),
    signed: datetime = typer.Option(None, formats=DATE, help="When the agreement was signed (YYYY-MM-DD)."),
    expires: datetime = typer.Option(None, formats=DATE, help="When the agreement expires (YYYY-MM-DD)."),
    purpose: list[str] = PURPOSES,
    category: list[str] = CATEGORIES,
    region: list[str] = typer.Option(None, "--region", help="A region it processes in: CN, EU, US ... (repeat)."),
    measure: list[str] = typer.Option(None, "--measure", help="A security measure the agreement requires (repeat)."),
    replace: bool = typer.Option(False, "--replace", help="Update the registered processor (e.g. a renewal)."),
) -> None:
    """Register a processor entrusted with personal data, with its agreement."""
    from privet.db.store import store_session
    from privet.registers import processors

    with store_session() as session:
        processors.add_processor(
            session,
            key=key,
            name=name,
            agreement_ref=agreement,
            signed_on=_day(signed),
            expires_on=_day(expires),
            purposes=purpose,
            categories=category,
            regions=region,
            security_measures=measure,
            replace=replace,
            actor=cli_actor(),
        )
    typer.echo(f"processor {key} {'saved' if replace else 'registered'}")


@app.command("alerts")
def alerts(
    days: int = typer.Option(30, min=0, max=3650, help="Warn about agreements expiring within this many days."),
    as_json: bool = AS_JSON,
) -> None:
    """Processors and recipients needing attention: named by the data map but unregistered, no signed agreement,
    expired or expiring (recipients other than authorities too), given more by the data map than a processor's
    entry entrusts, or registered for grounds the company's policy lacks. Exit 1 when there is any."""
    from privet.db.store import store_session
    from privet.registers import alerts as register_alerts

    with store_session() as session:
        found = register_alerts.all_alerts(session, days=days)
    if as_json:
        typer.echo(json.dumps([a.as_dict() for a in found], indent=2, default=str))
    elif not found:
        typer.echo("no processor or recipient alerts")
    else:
        _table(
            "register alerts",
            ("kind", "entry", "key", "message", "activities"),
            [(a.kind, a.entry, a.key, a.message, ", ".join(a.activities)) for a in found],
        )
    if found:
        raise typer.Exit(1)


@app.command("grounds")
def list_grounds(
    lang: str = typer.Option("en", help="Language of the descriptions: en or zh_CN."), as_json: bool = AS_JSON
) -> None:
    """Every ground for sharing or disclosing without consent (the law's, Keptek's 3(3)2 A-F and 3(5)2,
    ZKTeco's 4 a-e) with its policy reference, and whether the company's policy has it."""
    from privet.db.store import store_session
    from privet.registers import policy

    with store_session() as session:
        rows = policy.catalogue_view(session, "zh_CN" if lang.lower().startswith("zh") else "en")
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    _table(
        "legal grounds",
        ("code", "reference", "for", "in the policy", "ground"),
        [(g["code"], g["reference"], ", ".join(g["uses"]), "yes" if g["declared"] else "no", g["text"]) for g in rows],
    )


@app.command("policy")
def declare_policy(
    ground: list[str] = typer.Option(
        None,
        "--ground",
        help="A ground code the company's policy has (repeat); leave out to show the declared grounds.",
    ),
    name: str = typer.Option(None, help="The policy (and version) the grounds come from."),
) -> None:
    """Show or declare the grounds of the company's privacy policy: shares and disclosures without consent on any
    other ground are refused (until declared, only the law's grounds are accepted)."""
    from privet.db.store import store_session
    from privet.registers import policy

    with store_session() as session:
        if ground:
            if not name:
                from privet.kit.errors import InvalidInput

                raise InvalidInput(
                    "Declaring grounds needs the policy's name", "give --name, e.g. --name 'Privacy policy 2025-11-28'"
                )
            changed = policy.declare(session, name=name, codes=ground, actor=cli_actor())[1]
            typer.echo(f"policy {name}: {len(ground)} ground(s) declared" if changed else "policy unchanged")
            return
        row, accepted = policy.current(session), policy.accepted(session)
        title = row.name if row else "no policy declared: the law's grounds are accepted"
    typer.echo(f"{title}\n  " + "\n  ".join(accepted))


@app.command("apply")
def apply_file(
    path: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="The registers YAML file (policy grounds, processors, recipients)."
    ),
    prune: bool = typer.Option(
        False,
        "--prune",
        help="Also remove processors and recipients the file leaves out (recipients named by sharing events stay).",
    ),
) -> None:
    """Apply a registers file: declare the policy's grounds, add or update processors and recipients with their
    agreements (audited; a recipient's purpose change asks for consent again), and replay its `history:` (demo
    shares, disclosures, purpose changes) when no sharing event is recorded yet. Nothing is applied if any entry
    is refused."""
    from privet.db.store import store_session
    from privet.registers import config

    with store_session() as session:
        lines = config.apply_file(session, path, actor=cli_actor(), prune=prune, keyring=_keyring()).lines()
    typer.echo("\n".join(lines) if lines else "registers unchanged")


@app.command("recipients")
def list_recipients(as_json: bool = AS_JSON) -> None:
    """List registered recipients (other controllers) with their agreements."""
    from privet.db.store import store_session
    from privet.registers import sharing
    from privet.registers.schemas import RecipientOut

    with store_session() as session:
        rows = [RecipientOut.model_validate(r) for r in sharing.list_recipients(session)]
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows], indent=2, ensure_ascii=False))
        return
    _table(
        "recipients",
        (
            "key",
            "name",
            "kind",
            "purposes",
            "categories",
            "region",
            "grounds",
            "agreement",
            "signed",
            "expires",
            "re-consent since",
        ),
        [
            (
                r.key,
                r.name,
                r.kind,
                ", ".join(r.purposes),
                ", ".join(r.categories),
                r.region,
                ", ".join(r.legal_grounds),
                r.agreement_ref,
                r.signed_on,
                r.expires_on,
                f"{r.reconsent_since:%Y-%m-%d %H:%M}" if r.reconsent_since else None,
            )
            for r in rows
        ],
    )


@app.command("recipient-add")
def recipient_add(
    key: str = typer.Argument(..., help="The recipient's key, as the data map's activities name it."),
    name: str = typer.Option(..., help="The recipient's name."),
    kind: str = typer.Option("third_party", help="affiliate, partner, third_party or authority."),
    purpose: list[str] = PURPOSES,
    category: list[str] = CATEGORIES,
    region: str = typer.Option(None, help="Where the recipient is: CN, HK, EU, US ..."),
    ground: list[str] = typer.Option(
        None,
        "--ground",
        help="A ground code of the company's policy its shares may rest on (repeat; privet registers grounds).",
    ),
    agreement: str = typer.Option(None, help="Reference of the confidentiality or data-sharing agreement."),
    signed: datetime = typer.Option(None, formats=DATE, help="When the agreement was signed (YYYY-MM-DD)."),
    expires: datetime = typer.Option(None, formats=DATE, help="When the agreement expires (YYYY-MM-DD)."),
    replace: bool = typer.Option(
        False,
        "--replace",
        help="Update the registered recipient (e.g. a renewed agreement; changed purposes ask for consent again).",
    ),
) -> None:
    """Register a recipient with its purposes, the most it may receive, its grounds and its agreement."""
    from privet.db.store import store_session
    from privet.registers import sharing

    with store_session() as session:
        sharing.add_recipient(
            session,
            key=key,
            name=name,
            kind=kind,
            purposes=purpose,
            categories=category,
            region=region,
            legal_grounds=ground,
            agreement_ref=agreement,
            signed_on=_day(signed),
            expires_on=_day(expires),
            replace=replace,
            actor=cli_actor(),
        )
    typer.echo(f"recipient {key} {'saved' if replace else 'registered'}")


@app.command("recipient-purpose")
def recipient_purpose(
    key: str = typer.Argument(..., help="The recipient's key."),
    purpose: list[str] = typer.Option(..., "--purpose", help="Its new purpose (repeat for several)."),
    reason: str = typer.Option(None, help="Why the purpose changed (no personal data)."),
) -> None:
    """Record a recipient's change of purpose: its consent-based shares then need consent given after it."""
    from privet.db.store import store_session
    from privet.registers import sharing

    with store_session() as session:
        sharing.change_purposes(session, key, purposes=purpose, reason=reason, actor=cli_actor())
    typer.echo(f"recipient {key} now uses data for {', '.join(purpose)}; re-consent required")


@app.command("share")
def share(
    recipient: str = typer.Argument(..., help="The registered recipient's key."),
    subject_id: list[str] = SUBJECT_IDS,
    file: Path = SUBJECTS_FILE,
    purpose: str = typer.Option(None, help="One of the recipient's purposes (default: its first)."),
    category: list[str] = CATEGORIES,
    ground: str = GROUND,
    reference: str = REFERENCE,
    note: str = typer.Option(None, help="A note for the register (no personal data)."),
    output: Path = OUTPUT,
) -> None:
    """Share with a registered recipient: subjects without consent are filtered out (or rely on a legal ground
    with --ground and --reference). Prints the counts; --output writes who may be shared."""
    from privet.db.store import store_session
    from privet.registers import sharing

    ids, identities = _subjects(subject_id, file)
    with store_session() as session:
        outcome = sharing.share(
            session,
            recipient=recipient,
            subject_ids=ids,
            identities=identities,
            purpose=purpose,
            categories=category,
            legal_ground=ground,
            reference=reference,
            note=note,
            keyring=_keyring() if identities else None,
            actor=cli_actor(),
        )
        e = outcome.event
        line = (
            f"share {e.id} to {recipient}: requested {e.requested}, shared {e.shared}, filtered out "
            f"{e.filtered_out} ({_counts(e.reasons)})"
        )
    _write_allowed(output, outcome.allowed)
    typer.echo(line)


@app.command("shares")
def list_shares(
    recipient: str = typer.Option(None, help="Only this recipient."),
    limit: int = typer.Option(50, min=1, max=1000, help="Show at most this many, newest first."),
) -> None:
    """Sharing events, newest first (counts only)."""
    from privet.db.store import store_session
    from privet.registers import sharing

    with store_session() as session:
        rows = [
            (
                f"{e.at:%Y-%m-%d %H:%M}",
                k,
                e.purpose,
                e.legal_ground or e.basis,
                e.reference,
                e.requested,
                e.shared,
                _counts(e.reasons),
            )
            for e, k in sharing.list_shares(session, recipient=recipient, limit=limit)
        ]
    _table(
        "sharing events",
        ("at", "recipient", "purpose", "basis", "reference", "requested", "shared", "filtered out"),
        rows,
    )


@app.command("disclose")
def disclose(
    title: str = typer.Option(..., help="What is published (no personal data)."),
    category: list[str] = typer.Option(..., "--category", help="A data category made public (repeat)."),
    subject_id: list[str] = SUBJECT_IDS,
    file: Path = SUBJECTS_FILE,
    ground: str = typer.Option(
        None,
        "--ground",
        help="Ground code (default with --reference: law_required, or the policy's disclosure ground).",
    ),
    reference: str = typer.Option(None, "--reference", help="The law, legal process or authority's requirement."),
    purpose: str = typer.Option(None, help="Default: the data map's public-disclosure purpose."),
    output: Path = OUTPUT,
) -> None:
    """Record a public disclosure: each subject needs a separate consent to it, unless a legal reference is given."""
    from privet.db.store import store_session
    from privet.registers import disclosures

    ids, identities = _subjects(subject_id, file)
    with store_session() as session:
        outcome = disclosures.disclose(
            session,
            title=title,
            categories=category,
            subject_ids=ids,
            identities=identities,
            legal_ground=ground,
            reference=reference,
            purpose=purpose,
            keyring=_keyring() if identities else None,
            actor=cli_actor(),
        )
        d = outcome.event
        line = (
            f"disclosure {d.id} ({d.basis}): requested {d.requested}, disclosed {d.disclosed}, filtered out "
            f"{d.filtered_out} ({_counts(d.reasons)})"
        )
    _write_allowed(output, outcome.allowed)
    typer.echo(line)


@app.command("disclosures")
def list_disclosures(
    limit: int = typer.Option(50, min=1, max=1000, help="Show at most this many, newest first."),
) -> None:
    """Public disclosures, newest first (counts only)."""
    from privet.db.store import store_session
    from privet.registers import disclosures

    with store_session() as session:
        rows = [
            (
                f"{d.at:%Y-%m-%d %H:%M}",
                d.title,
                ", ".join(d.categories),
                d.legal_ground or d.basis,
                d.reference,
                d.requested,
                d.disclosed,
                _counts(d.reasons),
            )
            for d in disclosures.list_disclosures(session, limit)
        ]
    _table(
        "public disclosures",
        ("at", "title", "categories", "basis", "reference", "requested", "disclosed", "filtered out"),
        rows,
    )


@app.command("corporate-transfer")
def corporate_transfer(
    successor: str = typer.Option(..., help="The new holder of the data."),
    kind: str = typer.Option(..., help="merger, acquisition, asset_sale, bankruptcy or other."),
    on: datetime = typer.Option(..., "--date", formats=DATE, help="The date the data passes (YYYY-MM-DD)."),
    binding: str = typer.Option(..., help="How the successor is bound by the privacy policy."),
    not_bound: bool = typer.Option(
        False, "--not-bound", help="The successor is not bound: it must seek consent again (a re-consent campaign)."
    ),
    category: list[str] = CATEGORIES,
    subjects: int = typer.Option(
        None, "--subjects", min=0, help="People whose data passes (default: every active subject)."
    ),
    reference: str = typer.Option(None, help="The deal or contract reference."),
) -> None:
    """Record a corporate transfer and prepare the campaign telling the people concerned."""
    from privet.db.store import store_session
    from privet.registers import corporate

    with store_session() as session:
        row = corporate.record_transfer(
            session,
            successor=successor,
            kind=kind,
            transfer_date=on.date(),
            binding_statement=binding,
            bound=not not_bound,
            categories=category,
            subject_count=subjects,
            reference=reference,
            actor=cli_actor(),
        )
        line = (
            f"corporate transfer {row.id} recorded; {row.campaign_kind} campaign prepared for "
            f"{row.campaign_subjects} subjects"
        )
    typer.echo(line)


@app.command("corporate-transfers")
def list_transfers() -> None:
    """Corporate transfers with their campaigns."""
    from privet.db.store import store_session
    from privet.registers import corporate

    with store_session() as session:
        rows = [
            (
                t.id,
                t.transfer_date,
                t.successor,
                t.kind,
                "yes" if t.bound else "no",
                t.subject_count,
                f"{t.campaign_kind} {t.campaign_status} ({t.campaign_subjects})",
            )
            for t in corporate.list_transfers(session)
        ]
    _table("corporate transfers", ("id", "date", "successor", "kind", "bound", "subjects", "campaign"), rows)


@app.command("campaign-sent")
def campaign_sent(
    transfer_id: str = typer.Argument(
        ..., help="The corporate transfer's id (see `privet registers corporate-transfers`)."
    ),
) -> None:
    """Record that a corporate transfer's prepared campaign was sent to the people concerned."""
    from privet.db.store import store_session
    from privet.registers import corporate

    with store_session() as session:
        row = corporate.mark_campaign_sent(session, transfer_id, actor=cli_actor())
        line = f"{row.campaign_kind} campaign of {transfer_id} recorded as sent ({row.campaign_subjects} subjects)"
    typer.echo(line)
