"""Personuppgiftsspärr: the scanner lives in :mod:`audit.pii` (the lowest layer, so that the
guard on every stored column can use it); this name is kept for the checklist code."""

from audit.pii import *  # noqa: F403
from audit.pii import __all__  # noqa: F401
