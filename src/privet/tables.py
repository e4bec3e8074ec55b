"""Imports every domain's tables so `Base.metadata` is complete (migrations, create_all)."""

from privet.audit import models as _audit  # noqa: F401
from privet.auth import models as _auth  # noqa: F401
from privet.consent import models as _consent  # noqa: F401
from privet.datamap import models as _datamap  # noqa: F401
from privet.db import limits as _limits  # noqa: F401
from privet.db.base import Base
from privet.jobs import models as _jobs  # noqa: F401
from privet.notices import models as _notices  # noqa: F401
from privet.registers import incidents_models as _incidents  # noqa: F401
from privet.registers import models as _registers  # noqa: F401
from privet.reports import models as _reports  # noqa: F401
from privet.requests import models as _requests  # noqa: F401
from privet.retention import models as _retention  # noqa: F401
from privet.subjects import models as _subjects  # noqa: F401
from privet.taxonomy import models as _taxonomy  # noqa: F401

metadata = Base.metadata
