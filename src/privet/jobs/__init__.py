"""Background jobs: one interface (`privet.jobs.service`), an inline and a Celery backend."""

# the modules holding handlers, under the name this package has always exported
from privet.jobs.registry import HANDLER_MODULES as handlers_modules  # noqa: F401, N811
