"""Datastore connection secrets: the data map names them, settings or a private file hold the URLs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from privet.kit.errors import InvalidInput, Problem
from privet.settings import Settings


def secrets_path(settings: Settings) -> Path:
    """The secrets file in use: `PRIVET_SECRETS_FILE`, else `<data_dir>/secrets.yaml`."""
    return Path(settings.secrets_file) if settings.secrets_file else Path(settings.data_dir) / "secrets.yaml"


def _read_file(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise InvalidInput(
            f"Cannot read the secrets file {path} ({type(exc).__name__})",
            "make it a YAML or JSON mapping of secret name to connection URL",
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise InvalidInput(
            f"The secrets file {path} is not a mapping of names to URLs",
            "write lines such as `crm_db: postgresql+psycopg://user:pass@host/db`",
        )
    return {str(k): v for k, v in data.items()}


def known_secrets(settings: Settings) -> dict[str, str]:
    """Every secret by name; `PRIVET_SECRETS` wins over the file."""
    return {**_read_file(secrets_path(settings)), **settings.secrets}


def resolve_secret(settings: Settings, name: str) -> str:
    """The connection URL for secret `name` (never logged, never put in an error message)."""
    found = known_secrets(settings)
    if name in found:
        return found[name]
    raise InvalidInput(
        f"Unknown connection secret `{name}`",
        f"add it to PRIVET_SECRETS or {secrets_path(settings)}",
        [Problem(f"no secret named `{name}`", "secrets", "names are case-sensitive")],
    )


def write_secrets(settings: Settings, mapping: dict[str, str]) -> Path:
    """Merge `mapping` into the secrets file (mode 0600), keeping names already there."""
    path = secrets_path(settings)
    merged = {**_read_file(path), **mapping}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        if path.suffix == ".json":
            json.dump(merged, out, indent=2, sort_keys=True)
        else:
            yaml.safe_dump(merged, out, sort_keys=True, allow_unicode=True)
    os.chmod(path, 0o600)  # the file may have existed with wider permissions
    return path
