"""Ponte, the integration hub between a merchant's ERP and their stores and marketplaces."""
from __future__ import annotations

from flask import Flask

from config import load_config


def create_app(config_name: str | None = None, **overrides) -> Flask:
    """Build the app for web, worker, scheduler and release alike; connects to nothing."""
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_object(load_config(config_name))
    app.config.update(overrides)

    from . import models  # noqa: F401  (register every table before migrations look)
    from .extensions import csrf, db, login_manager, migrate
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"),
                     render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)

    from . import queues
    queues.init_app(app)

    from .auth import bp as auth_bp
    from .auth.session import init_login
    from .hooks import bp as hooks_bp
    from .health import bp as health_bp
    from .portal import bp as portal_bp
    init_login(app)
    app.register_blueprint(health_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(portal_bp)
    app.register_blueprint(hooks_bp)
    csrf.exempt(hooks_bp)  # the ERP signs its calls instead of carrying a session

    from .cli import register_cli
    register_cli(app)
    return app
