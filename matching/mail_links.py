"""Links in mail that act for a person without a log-in: signed, single-purpose, expiring.

Each purpose signs its own payload (the purpose is part of the signature), so a
link made for "Ich kann helfen" is useless as an unsubscribe link and vice versa.
The pages behind these links show a button first; only the POST changes anything.
"""

from __future__ import annotations

from flask import current_app

from matching import mail
from matching.models import DigestKind
from matching.tokens import TokenError, make_token, read_token

UNSUBSCRIBE = "unsubscribe"
OFFER = "offer"
ACCEPT = "accept"
PASS = "pass"


def unsubscribe_url(user_id: int, kind: str) -> str:
    """One click (or a mail program's POST) switches off one digest kind."""
    token = make_token(UNSUBSCRIBE, {"uid": user_id, "kind": str(kind)})
    return mail.absolute_url("digests.unsubscribe", token=token)


def offer_url(user_id: int, need_id: int) -> str:
    """ "Ich kann helfen" for one need, from a digest."""
    return mail.absolute_url(
        "digests.offer", token=make_token(OFFER, {"uid": user_id, "need": need_id})
    )


def pass_url(user_id: int, need_id: int) -> str:
    """ "Diesmal nicht" for one need, from a digest."""
    return mail.absolute_url(
        "digests.pass_need", token=make_token(PASS, {"uid": user_id, "need": need_id})
    )


def accept_url(user_id: int, match_id: int) -> str:
    """ "Zusagen" for an approved match, from the mail that asks for it."""
    token = make_token(ACCEPT, {"uid": user_id, "match": match_id})
    return mail.absolute_url("digests.accept", token=token)


def read_unsubscribe(token: str) -> tuple[int, str]:
    """(user id, digest kind) of an unsubscribe link, or TokenError."""
    payload = read_token(UNSUBSCRIBE, token, current_app.config["UNSUBSCRIBE_MAX_AGE"])
    kind = payload.get("kind")
    if kind not in {k.value for k in DigestKind}:
        raise TokenError()
    return _id(payload, "uid"), kind


def read_offer(token: str) -> tuple[int, int]:
    """(user id, need id) of an "Ich kann helfen" link, or TokenError."""
    payload = read_token(OFFER, token, current_app.config["MAIL_LINK_MAX_AGE"])
    return _id(payload, "uid"), _id(payload, "need")


def read_pass(token: str) -> tuple[int, int]:
    """(user id, need id) of a "Diesmal nicht" link, or TokenError."""
    payload = read_token(PASS, token, current_app.config["MAIL_LINK_MAX_AGE"])
    return _id(payload, "uid"), _id(payload, "need")


def read_accept(token: str) -> tuple[int, int]:
    """(user id, match id) of a "Zusagen" link, or TokenError."""
    payload = read_token(ACCEPT, token, current_app.config["MAIL_LINK_MAX_AGE"])
    return _id(payload, "uid"), _id(payload, "match")


def _id(payload: dict, name: str) -> int:
    value = payload.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise TokenError()
    return value
