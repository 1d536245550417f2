"""The account page where people create and revoke their API tokens (HTML, with CSRF)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from matching.api import api_tokens
from matching.api.forms import TokenForm
from matching.extensions import db
from matching.forms import BaseForm
from matching.models import ApiToken, utcnow
from matching.views import Refused, attempt, perform, refused_status, require_valid_post

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
    return response, refused_status(form), {"Cache-Control": "no-store"}


@bp.route("/konto/api-zugang", methods=["GET", "POST"])
@login_required
def tokens():
    """The user's API tokens; a new one is shown once, right here, and never again."""
    form = TokenForm()
    if form.validate_on_submit():
        now = utcnow()
        created = attempt(
            lambda: api_tokens.create_token(
                db.session,
                current_user,
                form.name.data,
                form.expires_at(now),
                now=now,
                read_only=form.read_only.data,
            )
        )
        if isinstance(created, Refused):
            form.form_errors.append(created.message)
            return _page(form)
        _token, secret = created
        return _page(TokenForm(formdata=None), new_secret=secret)
    return _page(form)


@bp.route("/konto/api-zugang/<id:token_id>/widerrufen", methods=["POST"])
@login_required
def revoke(token_id: int):
    """Revoke a token at once."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    require_valid_post()
    name = token.name
    return perform(
        lambda: api_tokens.revoke_token(db.session, current_user, token, now=utcnow()),
        done=_("Der Schlüssel „%(name)s“ ist widerrufen.", name=name),
        then=url_for("api_pages.tokens"),
    )
