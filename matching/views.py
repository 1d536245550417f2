"""The one way a page changes something: load or 404, check the form, call, commit once, redirect.

A POST view reads as the domain step it performs::

    @bp.post("/vermittlungen/<id:match_id>/zusagen")
    def accept(match_id):
        match = get_or_404(Match, match_id)
        return perform(
            lambda: matches.change_status(db.session, current_user, match, "accept", now=utcnow()),
            done=_("Danke für Ihre Zusage!"),
            then=url_for("matches.detail", match_id=match.id),
        )

A refused change (``ServiceError``) rolls the whole request back and tells the person why;
nothing is half written. Success commits once, here, at the request's boundary.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import abort, flash, redirect, render_template
from flask_login import current_user
from werkzeug.wrappers import Response

from matching.errors import ServiceError
from matching.extensions import db
from matching.forms import BaseForm

Row = TypeVar("Row")
Result = TypeVar("Result")

# Ids above int4 (PostgreSQL SERIAL) never exist; looking them up would make the driver fail.
_MAX_ID = 2_147_483_647


MAX_PAGE = 10_000


def page_number(raw: str) -> int:
    """The requested page of a list ("seite"): 1 for anything but a plain number, at most
    MAX_PAGE."""
    # isdigit() also accepts "²", which int() refuses; the length cap avoids huge ints.
    if not raw.isascii() or not raw.isdigit():
        return 1
    return MAX_PAGE if len(raw) > 5 else min(max(int(raw), 1), MAX_PAGE)


def paginate(query, page: int, per_page: int):
    """One page of ``query``; an old link past the end shows the last page, not an empty
    list that would say nothing is there (a coordinator who just decided the last item of
    the last page, a bookmark)."""
    pagination = db.paginate(query, page=page, per_page=per_page, error_out=False)
    if pagination.pages and page > pagination.pages:
        pagination = db.paginate(query, page=pagination.pages, per_page=per_page)
    return pagination


def get_or_404(model: type[Row], ident: Any, *, options: Sequence[Any] = ()) -> Row:
    """The row with this primary key, or the 404 page (also for ids that cannot exist)."""
    if isinstance(ident, bool) or not isinstance(ident, int) or not 0 < ident <= _MAX_ID:
        abort(404)
    row = db.session.get(model, ident, options=list(options))
    if row is None:
        abort(404)
    return row


def require_valid_post() -> None:
    """A button without fields still carries the CSRF token; without it the answer is 400."""
    if not BaseForm().validate_on_submit():
        abort(400)


def someone_else_signed_in(user_id: int) -> Response | None:
    """The page for a mail link opened by another signed-in person, or None.

    A link in mail acts for the person it was sent to. Opened in another person's
    session (a shared computer, a forwarded mail) it changes nothing and says why,
    rather than acting for one person while the other is signed in.
    """
    if not current_user.is_authenticated or current_user.id == user_id:
        return None
    page = render_template("main/link_other_person.html", name=current_user.first_name)
    return Response(page, status=403, mimetype="text/html")


@dataclass(frozen=True)
class Refused:
    """A state change said no; ``message`` tells the person why, ``field`` where if it is one."""

    message: str
    field: str | None = None


def attempt(change: Callable[[], Result]) -> Result | Refused:
    """Run one state change for a page that shows its own outcome (links in mail).

    Commits once on success and returns what the change returned; a refusal rolls the whole
    request back and comes back as ``Refused`` for the page to show.
    """
    try:
        result = change()
    except ServiceError as exc:
        db.session.rollback()
        return Refused(exc.message, getattr(exc, "field", None))
    db.session.commit()
    return result


Said = str | Sequence[tuple[str, str]] | None
"""What a page says after a change: a success message, or (message, category) pairs, or nothing."""


def perform(
    change: Callable[[], Result],
    *,
    done: Said | Callable[[Result], Said],
    then: str | Callable[[Result], str],
    refused_then: str | None = None,
    form: BaseForm | None = None,
) -> Response | None:
    """Run one state change for a POST: commit and flash ``done``, or roll back and say why.

    Redirects to ``then`` (post/redirect/get); a refusal goes to ``refused_then`` if given. With
    ``form``, a refusal is added to the form's errors and ``None`` is returned, so the view shows
    the form again with what the person typed. When what is said or where the person goes
    depends on what the change returned, ``done`` and ``then`` may be functions of that result,
    called after the commit.
    """
    if callable(then) and refused_then is None and form is None:
        raise TypeError("perform: a 'then' that depends on the result needs 'refused_then'")
    result = attempt(change)
    if isinstance(result, Refused):
        if form is not None:
            at = form._fields.get(result.field) if result.field else None
            if at is not None:
                at.errors = [*at.errors, result.message]
            else:
                form.form_errors.append(result.message)
            return None
        flash(result.message, "error")
        return redirect(refused_then or then)  # type: ignore[arg-type]  # checked above
    _say(done(result) if callable(done) else done)
    return redirect(then(result) if callable(then) else then)


def refused_status(form: BaseForm) -> int:
    """The status of a form page: 422 when it comes back with messages, else 200."""
    return 422 if form.errors else 200


def _say(said: Said) -> None:
    if said is None or said == "":
        return
    if isinstance(said, str):
        flash(said, "success")
        return
    for message, category in said:
        flash(message, category)
