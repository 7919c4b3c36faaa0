"""Ärenden: the notices and applications a health centre files with the purchaser
(§2.6, §2.7.5, §2.7.6, §2.13.1, §3.1.1, §3.3, §3.8, §3.9, §3.20, §4.9.1, §4.9.2).

- :mod:`workflows.cases.models` — the rows (case, partner units, documents);
- :mod:`workflows.cases.types` — what each kind carries, who decides, its dates;
- :mod:`workflows.cases.machine` — the one state machine for every kind;
- :mod:`workflows.cases.operations` — filing, editing, documents, the §2.7.6 capitation case;
- :mod:`workflows.cases.branch` — a granted branch (§3.9) into the unit register;
- :mod:`workflows.cases.checklist` — the checklist items a case is evidence for.
"""
