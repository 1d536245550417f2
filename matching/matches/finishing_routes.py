"""Finishing well: the volunteer's look back on a completed match."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from matching.extensions import db
from matching.matches import finishing
from matching.matches.forms import LookBackForm
from matching.matches.thread_routes import participant_match
from matching.models import utcnow
from matching.reference import PHASES
from matching.views import perform

bp = Blueprint("finishing", __name__)


@bp.route("/vermittlungen/<id:match_id>/rueckblick", methods=["GET", "POST"])
@login_required
def look_back(match_id: int):
    """What helped, and whether a next phase is due: asked of the volunteer after the advice."""
    match, role = participant_match(match_id)
    if role != "volunteer":
        abort(404)
    if match.volunteer_feedback_at is not None and request.method == "GET":
        # Given already: the form again would ask twice and only be refused on sending.
        flash(_("Zu dieser Vermittlung gibt es schon eine Rückmeldung. Danke!"), "info")
        return redirect(url_for("matches.detail", match_id=match.id))
    form = LookBackForm()
    if form.validate_on_submit():
        return perform(
            lambda: finishing.look_back(
                db.session,
                current_user,
                match,
                form.helped.data or "",
                form.next_phase.data or "",
                now=utcnow(),
            ),
            done=_("Danke für Ihren Rückblick!"),
            then=url_for("matches.detail", match_id=match.id),
        )
    return render_template(
        "matches/look_back.html", match=match, need=match.need, form=form, phases=PHASES
    ), (422 if form.errors else 200)


@bp.route("/engagementnachweis")
@login_required
def record():
    """A printable confirmation of the volunteer's advice: initiatives, phases, dates, meetings."""
    if current_user.volunteer_profile is None:
        abort(404)
    now = utcnow()
    return render_template(
        "matches/record.html",
        person=current_user,
        engagements=finishing.engagements(db.session, current_user, now),
        today=now,
    )
