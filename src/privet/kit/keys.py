"""The master secret: from settings, else generated once into `<data_dir>/secret.key` (mode 0600)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Protocol


class SecretSource(Protocol):
    """Where the master secret comes from: `privet.settings.Settings` (kit does not import settings)."""

    @property
    def secret_key(self) -> str | None: ...

    @property
    def data_dir(self) -> Path: ...


def master_secret(settings: SecretSource, *, create: bool = False) -> bytes:
    """The raw master secret; `create=True` generates the key file when neither setting nor file exists."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.data_dir / "secret.key"
    if not path.exists():
        if not create:
            from privet.kit.errors import Unavailable

            raise Unavailable("No secret key configured", "set PRIVET_SECRET_KEY or run `privet init`")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()
