"""Background jobs: one interface (`privet.jobs.service`), an inline and a Celery backend."""

from privet.jobs.registry import HANDLER_MODULES as handlers_modules  # noqa: F401 - the modules holding handlers
