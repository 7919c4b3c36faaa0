"""Inloggning: log in, log out, and stay logged in (the idle-timeout warning's keep-alive)."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from web.auth import keepalive, routes  # noqa: E402,F401
