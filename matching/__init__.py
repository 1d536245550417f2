"""Vernetzerbörse: pairs volunteer networking experts with neighbourhood initiatives."""

from __future__ import annotations

from flask import Flask

from config import BASE_DIR, INSTANCE_DIR, BaseConfig, config_from_env


def create_app(config: BaseConfig | None = None) -> Flask:
    """Build the application from a configuration object (default: from the environment)."""
    config = config or config_from_env()
    config.validate()
    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder="../templates",
        static_folder="static",
    )
    app.config.from_object(config)
    register_proxy(app)
    register_logging(app)
    register_timing(app)
    register_extensions(app)
    register_url_converters(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_request_hooks(app)
    register_template_helpers(app)
    register_commands(app)
    configure_models()
    return app


def configure_models() -> None:
    """Set up the mappings between the models once, while the app is built (a mistake in one
    stops the start): otherwise the process's first query does it, about 30 ms of a command
    such as ``flask match propose``, which then looked like the run's own time."""
    from sqlalchemy.orm import configure_mappers

    from matching import models  # noqa: F401  (every model registered)

    configure_mappers()


def register_proxy(app: Flask) -> None:
    """Behind N reverse proxies, take client address and scheme from their headers."""
    hops = app.config.get("PROXY_COUNT", 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_logging(app: Flask) -> None:
    if not app.testing:  # pytest captures logs itself
        from matching import logs

        logs.configure(app)


def register_timing(app: Flask) -> None:
    from matching import timing

    timing.init_app(app)


def register_extensions(app: Flask) -> None:
    from matching import database, i18n, mail
    from matching.extensions import babel, csrf, db, limiter, login_manager, migrate
    from matching.matches import autorun, volunteer_pool

    db.init_app(app)
    database.configure_engine(app)
    migrate.init_app(
        app,
        db,
        directory=str(BASE_DIR / "migrations"),
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
        render_item=database.render_migration_item,
    )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    limiter.init_app(app)
    login_manager.init_app(app)
    mail.init_app(app)
    volunteer_pool.init_app(app)
    autorun.init_app(app)  # after mail: its after_request runs first, the mail hook then sends


def register_url_converters(app: Flask) -> None:
    from matching.urls import IdConverter

    app.url_map.converters["id"] = IdConverter


def register_blueprints(app: Flask) -> None:
    from matching.api.pages import bp as api_pages_bp
    from matching.api.routes import bp as api_bp
    from matching.auth.routes import bp as auth_bp
    from matching.coordination.routes import bp as coordination_bp
    from matching.digests.routes import bp as digests_bp
    from matching.feeds.routes import bp as feeds_bp
    from matching.initiatives.routes import bp as initiatives_bp
    from matching.main.routes import bp as main_bp
    from matching.matches.finishing_routes import bp as finishing_bp
    from matching.matches.meeting_routes import bp as meetings_bp
    from matching.matches.routes import bp as matches_bp
    from matching.matches.thread_routes import bp as thread_bp
    from matching.needs.routes import bp as needs_bp
    from matching.privacy.routes import bp as privacy_bp
    from matching.profiles.routes import bp as profiles_bp
    from matching.reports.routes import bp as reports_bp
    from matching.reports.routes import public_bp as public_impact_bp
    from matching.toolkit.routes import bp as toolkit_bp

    for blueprint in (
        main_bp,
        auth_bp,
        profiles_bp,
        initiatives_bp,
        needs_bp,
        coordination_bp,
        matches_bp,
        thread_bp,
        meetings_bp,
        finishing_bp,
        reports_bp,
        public_impact_bp,
        privacy_bp,
        digests_bp,
        api_bp,
        api_pages_bp,
        feeds_bp,
        toolkit_bp,
    ):
        app.register_blueprint(blueprint)


def register_errorhandlers(app: Flask) -> None:
    from matching.main.errors import register

    register(app)


def register_request_hooks(app: Flask) -> None:
    from matching import security

    security.init_app(app)


def register_template_helpers(app: Flask) -> None:
    from matching import i18n

    i18n.register_template_helpers(app)
    from matching.matches import reasons

    app.jinja_env.globals["reasons"] = reasons.reasons
    app.jinja_env.globals["fit_words"] = reasons.fit_words
    from matching.forms import asks_required, fields_with_errors

    app.jinja_env.globals["fields_with_errors"] = fields_with_errors
    app.jinja_env.globals["asks_required"] = asks_required
    # Durations in days (COORDINATOR_REMINDER_DAYS, …) for the waiting clocks' sentences.
    app.jinja_env.globals["wait_days"] = lambda name: int(app.config[name])


def register_commands(app: Flask) -> None:
    from matching.backup import backup_group
    from matching.cli import register

    register(app)
    app.cli.add_command(backup_group)
