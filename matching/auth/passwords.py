"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import gzip
import re
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from flask_babel.speaklater import LazyString

from matching import limits

# Frequent German words that people build passwords from; the shipped list is mostly English.
_GERMAN_BASES = frozenset(
    [
        "passwort",
        "kennwort",
        "hallo",
        "hallihallo",
        "schatz",
        "schatzi",
        "geheim",
        "sommer",
        "winter",
        "fruehling",
        "herbst",
        "sonne",
        "fussball",
        "bayern",
        "stuttgart",
        "vfbstuttgart",
        "schalke",
        "dortmund",
        "deutschland",
        "liebe",
        "ichliebedich",
        "mausi",
        "hase",
        "hasi",
        "blume",
        "katze",
        "hund",
        "willkommen",
        "anmelden",
        "zugang",
        "qwertz",
        "asdfgh",
        "yxcvbn",
    ]
)


@cache
def common_passwords() -> frozenset[str]:
    """The list of common passwords shipped in matching/data."""
    data = resources.files("matching").joinpath("data/common-passwords.txt.gz").read_bytes()
    words = gzip.decompress(data).decode("utf-8", errors="ignore").split()
    return frozenset(w.strip().lower() for w in words) | _GERMAN_BASES


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg.get("ARGON2_TIME_COST", 2),
        memory_cost=cfg.get("ARGON2_MEMORY_COST", 19456),
    )


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches the stored hash."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


_TRAILING = re.compile(r"[\d\W_]+$")
# Runs of keys or characters that make a password easy to guess.
_RUNS = ("01234567890123456789", "abcdefghijklmnopqrstuvwxyz", "qwertzuiopasdfghjkl")


def password_minimum() -> int:
    """The shortest password accepted here: the setting ``PASSWORD_MIN_LENGTH``."""
    return int(current_app.config["PASSWORD_MIN_LENGTH"])


# The hint under every field where a new password is chosen; it says the configured minimum.
password_hint = LazyString(
    lambda: _(
        "Mindestens %(n)d Zeichen. Ein kurzer Satz lässt sich gut merken.", n=password_minimum()
    )
)


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """A message saying why the password is not acceptable, or None when it is."""
    minimum = password_minimum()
    if len(password) < minimum:
        return _("Das Passwort muss mindestens %(n)d Zeichen lang sein.", n=minimum)
    if len(password) > limits.PASSWORD_MAX:
        return _("Das Passwort darf höchstens %(n)d Zeichen lang sein.", n=limits.PASSWORD_MAX)
    lowered = password.lower()
    base = _TRAILING.sub("", lowered)
    common = common_passwords()
    if lowered in common or base in common or len(set(lowered)) <= 3:
        return _("Dieses Passwort ist zu verbreitet. Bitte wählen Sie ein anderes.")
    if lowered.isdigit() or any(lowered in run for run in _RUNS):
        return _("Dieses Passwort ist zu leicht zu erraten. Bitte wählen Sie ein anderes.")
    local_part = email.lower().partition("@")[0]
    name = name.strip().lower()
    # A name inside a sentence is fine; the name with a few digits or repeated is not.
    if (len(local_part) >= 4 and local_part in lowered) or (
        len(name) >= 4
        and name in lowered
        and sum(c.isalpha() for c in lowered.replace(name, "")) < 6
    ):
        return _("Das Passwort darf nicht Ihren Namen oder Ihre E-Mail-Adresse enthalten.")
    return None
