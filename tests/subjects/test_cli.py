"""`privet subjects lookup | show | merge | flagged` on a real store."""

from __future__ import annotations

from datetime import date

import pytest
from faker import Faker

from tests.conftest import PrivetCli


@pytest.fixture
def store(privet: PrivetCli, cli_store: str) -> PrivetCli:
    """A migrated store plus this issue's tables (until the lead adds their migration)."""
    from privet.db.engine import make_engine
    from privet.tables import metadata

    engine = make_engine(cli_store)
    metadata.create_all(engine)
    engine.dispose()
    return privet


def _seed(identities: list[tuple[str, str]], *, born: date | None = None, adults_only: bool = False) -> str:
    from privet.db.store import store_session
    from privet.kit.crypto import Keyring
    from privet.settings import get_settings
    from privet.subjects import ages, service

    keyring = Keyring.from_settings(get_settings())
    with store_session() as session:
        subject = service.create_subject(session, keyring, [(t, v, False) for t, v in identities], actor="test")
        if born:
            ages.set_birth_date(
                session, keyring, subject, born, policy=ages.AgePolicy(adults_only=adults_only), actor="test"
            )
        return subject.id


def test_lookup_prompts_for_the_value_and_masks_it(store: PrivetCli, fake: Faker, fake_cn: Faker) -> None:
    email, mobile = fake.email(), fake_cn.phone_number()
    subject_id = _seed([("email", email), ("phone", mobile)])
    result = store("subjects", "lookup", "--type", "phone", input=f"+86 {mobile}\n")
    assert result.exit_code == 0, result.output
    shown = result.output.split("Identity value:")[-1]
    assert subject_id in shown and f"***{mobile[-4:]}" in shown and mobile not in shown and email not in shown
    as_json = store("subjects", "lookup", "--type", "email", "--value", email.upper(), "--json")
    assert as_json.exit_code == 0 and f'"id": "{subject_id}"' in as_json.output and email not in as_json.output
    missing = store("subjects", "lookup", "--type", "email", "--value", "x" + email)
    assert missing.exit_code == 2 and "No subject has this identity" in missing.output
    assert email not in missing.output
    bad = store("subjects", "lookup", "--type", "phone", "--value", "12345")
    assert bad.exit_code == 2 and "not a valid phone number" in bad.output and "12345" not in bad.output


def test_merge_and_show(store: PrivetCli, fake: Faker) -> None:
    user_id = fake.uuid4()
    keep, absorb = _seed([("email", fake.email())]), _seed([("user_id", user_id)])
    result = store("subjects", "merge", keep, absorb)
    assert result.exit_code == 0 and f"merged {absorb} into {keep}" in result.output
    found = store("subjects", "lookup", "--type", "user_id", "--value", user_id)
    assert f"subject {keep}" in found.output and absorb in found.output  # listed as merged into it
    shown = store("subjects", "show", absorb)
    assert f"subject {keep}" in shown.output
    again = store("subjects", "merge", keep, absorb)
    assert again.exit_code == 2 and "merged" in again.output


def test_flagged_lists_minors_of_an_adults_only_store(store: PrivetCli, fake: Faker) -> None:
    assert "0 flagged" in store("subjects", "flagged").output
    minor = _seed([("email", fake.email())], born=date(date.today().year - 15, 1, 1), adults_only=True)
    _seed([("email", fake.email())], born=date(1990, 1, 1), adults_only=True)
    result = store("subjects", "flagged")
    assert result.exit_code == 0 and minor in result.output and "minor_in_adults_only" in result.output
    assert "1 flagged" in result.output
    assert f'"id": "{minor}"' in store("subjects", "flagged", "--json").output
