"""Mail: build messages, queue them in the outbox with the change, drain the outbox.

    mail.queue_for_user(session, user, "confirm", _l("Subject"), key=None, **context)

writes the rendered mail as an outbox row in the session's transaction. After
commit, a request hands its new rows to the sender at once when
OUTBOX_SEND_AFTER_COMMIT is on (development, small setups); otherwise the jobs
process drains the outbox every minute.
"""

from __future__ import annotations

from flask import Flask, g
from sqlalchemy import event
from sqlalchemy.orm import Session

from matching.mail import backends, outbox
from matching.mail.backends import send
from matching.mail.message import Mail, absolute_url, build, to_email_message
from matching.mail.outbox import DrainResult, drain

__all__ = [
    "DrainResult",
    "Mail",
    "absolute_url",
    "build",
    "drain",
    "drop_unsent",
    "init_app",
    "queue",
    "queue_for_user",
    "send",
    "send_after_response",
    "to_email_message",
]


def queue(session: Session, mail: Mail, *, key: str | None = None, user_id: int | None = None):
    """Put a built mail into the outbox (in the session's transaction); None if ``key`` was used."""
    return outbox.enqueue(session, mail, key=key, user_id=user_id)


def drop_unsent(session: Session, key_prefix: str) -> int:
    """Drop queued, not yet sent mails whose key starts with ``key_prefix``; how many."""
    return outbox.drop_unsent(session, key_prefix)


def queue_for_user(
    session: Session, user, kind: str, subject, *, key: str | None = None, **context
):
    """Build mail ``kind`` for a user in their language and put it into the outbox."""
    mail = build(user.email, kind, user.locale, subject, user=user, **context)
    return outbox.enqueue(session, mail, key=key, user_id=user.id)


def init_app(app: Flask) -> None:
    """Choose the backend; optionally send a request's committed mail when it ends."""
    backends.init_app(app)
    app.jinja_env.globals["external_url"] = absolute_url  # links in mail: absolute, from BASE_URL

    @app.after_request
    def send_committed_mail(response):
        if app.config.get("OUTBOX_SEND_AFTER_COMMIT"):
            from matching.extensions import db

            if g.get("send_mail_after_response"):
                ids = outbox.committed_ids(db.session)
                if ids:
                    response.call_on_close(lambda: _deliver_after_response(app, ids))
            else:
                outbox.deliver_committed(db.session)
        return response


def send_after_response() -> None:
    """This request's mail goes out once the answer is sent, not before.

    For pages whose answer must not take longer when a mail is sent ("Passwort
    vergessen": the time would tell whether an address is registered).
    """
    g.send_mail_after_response = True


def _deliver_after_response(app: Flask, ids: list[int]) -> None:
    from matching.extensions import db

    with app.app_context():
        try:
            outbox.drain(db.session, ids=ids)
        except Exception:  # the rows stay in the outbox for the sender job
            db.session.rollback()
            app.logger.exception("sending after the answer failed; the outbox keeps it")
        finally:
            db.session.remove()


@event.listens_for(Session, "after_commit")
def _rows_committed(session: Session) -> None:
    outbox.mark_committed(session)


@event.listens_for(Session, "after_soft_rollback")
def _rows_rolled_back(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        outbox.forget_uncommitted(session)
