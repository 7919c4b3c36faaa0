"""Gemensam dialog (§7.1.2): the purchaser's meetings with every provider's representatives.

- :mod:`workflows.joint.models` — the rows (the dialog, its recipients, attendance, follow-ups);
- :mod:`workflows.joint.machine` — its state machine (planned → agenda → sent → held → minutes
  → published → closed, or cancelled);
- :mod:`workflows.joint.operations` — planning, attendance, follow-ups that become findings,
  the "at least two a year" count and the annual analysis's query.
"""
