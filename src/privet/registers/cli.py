"""`privet registers`: processors and alerts, recipients and shares, public disclosures, corporate transfers."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import typer

from privet.kit.cliutil import cli_actor
from privet.registers import events_cli
from privet.registers.cli_options import AS_JSON, CATEGORIES, DATE, PURPOSES, as_day, load_keyring, print_table

app = typer.Typer(
    help="Registers: processors, recipients and sharing, disclosures, corporate and cross-border transfers.",
    no_args_is_help=True,
)


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
    print_table(
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
            signed_on=as_day(signed),
            expires_on=as_day(expires),
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
        print_table(
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
    print_table(
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
        lines = config.apply_file(session, path, actor=cli_actor(), prune=prune, keyring=load_keyring()).lines()
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
    print_table(
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
            signed_on=as_day(signed),
            expires_on=as_day(expires),
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


app.registered_commands += events_cli.commands.registered_commands  # after these: `--help` lists them in this order
