"""The web app: an app factory taking the Settings, one blueprint per group of pages.

Routes, all on one screen:
  /                       landing page and subscribe form     subscribe.index
  POST /subscribe         queue the confirmation email         subscribe.submit
  /confirm/<token>        GET asks, POST confirms              subscribe.confirm_page/confirm
  /manage                 email me a magic link                subscribe.manage
  /preferences/<token>    edit everything (+ /preview JSON)    preferences.*
  /preferences/timezones.json  time zone suggestions           preferences.timezones
  /u/<token>              GET asks, POST one-click unsubscribe links.unsubscribe_page/unsubscribe
  POST /u/<token>/resubscribe  undo the unsubscribe            links.resubscribe
  /f/<token>/<paper>/<d>  more/less like this, undo            links.feedback
  /d/<token>              this digest in the browser           links.view
  /account/<token>        export (/export), delete (/delete)   account.*
  /healthz, /dev/inbox    operators and development            health.*
  /metrics                Prometheus text from the database    metrics.metrics
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine

from digest.config import Settings
from digest.web import account, errors, health, limits, links, metrics, preferences, subscribe
from digest.web.state import make_state

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
MAX_FORM_BYTES = 256 * 1024


def create_app(settings: Settings, *, engine: Engine | None = None, dev: bool = False) -> Flask:
    """Build the app for these settings (pass `engine` to share a connection pool)."""
    app = Flask(__name__, template_folder=str(TEMPLATES), static_folder=None)
    secure = settings.base_url.startswith("https://")
    app.config.update(
        SECRET_KEY=settings.secret_key.get_secret_value(),
        MAX_CONTENT_LENGTH=MAX_FORM_BYTES,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        WTF_CSRF_SSL_STRICT=False,
        # A preferences page left open for an afternoon must still save.
        WTF_CSRF_TIME_LIMIT=12 * 3600,
    )
    app.extensions["digest"] = make_state(settings, engine, dev)
    for blueprint in (subscribe.bp, preferences.bp, links.bp, account.bp, health.bp, metrics.bp):
        app.register_blueprint(blueprint)
    csrf = CSRFProtect(app)
    csrf.exempt(links.unsubscribe)
    limits.install(app, settings)
    errors.install(app)
    return app
