"""Särskild fördjupning (§7.1.3): the risk-based in-depth review — its rows, its machine and
the operations around it (opening on risk signals, requirements, the unit's files, the year's
reviews for the annual analysis)."""
