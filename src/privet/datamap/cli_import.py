"""`privet datamap scaffold` and `privet datamap import-fides`: drafts of the data map from what already exists."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from privet.datamap.draft_output import annotate, check_output, emit
from privet.kit.errors import InvalidInput

if TYPE_CHECKING:
    from privet.taxonomy.loader import Taxonomy

_KEY = re.compile(r"^[a-z][a-z0-9_]*$")

SCAFFOLD_HEADER = """\
# Draft data map written by `privet datamap scaffold` from a {dialect} database. Review before applying:
# - datastores: set `system` to the key of the system that owns the database and `region` to where it runs
#   (CN is a placeholder). Store the connection URL under the secret name `{secret}` (PRIVET_SECRETS or the
#   secrets file); the URL never goes in this file.
# - category / identity were guessed from column names (with --discover: and from a sample of the values, each
#   such field saying so in a `review:` note). Columns without `category` were judged non-personal: check them,
#   and check every guess (a `name` column is not always a person's name).
# - add `erasure:` to each table holding personal data (delete_row, null, mask, hash, or retain with reason
#   and duration), then `privet datamap validate` and `privet datamap evaluate`.
# - references: `relation:` (belongs_to, owns, points_to) was proposed from names; a wrong one hands a person
#   someone else's rows or leaves out their own. `inferred: true` marks a reference no foreign key declares
#   (guessed from names and types): confirm it, then delete that line. Read every `review:` note.
# - identity fields marked `indexed: false` make requests scan the table: no index serves them as they are
#   matched (e-mail ignoring case, phones ignoring punctuation); add one or accept the warning.
"""

FIDES_HEADER = """\
# Converted by `privet datamap import-fides` from {source}. Review before applying:
# - categories were mapped through the taxonomy's fideslang mapping{approx};
#   fields with several Fides categories keep the first, the others are noted in their description.
# - nested Fides fields are flattened to `parent.child` names.
# - reference directions became `relation:` (from: belongs_to; to: owns, or points_to towards someone else's
#   row); masking overrides became `erasure:`. Read every `review:` note.
{stub}"""


def scaffold_command(
    datastore: str = typer.Option(
        ...,
        "--datastore",
        help="Database URL (sqlite:///..., postgresql+psycopg://..., "
        "mysql+pymysql://...) or the name of a connection secret.",
    ),
    key: str = typer.Option(None, "--key", help="Key of the drafted dataset (default: the datastore key)."),
    datastore_key: str = typer.Option(
        None, "--datastore-key", help="Key of the datastore stub (default: the secret name, else the database name)."
    ),
    schema: str = typer.Option(None, "--schema", help="Schema to reflect (default: the connection's default)."),
    tables: list[str] = typer.Option(None, "--table", help="Only these tables (repeatable; globs like order* work)."),
    region: str = typer.Option("CN", "--region", help="Region written into the datastore stub (review it)."),
    output: Path = typer.Option(None, "--output", "-o", help="Write the YAML to this file instead of stdout."),
    force: bool = typer.Option(False, "--force", help="Overwrite the output file if it exists."),
    discover: bool = typer.Option(
        False,
        "--discover",
        help="Also read a sample of each table and write in the "
        "categories its values show (audited; no value is kept).",
    ),
    sample: int = typer.Option(200, "--sample", min=10, max=100_000, help="With --discover: rows read per table."),
) -> None:
    """Reflect a database's tables, keys and indexes into a draft dataset YAML, guessing categories."""
    from privet.datamap.scaffold import scaffold, snake

    check_output(output, force)
    url, secret = _resolve(datastore)
    ds_key = datastore_key or snake(secret or _database_name(url)) or "datastore"
    ds_key = ds_key if _KEY.match(ds_key) else f"db_{ds_key}"
    for label, value in (("--datastore-key", ds_key), ("--key", key or ds_key)):
        if not _KEY.match(value):
            raise InvalidInput(f"{label} {value!r} is not a valid key", "use lowercase snake_case, e.g. crm_db")
    draft = scaffold(
        url,
        dataset_key=key or ds_key,
        datastore_key=ds_key,
        schema=schema,
        include=tables or None,
        secret=secret or ds_key,
        region=region,
    )
    if discover:
        from privet.datamap.discover_cli import scaffold_discovery

        scaffold_discovery(draft, url, sample=sample, schema=schema, include=tables or None)
    header = SCAFFOLD_HEADER.format(dialect=draft["datastores"][0]["kind"], secret=secret or ds_key)
    emit(header + annotate(draft), output, force)


def import_fides_command(
    file: Path = typer.Argument(..., help="Fides dataset YAML file (top-level `dataset:` list)."),
    datastore_key: str = typer.Option(
        None,
        "--datastore-key",
        help="Datastore the datasets live in (default: a stub datastore per dataset, to fill in).",
    ),
    output: Path = typer.Option(None, "--output", "-o", help="Write the YAML to this file instead of stdout."),
    strict: bool = typer.Option(
        False,
        "--strict",
        help="Refuse categories without an exact fideslang mapping instead of using the nearest mapped parent.",
    ),
    taxonomy: Path = typer.Option(
        None,
        "--taxonomy",
        help="Company taxonomy YAML (or a manifest with a `taxonomy:` section) whose fideslang mappings are used too.",
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite the output file if it exists."),
) -> None:
    """Convert a Fides dataset YAML into Privet's data map format."""
    from privet.datamap.fides import convert_fides

    if datastore_key is not None and not _KEY.match(datastore_key):
        raise InvalidInput(f"--datastore-key {datastore_key!r} is not a valid key", "use lowercase snake_case")
    check_output(output, force)
    converted = convert_fides(file, datastore_key=datastore_key, strict=strict, taxonomy=_taxonomy(taxonomy))
    stub = (
        "# - datastores: stubs of kind `manual`; set their system, kind, region and secret.\n"
        if "datastores" in converted
        else ""
    )
    header = FIDES_HEADER.format(
        source=file.name, stub=stub, approx="" if strict else " (nearest mapped parent where not exact)"
    )
    emit(header + annotate(converted), output, force)


def _resolve(datastore: str) -> tuple[str, str | None]:
    """(URL, secret name): a value with `://` or a `sqlite:` prefix is a URL, anything else a secret name."""
    if "://" in datastore or datastore.startswith("sqlite:"):
        return datastore, None
    from privet.datamap.secrets import resolve_secret
    from privet.settings import get_settings

    return resolve_secret(get_settings(), datastore), datastore


def _database_name(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        database = make_url(url).database or ""
    except Exception:  # noqa: BLE001 - scaffold() reports a bad URL with a proper message
        return ""
    return Path(database).stem


def _taxonomy(path: Path | None) -> Taxonomy | None:
    """The default taxonomy plus the company's additions from `path` (None: default only)."""
    if path is None:
        return None
    from privet.kit.yamlio import load_file
    from privet.taxonomy.loader import load_taxonomy

    data = load_file(path)
    if isinstance(data, dict) and isinstance(data.get("taxonomy"), dict):
        data = data["taxonomy"]  # a data map manifest carrying its `taxonomy:` section
    return load_taxonomy(data, str(path))
