"""Fixtures for the notice tests: the two seed policies, small policy texts and API keys."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from privet.auth.keys import create_api_key

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"  # ../shared/seeds from the repository
KEPTEK = SEEDS / "000_b42b08023ed46b88.txt"
ZKTECO = SEEDS / "002_a43c79157c0dd1d7.txt"

POLICY_V1 = """\
Acme Privacy Policy
This policy explains how Acme handles personal information.
1. What We Collect
We collect your name and e-mail address when you register.
2. How We Use It
We use it to run your account.
3. Sharing
We do not sell personal information.
4. Your Rights
You may access, correct and delete your information.
"""

POLICY_ZH = """\
Acme 隐私政策
本政策说明 Acme 如何处理您的个人信息。
一、我们收集的信息
您注册时，我们收集您的姓名和电子邮件地址。
二、我们如何使用
我们用于运营您的账户。
（一）账户
用于登录。
（二）通知
用于发送服务通知。
三、共享
我们不会出售个人信息。
"""


def seed(path: Path) -> str:
    """A seed policy's text (the spec and test input). Skipped with the reason on a laptop without ../shared;
    under CI=true a missing seed fails the test."""
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"seed policy {path} is missing: the repository's ../shared/seeds must be there in CI")
        pytest.skip(f"seed policy {path} is not available (../shared/seeds next to the repository)")
    return path.read_text(encoding="utf-8")


@pytest.fixture
def auth(db: Session) -> Callable[..., dict[str, str]]:
    """`auth("notices:read", ...)` → Authorization headers of a real API key holding those scopes."""

    def make(*scopes: str) -> dict[str, str]:
        _key, token = create_api_key(db, "notices-tests", list(scopes), actor="test")
        db.flush()
        return {"Authorization": f"Bearer {token}"}

    return make
