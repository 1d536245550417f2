"""Throttles for the account pages, one per kind of risk.

- ``password_checked``: every page that checks a password (log-in, e-mail change, new
  password, erasure) shares one budget of failed attempts per address and one per account,
  so guessing on another page than the log-in gains nothing.
- ``signup_limited``: sign-ups that send a mail, per address (a whole evening of sign-ups on
  one Wi-Fi fits) and per e-mail address typed in (nobody's mailbox is flooded).
- ``mail_limited``: other pages that send a mail (new confirmation link, forgotten password,
  e-mail change), per address (every attempt) and per e-mail address typed in.

Only requests that ask for a mail (``mail_requested()``) count per e-mail address.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, g, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

from matching import limits
from matching.extensions import limiter


def _setting(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]


def password_refused() -> None:
    """Note that this request checked a password and found it wrong (or no such account)."""
    g.password_refused = True


def _failed(response) -> bool:
    """Only a password checked and refused counts: a form without its CSRF token, a field
    left empty or two new passwords that differ check none, and must not lock anyone out."""
    return bool(g.get("password_refused"))


def mail_requested() -> None:
    """Note that this request asks for a mail (known address or not: the count reveals nothing)."""
    g.mail_requested = True


def _mail_requested(response) -> bool:
    """Only requests that ask for a mail count against the mail limits, not typing mistakes."""
    return bool(g.get("mail_requested")) and response.status_code < 400


def _typed_email() -> str:
    return request.form.get("email", "").strip().lower()[: limits.EMAIL_MAX]


def _account_key() -> str:
    """The account whose password is checked: the logged-in one, else the address typed in."""
    email = current_user.email if current_user.is_authenticated else _typed_email()
    return "password-account:" + email


def _recipient_key() -> str:
    return "mail-recipient:" + _typed_email()


def _address_key() -> str:
    return "address:" + get_remote_address()


def password_checked(view):
    """Throttle a view that checks a password, like the log-in."""
    view = limiter.shared_limit(
        _setting("LOGIN_LIMIT_PER_ACCOUNT"),
        scope="password-account",
        key_func=_account_key,
        methods=["POST"],
        deduct_when=_failed,
    )(view)
    return limiter.shared_limit(
        _setting("LOGIN_LIMIT_PER_ADDRESS"),
        scope="password-address",
        key_func=_address_key,
        methods=["POST"],
        deduct_when=_failed,
    )(view)


def signup_limited(view):
    """Throttle sign-ups that send a mail, per address and per e-mail address typed in."""
    view = limiter.limit(
        _setting("MAIL_LIMIT_PER_RECIPIENT"),
        key_func=_recipient_key,
        methods=["POST"],
        deduct_when=_mail_requested,
    )(view)
    return limiter.limit(
        _setting("SIGNUP_LIMIT_PER_ADDRESS"),
        key_func=_address_key,
        methods=["POST"],
        deduct_when=_mail_requested,
    )(view)


def mail_limited(view):
    """Throttle a page that sends a mail, per address and per e-mail address typed in."""
    view = limiter.shared_limit(
        _setting("MAIL_LIMIT_PER_RECIPIENT"),
        scope="mail-recipient",
        key_func=_recipient_key,
        methods=["POST"],
        deduct_when=_mail_requested,
    )(view)
    return limiter.limit(
        _setting("MAIL_LIMIT_PER_ADDRESS"),
        key_func=_address_key,
        methods=["POST"],
    )(view)
