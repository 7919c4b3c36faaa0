"""The complete schema: imports every models module so that ``Base.metadata`` is whole.

Used by Alembic's env.py and by the test that models and migrations agree.
"""

from audit import api_tokens as _api_tokens  # noqa: F401
from audit import models as _audit_models  # noqa: F401
from audit import outbox as _audit_outbox  # noqa: F401
from audit import trail as _audit_trail  # noqa: F401
from audit.db import Base
from checklists import models as _checklist_models  # noqa: F401
from checklists import rounds as _checklist_rounds  # noqa: F401
from workflows import models as _workflow_models  # noqa: F401
from workflows.analysis import models as _analysis_models  # noqa: F401
from workflows.cases import models as _case_models  # noqa: F401
from workflows.joint import models as _joint_models  # noqa: F401
from workflows.reports import models as _report_models  # noqa: F401
from workflows.reviews import models as _review_models  # noqa: F401

metadata = Base.metadata
