"""Rate limits for the API: per token, or per address for anonymous callers.

Flask-Limiter counts; this module says whose requests count together and announces
the limit in the IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers), next to
Flask-Limiter's own X-RateLimit-* headers and Retry-After.
"""

from __future__ import annotations

import time

from flask import Response, current_app
from flask_limiter import RequestLimit
from flask_limiter.util import get_remote_address

from matching.api.auth import caller

POLICY = "api"


def rate_limit_key() -> str:
    """Per token when one authenticates, else per address (bad tokens count there too)."""
    token = caller().token
    return f"api-token:{token.id}" if token else f"api-address:{get_remote_address()}"


def rate_limit() -> str:
    """The limit for this caller, from API_RATE_LIMIT or API_RATE_LIMIT_ANONYMOUS."""
    name = "API_RATE_LIMIT" if caller().token else "API_RATE_LIMIT_ANONYMOUS"
    return current_app.config[name]


def add_headers(response: Response, limit: RequestLimit | None) -> None:
    """RateLimit-Policy (quota and window) and RateLimit (remaining, seconds to reset)."""
    if limit is None:
        return
    quota, window = limit.limit.amount, limit.limit.get_expiry()
    remaining = max(0, limit.remaining)
    reset = max(0, int(limit.reset_at - time.time()))
    response.headers["RateLimit-Policy"] = f'"{POLICY}";q={quota};w={window}'
    response.headers["RateLimit"] = f'"{POLICY}";r={remaining};t={reset}'
