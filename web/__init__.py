"""Flask front end of Hälsoval uppföljning: ``create_app()`` and the blueprints.

The only layer that imports Flask and WTForms. Imports flow one way:
web → workflows → checklists → audit.
"""

from web.app import create_app

__all__ = ["create_app"]
