"""`privet report ropa | evidence | pia ... | crossborder ...`: the records a regulator asks for."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from privet.kit.cliutil import cli_actor
from privet.registers.crossborder_cli import app as crossborder_app

app = typer.Typer(
    help="Reports: records of processing, evidence of the promises kept, impact assessments, cross-border transfers.",
    no_args_is_help=True,
)
pia_app = typer.Typer(
    help="Personal information protection impact assessments (PIPL Art 55, 56).", no_args_is_help=True
)
app.add_typer(pia_app, name="pia")
app.add_typer(crossborder_app, name="crossborder")


@app.command("ropa")
def ropa(
    fmt: str = typer.Option("html", "--format", help="html or csv."),
    lang: str = typer.Option("en", "--lang", help="Language of the headings and names: en or zh_CN."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write to this file instead of printing."),
) -> None:
    """Records of processing activities (GDPR Art 30 / PIPL) generated from the data map and registers."""
    from privet.db.store import store_session
    from privet.reports import ropa as records

    with store_session() as session:
        text = records.render(session, fmt, lang)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"Wrote {output}.")


@app.command("evidence")
def evidence(
    fmt: str = typer.Option("text", "--format", help="text (for a terminal), html or json."),
    lang: str = typer.Option("en", "--lang", help="Language of the HTML page: en or zh_CN."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write to this file instead of printing."),
) -> None:
    """For every promise P1-P45: its mechanism, whether the data map and registers configure it (what is missing if
    not), and the latest run or check that exercised it, from the store."""
    from privet.db.store import store_session
    from privet.reports import evidence as report
    from privet.settings import get_settings

    with store_session() as session:
        text = report.render(session, get_settings(), fmt, lang)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"Wrote {output}.")


@pia_app.command("list")
def pia_list(
    status: str | None = typer.Option(None, "--status", help="draft, concluded or superseded."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Assessments, after drafting one for each data map activity that needs one."""
    from privet.db.store import store_session
    from privet.reports import pia

    with store_session() as session:
        created = pia.sync_drafts(session, actor=cli_actor())
        rows = [pia.as_dict(r) for r in pia.list_assessments(session, status=status)]
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if created:
        typer.echo(f"Drafted {len(created)} new assessment(s) from the data map.")
    typer.echo(f"{'ASSESSMENT':<12} {'ACTIVITY':<24} {'STATUS':<10} {'ANSWERED':>8} {'KEEP UNTIL':<11} TRIGGERS")
    for r in rows:
        answered = sum(1 for q in r["questions"] if q["answer"])
        typer.echo(
            f"{r['reference']:<12} {r['activity']:<24} {r['status']:<10} "
            f"{str(answered) + '/' + str(len(r['questions'])):>8} {r['retain_until'] or '-':<11} "
            f"{', '.join(r['triggers'])}"
        )


@pia_app.command("show")
def pia_show(reference: str = typer.Argument(..., help="Assessment reference (A-…).")) -> None:
    """One assessment: its triggers, questionnaire and conclusion."""
    from privet.db.store import store_session
    from privet.reports import pia

    with store_session() as session:
        r = pia.as_dict(pia.get_assessment(session, reference))
    typer.echo(f"{r['reference']}  {r['activity_name']} ({r['activity']})  [{r['status']}]")
    typer.echo(f"  triggers: {', '.join(r['triggers'])}; data map version {r['datamap_version']}")
    for q in r["questions"]:
        typer.echo(f"  [{q['key']}] {q['question']}\n      {q['answer'] or '(not answered)'}")
    if r["status"] != "draft":
        typer.echo(
            f"  outcome: {r['outcome']}; concluded {r['concluded_at']} by {r['concluded_by']}; "
            f"kept until {r['retain_until']}\n  conclusion: {r['conclusion']}"
        )


@pia_app.command("answer")
def pia_answer(
    reference: str = typer.Argument(..., help="Assessment reference (A-…)."),
    answers: list[str] = typer.Argument(..., help="QUESTION=ANSWER pairs (see `privet report pia show`)."),
) -> None:
    """Answer questions of a draft assessment."""
    from privet.db.store import store_session
    from privet.kit.errors import InvalidInput
    from privet.reports import pia

    pairs = {}
    for item in answers:
        key, sep, text = item.partition("=")
        if not sep:
            raise InvalidInput(f"{item!r} is not QUESTION=ANSWER", "write e.g. impact='Low: ...'")
        pairs[key.strip()] = text
    with store_session() as session:
        row = pia.answer(session, reference, pairs, actor=cli_actor())
        left = [k for k, _ in pia.questions_for(row.triggers) if k not in row.answers]
    typer.echo(
        f"Saved {len(pairs)} answer(s); {len(left)} question(s) left" + (f": {', '.join(left)}" if left else "") + "."
    )


@pia_app.command("conclude")
def pia_conclude(
    reference: str = typer.Argument(..., help="Assessment reference (A-…)."),
    outcome: str = typer.Option(..., "--outcome", help="acceptable, acceptable_with_measures or not_acceptable."),
    conclusion: str = typer.Option(..., "--conclusion", help="The assessment's conclusion."),
    retain_years: int = typer.Option(
        3, "--retain-years", min=3, help="Keep it at least this many years (PIPL Art 56: 3 or more)."
    ),
) -> None:
    """Conclude a fully answered draft; it is kept at least three years."""
    from privet.db.store import store_session
    from privet.reports import pia

    with store_session() as session:
        row = pia.conclude(
            session, reference, outcome=outcome, conclusion=conclusion, actor=cli_actor(), retain_years=retain_years
        )
        assert row.retain_until is not None  # set by conclude
        until = row.retain_until.isoformat()
    typer.echo(f"Concluded {reference.upper()}: {outcome}; kept until {until}.")


@pia_app.command("delete")
def pia_delete(reference: str = typer.Argument(..., help="Assessment reference (A-…).")) -> None:
    """Delete an assessment; refused before a concluded one's retention date."""
    from privet.db.store import store_session
    from privet.reports import pia

    with store_session() as session:
        pia.delete(session, reference, actor=cli_actor())
    typer.echo(f"Deleted {reference.upper()}.")
