"""Display names for the domain's enums, through the translation catalogs."""

from audit.models import Area, Operator, Role, UnitKind
from checklists.answers import Status
from checklists.models import AnswerType, Recurrence, Severity
from checklists.rounds import ChecklistStatus
from checklists.sections import Filter, ReviewStatus, SectionStatus
from web.i18n import lazy_gettext as _l
from workflows.models import Disposition

LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.BESTALLARE: _l("Purchaser"),
    Role.GRANSKARE: _l("Auditor"),
    Role.VERKSAMHETSCHEF: _l("Head of unit"),
    Role.PERSONAL: _l("Unit staff"),
    Role.LASARE: _l("Reader"),
    UnitKind.HALSOCENTRAL: _l("Health centre"),
    UnitKind.SJUKSTUGA: _l("Cottage hospital"),
    UnitKind.FILIAL: _l("Branch"),
    UnitKind.VERKSAMHET: _l("Service with an additional assignment"),
    Operator.EGENREGI: _l("Region-run"),
    Operator.PRIVAT: _l("Private"),
    Area.UMEA: _l("Umeå"),
    Area.SKELLEFTEA: _l("Skellefteå"),
    Area.SODRA_LAPPLAND: _l("Södra Lappland"),
    AnswerType.YES_NO: _l("Yes/no"),
    AnswerType.NAMED_PERSON: _l("Named person"),
    AnswerType.COUNT_RATIO: _l("Count and ratio"),
    AnswerType.DATE_DEADLINE: _l("Date against deadline"),
    AnswerType.WEEKLY_SCHEDULE: _l("Weekly schedule"),
    AnswerType.SELECTION: _l("Selection from list"),
    AnswerType.DOCUMENT: _l("Document"),
    AnswerType.SERVICE_LEVEL: _l("Service level"),
    AnswerType.NUMBER: _l("Number"),
    AnswerType.FREE_TEXT: _l("Free text"),
    Severity.PATIENT_SAFETY: _l("Patient safety"),
    Severity.HIGH: _l("High"),
    Severity.NORMAL: _l("Normal"),
    Recurrence.CONTINUOUS: _l("Continuously"),
    Recurrence.ANNUAL: _l("Every year"),
    Recurrence.MONTHLY: _l("Every month"),
    Recurrence.ON_EVENT: _l("When it happens"),
    ChecklistStatus.OPEN: _l("Open"),
    ChecklistStatus.SUBMITTED: _l("Submitted"),
    ChecklistStatus.RETURNED: _l("Returned for completion"),
    ChecklistStatus.ACCEPTED: _l("Accepted"),
    ChecklistStatus.NOT_SUBMITTED: _l("Not submitted (round closed)"),
    Status.COMPLIANT: _l("Compliant"),
    Status.PARTLY_COMPLIANT: _l("Partly compliant"),
    Status.NON_COMPLIANT: _l("Non-compliant"),
    Status.NOT_APPLICABLE: _l("Not applicable"),
    Status.NOT_ANSWERED: _l("Not answered"),
    Status.TO_REVIEW: _l("To be reviewed"),
    Disposition.NO_ACTION: _l("No action"),
    Disposition.REMARK: _l("Remark"),
    Disposition.ACTION_PLAN: _l("Action plan demanded"),
    Disposition.IN_DEPTH_REVIEW: _l("In-depth review"),
    Disposition.SANCTION_CASE: _l("Sanction case"),
}

DAYS = {
    "mon": _l("Monday"),
    "tue": _l("Tuesday"),
    "wed": _l("Wednesday"),
    "thu": _l("Thursday"),
    "fri": _l("Friday"),
    "sat": _l("Saturday"),
    "sun": _l("Sunday"),
}

APPLIES = {
    "all": _l("All units"),
    "privat": _l("Private units"),
    "egenregi": _l("Region-run units"),
    "named": _l("Named units"),
    "flags": _l("Units with BVC/MVC or other attribute"),
    "not_flags": _l("Units off the region's telephone platform"),
}

DIFF_FIELDS = {
    "source_text": _l("Source text"),
    "question": _l("Question"),
    "heading": _l("Heading"),
    "section": _l("Section"),
    "evidence": _l("Evidence"),
    "answer_type": _l("Answer type"),
    "answer_params": _l("Rule"),
    "applies_to": _l("Applies to"),
    "severity": _l("Severity"),
    "deadline": _l("Deadline"),
    "recurrence": _l("Recurs"),
    "kind": _l("Kind"),
}


DECIDING = {
    "bestallarenheten": _l("Beställarenheten (within its delegation)"),
    "regionstyrelsen": _l("Regionstyrelsen"),
}


def deciding_label(value) -> str:
    return DECIDING.get(str(value), str(value)) if value else ""


# Kept apart from LABELS: str enums with equal values ("done") would collide as dict keys.
SECTION_STATUS = {
    SectionStatus.NOT_STARTED: _l("Not started"),
    SectionStatus.STARTED: _l("In progress"),
    SectionStatus.DONE: _l("Completed"),
    SectionStatus.RETURNED: _l("Returned"),
    SectionStatus.NEEDS_ACTION: _l("Needs action"),
}
REVIEW_STATUS = {
    ReviewStatus.TO_JUDGE: _l("To assess"),
    ReviewStatus.DONE: _l("Nothing left to assess"),
}
FILTERS = {
    Filter.UNANSWERED: _l("Unanswered items"),
    Filter.RETURNED: _l("Returned items"),
    Filter.NOT_COMPLIANT: _l("Items not compliant"),
    Filter.TO_REVIEW: _l("Assessed by a reviewer"),
    Filter.MANUAL: _l("To assess manually"),
    Filter.OVERRIDDEN: _l("Changed assessment"),
}


def section_status_label(value) -> str:
    return SECTION_STATUS.get(value, str(value))


def review_status_label(value) -> str:
    return REVIEW_STATUS.get(value, str(value))


def filter_label(value) -> str:
    return FILTERS.get(value, str(value))


def day_label(code: str) -> str:
    return DAYS.get(code, code)


def severity_label(value: str) -> str:
    return LABELS.get(Severity(value), value)


ACTIONS = {
    "answer": _l("answered"),
    "add_evidence": _l("evidence added"),
    "remove_evidence": _l("evidence removed"),
    "submit": _l("submitted"),
    "return": _l("returned for completion"),
    "accept": _l("accepted"),
    "override": _l("assessment changed"),
    "comment": _l("commented"),
    "mark_completion": _l("marked for completion"),
    "disposition": _l("handling decided"),
    "attendance": _l("attendance recorded"),
    "replan": _l("date, place or theme changed"),
    "follow_up": _l("follow-up added"),
    "follow_up_finding": _l("follow-up made a finding"),
    "follow_up_done": _l("follow-up handled"),
    "add_material": _l("material added"),
    "remove_material": _l("material removed"),
    "link_checklist": _l("checklist linked"),
    "decide": _l("decided"),
    "add_measure": _l("measure added"),
    "add_document": _l("document attached"),
    "remove_document": _l("document removed"),
    "open_capitation_case": _l("capitation case opened"),
    "measure_done": _l("measure done"),
    "edit_measure": _l("measure changed"),
    "remove_measure": _l("measure removed"),
    "change_deadlines": _l("dates changed"),
    "add_requirement": _l("requirement added"),
    "remove_requirement": _l("requirement removed"),
    "add_file": _l("file added"),
    "remove_file": _l("file removed"),
    "edit_text": _l("text edited"),
    "new_version": _l("new version drafted"),
    "submit_for_review": _l("sent for review"),
    "return_to_draft": _l("returned to draft"),
    "publish": _l("published"),
    "create": _l("created"),
    "update": _l("updated"),
    "grant_role": _l("role granted"),
    "revoke_role": _l("role revoked"),
    "set_password": _l("password changed"),
    "set_one_time_password": _l("one-time password set"),
    "change_password": _l("changed own password"),
    "activate": _l("activated"),
    "deactivate": _l("deactivated"),
    "login": _l("logged in"),
    "logout": _l("logged out"),
    "login_failed": _l("failed login"),
}

ENTITY_TYPES = {
    "unit": _l("Unit"),
    "user": _l("User"),
    "catalog_edition": _l("Catalog edition"),
    "round": _l("Round"),
    "checklist": _l("Checklist"),
    "checklist_item": _l("Checklist item"),
    "finding": _l("Finding"),
    "follow_up_dialog": _l("Follow-up dialog"),
    "joint_dialog": _l("Joint dialog"),
    "action_plan": _l("Action plan"),
    "sanction_case": _l("Sanction case"),
    "case": _l("Notice or application"),
    "in_depth_review": _l("In-depth review"),
    "annual_analysis": _l("Annual analysis"),
    "ivo_referral": _l("Referral to IVO"),
    "login": _l("Unknown user name"),
}


FIELDS = {
    "code": _l("Code"),
    "name": _l("Name"),
    "kind": _l("Kind"),
    "operator": _l("Operator"),
    "provider": _l("Provider"),
    "area": _l("Area"),
    "main_unit_id": _l("Main unit"),
    "has_bvc": _l("BVC"),
    "has_mvc": _l("MVC"),
    "sjukvardsgrupp_duty": _l("Medical team (§2.12)"),
    "on_region_telephony": _l("Region telephony (§6.9)"),
    "active": _l("Active"),
    "source": _l("Source"),
    "assumptions": _l("Assumptions"),
}


def field_label(name: str) -> str:
    return FIELDS.get(name, name)


def applies_label(category: str) -> str:
    return APPLIES.get(category, category)


def diff_field_label(name: str) -> str:
    return DIFF_FIELDS.get(name, name)


def label(value) -> str:
    """The translated display name of an enum member (its value if none is defined)."""
    return LABELS.get(value, str(value))


def action_label(action: str) -> str:
    return ACTIONS.get(action, action)


def entity_label(entity_type: str) -> str:
    return ENTITY_TYPES.get(entity_type, entity_type)


def event_detail(event) -> str:
    """What a trail row adds to its action, for people: the role and unit of a role change."""
    if event.action in ("grant_role", "revoke_role"):
        data = event.after_data() if event.action == "grant_role" else event.before_data()
        if isinstance(data, dict) and data.get("role"):
            try:
                role = label(Role(data["role"]))
            except ValueError:
                role = str(data["role"])
            return f"{role}, {data['unit']}" if data.get("unit") else str(role)
    return ""


def entity_reference(event) -> str:
    """The entity's id as shown: a user name without an account is a keyed hash, shortened."""
    if event.entity_type == "login":
        return event.entity_id[:8] + "…"
    return event.entity_id


def init_app(app) -> None:
    app.jinja_env.globals.update(
        label=label,
        action_label=action_label,
        entity_label=entity_label,
        event_detail=event_detail,
        entity_reference=entity_reference,
        field_label=field_label,
        applies_label=applies_label,
        diff_field_label=diff_field_label,
        day_label=day_label,
        deciding_label=deciding_label,
        severity_label=severity_label,
        section_status_label=section_status_label,
        review_status_label=review_status_label,
        filter_label=filter_label,
    )
    app.jinja_env.filters["field_label"] = field_label
