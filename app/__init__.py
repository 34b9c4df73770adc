"""Stockroom: the Flask application factory."""
from __future__ import annotations

import os
import secrets

from flask import Flask

from app.config import load_config
from app.database import configure_engine
from app.extensions import db, migrate
from app.security.production import init_production, is_production
from app.sync.inbox import init_intake


def create_app(config: dict | None = None) -> Flask:
    """Create the app: settings from the environment, ``config`` overriding them."""
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(load_config(app.instance_path, config))
    # Production never gets a made-up key: init_production refuses to start without one.
    if not app.config["SECRET_KEY"] and not is_production(app.config):
        if not (app.debug or app.testing or app.config.get("DEMO")):
            raise RuntimeError("SECRET_KEY must be set outside tests and the demo")
        app.config["SECRET_KEY"] = secrets.token_hex(32)

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    with app.app_context():
        configure_engine(db.engine, busy_timeout_ms=app.config["SQLITE_BUSY_TIMEOUT_MS"])
        init_intake(app, db.engine)

    from app import models  # noqa: F401  (register every model with the metadata)
    from app.cli import register_cli
    from app.platforms import registry
    from app.web import bp as web_bp, init_web

    from app.health import bp as health_bp

    init_web(app)
    app.register_blueprint(health_bp)
    app.register_blueprint(web_bp)
    registry.init_app(app)  # every adapter and job handler, in one place
    register_cli(app)

    @app.teardown_request
    def _rollback_on_error(exc):
        if exc is not None:
            db.session.rollback()

    init_production(app)
    return app
