"""Units, users, roles and login sessions.

Units are the region's health-care units followed up under Hälsoval (DOMAIN.md "The units"):
hälsocentraler, sjukstugor and filialer, and the regional services that report a
tilläggsuppdrag without being a health centre (verksamheter, seed 000). Users carry one or
more role assignments; the unit roles (verksamhetschef, vårdcentralspersonal) are bound to a
unit.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from audit.db import Base, UTCDateTime, utcnow
from audit.personal_data import personal_text


def enum_column(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    """A string column holding an enum's values, guarded by a CHECK constraint."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda cls: [member.value for member in cls],
        validate_strings=True,
    )


class UnitKind(enum.StrEnum):
    """Enhetstyp: hälsocentral, sjukstuga (primary care with beds, seed 000), filial (§3.9) or
    verksamhet med tilläggsuppdrag -- a regional service that reports a tilläggsuppdrag but is
    no health centre (Kompetenscentrum för Mödra- och Barnhälsovård, the ungdomsmottagningar,
    Centrum mot våld, …; seed 000). Uppdrag och regler binds only the first three: a verksamhet
    is reached only by a rule that names it or its kind (``checklists.applicability``)."""

    HALSOCENTRAL = "halsocentral"
    SJUKSTUGA = "sjukstuga"
    FILIAL = "filial"
    VERKSAMHET = "verksamhet"


class Operator(enum.StrEnum):
    """Driftform: the region's own production (egenregi) or a private provider (§1.3, §2.6)."""

    EGENREGI = "egenregi"
    PRIVAT = "privat"


class Area(enum.StrEnum):
    """Närsjukvårdsområde: the three areas of the county."""

    UMEA = "umea"
    SKELLEFTEA = "skelleftea"
    SODRA_LAPPLAND = "sodra_lappland"


class Role(enum.StrEnum):
    """Roller (DOMAIN.md "Who uses it")."""

    ADMIN = "admin"  # administratör
    BESTALLARE = "bestallare"  # beställare, Beställarenheten
    GRANSKARE = "granskare"  # granskare (auditor)
    VERKSAMHETSCHEF = "verksamhetschef"  # head of a unit, §3.1.1
    PERSONAL = "personal"  # vårdcentralspersonal of a unit
    LASARE = "lasare"  # läsare: reports only

    @property
    def is_unit_role(self) -> bool:
        """Unit roles are bound to one unit and see only it (and its filialer)."""
        return self in UNIT_ROLES


UNIT_ROLES = frozenset({Role.VERKSAMHETSCHEF, Role.PERSONAL})
REGION_ROLES = frozenset(set(Role) - UNIT_ROLES)


class Unit(Base):
    """Enhet: a hälsocentral, sjukstuga or filial followed up under Hälsoval (§1, §3.9), or a
    verksamhet that reports a tilläggsuppdrag (seed 000).

    The flags are the unit attributes the rulebook's obligations depend on. Where the seed
    documents do not state an attribute, ``assumptions`` says which values are assumed.
    """

    __tablename__ = "units"
    __table_args__ = (
        sa.CheckConstraint(
            "(kind = 'filial') = (main_unit_id IS NOT NULL)", name="filial_has_main_unit"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), info=personal_text("Namn"))
    kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind, "unit_kind"))
    operator: Mapped[Operator] = mapped_column(enum_column(Operator, "operator"))
    # Vårdgivare: the organisation that runs a private unit (empty for egenregi).
    provider: Mapped[str] = mapped_column(
        sa.String(200), default="", server_default="", info=personal_text("Vårdgivare")
    )
    area: Mapped[Area] = mapped_column(enum_column(Area, "area"))
    main_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"), index=True)
    has_bvc: Mapped[bool] = mapped_column(default=False)
    has_mvc: Mapped[bool] = mapped_column(default=False)
    sjukvardsgrupp_duty: Mapped[bool] = mapped_column(default=False)
    on_region_telephony: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
    source: Mapped[str] = mapped_column(sa.Text, default="", info=personal_text("Källa"))
    assumptions: Mapped[str] = mapped_column(sa.Text, default="", info=personal_text("Antaganden"))

    main_unit: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="branches")
    branches: Mapped[list[Unit]] = relationship(back_populates="main_unit")

    def __repr__(self) -> str:
        return f"<Unit {self.code}>"

    def snapshot(self) -> dict:
        """The unit's fields as plain values, for the audit trail's before/after."""
        return {
            "code": self.code,
            "name": self.name,
            "kind": str(self.kind),
            "operator": str(self.operator),
            "provider": self.provider,
            "area": str(self.area),
            "main_unit_id": self.main_unit_id,
            "has_bvc": self.has_bvc,
            "has_mvc": self.has_mvc,
            "sjukvardsgrupp_duty": self.sjukvardsgrupp_duty,
            "on_region_telephony": self.on_region_telephony,
            "active": self.active,
            "source": self.source,
            "assumptions": self.assumptions,
        }


# Har filial (§3.9): whether any unit is a filial of this one. Computed in the same query as
# the unit (a correlated EXISTS), so applicability rules can use it as a flag in Python and SQL.
_branch = Unit.__table__.alias("branch")
Unit.has_filial = column_property(
    sa.exists().where(_branch.c.main_unit_id == Unit.__table__.c.id).correlate_except(_branch)
)


class User(Base):
    """Användare: a person who logs in. Never deleted, only deactivated (the trail names them)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(
        sa.String(64), unique=True, info=personal_text("Användarnamn")
    )
    display_name: Mapped[str] = mapped_column(sa.String(200), info=personal_text("Namn"))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Engångslösenord: set by an administratör, to be replaced by the user's own at next login.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # E-postadress for reminders and invitations (audit.outbox); none means no e-mail at all.
    email: Mapped[str | None] = mapped_column(sa.String(254), info=personal_text("E-postadress"))
    # Aviseringar: which kinds of e-mail the user wants (audit.outbox.NotificationKind).
    notify_due_soon: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    notify_overdue: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    notify_rounds: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    notify_invitations: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    def __repr__(self) -> str:
        return f"<User {self.username}>"

    # Flask-Login's user protocol, by duck typing (this layer does not import Flask).
    # ``login_token`` is set by the web layer to the token of the current login session, so
    # that the cookie names a server-side session that logout can end.
    login_token = None
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str | None:
        return self.login_token

    def has_role(self, *roles: Role) -> bool:
        """Whether the user holds any of ``roles`` (for any unit)."""
        return any(assignment.role in roles for assignment in self.roles)

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(assignment.role for assignment in self.roles)

    @property
    def sees_all_units(self) -> bool:
        """Region roles see every unit; unit roles only their own (and its filialer)."""
        return any(assignment.role in REGION_ROLES for assignment in self.roles)

    @property
    def own_unit_ids(self) -> frozenset[int]:
        """The units a unit role is assigned to (filialer not included)."""
        return frozenset(a.unit_id for a in self.roles if a.unit_id is not None)


class RoleAssignment(Base):
    """Rolltilldelning: one role of a user, bound to a unit for the unit roles."""

    __tablename__ = "role_assignments"
    __table_args__ = (
        sa.UniqueConstraint(
            "user_id", "role", "unit_id", name="uq_role_assignments_user_role_unit"
        ),
        sa.CheckConstraint(
            "(role IN ('verksamhetschef', 'personal')) = (unit_id IS NOT NULL)",
            name="unit_role_has_unit",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"), index=True)

    user: Mapped[User] = relationship(back_populates="roles")
    unit: Mapped[Unit | None] = relationship(lazy="joined")

    def label(self) -> str:
        return f"{self.role}:{self.unit.code}" if self.unit else str(self.role)


class LoginSession(Base):
    """Inloggningssession: server-side record of one login, so that logout really ends it.

    The browser's cookie carries a random token; only its SHA-256 is stored. A cookie replayed
    after logout or idle timeout finds an ended session and is treated as anonymous.
    """

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_reason: Mapped[str | None] = mapped_column(sa.String(32))

    user: Mapped[User] = relationship()


class LoginThrottle(Base):
    """Inloggningsspärr: one counter of failed logins, for throttling (see audit.accounts).

    ``key`` is a keyed SHA-256 digest of the scope and what it counts -- a (user name,
    address) pair, an address, or a user name -- so neither a typed name (it may be a
    mistyped password) nor an address is stored in clear. ``failures`` counts the attempts
    evaluated since the counter last went quiet for its window; an attempt is counted
    *before* its password is checked, in one statement, so that concurrent guesses cannot
    slip past the limit. ``next_attempt_at`` is the delay a user name is slowed down by;
    ``known_until`` marks a pair whose address has logged in to the account (its own address).
    """

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    known_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class CalendarToken(Base):
    """Kalenderlänk: the secret of one user's personal iCal feed (``/kalender/<token>.ics``).

    Only the token's SHA-256 is stored; the token itself is shown once, when it is created.
    Revoking sets ``revoked_at`` and the URL answers 404 from then on; a user has at most one
    token that is not revoked (rotating revokes the old one in the same transaction).
    """

    __tablename__ = "calendar_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
