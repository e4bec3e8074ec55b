"""`privet retention children --dry-run` on the Keptek demo, through the real entry point: counts only (no name,
phone, e-mail or birth date of the generated customers in the output), exit code 0, nothing filed."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa


def _today_minus(years: int) -> str:
    today = date.today()
    return (
        (today.replace(day=28) if (today.month, today.day) == (2, 29) else today)
        .replace(year=today.year - years)
        .isoformat()
    )


@pytest.mark.promise("P27", "P42")
@pytest.mark.parametrize("cli_store", ["sqlite"], indirect=True)
def test_children_dry_run_on_the_keptek_demo_prints_counts_only(privet, cli_store: str) -> None:
    from privet.demo.service import demo_urls
    from privet.settings import get_settings

    loaded = privet("demo", "--company", "keptek", "--customers", "200")
    assert loaded.exit_code == 0, loaded.output
    crm = sa.create_engine(demo_urls(get_settings(), "keptek")["crm"])
    with crm.connect() as conn:
        kids = conn.execute(
            sa.text("SELECT COUNT(*) FROM customers WHERE birth_date > :cut"), {"cut": _today_minus(14)}
        ).scalar_one()
        people = conn.execute(sa.text("SELECT name, mobile, email, birth_date FROM customers")).all()
    crm.dispose()
    assert kids > 0

    store = sa.create_engine(cli_store)
    with store.connect() as conn:
        before = conn.execute(sa.text("SELECT COUNT(*) FROM dsr_requests")).scalar_one()
    result = privet("retention", "children", "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"Minors found in the datastores: {kids} " in result.output
    assert "would file" in result.output and "for related accounts" in result.output
    values = {str(v) for row in people for v in row if v}
    assert not [v for v in values if v in result.output]  # no personal value of anyone, minors or not

    with store.connect() as conn:  # a dry run files nothing
        assert conn.execute(sa.text("SELECT COUNT(*) FROM dsr_requests")).scalar_one() == before
    store.dispose()
