"""Checklistor: catalog editions of the rulebook, requirements, answer types and evaluation.

Sits above ``audit`` and below ``workflows``; imports neither Flask nor WTForms.
"""
