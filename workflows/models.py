"""Rows of the §7 workflows: follow-up dialog, action plan, sanction case, IVO referral."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audit.db import Base, UTCDateTime, utcnow
from audit.models import Unit, enum_column
from audit.personal_data import personal_text
from checklists.rounds import Finding


class DialogState(enum.StrEnum):
    """Uppföljningsdialogens läge (§7.1.1)."""

    PLANNED = "planned"  # planerad
    MATERIAL_REQUESTED = "material_requested"  # underlag begärt
    MATERIAL_SUBMITTED = "material_submitted"  # underlag inlämnat
    UNDER_REVIEW = "under_review"  # under granskning
    MEETING_BOOKED = "meeting_booked"  # möte bokat
    MEETING_HELD = "meeting_held"  # möte genomfört
    CLOSED = "closed"  # avslutad
    CANCELLED = "cancelled"  # avbruten


class Disposition(enum.StrEnum):
    """Hantering av en iakttagelse i dialogen."""

    NO_ACTION = "no_action"  # ingen åtgärd
    REMARK = "remark"  # påpekande
    ACTION_PLAN = "action_plan"  # åtgärdsplan begärs (§7.1.3)
    IN_DEPTH_REVIEW = "in_depth_review"  # särskild fördjupning (§7.1.3)
    SANCTION_CASE = "sanction_case"  # sanktionsärende


class FollowUpDialog(Base):
    """Enskild uppföljningsdialog (§7.1.1) between Beställarenheten and one health centre."""

    __tablename__ = "follow_up_dialogs"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    round_id: Mapped[int | None] = mapped_column(sa.ForeignKey("rounds.id"))
    title: Mapped[str] = mapped_column(sa.String(200), info=personal_text("Titel"))
    status: Mapped[DialogState] = mapped_column(
        enum_column(DialogState, "dialog_state"), default=DialogState.PLANNED
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    material_request: Mapped[str | None] = mapped_column(
        sa.Text, info=personal_text("Begärt underlag")
    )
    material_deadline: Mapped[dt.date | None]
    material_comment: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Kommentar"))
    meeting_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    meeting_place: Mapped[str | None] = mapped_column(
        sa.String(300), info=personal_text("Plats eller länk")
    )
    minutes: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Minnesanteckningar"))
    cancel_reason: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Skäl"))

    unit: Mapped[Unit] = relationship()
    participants: Mapped[list[DialogParticipant]] = relationship(
        back_populates="dialog", cascade="all, delete-orphan", order_by="DialogParticipant.id"
    )
    findings: Mapped[list[DialogFinding]] = relationship(
        back_populates="dialog", cascade="all, delete-orphan", order_by="DialogFinding.id"
    )
    files: Mapped[list[DialogMaterialFile]] = relationship(
        back_populates="dialog", order_by="DialogMaterialFile.id"
    )


class DialogParticipant(Base):
    """Deltagare i uppföljningsmötet: name and role (verksamhetschef, medicinskt ansvarig …)."""

    __tablename__ = "dialog_participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    dialog_id: Mapped[int] = mapped_column(sa.ForeignKey("follow_up_dialogs.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200), info=personal_text("Namn"))
    role_title: Mapped[str] = mapped_column(sa.String(100), info=personal_text("Roll"))
    # E-postadress for the meeting invitation (.ics); optional.
    email: Mapped[str | None] = mapped_column(sa.String(254), info=personal_text("E-postadress"))

    dialog: Mapped[FollowUpDialog] = relationship(back_populates="participants")


class DialogFinding(Base):
    """An iakttagelse discussed in a dialog, and how it is to be handled (its disposition)."""

    __tablename__ = "dialog_findings"
    __table_args__ = (
        sa.UniqueConstraint("dialog_id", "finding_id", name="uq_dialog_findings_dialog_finding"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dialog_id: Mapped[int] = mapped_column(sa.ForeignKey("follow_up_dialogs.id"), index=True)
    finding_id: Mapped[int] = mapped_column(sa.ForeignKey("findings.id"), index=True)
    disposition: Mapped[Disposition | None] = mapped_column(enum_column(Disposition, "disposition"))
    note: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Anteckning"))
    # What the disposition opened (workflows.dialog.OPENERS): the action plan or the sanction
    # case, linked both ways (the plan's dialog_id and findings, the case's dialog_id and
    # grounds point back).
    action_plan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("action_plans.id"), index=True)
    sanction_case_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("sanction_cases.id"), index=True
    )

    dialog: Mapped[FollowUpDialog] = relationship(back_populates="findings")
    finding: Mapped[Finding] = relationship()
    action_plan: Mapped[ActionPlan | None] = relationship()
    sanction_case: Mapped[SanctionCase | None] = relationship()


class DialogMaterialFile(Base):
    """Underlag till uppföljningsdialogen (§7: "Hälsocentralen ska förse Beställaren med
    efterfrågat uppföljningsunderlag"): a file checked like checklist evidence, personnummer
    refused, kept in the same content store by SHA-256."""

    __tablename__ = "dialog_material_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    dialog_id: Mapped[int] = mapped_column(sa.ForeignKey("follow_up_dialogs.id"), index=True)
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True, info={"evidence_store": True})
    filename: Mapped[str] = mapped_column(sa.String(255), info=personal_text("Filnamn"))
    media_type: Mapped[str] = mapped_column(sa.String(120))
    size: Mapped[int]
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    dialog: Mapped[FollowUpDialog] = relationship(back_populates="files")


class PlanState(enum.StrEnum):
    """Åtgärdsplanens läge (§7.1.3)."""

    REQUESTED = "requested"  # begärd
    SUBMITTED = "submitted"  # inlämnad
    RETURNED = "returned"  # återsänd med synpunkter
    APPROVED = "approved"  # godkänd: åtgärderna genomförs
    REPORTED = "reported"  # rapporterad som genomförd
    VERIFIED = "verified"  # verifierad av granskare
    FAILED = "failed"  # underkänd: åtgärderna har inte fått avsedd effekt
    CLOSED = "closed"  # avslutad
    WITHDRAWN = "withdrawn"  # återkallad av Beställarenheten, med skäl


class ActionPlan(Base):
    """Åtgärdsplan (§7.1.3): what the verksamhetschef must do to meet the requirements.

    Two dates: ``plan_due``, the last day to hand the plan in, and ``measures_due``, the last
    day for its measures — so a unit that never submits is late at the first date.
    """

    __tablename__ = "action_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    dialog_id: Mapped[int | None] = mapped_column(sa.ForeignKey("follow_up_dialogs.id"))
    title: Mapped[str] = mapped_column(sa.String(200), info=personal_text("Titel"))
    requirements: Mapped[str] = mapped_column(
        sa.Text, info=personal_text("Krav på planen")
    )  # the requirements the plan must meet
    plan_due: Mapped[dt.date]  # planen ska lämnas in senast
    measures_due: Mapped[dt.date]  # åtgärderna ska vara genomförda senast
    status: Mapped[PlanState] = mapped_column(
        enum_column(PlanState, "plan_state"), default=PlanState.REQUESTED
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    review_comment: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Skäl"))
    report: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Rapport"))
    withdraw_reason: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Skäl"))

    unit: Mapped[Unit] = relationship()
    dialog: Mapped[FollowUpDialog | None] = relationship()
    files: Mapped[list[PlanEvidenceFile]] = relationship(
        back_populates="plan", order_by="PlanEvidenceFile.id"
    )
    measures: Mapped[list[ActionMeasure]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="ActionMeasure.id"
    )
    findings: Mapped[list[ActionPlanFinding]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="ActionPlanFinding.id"
    )


class ActionMeasure(Base):
    """Åtgärd i en åtgärdsplan: what, who is responsible, by when, and when it was done."""

    __tablename__ = "action_measures"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("action_plans.id"), index=True)
    description: Mapped[str] = mapped_column(sa.Text, info=personal_text("Åtgärd"))
    responsible: Mapped[str] = mapped_column(sa.String(200), info=personal_text("Ansvarig"))
    due_date: Mapped[dt.date]
    done_on: Mapped[dt.date | None]

    plan: Mapped[ActionPlan] = relationship(back_populates="measures")


class PlanEvidenceFile(Base):
    """Underlag till rapporten: a file showing that a plan's measures were carried out (§7.1.3),
    checked like checklist evidence and kept in the same content store by SHA-256."""

    __tablename__ = "plan_evidence_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("action_plans.id"), index=True)
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True, info={"evidence_store": True})
    filename: Mapped[str] = mapped_column(sa.String(255), info=personal_text("Filnamn"))
    media_type: Mapped[str] = mapped_column(sa.String(120))
    size: Mapped[int]
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    plan: Mapped[ActionPlan] = relationship(back_populates="files")


class ActionPlanFinding(Base):
    """An iakttagelse the action plan must remedy."""

    __tablename__ = "action_plan_findings"
    __table_args__ = (
        sa.UniqueConstraint("plan_id", "finding_id", name="uq_action_plan_findings_plan_finding"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("action_plans.id"), index=True)
    finding_id: Mapped[int] = mapped_column(sa.ForeignKey("findings.id"), index=True)

    plan: Mapped[ActionPlan] = relationship(back_populates="findings")
    finding: Mapped[Finding] = relationship()


class SanctionState(enum.StrEnum):
    """Sanktionsärendets läge."""

    OPENED = "opened"  # öppnat
    INFORMED = "informed"  # enheten informerad, svarstid löper
    RESPONSE_RECEIVED = "response_received"  # yttrande inkommet
    DEADLINE_PASSED = "deadline_passed"  # svarstiden har gått ut
    ASSESSED = "assessed"  # bedömt
    RECTIFICATION = "rectification"  # rättelseperiod löper (innan vite eller hävning)
    COMMUNICATED = "communicated"  # avsett beslut kommunicerat (FL 25 §), svarstid löper
    COMMUNICATION_ANSWERED = "communication_answered"  # enheten har yttrat sig över det
    DECIDED = "decided"  # beslutat
    NOTIFIED = "notified"  # beslutet meddelat
    CARRIED_OUT = "carried_out"  # verkställt
    CLOSED = "closed"  # avslutat
    WITHDRAWN = "withdrawn"  # återkallat


class Decision(enum.StrEnum):
    """What a sanction case can decide, mildest first. Which steps a unit's ladder offers
    depends on its operator (workflows.sanction.LADDERS)."""

    NO_ACTION = "no_action"  # ingen åtgärd
    REMARK = "remark"  # påpekande
    ACTION_PLAN = "action_plan"  # krav på åtgärdsplan
    ESCALATION = "escalation"  # eskalering till produktionsledningen (egenregi)
    PENALTY = "penalty"  # vite
    # Nedsättning av kapiteringsersättning: kept for decisions recorded before; §2.7.6 takes
    # it in the restricted-service case "för motsvarande tid", so no ladder offers it now.
    REDUCTION = "reduction"
    TERMINATION = "termination"  # hävning


class DecidingBody(enum.StrEnum):
    """Beslutsfattare."""

    BESTALLARENHETEN = "bestallarenheten"  # inom sin delegation
    REGIONSTYRELSEN = "regionstyrelsen"  # ekonomiska sanktioner och hävning


class SanctionCase(Base):
    """Sanktionsärende: grounds, the unit's response (or the passed deadline), the decision on
    the ladder with rationale, deciding body and diarienummer, notification, execution."""

    __tablename__ = "sanction_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200), info=personal_text("Titel"))
    grounds: Mapped[str] = mapped_column(sa.Text, info=personal_text("Grunder"))
    status: Mapped[SanctionState] = mapped_column(
        enum_column(SanctionState, "sanction_state"), default=SanctionState.OPENED
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    response_deadline: Mapped[dt.date | None]
    response: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Enhetens svar"))
    assessment: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Bedömning"))
    decision: Mapped[Decision | None] = mapped_column(enum_column(Decision, "decision"))
    rationale: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Motivering"))
    deciding_body: Mapped[DecidingBody | None] = mapped_column(
        enum_column(DecidingBody, "deciding_body")
    )
    diarienummer: Mapped[str | None] = mapped_column(
        sa.String(50), info=personal_text("Diarienummer")
    )
    penalty_sek: Mapped[int | None]
    reduction_percent: Mapped[float | None]
    reduction_from: Mapped[dt.date | None]
    reduction_to: Mapped[dt.date | None]
    # The deciding body's meeting (or, for a delegation decision, the day it was taken): the
    # decision's date, from which its effects run — not the day it is recorded here.
    decided_on: Mapped[dt.date | None]
    notified_on: Mapped[dt.date | None]
    withdraw_reason: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Skäl"))
    # Diarienummer of the case, given when it is opened.
    case_number: Mapped[str | None] = mapped_column(
        sa.String(50), info=personal_text("Ärendets diarienummer")
    )
    assessed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Rättelse: what the unit is to put right, and by when, before vite or hävning.
    rectification_demand: Mapped[str | None] = mapped_column(
        sa.Text, info=personal_text("Vad som ska rättas")
    )
    rectification_deadline: Mapped[dt.date | None]
    rectification_outcome: Mapped[str | None] = mapped_column(
        sa.Text, info=personal_text("Resultat av rättelsen")
    )
    # Kommunicering (förvaltningslagen 25 §): the intended decision the unit was told of.
    intended_decision: Mapped[Decision | None] = mapped_column(
        enum_column(Decision, "intended_decision")
    )
    intended_grounds: Mapped[str | None] = mapped_column(
        sa.Text, info=personal_text("Skäl för det avsedda beslutet")
    )
    intended_penalty_sek: Mapped[int | None]
    intended_percent: Mapped[float | None]
    intended_from: Mapped[dt.date | None]
    intended_to: Mapped[dt.date | None]
    communicated_on: Mapped[dt.date | None]
    reply_deadline: Mapped[dt.date | None]
    reply: Mapped[str | None] = mapped_column(
        sa.Text, info=personal_text("Enhetens synpunkter på det avsedda beslutet")
    )
    replied_on: Mapped[dt.date | None]
    protocol_paragraph: Mapped[str | None] = mapped_column(
        sa.String(50), info=personal_text("Protokollsparagraf")
    )
    # Proportionalitet: the reasons the decision weighs, each in its own field.
    prop_seriousness: Mapped[str | None] = mapped_column(
        sa.Text, info=personal_text("Hur allvarlig bristen är")
    )
    prop_duration: Mapped[str | None] = mapped_column(
        sa.Text, info=personal_text("Hur länge bristen har pågått")
    )
    prop_repetition: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Upprepning"))
    prop_own_measures: Mapped[str | None] = mapped_column(
        sa.Text, info=personal_text("Enhetens egna åtgärder")
    )
    prop_patient_safety: Mapped[str | None] = mapped_column(
        sa.Text, info=personal_text("Påverkan på patientsäkerheten")
    )
    four_eyes_reason: Mapped[str | None] = mapped_column(
        sa.Text, info=personal_text("Skäl till undantag från fyraögonsprincipen")
    )
    # The follow-up dialog whose disposition opened the case (workflows.dialog.OPENERS).
    dialog_id: Mapped[int | None] = mapped_column(sa.ForeignKey("follow_up_dialogs.id"))

    unit: Mapped[Unit] = relationship()
    dialog: Mapped[FollowUpDialog | None] = relationship()
    ground_findings: Mapped[list[SanctionGround]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="SanctionGround.id"
    )


class SanctionGround(Base):
    """Grund för sanktionsärendet: a finding or an action plan."""

    __tablename__ = "sanction_grounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("sanction_cases.id"), index=True)
    finding_id: Mapped[int | None] = mapped_column(sa.ForeignKey("findings.id"), index=True)
    plan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("action_plans.id"), index=True)

    case: Mapped[SanctionCase] = relationship(back_populates="ground_findings")
    finding: Mapped[Finding | None] = relationship()
    plan: Mapped[ActionPlan | None] = relationship()


class IvoReferral(Base):
    """Anmälan till IVO (Inspektionen för vård och omsorg) in a matter of patient safety, or
    — for a patient-safety finding on the fast route (§7.1.3) — the beställare's recorded
    decision not to refer it, with the reason (``referred`` false, ``reason`` set)."""

    __tablename__ = "ivo_referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    finding_id: Mapped[int | None] = mapped_column(sa.ForeignKey("findings.id"))
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sanction_cases.id"))
    referred: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    referred_on: Mapped[dt.date | None]
    reference: Mapped[str | None] = mapped_column(
        sa.String(100), info=personal_text("IVO:s diarienummer eller referens")
    )
    reason: Mapped[str | None] = mapped_column(
        sa.Text, info=personal_text("Skäl att inte anmäla till IVO")
    )
    referred_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Reminder(Base):
    """Påminnelse: a deadline coming up (``due_soon``) or passed (``overdue``), queued by the
    deadline scan. Unique per thing, kind and date, so the scan can run any number of times.
    A reminder of the purchaser's own duty (the two joint dialogs a year, §7.1.2) has no unit:
    the region's roles see it, no unit does."""

    __tablename__ = "reminders"
    __table_args__ = (
        sa.UniqueConstraint(
            "entity_type", "entity_id", "kind", "due_on", name="uq_reminders_entity_kind_due"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_type: Mapped[str] = mapped_column(sa.String(32))
    entity_id: Mapped[int]
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    due_on: Mapped[dt.date]
    text: Mapped[str] = mapped_column(sa.Text, info=personal_text("Påminnelse"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# The ärenden's rows live in their own package; importing them here keeps the metadata whole
# wherever the workflow models are imported.
from workflows.analysis import models as _analysis_models  # noqa: E402,F401
from workflows.cases import models as _case_models  # noqa: E402,F401
from workflows.joint import models as _joint_models  # noqa: E402,F401
from workflows.reports import models as _report_models  # noqa: E402,F401
from workflows.reviews import models as _review_models  # noqa: E402,F401
