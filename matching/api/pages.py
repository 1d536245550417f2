"""The account page where people create and revoke their API tokens (HTML, with CSRF)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from matching.api import api_tokens
from matching.api.forms import TokenForm
from matching.errors import ServiceError
from matching.extensions import db
from matching.forms import BaseForm
from matching.models import ApiToken, utcnow

bp = Blueprint("api_pages", __name__)


def _page(form: TokenForm, new_secret: str | None = None):
    response = render_template(
        "api/tokens.html",
        form=form,
        tokens=api_tokens.tokens_of(db.session, current_user),
        revoke_form=BaseForm(),
        new_secret=new_secret,
        now=utcnow(),
    )
    # The secret is in this page only; no cache may keep it.
    return response, 200, {"Cache-Control": "no-store"}


@bp.route("/konto/api-zugang", methods=["GET", "POST"])
@login_required
def tokens():
    """The user's API tokens; a new one is shown once, right here, and never again."""
    form = TokenForm()
    if form.validate_on_submit():
        now = utcnow()
        try:
            _token, secret = api_tokens.create_token(
                db.session,
                current_user,
                form.name.data,
                form.expires_at(now),
                now=now,
                read_only=form.read_only.data,
            )
        except ServiceError as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
            return _page(form)
        db.session.commit()
        return _page(TokenForm(formdata=None), new_secret=secret)
    return _page(form)


@bp.route("/konto/api-zugang/<id:token_id>/widerrufen", methods=["POST"])
@login_required
def revoke(token_id: int):
    """Revoke a token at once."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    if not BaseForm().validate_on_submit():
        abort(400)
    try:
        api_tokens.revoke_token(db.session, current_user, token, now=utcnow())
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("Der Schlüssel „%(name)s“ ist widerrufen.", name=token.name), "success")
    return redirect(url_for("api_pages.tokens"))
