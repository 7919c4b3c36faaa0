"""The workflow engine: one module-level ``transitions`` machine per workflow, fired on any row.

A workflow declares its states (an enum stored in the row's ``status`` column), its triggers
(source states, destination, who may fire it, named guards) and its guards (each returns
``None`` or a Swedish sentence saying what is missing). :meth:`Workflow.fire` checks, in order,
that the trigger exists, that the user's role allows it (unit roles only for their own unit),
that it is allowed from the current state, and every guard; then it applies the transition's
data, moves the state through the machine and writes exactly one audit event — all inside a
savepoint, so a transition that raises leaves nothing behind and a refused one changes nothing.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session
from transitions import Machine

from audit.models import Role, User
from audit.trail import Actor, canonical_json, record

Guard = Callable[[Any, dict, Session], str | None]
Apply = Callable[[Any, dict, Session, User], None]


class WorkflowError(ValueError):
    """A refused trigger; the message is Swedish and safe to show."""

    def __init__(self, message: str, *, guard: str | None = None) -> None:
        super().__init__(message)
        self.guard = guard


@dataclasses.dataclass(frozen=True)
class Trigger:
    """One transition of a workflow: from ``source`` to ``dest``, for ``roles``."""

    name: str
    label: str  # the button, in Swedish
    source: tuple[enum.Enum, ...]
    dest: enum.Enum
    roles: frozenset[Role]
    guards: tuple[str, ...] = ()
    needs_reason: bool = False
    apply: Apply | None = None  # stores the transition's data on the row


class Workflow:
    """A workflow: its machine (shared by all rows), triggers and guards."""

    def __init__(
        self,
        name: str,
        entity_type: str,
        states: type[enum.Enum],
        initial: enum.Enum,
        triggers: list[Trigger],
        guards: dict[str, Guard],
        state_labels: dict[enum.Enum, str],
    ) -> None:
        self.name = name
        self.entity_type = entity_type
        self.states = states
        self.initial = initial
        self.triggers = {t.name: t for t in triggers}
        self.guards = guards
        self.state_labels = state_labels
        for trigger in triggers:
            for guard in trigger.guards:
                if guard not in guards:
                    raise ValueError(f"{name}: trigger {trigger.name} names unknown guard {guard}")
        self.machine = Machine(
            model=None,
            states=states,
            initial=initial,
            transitions=[self._transition(t) for t in triggers],
            auto_transitions=False,
            send_event=True,
            model_attribute="status",
        )

    def _transition(self, trigger: Trigger) -> dict:
        # The guards are also the machine's named conditions (they show in its diagram);
        # fire() evaluates them first so that a refusal can say which one failed and why.
        conditions = [self._condition(name) for name in trigger.guards]
        return {
            "trigger": trigger.name,
            "source": list(trigger.source),
            "dest": trigger.dest,
            "conditions": conditions,
        }

    def _condition(self, name: str):
        guard = self.guards[name]

        def condition(event) -> bool:
            return guard(event.model, event.kwargs.get("data", {}), event.kwargs["session"]) is None

        condition.__name__ = name
        return condition

    # --- who may do what now -------------------------------------------------------------

    def role_allows(self, trigger: Trigger, user: User, unit_id: int) -> bool:
        for assignment in user.roles:
            if assignment.role not in trigger.roles:
                continue
            if not assignment.role.is_unit_role or assignment.unit_id == unit_id:
                return True
        return False

    def available(self, row, user: User) -> list[Trigger]:
        """The triggers ``user`` may fire on ``row`` in its current state (buttons)."""
        return [
            t
            for t in self.triggers.values()
            if row.status in t.source and self.role_allows(t, user, row.unit_id)
        ]

    # --- firing ----------------------------------------------------------------------------

    def fire(
        self,
        session: Session,
        user: User,
        row,
        trigger_name: str,
        *,
        data: dict | None = None,
        reason: str | None = None,
    ) -> None:
        """Fire a trigger on ``row`` for ``user``; raises :class:`WorkflowError` if refused."""
        data = dict(data or {})
        trigger = self.triggers.get(trigger_name)
        if trigger is None:
            raise WorkflowError(f"Okänd åtgärd {trigger_name!r}.")
        if not self.role_allows(trigger, user, row.unit_id):
            raise WorkflowError(f"Du har inte behörighet att {trigger.label.lower()}.")
        if row.status not in trigger.source:
            raise WorkflowError(
                f"”{trigger.label}” går inte när ärendet är "
                f"{self.state_labels[row.status].lower()}."
            )
        reason = (reason or "").strip() or None
        if trigger.needs_reason and not reason:
            raise WorkflowError("Ange ett skäl.", guard="reason")
        for name in trigger.guards:
            problem = self.guards[name](row, data, session)
            if problem:
                raise WorkflowError(problem, guard=name)
        if reason:
            data["reason"] = reason
        before = row.status
        with session.begin_nested():
            if trigger.apply is not None:
                trigger.apply(row, data, session, user)
            if not self.machine.events[trigger.name].trigger(row, session=session, data=data):
                raise WorkflowError("Åtgärden kunde inte genomföras.")
            session.flush()
            record(
                session,
                Actor.of(user),
                self.entity_type,
                row.id,
                trigger.name,
                before={"status": before.value},
                after={"status": row.status.value, **_plain(data)},
                reason=reason,
            )

    def diagram(self) -> str:
        """The machine as a Mermaid state diagram, drawn from the machine itself."""
        from transitions.extensions.diagrams import GraphMachine

        class Model:
            pass

        model = Model()
        GraphMachine(
            model=model,
            states=self.states,
            initial=self.initial,
            transitions=[
                {
                    "trigger": t.name,
                    "source": list(t.source),
                    "dest": t.dest,
                    "conditions": list(t.guards),
                }
                for t in self.triggers.values()
            ],
            auto_transitions=False,
            graph_engine="mermaid",
            show_conditions=True,
            title=self.name,
        )
        return model.get_graph().draw(None)


def _plain(data: dict) -> dict:
    """Transition data as JSON-safe values for the audit event."""
    import json

    return json.loads(canonical_json(data))
