"""Utkorg: e-mail queued in the same transaction as the event that causes it, sent by cron.

Whatever causes an e-mail -- a reminder the deadline scan queues, a round's reminder to the
units that have not submitted, a meeting invitation -- calls :func:`enqueue_email` inside its
own transaction: the message commits with the event or not at all. ``halsoval outbox send``
(:func:`send_pending`) delivers what is due over SMTP, configured by the environment
(:class:`SmtpSettings`).

Never twice, also from several machines at once:

* every message has a unique ``key`` (``reminder:17:user:4``), inserted with ON CONFLICT DO
  NOTHING: the same reminder is never queued twice, whoever asks how often;
* a sender *claims* one message at a time in a short transaction of its own -- PostgreSQL
  ``SELECT … FOR UPDATE SKIP LOCKED``, SQLite the write lock taken at BEGIN (``BEGIN
  IMMEDIATE`` through :func:`audit.db.write_intent`) -- moving it from ``queued`` to
  ``sending`` with a claim token; only then does it talk to the server, and afterwards marks
  it ``sent`` (or back to ``queued`` with a later ``next_attempt_at``, or ``failed``);
* a crash (or a lost connection in the middle of the SMTP transaction) between handing the
  message to the server and marking it leaves it ``sending``: it is **never re-sent
  automatically**. After :data:`CLAIM_LEASE` the next run marks it ``uncertain`` ("osäker
  leverans"), shown to the administratör on *Utkorg*, who checks with the recipient and sends
  it again or leaves it. A reminder lost is a nuisance the start page and the calendar still
  cover; a reminder sent twice is noise that teaches people to ignore them, and an invitation
  twice is two meetings in someone's calendar -- so the ambiguous case goes to a person.
* every message carries a stable ``Message-ID`` (from its id and key), the same at each
  attempt, so a receiving server that saw an attempt can recognise the retry.

Temporary refusals (SMTP 4xx, the server unreachable) are retried with exponential back-off
(:func:`backoff`: 1, 2, 4 … minutes, at most 6 hours) up to :data:`MAX_ATTEMPTS`; permanent
refusals (5xx) fail at once. Logs name the message's id and the outcome, never an address,
a subject, a body or the SMTP password.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import logging
import os
import re
import secrets
import smtplib
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from email.message import EmailMessage
from email.utils import format_datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from audit.db import Base, UTCDateTime, utcnow, write_intent
from audit.models import Role, RoleAssignment, Unit, User, enum_column
from audit.personal_data import personal_text

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_MAX = dt.timedelta(hours=6)
# A claimed message is being handed to the server for at most the SMTP timeout; one still
# claimed after this long belongs to a sender that died -- delivered or not, nobody knows.
CLAIM_LEASE = dt.timedelta(minutes=10)
SMTP_TIMEOUT_SECONDS = 60


class OutboxState(enum.StrEnum):
    """Läge för ett meddelande i utkorgen."""

    QUEUED = "queued"  # köat: to be sent at next_attempt_at
    SENDING = "sending"  # skickas: claimed by a sender, not yet marked
    SENT = "sent"  # skickat: the server accepted it
    FAILED = "failed"  # misslyckat: refused for good, or too many attempts
    UNCERTAIN = "uncertain"  # osäker leverans: claimed and never marked (a crash)


class NotificationKind(enum.StrEnum):
    """Aviseringstyp: which kinds of e-mail a user may switch off (users.notify_*)."""

    DUE_SOON = "due_soon"  # påminnelse före en tidsgräns
    OVERDUE = "overdue"  # en tidsgräns har passerat
    ROUND = "round"  # påminnelse om en uppföljningsomgång som inte är inskickad
    INVITATION = "invitation"  # mötesinbjudan


NOTIFY_ATTRIBUTE = {
    NotificationKind.DUE_SOON: "notify_due_soon",
    NotificationKind.OVERDUE: "notify_overdue",
    NotificationKind.ROUND: "notify_rounds",
    NotificationKind.INVITATION: "notify_invitations",
}


class OutboxMessage(Base):
    """Meddelande i utkorgen: one e-mail to one recipient, with its delivery state."""

    __tablename__ = "outbox_messages"
    __table_args__ = (sa.Index("ix_outbox_messages_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    recipient: Mapped[str] = mapped_column(sa.String(254), info=personal_text("E-postadress"))
    kind: Mapped[str | None] = mapped_column(sa.String(32))
    subject: Mapped[str] = mapped_column(sa.String(300), info=personal_text("Ämne"))
    body: Mapped[str] = mapped_column(sa.Text, info=personal_text("Meddelande"))
    attachments: Mapped[list] = mapped_column(sa.JSON, default=list, info=personal_text("Bilagor"))
    status: Mapped[OutboxState] = mapped_column(
        enum_column(OutboxState, "outbox_state"), default=OutboxState.QUEUED
    )
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(sa.String(64))
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[str | None] = mapped_column(sa.String(255))
    last_error: Mapped[str | None] = mapped_column(
        sa.String(500), info=personal_text("Felmeddelande")
    )


BASE_URL_ENV = "HALSOVAL_BASE_URL"


def base_url() -> str:
    """The address people reach the app at, for links in e-mails (``HALSOVAL_BASE_URL``)."""
    return (os.environ.get(BASE_URL_ENV) or "http://127.0.0.1:8000").rstrip("/")


# --- queueing --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Attachment:
    """Bilaga: a text attachment (an .ics), e.g. ``Attachment("mote.ics", ics,
    "text/calendar", {"method": "REQUEST"})``."""

    filename: str
    content: str
    content_type: str = "text/plain"
    params: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def as_json(self) -> dict:
        return {
            "filename": self.filename,
            "content": self.content,
            "content_type": self.content_type,
            "params": dict(self.params),
        }


@dataclasses.dataclass(frozen=True)
class Email:
    """One e-mail to queue (see :func:`enqueue_email`): to ``user``, or to a bare ``address``
    (a meeting participant without an account)."""

    key: str
    user: User | None
    subject: str
    body: str
    attachments: Sequence[Attachment] = ()
    kind: NotificationKind | str | None = None
    address: str | None = None

    @property
    def recipient(self) -> str | None:
        return (self.user.email if self.user is not None else self.address) or None

    def wanted(self) -> bool:
        if self.user is None:
            return bool(self.address and valid_email(self.address))
        return wants(self.user, self.kind)


# A practical address check: RFC 5321's sizes, the dot-atom local part, a dotted domain of
# letters, digits and hyphens -- ASCII, so that any SMTP server takes it (no SMTPUTF8).
EMAIL_RE = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


def valid_email(address: str) -> bool:
    """Whether ``address`` looks like an e-mail address one can send to."""
    if not address or len(address) > 254 or len(address.split("@", 1)[0]) > 64:
        return False
    return bool(EMAIL_RE.match(address))


def wants(user: User, kind: NotificationKind | str | None) -> bool:
    """Whether ``user`` can and wants to get an e-mail of ``kind``: an active account with an
    address and, for the kinds in :data:`NOTIFY_ATTRIBUTE`, that setting on."""
    if not user.active or not user.email:
        return False
    if kind is None:
        return True
    attribute = NOTIFY_ATTRIBUTE.get(NotificationKind(kind))
    return bool(getattr(user, attribute)) if attribute else True


def enqueue_email(
    session: Session,
    *,
    key: str,
    user: User | None,
    subject: str,
    body: str,
    attachments: Sequence[Attachment] = (),
    kind: NotificationKind | str | None = None,
    address: str | None = None,
) -> int | None:
    """Köa ett e-postmeddelande to ``user`` in the caller's transaction; it is sent by
    ``halsoval outbox send`` once the transaction has committed.

    ``key`` names the message uniquely and for good (``reminder:<id>:user:<id>``): a second
    call with the same key queues nothing, also when two transactions race. With ``kind``
    (a :class:`NotificationKind`) the user's notification setting for it is respected. Returns
    the new message's id, or None when nothing was queued (already queued, the user has no
    address or does not want this kind, the account is inactive). Without a ``user``, the
    message goes to ``address`` (someone without an account; no settings to respect).
    """
    ids = enqueue_emails(
        session,
        [Email(key, user, subject, body, tuple(attachments), kind, address)],
    )
    return ids[0] if ids else None


def enqueue_emails(session: Session, emails: Iterable[Email]) -> list[int]:
    """Köa many e-mails in one statement (see :func:`enqueue_email`); returns the new ids."""
    now = utcnow()
    rows = [
        {
            "key": email.key,
            "user_id": email.user.id if email.user is not None else None,
            "recipient": email.recipient.strip(),
            "kind": str(email.kind) if email.kind else None,
            "subject": " ".join(email.subject.split())[:300],
            "body": email.body,
            "attachments": [a.as_json() for a in email.attachments],
            "status": OutboxState.QUEUED,
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
        }
        for email in emails
        if email.wanted()
    ]
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(OutboxMessage)
    statement = insert.on_conflict_do_nothing(index_elements=["key"]).returning(OutboxMessage.id)
    return list(session.scalars(statement, rows))


def user_by_email(session: Session, address: str) -> User | None:
    """The account with this address (case-insensitive), if any."""
    return session.scalar(
        sa.select(User).where(sa.func.lower(User.email) == address.strip().lower()).limit(1)
    )


def unit_people(
    session: Session, unit_ids: Iterable[int], roles: Iterable[Role]
) -> dict[int, list[User]]:
    """The active users holding one of ``roles`` on each unit -- for a filial, on its main
    unit (§3.9: a filial is run by the main unit's people) -- in one query."""
    wanted = set(unit_ids)
    if not wanted:
        return {}
    main = sa.func.coalesce(Unit.main_unit_id, Unit.id)
    rows = session.execute(
        sa.select(Unit.id, User)
        .join(RoleAssignment, RoleAssignment.unit_id == main)
        .join(User, User.id == RoleAssignment.user_id)
        .where(
            Unit.id.in_(wanted),
            RoleAssignment.role.in_(list(roles)),
            User.active.is_(True),
        )
        .order_by(Unit.id, User.display_name)
    ).all()
    found: dict[int, list[User]] = {}
    for unit_id, user in rows:
        people = found.setdefault(unit_id, [])
        if user not in people:
            people.append(user)
    return found


def region_people(session: Session, roles: Iterable[Role]) -> list[User]:
    """The active users holding one of the region ``roles`` (beställare …)."""
    return list(
        session.scalars(
            sa.select(User)
            .where(
                User.active.is_(True),
                User.id.in_(
                    sa.select(RoleAssignment.user_id).where(RoleAssignment.role.in_(list(roles)))
                ),
            )
            .order_by(User.display_name)
        )
    )


# --- sending ---------------------------------------------------------------------------------


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "ja"}


@dataclasses.dataclass(frozen=True)
class SmtpSettings:
    """The SMTP server, from ``HALSOVAL_SMTP_HOST``, ``_PORT`` (587 with STARTTLS, else 25),
    ``_USER``, ``_PASSWORD``, ``_STARTTLS`` (on unless 0/false) and ``_FROM``."""

    host: str
    sender: str
    port: int = 587
    user: str | None = None
    password: str | None = dataclasses.field(default=None, repr=False)
    starttls: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> SmtpSettings:
        host = environ.get("HALSOVAL_SMTP_HOST", "").strip()
        sender = environ.get("HALSOVAL_SMTP_FROM", "").strip()
        if not host or not sender:
            raise ValueError("HALSOVAL_SMTP_HOST och HALSOVAL_SMTP_FROM måste vara satta.")
        starttls = _flag(environ.get("HALSOVAL_SMTP_STARTTLS"), True)
        port_text = environ.get("HALSOVAL_SMTP_PORT", "").strip()
        try:
            port = int(port_text) if port_text else (587 if starttls else 25)
        except ValueError:
            raise ValueError("HALSOVAL_SMTP_PORT ska vara ett portnummer.") from None
        return cls(
            host=host,
            sender=sender,
            port=port,
            user=environ.get("HALSOVAL_SMTP_USER") or None,
            password=environ.get("HALSOVAL_SMTP_PASSWORD") or None,
            starttls=starttls,
        )

    @property
    def domain(self) -> str:
        address = self.sender.rsplit("<", 1)[-1].rstrip(">")
        return address.rsplit("@", 1)[-1] or socket.getfqdn()


def message_id(message: OutboxMessage, domain: str) -> str:
    """The message's Message-ID: the same at every attempt, unique across installations (its
    id, the moment it was queued and a digest of its key)."""
    queued = message.created_at.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S%f")
    digest = hashlib.sha256(f"{message.key}|{queued}".encode()).hexdigest()[:20]
    return f"<halsoval.{message.id}.{digest}@{domain}>"


def build_message(
    message: OutboxMessage, settings: SmtpSettings, mid: str | None = None
) -> EmailMessage:
    """The e-mail as it goes out: plain text in UTF-8, attachments as their own parts."""
    email = EmailMessage()
    email["From"] = settings.sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = mid or message.message_id or message_id(message, settings.domain)
    # RFC 3834: sent by a program, so out-of-office replies are not sent back.
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body)
    for attachment in message.attachments or []:
        maintype, _, subtype = attachment["content_type"].partition("/")
        email.add_attachment(
            attachment["content"],
            subtype=subtype or "plain",
            filename=attachment["filename"],
            params=attachment.get("params") or {},
        )
    return email


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th temporary failure: 1, 2, 4 … minutes, at most 6 h."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


@dataclasses.dataclass
class SendResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    uncertain: int = 0


class _Outcome(enum.Enum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    UNCERTAIN = "uncertain"


def _classify(exc: BaseException) -> tuple[_Outcome, str]:
    """What an exception from handing one message to the server means for it."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        code = min(codes) if codes else 550
        text = f"{code} mottagaren avvisades"
    elif isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        detail = exc.smtp_error
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        text = f"{code} {detail}"[:500]
    else:
        # The connection broke during the SMTP transaction: the server may have taken it.
        return _Outcome.UNCERTAIN, f"Anslutningen bröts under sändningen ({type(exc).__name__})"
    return (_Outcome.RETRY if 400 <= code < 500 else _Outcome.FAILED), text


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    smtp = smtplib.SMTP(settings.host, settings.port, timeout=SMTP_TIMEOUT_SECONDS)
    try:
        smtp.ehlo()
        if settings.starttls:
            smtp.starttls()
            smtp.ehlo()
        if settings.user:
            smtp.login(settings.user, settings.password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def _claim(session: Session, token: str) -> OutboxMessage | None:
    """Take the next due message for this sender, in a transaction of its own: mark claims
    left by dead senders uncertain, then move one due message from queued to sending."""
    now = utcnow()
    with write_intent(), session.begin():
        session.execute(
            sa.update(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxState.SENDING,
                OutboxMessage.claimed_at < now - CLAIM_LEASE,
            )
            .values(
                status=OutboxState.UNCERTAIN,
                last_error="Sändningen avbröts innan den bekräftades; kontrollera med mottagaren.",
            )
            .execution_options(synchronize_session=False)
        )
        message = session.scalars(
            sa.select(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxState.QUEUED,
                OutboxMessage.next_attempt_at <= now,
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if message is None:
            return None
        message.status = OutboxState.SENDING
        message.claimed_at = now
        message.claim_token = token
        message.attempts += 1
        session.flush()
    return message


def _mark(session: Session, message: OutboxMessage, token: str, outcome, error, mid) -> None:
    now = utcnow()
    values: dict = {"message_id": mid}
    if outcome is _Outcome.SENT:
        values |= {"status": OutboxState.SENT, "sent_at": now, "last_error": None}
    elif outcome is _Outcome.RETRY and message.attempts < MAX_ATTEMPTS:
        values |= {
            "status": OutboxState.QUEUED,
            "next_attempt_at": now + backoff(message.attempts),
            "last_error": error,
        }
    elif outcome is _Outcome.UNCERTAIN:
        values |= {"status": OutboxState.UNCERTAIN, "last_error": error}
    else:
        values |= {"status": OutboxState.FAILED, "last_error": error}
    with write_intent(), session.begin():
        # Conditional on this sender's claim: whatever else happened meanwhile, the row says
        # what this sender knows (a sent message is marked sent even if declared uncertain).
        session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.claim_token == token)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def send_pending(
    session_factory: Callable[[], Session],
    settings: SmtpSettings,
    *,
    limit: int = 500,
    connect: Callable[[SmtpSettings], smtplib.SMTP] = _connect,
) -> SendResult:
    """Skicka det som väntar i utkorgen: up to ``limit`` due messages, one claim at a time.

    Safe to run from any number of machines at once (see the module's docstring); what one
    run cannot deliver now waits for a later run.
    """
    token = secrets.token_hex(16)
    result = SendResult()
    smtp: smtplib.SMTP | None = None
    session = session_factory()
    try:
        for _ in range(limit):
            message = _claim(session, token)
            if message is None:
                break
            mid = message.message_id or message_id(message, settings.domain)
            email = build_message(message, settings, mid)
            # Nothing of the message is written outside _mark's own transactions.
            session.expunge(message)
            try:
                if smtp is not None:
                    try:
                        smtp.noop()
                    except (smtplib.SMTPException, OSError):
                        smtp.close()
                        smtp = None
                if smtp is None:
                    smtp = connect(settings)
            except (smtplib.SMTPException, OSError) as exc:
                # Nothing was handed over: safe to try again later. Stop this run.
                error = f"Kunde inte ansluta till e-postservern ({type(exc).__name__})"
                _mark(session, message, token, _Outcome.RETRY, error, mid)
                result.retried += 1
                log.warning("outbox %s: e-postservern nåddes inte", message.id)
                break
            try:
                smtp.send_message(email)
            except (smtplib.SMTPException, OSError) as exc:
                outcome, error = _classify(exc)
                _mark(session, message, token, outcome, error, mid)
                log.warning("outbox %s: %s", message.id, outcome.value)
                if outcome is _Outcome.RETRY:
                    result.retried += 1
                elif outcome is _Outcome.UNCERTAIN:
                    result.uncertain += 1
                else:
                    result.failed += 1
                smtp.close()
                smtp = None
                continue
            _mark(session, message, token, _Outcome.SENT, None, mid)
            result.sent += 1
            log.info("outbox %s: skickat", message.id)
    finally:
        session.close()
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
    return result


def retry(session: Session, message: OutboxMessage) -> None:
    """Skicka igen: put a failed or uncertain message back in the queue, due now (the
    administratör's decision after checking; its Message-ID stays the same)."""
    if message.status not in (OutboxState.FAILED, OutboxState.UNCERTAIN):
        raise ValueError(
            "Bara misslyckade meddelanden och meddelanden med osäker leverans kan skickas igen."
        )
    message.status = OutboxState.QUEUED
    message.next_attempt_at = utcnow()
    message.claim_token = None
    message.claimed_at = None
    session.flush()
