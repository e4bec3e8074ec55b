"""Each domain's tables module, imported alone, brings every table its foreign keys name.

A process imports only the models its code path needs (a CLI command, a job, a Celery worker). The ORM's flush
sorts every mapped table by its foreign keys, so one key naming a table whose module was never imported fails
every write of that process (`NoReferencedTableError`, issue 12). A models module therefore imports the modules
defining the tables its foreign keys name; this test fails when one does not.
"""

from __future__ import annotations

import subprocess
import sys
from types import ModuleType

CHECK = """
import importlib, sys
importlib.import_module(sys.argv[1])
from sqlalchemy.orm import configure_mappers
from privet.db.base import Base
configure_mappers()
for table in Base.metadata.tables.values():
    for key in table.foreign_keys:
        key.column  # resolves the named table, or raises NoReferencedTableError
"""


def _model_modules() -> list[str]:
    import privet.tables as registry

    return sorted(
        value.__name__
        for value in vars(registry).values()
        if isinstance(value, ModuleType)
        and value.__name__.startswith("privet.")
        and value is not registry
        and value.__name__ != "privet.db.base"
    )


def test_every_models_module_alone_resolves_its_foreign_keys() -> None:
    modules = _model_modules()
    assert "privet.requests.models" in modules and "privet.consent.models" in modules
    running = {
        name: subprocess.Popen([sys.executable, "-c", CHECK, name], stderr=subprocess.PIPE, text=True)
        for name in modules
    }
    failed = {}
    for name, process in running.items():
        _out, err = process.communicate(timeout=60)
        if process.returncode != 0:
            failed[name] = err.strip().splitlines()[-1]
    assert not failed, f"import the modules defining these tables in the models module: {failed}"
