"""Flödesschema: an SVG state diagram drawn from a workflow's own machine definition.

States stand in their enum order from top to bottom; a transition to the next state is a
straight arrow, one that skips ahead curves on the right, one that goes back curves on the left,
one that stays (a text rewritten: the joint dialog's agenda) loops on the box's left edge.
A trigger allowed from many states (cancel, withdraw) is drawn once, as a note. Presentation
attributes only (no style attributes), so the page's Content-Security-Policy holds.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from workflows.engine import Workflow

BOX_W, BOX_H, STEP, LEFT, TOP = 250, 38, 70, 190, 20
MANY_SOURCES = 4


def transitions(workflow: Workflow) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(from-label, trigger-label, to-label, guards) for every transition, for a table."""
    rows = []
    for trigger in workflow.triggers.values():
        for source in trigger.source:
            rows.append(
                (
                    workflow.state_labels[source],
                    trigger.label,
                    workflow.state_labels[trigger.dest],
                    trigger.guards,
                )
            )
    return rows


def svg(workflow: Workflow) -> str:
    states = list(workflow.states)
    index = {state: i for i, state in enumerate(states)}
    height = TOP * 2 + STEP * (len(states) - 1) + BOX_H + 40
    width = LEFT * 2 + BOX_W + 140
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="t-{id(workflow)}" '
        'font-family="system-ui, DejaVu Sans, sans-serif">',
        f'<title id="t-{id(workflow)}">{escape(workflow.name)}</title>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#1b2430"/></marker></defs>',
    ]

    def y(state) -> int:
        return TOP + index[state] * STEP

    notes = []
    right_slot = left_slot = 0
    for trigger in workflow.triggers.values():
        label = escape(trigger.label) + (" ✱" if trigger.guards else "")
        if len(trigger.source) >= MANY_SOURCES:
            notes.append(
                f"{escape(trigger.label)}: från alla öppna lägen → "
                f"{escape(workflow.state_labels[trigger.dest])}"
            )
            continue
        for source in trigger.source:
            x_mid = LEFT + BOX_W // 2
            if index[trigger.dest] == index[source] + 1:
                y1, y2 = y(source) + BOX_H, y(trigger.dest)
                parts.append(
                    f'<line x1="{x_mid}" y1="{y1}" x2="{x_mid}" y2="{y2 - 2}" '
                    'stroke="#1b2430" stroke-width="1.5" marker-end="url(#arrow)"/>'
                )
                parts.append(
                    f'<text x="{x_mid + 8}" y="{(y1 + y2) // 2 + 4}" font-size="12" '
                    f'fill="#1b2430">{label}</text>'
                )
                continue
            if trigger.dest == source:
                x_edge, top = LEFT, y(source)
                parts.append(
                    f'<path d="M{x_edge},{top + 8} C{x_edge - 34},{top - 6} '
                    f'{x_edge - 34},{top + BOX_H + 6} {x_edge},{top + BOX_H - 8}" '
                    'fill="none" stroke="#4d5a67" stroke-width="1.3" marker-end="url(#arrow)"/>'
                )
                parts.append(
                    f'<text x="{x_edge - 38}" y="{top + BOX_H // 2 + 4}" font-size="11" '
                    f'fill="#4d5a67" text-anchor="end">{label}</text>'
                )
                continue
            forward = index[trigger.dest] > index[source]
            if forward:
                right_slot += 1
                x_edge, bulge = LEFT + BOX_W, LEFT + BOX_W + 30 + 22 * right_slot
            else:
                left_slot += 1
                x_edge, bulge = LEFT, LEFT - 30 - 22 * left_slot
            y1, y2 = y(source) + BOX_H // 2, y(trigger.dest) + BOX_H // 2
            parts.append(
                f'<path d="M{x_edge},{y1} C{bulge},{y1} {bulge},{y2} {x_edge},{y2}" '
                'fill="none" stroke="#4d5a67" stroke-width="1.3" '
                'stroke-dasharray="5 3" marker-end="url(#arrow)"/>'
            )
            anchor = "start" if forward else "end"
            x_text = bulge + (4 if forward else -4)
            parts.append(
                f'<text x="{x_text}" y="{(y1 + y2) // 2 + 4}" font-size="11" '
                f'fill="#4d5a67" text-anchor="{anchor}">{label}</text>'
            )
    for state in states:
        final = not any(state in t.source for t in workflow.triggers.values())
        fill = "#e3f4e8" if final else ("#e6f0fa" if state == workflow.initial else "#ffffff")
        parts.append(
            f'<rect x="{LEFT}" y="{y(state)}" width="{BOX_W}" height="{BOX_H}" rx="8" '
            f'fill="{fill}" stroke="#0d4f63" stroke-width="{2 if final else 1.5}"/>'
        )
        parts.append(
            f'<text x="{LEFT + BOX_W // 2}" y="{y(state) + BOX_H // 2 + 5}" '
            f'font-size="13" font-weight="600" text-anchor="middle" fill="#1b2430">'
            f"{escape(workflow.state_labels[state])}</text>"
        )
    note_y = TOP + STEP * (len(states) - 1) + BOX_H + 30
    for offset, note in enumerate(notes):
        parts.append(
            f'<text x="{LEFT}" y="{note_y + 16 * offset}" font-size="12" '
            f'fill="#4d5a67">{note}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
