"""The thread of a match: read it, write into it, choose how new messages are mailed."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from matching import matches
from matching.extensions import db
from matching.matches import message_mail, messages
from matching.matches.forms import MessageForm, MessageMailForm
from matching.matches.participants import ROLE_LABELS, role_in
from matching.models import Match, utcnow
from matching.views import Refused, attempt, perform, refused_status

bp = Blueprint("thread", __name__)


def participant_match(match_id: int) -> tuple[Match, str]:
    """The match and the viewer's role in it; 404 for everyone outside it."""
    match = db.session.get(Match, match_id)
    role = role_in(db.session, current_user, match) if match is not None else None
    if role is None:
        abort(404)
    return match, role


def _page(match: Match, role: str, form: MessageForm, status: int = 200, refused=None):
    """``refused``: why a message sent now was not taken, said where no form is shown."""
    return (
        render_template(
            "matches/thread.html",
            match=match,
            need=match.need,
            role=role,
            thread=messages.thread(db.session, match),
            role_labels=ROLE_LABELS,
            labels=matches.STATUS_LABELS,
            form=form,
            may_write=messages.may_write(db.session, current_user, match),
            erased=messages.ERASED,
            refused=refused,
        ),
        status,
    )


@bp.route("/vermittlungen/<id:match_id>/nachrichten", methods=["GET", "POST"])
@login_required
def show(match_id: int):
    """The thread; a POST adds a message (the mail to the other side follows in batches)."""
    match, role = participant_match(match_id)
    form = MessageForm()
    if form.validate_on_submit():
        posted = attempt(
            lambda: messages.post(db.session, current_user, match, form.body.data, now=utcnow())
        )
        if isinstance(posted, Refused):
            form.body.errors = [posted.message]
            return _page(match, role, form, 422, refused=posted.message)
        flash(message_mail.posted_notice(db.session, current_user, match, role), "success")
        return redirect(url_for("thread.show", match_id=match.id, _anchor="neu"))
    return _page(match, role, form, 422 if form.errors else 200)


@bp.route("/konto/nachrichten-mail", methods=["GET", "POST"])
@login_required
def settings():
    """Each person chooses: a mail per new message, a daily summary, or none."""
    form = MessageMailForm()
    if form.validate_on_submit():
        saved = perform(
            lambda: messages.set_mail_frequency(
                db.session, current_user, form.frequency.data, now=utcnow()
            ),
            done=_("Gespeichert."),
            then=url_for("thread.settings"),
            form=form,
        )
        if saved is not None:
            return saved
    elif not form.is_submitted():
        form.frequency.data = messages.mail_frequency(db.session, current_user)
    return render_template("matches/message_settings.html", form=form), refused_status(form)
