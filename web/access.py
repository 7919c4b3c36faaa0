"""Åtkomstkontroll för sidor: the one place that decides who may use which route.

Every endpoint has an entry in :data:`ROUTE_ACCESS` (deny by default: an endpoint without one
answers 403 to everyone, and a test fails). Every URL argument that names something belonging
to a unit is resolved to that unit by :data:`UNIT_RESOLVERS`, and the unit is checked against
:func:`audit.access.can_see_unit` before the view runs; a unit the user may not see is a 404, as
if it did not exist. Views therefore never repeat the check.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask, abort, current_app, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload

from audit.access import can_see_unit
from audit.models import Role, Unit
from web.database import get_db

ALL_ROLES = frozenset(Role)
REVIEWERS = frozenset({Role.ADMIN, Role.BESTALLARE, Role.GRANSKARE})
UNIT_AND_REVIEWERS = frozenset(
    {Role.VERKSAMHETSCHEF, Role.PERSONAL, Role.BESTALLARE, Role.GRANSKARE}
)


@dataclasses.dataclass(frozen=True)
class Access:
    """Who may use a route: anyone (``public``), or logged-in users holding one of ``roles``."""

    roles: frozenset[Role] = frozenset()
    public: bool = False
    any_user: bool = False  # any logged-in user, with or without a role


PUBLIC = Access(public=True)


def roles(*allowed: Role) -> Access:
    return Access(roles=frozenset(allowed))


ROUTE_ACCESS: dict[str, Access] = {
    "static": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": PUBLIC,  # ends the session if there is one; harmless otherwise
    # Any live login session, with or without a role (its pages warn before the timeout
    # too); 401 JSON for a script whose session has ended.
    "auth.keep_alive": Access(roles=ALL_ROLES, any_user=True),
    "main.set_language": PUBLIC,
    "main.health": PUBLIC,
    "main.accessibility": PUBLIC,  # the law requires it to be reachable by everyone
    "main.start": Access(roles=ALL_ROLES),
    "units.index": Access(roles=ALL_ROLES),
    "units.detail": Access(roles=ALL_ROLES),
    "units.new": roles(Role.ADMIN),
    "units.edit": roles(Role.ADMIN),
    "units.import_file": roles(Role.ADMIN),
    "units.export": Access(roles=REVIEWERS),
    "auditlog.index": Access(roles=REVIEWERS),
    "rounds.index": Access(roles=REVIEWERS),
    "rounds.new": Access(roles=frozenset({Role.BESTALLARE, Role.GRANSKARE})),
    "rounds.overview": Access(roles=REVIEWERS),
    # Managing an open round: who may open one.
    "rounds.extend": roles(Role.BESTALLARE, Role.GRANSKARE),
    "rounds.remind": roles(Role.BESTALLARE, Role.GRANSKARE),
    "rounds.close": roles(Role.BESTALLARE, Role.GRANSKARE),
    "rounds.add_unit": roles(Role.BESTALLARE, Role.GRANSKARE),
    "checklists.answer": Access(roles=UNIT_AND_REVIEWERS),
    "checklists.section": Access(roles=UNIT_AND_REVIEWERS),
    "checklists.save_item": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "checklists.submit": roles(Role.VERKSAMHETSCHEF),
    "checklists.upload": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "checklists.remove_file": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "checklists.download": Access(roles=UNIT_AND_REVIEWERS),
    "checklists.review": roles(Role.BESTALLARE, Role.GRANSKARE),
    "checklists.review_section": roles(Role.BESTALLARE, Role.GRANSKARE),
    "checklists.judge_item": roles(Role.BESTALLARE, Role.GRANSKARE),
    "checklists.accept": roles(Role.BESTALLARE, Role.GRANSKARE),
    "checklists.return_checklist": roles(Role.BESTALLARE, Role.GRANSKARE),
    "checklists.findings": Access(roles=UNIT_AND_REVIEWERS),
    "dialogs.index": Access(roles=UNIT_AND_REVIEWERS),
    "dialogs.new": roles(Role.BESTALLARE),
    "dialogs.show": Access(roles=UNIT_AND_REVIEWERS),
    "dialogs.act": Access(roles=UNIT_AND_REVIEWERS),
    "dialogs.dispose": roles(Role.BESTALLARE),
    "dialogs.invitation": Access(roles=UNIT_AND_REVIEWERS),
    "plans.index": Access(roles=UNIT_AND_REVIEWERS),
    "plans.new": roles(Role.BESTALLARE),
    "plans.show": Access(roles=UNIT_AND_REVIEWERS),
    "plans.act": Access(roles=UNIT_AND_REVIEWERS),
    "plans.add_measure": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "plans.measure_done": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "plans.edit_measure": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "plans.remove_measure": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "plans.change_dates": roles(Role.BESTALLARE),
    "plans.upload": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "plans.download": Access(roles=UNIT_AND_REVIEWERS),
    "plans.remove_file": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "sanctions.index": Access(roles=UNIT_AND_REVIEWERS),
    "sanctions.new": roles(Role.BESTALLARE),
    "sanctions.show": Access(roles=UNIT_AND_REVIEWERS),
    "sanctions.act": Access(roles=UNIT_AND_REVIEWERS),
    "sanctions.letter": Access(roles=UNIT_AND_REVIEWERS),
    "sanctions.ivo": roles(Role.BESTALLARE, Role.GRANSKARE),
    "cases.index": Access(roles=UNIT_AND_REVIEWERS),
    "cases.new": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "cases.show": Access(roles=UNIT_AND_REVIEWERS),
    "cases.update": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "cases.upload": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "cases.remove_document": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "cases.download": Access(roles=UNIT_AND_REVIEWERS),
    "cases.act": Access(roles=UNIT_AND_REVIEWERS),
    "cases.capitation": roles(Role.BESTALLARE),
    "help.diagrams": Access(roles=ALL_ROLES),
    "catalog.index": Access(roles=ALL_ROLES),
    "catalog.edition": Access(roles=ALL_ROLES),
    "catalog.compare": Access(roles=ALL_ROLES),
    "users.index": roles(Role.ADMIN),
    "users.new": roles(Role.ADMIN),
    "users.detail": roles(Role.ADMIN),
    "users.grant": roles(Role.ADMIN),
    "users.revoke": roles(Role.ADMIN),
    "users.set_status": roles(Role.ADMIN),
    "users.reset_password": roles(Role.ADMIN),
    "users.set_email": roles(Role.ADMIN),
    # Every logged-in user, whatever their roles (even none): their own password and account.
    "users.own_password": Access(roles=ALL_ROLES, any_user=True),
    "users.account": Access(roles=ALL_ROLES, any_user=True),
    "users.own_email": Access(roles=ALL_ROLES, any_user=True),
    "users.own_notifications": Access(roles=ALL_ROLES, any_user=True),
    "users.calendar_token": Access(roles=ALL_ROLES, any_user=True),
    "users.revoke_calendar_token": Access(roles=ALL_ROLES, any_user=True),
    # The feed's secret URL is its own authentication (calendar programs have no login);
    # an unknown or revoked token is a 404, and the feed holds only its user's scope.
    "calendar.feed": PUBLIC,
    "outbox.index": roles(Role.ADMIN),
    "outbox.retry": roles(Role.ADMIN),
}

# What a user with a one-time password may reach before choosing their own (engångslösenord).
WHILE_MUST_CHANGE_PASSWORD = frozenset(
    {
        "users.own_password",
        "auth.logout",
        "auth.keep_alive",  # the page choosing the password warns before the idle timeout
        "main.set_language",
        "static",
        "main.health",
    }
)


def _unit_by_code(code: str) -> Unit | None:
    return get_db().scalar(sa.select(Unit).where(Unit.code == code))


def _checklist(checklist_id: int) -> Unit | None:
    from checklists.rounds import Checklist

    # With its unit (for the check) and round (every checklist page shows it): one query.
    checklist = get_db().get(
        Checklist,
        checklist_id,
        options=[joinedload(Checklist.unit), joinedload(Checklist.round)],
    )
    if checklist is None:
        return None
    g.checklist = checklist
    return checklist.unit


def _evidence(file_id: int) -> Unit | None:
    from checklists.rounds import EvidenceFile

    evidence = get_db().get(EvidenceFile, file_id)
    if evidence is None or evidence.removed_at is not None:
        return None
    g.evidence = evidence
    return evidence.item.checklist.unit


def _dialog(dialog_id: int) -> Unit | None:
    from workflows.models import FollowUpDialog

    dialog = get_db().get(FollowUpDialog, dialog_id)
    if dialog is None:
        return None
    g.dialog = dialog
    return dialog.unit


def _plan(plan_id: int) -> Unit | None:
    from workflows.models import ActionPlan

    plan = get_db().get(ActionPlan, plan_id)
    if plan is None:
        return None
    g.plan = plan
    return plan.unit


def _case(case_id: int) -> Unit | None:
    from workflows.models import SanctionCase

    case = get_db().get(SanctionCase, case_id)
    if case is None:
        return None
    g.case = case
    return case.unit


def _arende(arende_id: int) -> Unit | None:
    from workflows.cases.models import Case

    case = get_db().get(Case, arende_id)
    if case is None:
        return None
    g.arende = case
    return case.unit


# URL argument name -> function loading the unit it belongs to (None when it does not exist).
# A resolver may also put the loaded object on ``g`` for the view.
UNIT_RESOLVERS: dict[str, Callable[[str], Unit | None]] = {
    "unit_code": _unit_by_code,
    "checklist_id": _checklist,
    "file_id": _evidence,
    "dialog_id": _dialog,
    "plan_id": _plan,
    "case_id": _case,
    "arende_id": _arende,
}


def check_request() -> None:
    """before_request: role check, then unit scope for every unit-bearing URL argument."""
    endpoint = request.endpoint
    if endpoint is None:
        return  # 404 or 405 from routing; the error handler answers
    access = ROUTE_ACCESS.get(endpoint)
    if access is None:
        abort(403)
    if access.public:
        return
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if current_user.must_change_password and endpoint not in WHILE_MUST_CHANGE_PASSWORD:
        return redirect(url_for("users.own_password", next=request.full_path.rstrip("?")))
    if not (access.any_user or current_user.role_set & access.roles):
        abort(403)
    for name, value in (request.view_args or {}).items():
        resolver = UNIT_RESOLVERS.get(name)
        if resolver is None:
            continue
        unit = resolver(value)
        if unit is None or not can_see_unit(get_db(), current_user, unit):
            abort(404)
        g.unit = unit


def missing_policies(app: Flask) -> set[str]:
    """Endpoints that have no entry in :data:`ROUTE_ACCESS`."""
    return {rule.endpoint for rule in app.url_map.iter_rules()} - set(ROUTE_ACCESS)


def init_app(app: Flask) -> None:
    app.before_request(check_request)
