"""A handler module whose own import fails: the job runtime must not hide that."""

import privet.no_such_dependency  # noqa: F401
