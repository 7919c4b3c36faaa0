"""Återkommande rapporter: the telephone report (§6.9), the patient-safety report (§2.6) and
the tilläggsuppdrag annual reports (seed 000) — models, operations and the queries the annual
analysis (§7.1.4) reads."""
