"""Configuration: typed settings read once from the environment, in Development, Testing and
Production variants.

Every setting that the environment may give is declared once in ``Settings`` with its type and
default; pydantic-settings reads and checks them all at start-up, and a wrong value stops the
start with one line naming the variable and what it expects (``ConfigError``). The config
classes add what is fixed in code and each environment's own defaults: a class attribute named
like a setting is that environment's default, which the environment variable still overrides
(except for the names a class pins, as the test suite does).
"""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

Days = Annotated[int, Field(gt=0)]
Seconds = Annotated[int, Field(gt=0)]
Port = Annotated[int, Field(ge=1, le=65535)]
Weight = Annotated[float, Field(ge=0, allow_inf_nan=False)]

MAKE_A_SECRET_KEY = 'python3 -c "import secrets; print(secrets.token_urlsafe(48))"'
SECRET_KEY_MIN_BYTES = 32
# Placeholders that people copy from examples instead of making a key.
_PLACEHOLDER = re.compile(
    r"change[-_ ]?me|replace[-_ ]?me|changeit|placeholder|your[-_ ]?secret|not[-_ ]?secret"
    r"|dev[-_ ]?only|test[-_ ]?secret|^secret$|example",
    re.IGNORECASE,
)


_DAY = r"(?:mon|tue|wed|thu|fri|sat|sun|[0-6])"
_DAY_ITEM = rf"(?:\*|{_DAY}(?:-{_DAY})?)(?:/[1-9][0-9]*)?"
_DAYS_OF_WEEK = re.compile(rf"{_DAY_ITEM}(?:,{_DAY_ITEM})*", re.IGNORECASE)


class ConfigError(RuntimeError):
    """A setting that must not run; the message is one line naming the variable."""


class Settings(BaseSettings):
    """Everything the environment may set, with its type and default (names as in README)."""

    model_config = SettingsConfigDict(
        case_sensitive=True, env_ignore_empty=True, extra="ignore", validate_default=True
    )

    VERNETZER_ENV: Literal["development", "testing", "production"] = "development"
    SECRET_KEY: str = ""
    DATABASE_URL: str = ""
    TEST_DATABASE_URL: str = ""
    # Where `make run` serves (and, in development, where mail links point without BASE_URL).
    PORT: Port = 5000
    # The address people reach the service at; links in mail are built from it. Required in
    # production; in development it follows the address the app is served on.
    BASE_URL: str = ""
    # Reverse proxies in front of the app (nginx: 1); their X-Forwarded-* headers are trusted.
    PROXY_COUNT: Annotated[int, Field(ge=0)] = 0

    # Logs: one line per event on stdout; "json" for log collectors, "text" for people.
    LOG_FORMAT: Literal["text", "json"] = "text"
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # Benchmarks only (bench/load.py): each answer says in a Server-Timing header how much CPU
    # its worker spent on it. Off in service: it would tell anyone what a page costs.
    SERVER_TIMING: bool = False

    # Site, imprint (§ 5 DDG) and privacy statement (Art. 13 DSGVO), filled in by the operator.
    PRIVACY_VERSION: str = "2026-11"
    ASSOCIATION_NAME: str = "Stadtteilvernetzer Stuttgart"
    ASSOCIATION_ADDRESS: str = "Stuttgart"
    ASSOCIATION_BOARD: str = ""
    ASSOCIATION_REGISTER: str = ""
    CONTACT_EMAIL: str = "kontakt@example.org"
    # "Was wir bewirken": the yearly figures in aggregate on a public page, in the API and as
    # an Atom feed (never a count below 3). Off until the association decides to publish.
    PUBLIC_IMPACT: bool = False
    # For people who are not online: shown in the footer, the accessibility statement and on
    # error pages; where unset, no page promises a phone or a postal address.
    CONTACT_PHONE: str = ""
    CONTACT_ADDRESS: str = ""
    PRIVACY_CONTACT: str = ""
    SUPERVISORY_AUTHORITY: str = (
        "Der Landesbeauftragte für den Datenschutz und die Informationsfreiheit Baden-Württemberg"
    )

    # How long data is kept (days); the retention job deletes or blanks it after that.
    RETENTION_UNCONFIRMED_DAYS: Days = 7
    RETENTION_CLOSED_NEED_TEXT_DAYS: Days = 365
    RETENTION_SENT_MAIL_DAYS: Days = 90
    RETENTION_AUDIT_IP_DAYS: Days = 30
    # A reported barrier (and the contact given with it) is deleted a year after the report.
    RETENTION_BARRIER_REPORT_DAYS: Days = 365
    # Messages of a match that ended this long ago are deleted.
    RETENTION_MESSAGES_DAYS: Days = 365

    # Accounts
    CONFIRM_MAX_AGE: Seconds = 3 * 24 * 3600
    RESET_MAX_AGE: Seconds = 2 * 3600
    # A log-in ends after this many days at the latest (log-out, "Überall abmelden" and a
    # new password end it at once); the retention job deletes the rows of ended sessions.
    LOGIN_SESSION_MAX_DAYS: Days = 30
    # argon2id at OWASP's recommended cost (19 MiB, 2 passes): about 30 ms per check here,
    # so a burst of log-ins stays fast; older, costlier hashes are rehashed at log-in.
    ARGON2_TIME_COST: Annotated[int, Field(ge=1)] = 2
    ARGON2_MEMORY_COST: Annotated[int, Field(ge=8)] = 19456
    # The shortest password accepted; every form that asks for a new one says this number.
    PASSWORD_MIN_LENGTH: Annotated[int, Field(ge=8, le=128)] = 12

    # Rate limits (Flask-Limiter); memory in development, Redis in production. Only failed
    # log-ins count against the log-in limits; the load benchmark raises them, as all its
    # simulated people share one address.
    RATELIMIT_STORAGE_URI: str = "memory://"
    LOGIN_LIMIT_PER_ADDRESS: str = "20 per 10 minutes"
    LOGIN_LIMIT_PER_ACCOUNT: str = "5 per 15 minutes"
    # A sign-up evening: thirty people on one Wi-Fi sign up within an hour or two, some twice
    # (a typo in the address). Only sign-ups that send a mail count; per address typed in,
    # three mails an hour at most, so nobody's mailbox can be flooded from here.
    SIGNUP_LIMIT_PER_ADDRESS: str = "60 per hour"
    MAIL_LIMIT_PER_ADDRESS: str = "30 per hour"
    MAIL_LIMIT_PER_RECIPIENT: str = "3 per hour"
    # The JSON API: per token, and per address for callers without one.
    API_RATE_LIMIT: str = "120 per minute"
    API_RATE_LIMIT_ANONYMOUS: str = "60 per minute"

    # The engine's pool of approved volunteers is kept between requests while nothing behind it
    # changed (matching/matches/volunteer_pool.py). Every process must see the same change
    # counter: "off" (each request loads its own), "process" (one process only: tests), or a
    # redis:// URL; by default the rate limits' Redis, else off.
    VOLUNTEER_POOL_CACHE: str = ""
    VOLUNTEER_POOL_MAX_AGE: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 300.0
    # A whole new pool is built by a thread beside the requests ("background"), which keep the
    # old one meanwhile, or by the request that finds it due ("inline": tests).
    VOLUNTEER_POOL_REBUILD: Literal["background", "inline"] = "background"

    # Mail
    MAIL_BACKEND: Literal["console", "smtp", "memory"] = "console"
    MAIL_SERVER: str = "localhost"
    MAIL_PORT: Port = 25
    MAIL_USE_TLS: bool = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_DEFAULT_SENDER: str = "Vernetzerbörse <vernetzerboerse@example.org>"
    MAIL_TIMEOUT: Seconds = 20
    # Send a request's mail right after it commits (no jobs process needed); in production
    # the jobs process drains the outbox instead, so a slow SMTP server never slows a page.
    OUTBOX_SEND_AFTER_COMMIT: bool = True
    # The mailto: in the digests' List-Unsubscribe header; a person reads that mailbox.
    MAIL_UNSUBSCRIBE_ADDRESS: str = "abbestellen@vernetzerboerse.example.org"
    # How long links in mail stay valid: "Ich kann helfen" and "Zusagen" a fortnight (a
    # weekly digest plus a week's holiday), unsubscribing a year (any old digest still works).
    MAIL_LINK_MAX_AGE: Seconds = 14 * 24 * 3600
    UNSUBSCRIBE_MAX_AGE: Seconds = 365 * 24 * 3600

    # Weekly digests: APScheduler cron fields (day_of_week mon…sun or 0–6, hour, minute).
    DIGEST_DAY_OF_WEEK: str = "mon"
    DIGEST_HOUR: Annotated[int, Field(ge=0, le=23)] = 7
    DIGEST_MINUTE: Annotated[int, Field(ge=0, le=59)] = 0
    # A run missed by at most this much (scheduler down, machine asleep) is made up once.
    JOBS_MISFIRE_GRACE_SECONDS: Seconds = 6 * 3600
    # SQLite only: the file that a running scheduler holds locked (default instance/scheduler.lock).
    JOBS_LOCK_FILE: str | None = None
    # `jobs run --wait`: how often a waiting scheduler tries to take over the lock.
    JOBS_LOCK_RETRY_SECONDS: Seconds = 30

    # Matching weights (DESIGN.md §5): the score parts (normalised to sum 1), the load penalty
    # per further pair a volunteer gets in one round, and "continuity", added on top for an
    # expert who already advised the same initiative ("hat Ihre Initiative schon beraten").
    MATCHING_WEIGHT_PHASE: Weight = 0.45
    MATCHING_WEIGHT_PLACE: Weight = 0.25
    MATCHING_WEIGHT_FORMAT: Weight = 0.10
    MATCHING_WEIGHT_LOAD: Weight = 0.10
    MATCHING_WEIGHT_URGENCY: Weight = 0.10
    MATCHING_WEIGHT_CONTINUITY: Weight = 0.10
    MATCHING_LOAD_PENALTY: Weight = 0.15
    # The proposal job (propose_matches) runs this often, and within a minute of any change
    # that asks for it (a need published, a profile approved, a match declined, …).
    MATCHING_INTERVAL_MINUTES: Annotated[int, Field(ge=1, le=24 * 60)] = 15
    # Without a jobs process (make run), a request that changed the picture runs the proposal
    # right after its commit, as development mail is sent; production leaves it to the jobs.
    MATCHING_AFTER_COMMIT: bool = True
    # A proposal run that takes longer stops, writes nothing and is recorded as failed.
    MATCHING_MAX_SECONDS: Annotated[float, Field(gt=0, le=24 * 3600, allow_inf_nan=False)] = 600
    # "Diesmal nicht – passt fachlich nicht": each such answer multiplies the weight of the
    # need's phases for this volunteer by this factor, down to the floor.
    NOT_MY_FIELD_FACTOR: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 0.75
    NOT_MY_FIELD_FLOOR: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.4

    # Nobody waits in silence (days). What the person waiting is told, and when the jobs act:
    # an undecided proposal or offer reminds the coordinators, later it is highlighted;
    # an unanswered approved match reminds the volunteer once, later it is released;
    # a need without any candidate is reported to the coordinators.
    COORDINATOR_REMINDER_DAYS: Days = 3
    HIGHLIGHT_AFTER_DAYS: Days = 7
    VOLUNTEER_REMINDER_DAYS: Days = 7
    RELEASE_AFTER_DAYS: Days = 14
    NO_CANDIDATE_ALERT_DAYS: Days = 14
    # An accepted match without any message or meeting this long is shown to coordinators.
    NO_CONTACT_ALERT_DAYS: Days = 10

    # After the match: the thread mails the other side at most once per this many minutes.
    MESSAGE_MAIL_MINUTES: Annotated[int, Field(ge=1, le=24 * 60)] = 15

    # The toolkit ("Werkzeugkoffer"): uploaded PDFs up to this size, kept in the database.
    TOOLKIT_MAX_UPLOAD_BYTES: Annotated[int, Field(gt=0)] = 5 * 1024 * 1024
    # An initiative recorded by phone is invited to take its need over; the link lasts a month.
    TAKEOVER_MAX_AGE: Seconds = 30 * 24 * 3600
    # The accessibility statement (BITV 2.0): when it was written and last reviewed.
    ACCESSIBILITY_STATEMENT_DATE: date = date(2026, 11, 26)
    # Where people turn when our answer to a reported barrier does not help; the operator
    # checks which body is responsible for them (for public bodies in Baden-Württemberg:
    # the state's commissioner for people with disabilities).
    ACCESSIBILITY_ENFORCEMENT_BODY: str = (
        "die Beauftragte der Landesregierung für die Belange von Menschen mit Behinderungen "
        "in Baden-Württemberg"
    )

    @field_validator("LOG_LEVEL", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("BASE_URL")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not re.fullmatch(r"https?://[^/\s]+(/\S*)?", value):
            raise ValueError("a web address such as https://vernetzerboerse.example.org")
        return value.rstrip("/")

    @field_validator(
        "LOGIN_LIMIT_PER_ADDRESS",
        "LOGIN_LIMIT_PER_ACCOUNT",
        "SIGNUP_LIMIT_PER_ADDRESS",
        "MAIL_LIMIT_PER_ADDRESS",
        "MAIL_LIMIT_PER_RECIPIENT",
        "API_RATE_LIMIT",
        "API_RATE_LIMIT_ANONYMOUS",
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError:
            raise ValueError('a rate limit such as "20 per 10 minutes"') from None
        return value

    @field_validator("DIGEST_DAY_OF_WEEK")
    @classmethod
    def _day_of_week(cls, value: str) -> str:
        # APScheduler's day_of_week syntax, checked here: web processes never import it.
        if not _DAYS_OF_WEEK.fullmatch(value.strip()):
            raise ValueError("a weekday mon…sun or 0–6 (also mon-fri, sat,sun)")
        return value.strip()

    @field_validator("VOLUNTEER_POOL_CACHE")
    @classmethod
    def _pool_cache(cls, value: str) -> str:
        if value and value not in ("off", "process") and not value.startswith(_REDIS):
            raise ValueError('"off", "process" or a redis:// URL')
        return value

    @model_validator(mode="after")
    def _weights_make_sense(self) -> Settings:
        parts = (
            self.MATCHING_WEIGHT_PHASE,
            self.MATCHING_WEIGHT_PLACE,
            self.MATCHING_WEIGHT_FORMAT,
            self.MATCHING_WEIGHT_LOAD,
            self.MATCHING_WEIGHT_URGENCY,
        )
        if sum(parts) <= 0:
            raise ValueError(
                "MATCHING_WEIGHT_PHASE, _PLACE, _FORMAT, _LOAD, _URGENCY: "
                "at least one score weight must be above 0"
            )
        if self.NOT_MY_FIELD_FLOOR > self.NOT_MY_FIELD_FACTOR:
            raise ValueError("NOT_MY_FIELD_FLOOR must not be above NOT_MY_FIELD_FACTOR")
        return self

    def matching_weights(self) -> dict[str, float]:
        """The weights as the engine reads them (``engine.Weights.from_mapping``)."""
        return {
            "phase": self.MATCHING_WEIGHT_PHASE,
            "place": self.MATCHING_WEIGHT_PLACE,
            "format": self.MATCHING_WEIGHT_FORMAT,
            "load": self.MATCHING_WEIGHT_LOAD,
            "urgency": self.MATCHING_WEIGHT_URGENCY,
            "load_penalty": self.MATCHING_LOAD_PENALTY,
            "continuity": self.MATCHING_WEIGHT_CONTINUITY,
        }


_REDIS = ("redis://", "rediss://")


def _expected(error: Any) -> str:
    """What a setting expects, in words, from one pydantic error."""
    kind, ctx = error["type"], error.get("ctx") or {}
    words = {
        "int_parsing": "a whole number",
        "int_type": "a whole number",
        "int_from_float": "a whole number",
        "float_parsing": "a number",
        "float_type": "a number",
        "finite_number": "a finite number",
        "bool_parsing": "true or false",
        "date_from_datetime_parsing": "a date such as 2026-11-26",
        "date_parsing": "a date such as 2026-11-26",
        "literal_error": f"one of {ctx.get('expected', '')}",
    }
    if kind in words:
        return words[kind]
    bounds = {
        "greater_than": "above",
        "greater_than_equal": "at least",
        "less_than": "below",
        "less_than_equal": "at most",
    }
    if kind in bounds:
        limit = next(iter(ctx.values()), "")
        shown = f"{limit:g}" if isinstance(limit, int | float) else limit
        return f"a number {bounds[kind]} {shown}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return str(error["msg"])


def _describe(error: Any) -> str:
    name = ".".join(str(part) for part in error["loc"])
    if not name:  # a check across several settings names them itself
        return _expected(error)
    value = error.get("input")
    shown = f"={value}" if isinstance(value, str | int | float) else ""
    return f"{name}{shown} is not valid: expected {_expected(error)}"


def load_settings() -> Settings:
    """Read and check every setting from the environment once; ConfigError names what is wrong."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError("; ".join(_describe(e) for e in exc.errors())) from None
    except SettingsError as exc:
        raise ConfigError(str(exc)) from None


def normalise_database_url(url: str) -> str:
    """Point plain PostgreSQL URLs at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def secret_key_problem(key: str) -> str | None:
    """Why ``key`` must not sign production sessions, or None when it is fit for it."""
    how = f"make one with: {MAKE_A_SECRET_KEY}"
    if not key:
        return f"SECRET_KEY is not set; {how}"
    if _PLACEHOLDER.search(key):
        return f"SECRET_KEY is a placeholder from an example; {how}"
    size = len(key.encode())
    if size < SECRET_KEY_MIN_BYTES:
        return f"SECRET_KEY is too short ({size} bytes, at least {SECRET_KEY_MIN_BYTES}); {how}"
    if len(set(key)) < 8:
        return f"SECRET_KEY repeats a few characters and is easy to guess; {how}"
    return None


class BaseConfig:
    """Settings shared by every environment: fixed ones here, the rest from ``Settings``."""

    ENV_NAME = "base"
    #: Settings this environment fixes whatever the environment variables say.
    PINNED: ClassVar[frozenset[str]] = frozenset()

    # Typed for readers and mypy; the values come from Settings in __init__.
    SECRET_KEY: str
    BASE_URL: str
    MAIL_BACKEND: str
    RATELIMIT_STORAGE_URI: str
    VOLUNTEER_POOL_CACHE: str
    # In development without BASE_URL, links in mail follow the address a request came to.
    BASE_URL_FROM_REQUEST = False

    SQLALCHEMY_DATABASE_URI = f"sqlite:///{INSTANCE_DIR / 'vernetzer.db'}"
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {"pool_pre_ping": True}

    # Site
    SITE_NAME = "Vernetzerbörse"

    # Locales: German first
    BABEL_DEFAULT_LOCALE = "de"
    BABEL_DEFAULT_TIMEZONE = "Europe/Berlin"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "matching" / "translations")

    # Cookies and forms
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    MAX_CONTENT_LENGTH = 1024 * 1024

    # Rate limits: Redis down, every limit falls back to counting in each web process's memory
    # (a warning is logged once; Flask-Limiter checks Redis again now and then and switches
    # back). Failing closed would lock every volunteer out of the service whenever Redis blips,
    # for a store that holds nothing but counters; the fallback still stops guessing, only the
    # bound is per process: workers x hosts x the limit, each guess paying for argon2.
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    API_MAX_BODY = 64 * 1024

    # Jobs process (`flask --app wsgi jobs run`, DESIGN.md §7); times are local to this zone.
    JOBS_TIMEZONE = "Europe/Berlin"
    # Materials listed with a need, a match and the introduction mail.
    TOOLKIT_MATERIALS_LISTED = 6
    # A message in a match's thread is plain text up to this length.
    MESSAGE_MAX_LENGTH = 2000

    def __init__(self, settings: Settings | None = None) -> None:
        settings = settings if settings is not None else load_settings()
        self.settings = settings
        given = settings.model_fields_set
        for name in type(settings).model_fields:
            if name in self.PINNED or (name not in given and hasattr(type(self), name)):
                continue  # this environment's own value (a class attribute)
            setattr(self, name, getattr(settings, name))
        self.MATCHING_WEIGHTS = settings.matching_weights()
        if settings.DATABASE_URL and "SQLALCHEMY_DATABASE_URI" not in self.PINNED:
            self.SQLALCHEMY_DATABASE_URI = normalise_database_url(settings.DATABASE_URL)
        if self.RATELIMIT_STORAGE_URI.startswith(_REDIS):
            # A Redis that hangs costs each request a second at most, not a worker's timeout.
            self.RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
        if not self.VOLUNTEER_POOL_CACHE:
            redis = self.RATELIMIT_STORAGE_URI.startswith(_REDIS)
            self.VOLUNTEER_POOL_CACHE = self.RATELIMIT_STORAGE_URI if redis else "off"

    def validate(self) -> None:
        """Refuse configurations that must not run; the base accepts anything."""


class DevelopmentConfig(BaseConfig):
    ENV_NAME = "development"
    DEBUG = False
    SECRET_KEY = "dev-only-not-secret"
    # Shown in the footer, the accessibility statement and on error pages of the demo.
    CONTACT_PHONE = "0711 123456-0"
    CONTACT_ADDRESS = "Stadtteilvernetzer Stuttgart, Musterstraße 1, 70173 Stuttgart"

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings)
        if not self.BASE_URL:
            # Links follow the address the app is served on: the request's, or PORT's.
            self.BASE_URL = f"http://127.0.0.1:{self.settings.PORT}"
            self.BASE_URL_FROM_REQUEST = True


class TestingConfig(BaseConfig):
    __test__ = False  # not a pytest test class, despite the name
    ENV_NAME = "testing"
    # The suite's own values, whatever the shell running it has set.
    PINNED = frozenset(
        {
            "SECRET_KEY",
            "PRIVACY_VERSION",
            "RATELIMIT_STORAGE_URI",
            "BASE_URL",
            "ARGON2_TIME_COST",
            "ARGON2_MEMORY_COST",
            "VOLUNTEER_POOL_CACHE",
            "VOLUNTEER_POOL_REBUILD",
            "SQLALCHEMY_DATABASE_URI",
            "CONTACT_PHONE",
            "CONTACT_ADDRESS",
            "MATCHING_AFTER_COMMIT",
        }
    )
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
    VOLUNTEER_POOL_REBUILD = "inline"
    CONTACT_PHONE = ""
    CONTACT_ADDRESS = ""
    # Tests decide when proposals are made; those about the automatic run switch it on.
    MATCHING_AFTER_COMMIT = False

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings)
        if self.settings.TEST_DATABASE_URL:
            self.SQLALCHEMY_DATABASE_URI = normalise_database_url(self.settings.TEST_DATABASE_URL)


class ProductionConfig(BaseConfig):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    MAIL_BACKEND = "smtp"
    PREFERRED_URL_SCHEME = "https"
    OUTBOX_SEND_AFTER_COMMIT = False
    MATCHING_AFTER_COMMIT = False
    LOG_FORMAT = "json"

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(self.settings.DATABASE_URL)

    def validate(self) -> None:
        """Production never falls back to a default secret, database or address."""
        settings = self.settings
        problems = []
        missing = [
            n for n in ("SECRET_KEY", "DATABASE_URL", "BASE_URL") if not getattr(settings, n)
        ]
        if missing:
            problems.append(
                "Production configuration needs these environment variables: " + ", ".join(missing)
            )
        if "SECRET_KEY" in missing:
            problems.append(f"make a SECRET_KEY with: {MAKE_A_SECRET_KEY}")
        elif problem := secret_key_problem(settings.SECRET_KEY):
            problems.append(problem)
        if problems:
            raise ConfigError("; ".join(problems))


CONFIGS: dict[str, type[BaseConfig]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> BaseConfig:
    """Pick the configuration named by VERNETZER_ENV (default: development)."""
    settings = load_settings()
    return CONFIGS[settings.VERNETZER_ENV](settings)


def stop_the_start(error: ConfigError) -> None:
    """Print the one line saying what is wrong and exit (wsgi.py, gunicorn's master).

    The status 4 is gunicorn's "App failed to load": its master stops instead of starting new
    workers that would fail the same way.
    """
    print(f"Vernetzerbörse cannot start: {error}", file=sys.stderr, flush=True)
    raise SystemExit(4)
