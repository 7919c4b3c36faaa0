"""Uppföljningsflöden: the state machines of §7 and the Swedish working-day calendar.

Sits above ``checklists``; imports neither Flask nor WTForms.
"""
