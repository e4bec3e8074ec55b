"""Both demo companies publish their notices when loaded (P31): the privacy policy, a product notice and a
just-in-time notice, each in English and Simplified Chinese; the texts are the policy in our own words, not copies
of the published policies they follow."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from privet.notices.models import Notice, NoticeVersion
from privet.settings import REPO_ROOT, Settings
from tests.demo.test_service import migrated

SEEDS = REPO_ROOT.parent / "shared" / "seeds"  # the published policies the demos follow, beside the repository
SEED = {"keptek": SEEDS / "000_b42b08023ed46b88.txt", "zkteco": SEEDS / "002_a43c79157c0dd1d7.txt"}
FOLDER = {
    "keptek": REPO_ROOT / "examples" / "keptek" / "policy",
    "zkteco": REPO_ROOT / "examples" / "zkteco" / "notices",
}
CJK = re.compile(r"[\u4e00-\u9fff]")
RUN = 8  # words in a row shared with the published policy that would make a sentence a copy


@pytest.fixture(scope="module", params=["keptek", "zkteco"])
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine]]:
    from privet.demo.service import load_demo

    folder = tmp_path_factory.mktemp(f"notices-{request.param}")
    settings = Settings(data_dir=folder / "var", secret_key="test-secret-key-0123456789abcdef")
    engine = migrated(f"sqlite:///{folder / 'privet.db'}")
    load_demo(settings, engine, request.param, customers=10)
    yield request.param, engine
    engine.dispose()


@pytest.mark.promise("P31")
def test_each_demo_publishes_policy_product_and_just_in_time_notices_in_both_languages(loaded: tuple) -> None:
    company, engine = loaded
    with Session(engine) as session:
        rows = session.execute(
            select(Notice.key, Notice.kind, NoticeVersion.version, NoticeVersion.content)
            .join(NoticeVersion, NoticeVersion.notice_id == Notice.id)
            .order_by(Notice.key, NoticeVersion.version)
        ).all()
    latest = {key: (kind, content) for key, kind, _version, content in rows}
    kinds = {kind for kind, _content in latest.values()}
    assert {"policy", "product", "just_in_time"} <= kinds, f"{company}: {kinds}"
    for key, (_kind, content) in latest.items():
        assert set(content) >= {"en", "zh_CN"}, f"{company} {key}: {sorted(content)}"
        en, zh = content["en"], content["zh_CN"]
        assert en["text"].strip() and en["sections"], f"{company} {key} (en)"
        assert zh["text"].strip() and zh["sections"], f"{company} {key} (zh_CN)"
        assert not CJK.search(en["text"]), f"{company} {key}: the English text holds Chinese"
        assert len(CJK.findall(zh["text"])) > len(zh["text"]) / 4, f"{company} {key}: the Chinese text is not Chinese"
        assert len(zh["sections"]) == len(en["sections"]), f"{company} {key}: the languages differ in sections"


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+|[\u4e00-\u9fff]", text.lower())


@pytest.mark.parametrize("company", ["keptek", "zkteco"])
def test_the_notices_are_written_in_our_own_words(company: str) -> None:
    if not SEED[company].is_file():
        pytest.skip(f"the published policy {SEED[company].name} is not beside the repository")
    seed = _words(SEED[company].read_text(encoding="utf-8"))
    runs = {tuple(seed[i : i + RUN]) for i in range(len(seed) - RUN + 1)}
    copied = {}
    for path in sorted(FOLDER[company].glob("*.md")):
        words = _words(path.read_text(encoding="utf-8"))
        shared = [
            " ".join(words[i : i + RUN]) for i in range(len(words) - RUN + 1) if tuple(words[i : i + RUN]) in runs
        ]
        if shared:
            copied[path.name] = shared[:3]
    assert not copied, copied
