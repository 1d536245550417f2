"""Meine Daten: download everything (Art. 20), erase the account (Art. 17); new privacy text."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from matching import audit, privacy
from matching.auth.passwords import verify_password
from matching.auth.throttle import password_checked, password_refused
from matching.extensions import db
from matching.models import ConsentRecord, utcnow
from matching.privacy import readable
from matching.privacy.forms import ConsentForm, EraseForm
from matching.urls import safe_next
from matching.views import refused_status

bp = Blueprint("privacy", __name__)

# Pages a person may open before agreeing to a new privacy text.
OPEN_BEFORE_CONSENT = {
    "static",
    "privacy.consent",
    "main.privacy",
    "main.imprint",
    "main.set_language",
    "main.healthz",
    "auth.logout",
    # Whoever does not agree to a new text can still take their data and leave (GDPR Art. 15,
    # 17, 20): the data pages and the deletion are open before the consent.
    "privacy.my_data",
    "privacy.my_data_page",
    "privacy.download",
    "privacy.erase",
}


@bp.before_app_request
def ask_for_new_consent():
    """A new version of the privacy text is asked for once, at the next page after log-in."""
    if request.path.startswith("/api/") or not current_user.is_authenticated:
        return None
    if current_user.privacy_version == current_app.config["PRIVACY_VERSION"]:
        return None
    if request.endpoint in OPEN_BEFORE_CONSENT:
        return None
    return redirect(url_for("privacy.consent", next=request.full_path.rstrip("?")))


@bp.route("/datenschutz/zustimmen", methods=["GET", "POST"])
@login_required
def consent():
    """Agree to the current privacy text."""
    version = current_app.config["PRIVACY_VERSION"]
    form = ConsentForm()
    if form.validate_on_submit():
        now = utcnow()
        if current_user.privacy_version != version:
            db.session.add(ConsentRecord(user_id=current_user.id, version=version, given_at=now))
            current_user.privacy_version = version
            audit.record(
                db.session, current_user, "account.consent", "user", current_user.id, now=now
            )
            db.session.commit()
        return redirect(safe_next(request.args.get("next")) or url_for("main.home"))
    return render_template("privacy/consent.html", form=form, version=version), refused_status(form)


@bp.route("/konto/meine-daten")
@login_required
def my_data():
    """What we store, the download, and erasing the account."""
    return render_template("privacy/my_data.html", form=EraseForm())


@bp.route("/konto/meine-daten/ansehen")
@login_required
def my_data_page():
    """Everything stored about the current user as a page to read and print."""
    data = privacy.export(db.session, current_user)
    return render_template(
        "privacy/my_data_page.html", sections=readable.sections(data), now=utcnow()
    )


@bp.route("/konto/meine-daten.json")
@login_required
def download():
    """Everything stored about the current user as a JSON file."""
    data = privacy.export(db.session, current_user)
    body = json.dumps(data, ensure_ascii=False, indent=2)
    filename = f"vernetzerboerse-meine-daten-{utcnow().date().isoformat()}.json"
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/konto/loeschen", methods=["POST"])
@login_required
@password_checked
def erase():
    """Erase the account after the password is confirmed."""
    form = EraseForm()
    if not form.validate_on_submit():
        return render_template("privacy/my_data.html", form=form), 400
    if not verify_password(current_user.password_hash, form.password.data):
        password_refused()
        form.password.errors.append(_("Das Passwort stimmt nicht."))
        return render_template("privacy/my_data.html", form=form), 400
    privacy.erase(db.session, current_user._get_current_object(), now=utcnow(), actor=None)
    db.session.commit()
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("Ihr Konto und Ihre Daten sind gelöscht. Alles Gute!"), "success")
    return redirect(url_for("main.index"))
