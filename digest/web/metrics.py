"""GET /metrics: Prometheus text, read from the database at each scrape (see digest.metrics)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response
from sqlalchemy.exc import SQLAlchemyError

from digest.metrics import metrics_response
from digest.web.state import session_scope

bp = Blueprint("metrics", __name__)
log = logging.getLogger(__name__)


@bp.get("/metrics")
def metrics() -> Response:
    """Every digest metric; 503 with one line when the database cannot be read."""
    try:
        with session_scope() as session:
            body, content_type = metrics_response(session)
    except SQLAlchemyError as exc:
        log.error("metrics: cannot read the database: %s", type(exc).__name__)
        return Response("database unavailable\n", status=503, mimetype="text/plain")
    return Response(body, content_type=content_type)
