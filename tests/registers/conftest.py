"""Fixtures for the register tests: the Keptek data map applied, a keyring, subjects made from Faker data."""

from __future__ import annotations

from tests.consent.conftest import faker_multi, keptek, make_subject, ring  # noqa: F401 - fixtures reused
