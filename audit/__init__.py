"""The bottom layer of Hälsoval uppföljning.

Database base and engine set-up, the region's units (hälsocentraler, sjukstugor, filialer),
users and their roles, access rules (who may see which unit) and the append-only audit trail
(granskningslogg). Nothing here imports Flask or WTForms.
"""
