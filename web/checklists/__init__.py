"""Checklistor: answering (units), reviewing (beställare, granskare), evidence and findings."""

from flask import Blueprint

bp = Blueprint("checklists", __name__, url_prefix="/checklistor")


@bp.app_template_global("section_key")
def _section_key(section: str) -> str:
    from checklists.sections import section_of

    return section_of(section)


from web.checklists import routes  # noqa: E402,F401
