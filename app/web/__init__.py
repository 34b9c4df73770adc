"""Dashboard blueprint: merchant-facing pages (HTMX) and health endpoints."""
from flask import Blueprint

bp = Blueprint("web", __name__)

from app.web import views  # noqa: E402,F401  (routes register on import)
