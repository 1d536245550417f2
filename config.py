"""Configuration read from the environment, with Development, Testing and Production variants."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def normalise_database_url(url: str) -> str:
    """Point plain PostgreSQL URLs at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class BaseConfig:
    """Settings shared by every environment; each can be overridden from the environment."""

    ENV_NAME = "base"
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{INSTANCE_DIR / 'vernetzer.db'}"
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # Reverse proxies in front of the app (nginx: 1); their X-Forwarded-* headers are trusted.
    PROXY_COUNT = int(os.environ.get("PROXY_COUNT", 0))

    # Logs: one line per event on stdout; "json" for log collectors, "text" for people.
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    # Site
    SITE_NAME = "Vernetzerbörse"
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    PRIVACY_VERSION = os.environ.get("PRIVACY_VERSION", "2026-11")
    ASSOCIATION_NAME = os.environ.get("ASSOCIATION_NAME", "Stadtteilvernetzer Stuttgart")
    ASSOCIATION_ADDRESS = os.environ.get("ASSOCIATION_ADDRESS", "Stuttgart")
    CONTACT_EMAIL = os.environ.get("CONTACT_EMAIL", "kontakt@example.org")
    # Imprint (§ 5 DDG) and privacy statement (Art. 13 DSGVO), filled in by the operator.
    ASSOCIATION_BOARD = os.environ.get("ASSOCIATION_BOARD", "")
    ASSOCIATION_REGISTER = os.environ.get("ASSOCIATION_REGISTER", "")
    CONTACT_PHONE = os.environ.get("CONTACT_PHONE", "")
    PRIVACY_CONTACT = os.environ.get("PRIVACY_CONTACT", "")
    SUPERVISORY_AUTHORITY = os.environ.get(
        "SUPERVISORY_AUTHORITY",
        "Der Landesbeauftragte für den Datenschutz und die Informationsfreiheit Baden-Württemberg",
    )
    # How long data is kept (days); the retention job deletes or blanks it after that.
    RETENTION_UNCONFIRMED_DAYS = int(os.environ.get("RETENTION_UNCONFIRMED_DAYS", 7))
    RETENTION_CLOSED_NEED_TEXT_DAYS = int(os.environ.get("RETENTION_CLOSED_NEED_TEXT_DAYS", 365))
    RETENTION_SENT_MAIL_DAYS = int(os.environ.get("RETENTION_SENT_MAIL_DAYS", 90))
    RETENTION_AUDIT_IP_DAYS = int(os.environ.get("RETENTION_AUDIT_IP_DAYS", 30))
    # Messages of a match that ended this long ago are deleted.
    RETENTION_MESSAGES_DAYS = int(os.environ.get("RETENTION_MESSAGES_DAYS", 365))

    # Locales: German first
    BABEL_DEFAULT_LOCALE = "de"
    BABEL_DEFAULT_TIMEZONE = "Europe/Berlin"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "matching" / "translations")

    # Accounts
    CONFIRM_MAX_AGE = int(os.environ.get("CONFIRM_MAX_AGE", 3 * 24 * 3600))
    RESET_MAX_AGE = int(os.environ.get("RESET_MAX_AGE", 2 * 3600))
    PASSWORD_MIN_LENGTH = 12
    # argon2id at OWASP's recommended cost (19 MiB, 2 passes): about 30 ms per check here,
    # so a burst of log-ins stays fast; older, costlier hashes are rehashed at log-in.
    ARGON2_TIME_COST = int(os.environ.get("ARGON2_TIME_COST", 2))
    ARGON2_MEMORY_COST = int(os.environ.get("ARGON2_MEMORY_COST", 19456))

    # Cookies and forms
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    MAX_CONTENT_LENGTH = 1024 * 1024

    # Rate limits (Flask-Limiter); memory in development, Redis in production
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # Redis down: every limit falls back to counting in each web process's memory (a warning
    # is logged once; Flask-Limiter checks Redis again now and then and switches back).
    # Failing closed would lock every volunteer out of the service whenever Redis blips, for a
    # store that holds nothing but counters; the fallback still stops guessing, only the bound
    # is per process: workers x hosts x the limit, each guess paying for argon2.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Only failed log-ins count against these. The load benchmark raises them from the
    # environment, as all its simulated people share one address.
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "20 per 10 minutes")
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    MAIL_LIMIT_PER_ADDRESS = "10 per hour"

    # The engine's pool of approved volunteers is kept between requests while nothing behind it
    # changed (matching/services/volunteer_pool.py). Every process must see the same change
    # counter: "off" (each request loads its own), "process" (one process only: tests), or a
    # redis:// URL; by default the rate limits' Redis, else off.
    VOLUNTEER_POOL_CACHE = os.environ.get("VOLUNTEER_POOL_CACHE", "")
    VOLUNTEER_POOL_MAX_AGE = float(os.environ.get("VOLUNTEER_POOL_MAX_AGE", 300))
    # The JSON API: per token, and per address for callers without one.
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "120 per minute")
    API_RATE_LIMIT_ANONYMOUS = os.environ.get("API_RATE_LIMIT_ANONYMOUS", "60 per minute")
    API_MAX_BODY = 64 * 1024

    # Mail
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "console")
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", 25))
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get(
        "MAIL_DEFAULT_SENDER", "Vernetzerbörse <vernetzerboerse@example.org>"
    )
    MAIL_TIMEOUT = int(os.environ.get("MAIL_TIMEOUT", 20))
    # Send a request's mail right after it commits (no jobs process needed); in production
    # the jobs process drains the outbox instead, so a slow SMTP server never slows a page.
    OUTBOX_SEND_AFTER_COMMIT = _env_bool("OUTBOX_SEND_AFTER_COMMIT", True)
    # The mailto: in the digests' List-Unsubscribe header; a person reads that mailbox.
    MAIL_UNSUBSCRIBE_ADDRESS = os.environ.get(
        "MAIL_UNSUBSCRIBE_ADDRESS", "abbestellen@vernetzerboerse.example.org"
    )
    # How long links in mail stay valid: "Ich kann helfen" and "Zusagen" a fortnight (a
    # weekly digest plus a week's holiday), unsubscribing a year (any old digest still works).
    MAIL_LINK_MAX_AGE = int(os.environ.get("MAIL_LINK_MAX_AGE", 14 * 24 * 3600))
    UNSUBSCRIBE_MAX_AGE = int(os.environ.get("UNSUBSCRIBE_MAX_AGE", 365 * 24 * 3600))

    # Jobs process (`flask --app wsgi jobs run`, DESIGN.md §7); times are local to this zone.
    JOBS_TIMEZONE = "Europe/Berlin"
    # Weekly digests: APScheduler cron fields (day_of_week mon…sun or 0–6, hour, minute).
    DIGEST_DAY_OF_WEEK = os.environ.get("DIGEST_DAY_OF_WEEK", "mon")
    DIGEST_HOUR = int(os.environ.get("DIGEST_HOUR", 7))
    DIGEST_MINUTE = int(os.environ.get("DIGEST_MINUTE", 0))
    # A run missed by at most this much (scheduler down, machine asleep) is made up once.
    JOBS_MISFIRE_GRACE_SECONDS = int(os.environ.get("JOBS_MISFIRE_GRACE_SECONDS", 6 * 3600))
    # SQLite only: the file that a running scheduler holds locked (default instance/scheduler.lock).
    JOBS_LOCK_FILE = os.environ.get("JOBS_LOCK_FILE")
    # `jobs run --wait`: how often a waiting scheduler tries to take over the lock.
    JOBS_LOCK_RETRY_SECONDS = int(os.environ.get("JOBS_LOCK_RETRY_SECONDS", 30))

    # Matching weights (DESIGN.md §5). "continuity" is added on top for an expert who
    # already advised the same initiative ("hat Ihre Initiative schon beraten").
    MATCHING_WEIGHTS = {
        "phase": 0.45,
        "place": 0.25,
        "format": 0.10,
        "load": 0.10,
        "urgency": 0.10,
        "load_penalty": 0.15,
        "continuity": 0.10,
    }
    # "Diesmal nicht – passt fachlich nicht": each such answer multiplies the weight of the
    # need's phases for this volunteer by this factor, down to the floor.
    NOT_MY_FIELD_FACTOR = float(os.environ.get("NOT_MY_FIELD_FACTOR", 0.75))
    NOT_MY_FIELD_FLOOR = float(os.environ.get("NOT_MY_FIELD_FLOOR", 0.4))

    # Nobody waits in silence (days). What the person waiting is told, and when the jobs act:
    # an undecided proposal or offer reminds the coordinators, later it is highlighted;
    # an unanswered approved match reminds the volunteer once, later it is released;
    # a need without any candidate is reported to the coordinators.
    COORDINATOR_REMINDER_DAYS = int(os.environ.get("COORDINATOR_REMINDER_DAYS", 3))
    HIGHLIGHT_AFTER_DAYS = int(os.environ.get("HIGHLIGHT_AFTER_DAYS", 7))
    VOLUNTEER_REMINDER_DAYS = int(os.environ.get("VOLUNTEER_REMINDER_DAYS", 7))
    RELEASE_AFTER_DAYS = int(os.environ.get("RELEASE_AFTER_DAYS", 14))
    NO_CANDIDATE_ALERT_DAYS = int(os.environ.get("NO_CANDIDATE_ALERT_DAYS", 14))
    # An accepted match without any message or meeting this long is shown to coordinators.
    NO_CONTACT_ALERT_DAYS = int(os.environ.get("NO_CONTACT_ALERT_DAYS", 10))

    # After the match: the thread mails the other side at most once per this many minutes;
    # a message is plain text up to this length.
    MESSAGE_MAIL_MINUTES = int(os.environ.get("MESSAGE_MAIL_MINUTES", 15))
    MESSAGE_MAX_LENGTH = 2000

    # The toolkit ("Werkzeugkoffer"): uploaded PDFs up to this size, kept in the database.
    TOOLKIT_MAX_UPLOAD_BYTES = int(os.environ.get("TOOLKIT_MAX_UPLOAD_BYTES", 5 * 1024 * 1024))
    # Materials listed with a need, a match and the introduction mail.
    TOOLKIT_MATERIALS_LISTED = 6

    # An initiative recorded by phone is invited to take its need over; the link lasts a month.
    TAKEOVER_MAX_AGE = int(os.environ.get("TAKEOVER_MAX_AGE", 30 * 24 * 3600))
    # The accessibility statement (BITV 2.0): when it was written and last reviewed.
    ACCESSIBILITY_STATEMENT_DATE = os.environ.get("ACCESSIBILITY_STATEMENT_DATE", "2026-11-26")
    # Where people turn when our answer to a reported barrier does not help; the operator
    # checks which body is responsible for them (for public bodies in Baden-Württemberg:
    # the state's commissioner for people with disabilities).
    ACCESSIBILITY_ENFORCEMENT_BODY = os.environ.get(
        "ACCESSIBILITY_ENFORCEMENT_BODY",
        "die Beauftragte der Landesregierung für die Belange von Menschen mit Behinderungen "
        "in Baden-Württemberg",
    )

    def __init__(self) -> None:
        # DATABASE_URL overrides the database in every configuration.
        if os.environ.get("DATABASE_URL"):
            self.SQLALCHEMY_DATABASE_URI = normalise_database_url(os.environ["DATABASE_URL"])
        if "MAIL_BACKEND" in os.environ:
            self.MAIL_BACKEND = os.environ["MAIL_BACKEND"]
        self.PROXY_COUNT = int(os.environ.get("PROXY_COUNT", self.PROXY_COUNT))
        if self.RATELIMIT_STORAGE_URI.startswith(("redis://", "rediss://")):
            # A Redis that hangs costs each request a second at most, not a worker's timeout.
            self.RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
        if not self.VOLUNTEER_POOL_CACHE:
            redis = self.RATELIMIT_STORAGE_URI.startswith(("redis://", "rediss://"))
            self.VOLUNTEER_POOL_CACHE = self.RATELIMIT_STORAGE_URI if redis else "off"

    def validate(self) -> None:
        """Refuse configurations that must not run; the base accepts anything."""


class DevelopmentConfig(BaseConfig):
    ENV_NAME = "development"
    DEBUG = False


class TestingConfig(BaseConfig):
    __test__ = False  # not a pytest test class, despite the name
    ENV_NAME = "testing"
    PRIVACY_VERSION = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    MAIL_BACKEND = "memory"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    RATELIMIT_STORAGE_URI = "memory://"
    BASE_URL = "http://localhost"
    # argon2 at full cost makes the suite slow; the hashing algorithm stays the same.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    VOLUNTEER_POOL_CACHE = "process"

    def __init__(self) -> None:
        super().__init__()
        if os.environ.get("TEST_DATABASE_URL"):
            self.SQLALCHEMY_DATABASE_URI = normalise_database_url(os.environ["TEST_DATABASE_URL"])


class ProductionConfig(BaseConfig):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    MAIL_BACKEND = "smtp"
    PREFERRED_URL_SCHEME = "https"
    OUTBOX_SEND_AFTER_COMMIT = _env_bool("OUTBOX_SEND_AFTER_COMMIT", False)
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")

    def __init__(self) -> None:
        super().__init__()
        self.SECRET_KEY = os.environ.get("SECRET_KEY", "")
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(os.environ.get("DATABASE_URL", ""))

    def validate(self) -> None:
        """Production never falls back to a default secret or database."""
        missing = [n for n in ("SECRET_KEY", "DATABASE_URL") if not os.environ.get(n)]
        if missing:
            raise RuntimeError(
                "Production configuration needs these environment variables: " + ", ".join(missing)
            )


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> BaseConfig:
    """Pick the configuration named by VERNETZER_ENV (default: development)."""
    name = os.environ.get("VERNETZER_ENV", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"VERNETZER_ENV must be one of {', '.join(CONFIGS)}, not {name!r}")
    return CONFIGS[name]()
