"""Account pages. Thin: validate, call accounts.py, commit once, redirect."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from matching import audit, limits, mail
from matching.auth import accounts, sessions
from matching.auth.forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    ConfirmForm,
    EmailOnlyForm,
    LoginForm,
    NewPasswordForm,
    SignupForm,
)
from matching.auth.passwords import hash_password, verify_password
from matching.auth.throttle import (
    mail_limited,
    mail_requested,
    password_checked,
    password_refused,
    signup_limited,
)
from matching.extensions import db
from matching.i18n import current_locale
from matching.main.errors import CSRF_MESSAGE
from matching.models import User, utcnow
from matching.tokens import TokenError, make_token, read_token
from matching.urls import safe_next
from matching.views import perform, refused_status, someone_else_signed_in

bp = Blueprint("auth", __name__)


# ---------------------------------------------------------------- sign-up


@bp.route("/registrieren", methods=["GET", "POST"])
@signup_limited
def signup():
    """Sign up as volunteer or initiative; a mail with a confirmation link follows."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = SignupForm()
    if request.method == "GET" and request.args.get("rolle") in ("volunteer", "initiative"):
        form.role.data = request.args["rolle"]
    if form.validate_on_submit():
        mail_requested()
        now = utcnow()
        try:
            user = accounts.register(
                db.session,
                email=form.email.data,
                password=form.password.data,
                first_name=form.first_name.data,
                last_name=form.last_name.data or "",
                role=form.role.data,
                locale=current_locale(),
                privacy_version=current_app.config["PRIVACY_VERSION"],
                now=now,
            )
        except accounts.EmailTaken:
            # Tell the owner of the address, not the person at the keyboard.
            hash_password(form.password.data)  # same time as a real sign-up: reveals nothing
            existing = accounts.find_by_email(db.session, form.email.data)
            mail.queue_for_user(
                db.session,
                existing,
                "already_registered",
                _l("Sie haben bereits ein Konto bei der Vernetzerbörse"),
                key=f"already_registered:{existing.id}:{now.date().isoformat()}",  # once a day
                login_url=mail.absolute_url("auth.login"),
                reset_url=mail.absolute_url("auth.reset_request"),
            )
        else:
            _queue_confirmation(user)
        db.session.commit()
        return redirect(url_for("auth.check_mail"))
    return render_template("auth/signup.html", form=form), refused_status(form)


def _queue_confirmation(user: User) -> None:
    token = make_token("confirm", {"uid": user.id, "email": user.email})
    mail.queue_for_user(
        db.session,
        user,
        "confirm",
        _l("Bitte bestätigen Sie Ihre E-Mail-Adresse"),
        confirm_url=mail.absolute_url("auth.confirm", token=token),
        valid_days=current_app.config["CONFIRM_MAX_AGE"] // 86400,
        kept_days=current_app.config["RETENTION_UNCONFIRMED_DAYS"],
    )


@bp.route("/registrieren/post")
def check_mail():
    """Tells the person to look into their mailbox (the same page whatever happened)."""
    return render_template("auth/check_mail.html")


def _confirm_user(token: str) -> tuple[User | None, bool]:
    """The user a confirmation token names, and whether the link has expired."""
    try:
        payload = read_token("confirm", token, current_app.config["CONFIRM_MAX_AGE"])
    except TokenError as exc:
        return None, exc.expired
    user = db.session.get(User, payload.get("uid")) if isinstance(payload.get("uid"), int) else None
    if user is None or user.email != payload.get("email"):
        return None, False
    return user, False


@bp.route("/bestaetigen/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """GET shows a button; only the POST confirms (mail scanners prefetch links)."""
    user, expired = _confirm_user(token)
    if user is None:
        return render_template("auth/link_invalid.html", expired=expired, kind="confirm"), 400
    if user.is_confirmed:
        flash(_("Ihre E-Mail-Adresse ist schon bestätigt. Sie können sich anmelden."), "info")
        return redirect(url_for("auth.login"))
    form = ConfirmForm()
    if form.validate_on_submit():
        return perform(
            lambda: accounts.confirm(db.session, user, utcnow()),
            done=_("Danke! Ihre E-Mail-Adresse ist bestätigt. Bitte melden Sie sich an."),
            then=url_for("auth.login", email=user.email),
        )
    return render_template("auth/confirm.html", form=form, user=user), refused_status(form)


@bp.route("/bestaetigen/neu", methods=["GET", "POST"])
@mail_limited
def resend_confirmation():
    """Send a new confirmation link; the answer is the same whether the address exists."""
    form = EmailOnlyForm()
    if form.validate_on_submit():
        mail_requested()
        user = accounts.find_by_email(db.session, form.email.data)
        if user is not None and not user.is_confirmed:
            _queue_confirmation(user)
            db.session.commit()
        return redirect(url_for("auth.check_mail"))
    return render_template("auth/resend.html", form=form), refused_status(form)


# ---------------------------------------------------------------- log-in


@bp.route("/anmelden", methods=["GET", "POST"])
@password_checked
def login():
    """Log in with e-mail and password; unconfirmed accounts are sent to confirm first."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if request.method == "GET" and request.args.get("email"):
        form.email.data = request.args["email"][: limits.EMAIL_MAX]
    unconfirmed = False
    if form.validate_on_submit():
        now = utcnow()
        user = accounts.authenticate(db.session, form.email.data, form.password.data, now)
        if user is None or not user.is_active:
            password_refused()
            form.form_errors.append(
                _("E-Mail-Adresse oder Passwort stimmen nicht. Bitte versuchen Sie es noch einmal.")
            )
        elif not user.is_confirmed:
            unconfirmed = True
        else:
            next_url = safe_next(request.args.get("next"))
            _fresh_session()  # nothing from before the log-in carries over
            login_user(user)
            session[sessions.COOKIE_KEY] = sessions.start(db.session, user, now)
            accounts.record_login(db.session, user, now)
            db.session.commit()
            return redirect(next_url or url_for("main.home"))
    status = 403 if unconfirmed else refused_status(form)
    return render_template("auth/login.html", form=form, unconfirmed=unconfirmed), status


def _fresh_session() -> None:
    """Empty the session; only the language choice stays, as it is no secret."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


@bp.route("/abmelden", methods=["POST"])
@login_required
def logout():
    """Log out (a POST with CSRF token, so no link can log someone out)."""
    sessions.end(db.session, session.get(sessions.COOKIE_KEY))
    db.session.commit()
    logout_user()
    _fresh_session()
    flash(_("Sie sind abgemeldet. Bis bald!"), "success")
    return redirect(url_for("main.index"))


@bp.route("/konto/ueberall-abmelden", methods=["POST"])
@login_required
def logout_everywhere():
    """End every session of this account, on every device, this one included."""
    if not ConfirmForm().validate_on_submit():
        flash(CSRF_MESSAGE, "error")
        return redirect(url_for("auth.account"))
    accounts.end_all_sessions(db.session, current_user._get_current_object(), utcnow())
    db.session.commit()
    logout_user()
    _fresh_session()
    flash(_("Sie sind jetzt auf allen Geräten abgemeldet."), "success")
    return redirect(url_for("auth.login"))


# ---------------------------------------------------------------- password reset


@bp.route("/passwort-vergessen", methods=["GET", "POST"])
@mail_limited
def reset_request():
    """Ask for a reset link; the answer never says whether the address is registered."""
    form = EmailOnlyForm()
    if form.validate_on_submit():
        mail_requested()
        user = accounts.find_by_email(db.session, form.email.data)
        known = user is not None and user.is_active
        # An unknown address gets the same work (a token and a rendered mail, which is then
        # not sent), so the time of the answer does not tell whether an address is registered.
        target = user if known else accounts.stand_in(form.email.data, current_locale())
        token = make_token("reset", {"uid": target.id, "h": target.password_hash[-16:]})
        reset_mail = mail.build(
            target.email,
            "reset",
            target.locale,
            _l("Neues Passwort für die Vernetzerbörse wählen"),
            user=target,
            reset_url=mail.absolute_url("auth.reset", token=token),
            valid_hours=current_app.config["RESET_MAX_AGE"] // 3600,
        )
        if known:
            mail.queue(db.session, reset_mail, user_id=user.id)
            mail.send_after_response()
        # Both paths write and commit: every request is in the audit log (a flood of them
        # shows there), the unknown address itself is not kept.
        audit.record(db.session, None, "account.reset_request", "user", user.id if known else None)
        db.session.commit()
        return render_template("auth/reset_sent.html")
    return render_template("auth/reset_request.html", form=form), refused_status(form)


def _reset_user(token: str) -> tuple[User | None, bool]:
    try:
        payload = read_token("reset", token, current_app.config["RESET_MAX_AGE"])
    except TokenError as exc:
        return None, exc.expired
    user = db.session.get(User, payload.get("uid")) if isinstance(payload.get("uid"), int) else None
    # The token carries part of the old hash, so it works only once.
    if user is None or user.password_hash[-16:] != payload.get("h"):
        return None, False
    return user, False


@bp.route("/passwort-neu/<token>", methods=["GET", "POST"])
def reset(token: str):
    """Choose a new password from a reset link."""
    user, expired = _reset_user(token)
    if user is None:
        return render_template("auth/link_invalid.html", expired=expired, kind="reset"), 400
    if (other := someone_else_signed_in(user.id)) is not None:
        return other
    form = NewPasswordForm()
    form.account = user  # the policy refuses a password made of the name or address
    if form.validate_on_submit():

        def set_password() -> None:
            now = utcnow()
            accounts.set_password(db.session, user, form.password.data, now)
            if not user.is_confirmed:
                accounts.confirm(db.session, user, now)  # the link proved the address

        return perform(
            set_password,
            done=_("Ihr Passwort ist geändert. Bitte melden Sie sich mit dem neuen Passwort an."),
            then=url_for("auth.login", email=user.email),
        )
    return render_template("auth/reset.html", form=form), refused_status(form)


@bp.route("/konto/passwort", methods=["GET", "POST"])
@login_required
@password_checked
def change_password():
    """Change the password while logged in: the current one, then the new one twice."""
    form = ChangePasswordForm()
    form.account = current_user
    if form.validate_on_submit():
        if not verify_password(current_user.password_hash, form.current_password.data):
            password_refused()
            form.current_password.errors.append(_("Das Passwort stimmt nicht."))
        else:
            user = current_user._get_current_object()
            accounts.set_password(
                db.session,
                user,
                form.password.data,
                utcnow(),
                keep=session.get(sessions.COOKIE_KEY),
            )
            db.session.commit()
            login_user(user)  # this session goes on under the new password
            flash(
                _(
                    "Ihr Passwort ist geändert. Auf anderen Geräten sind Sie jetzt abgemeldet; "
                    "Ihre API-Zugangsschlüssel sind widerrufen."
                ),
                "success",
            )
            return redirect(url_for("auth.account"))
    return render_template("auth/change_password.html", form=form), refused_status(form)


# ---------------------------------------------------------------- account


@bp.route("/konto")
@login_required
def account():
    """The account page: address, language, links to change things."""
    return render_template("auth/account.html", form=ConfirmForm())


@bp.route("/konto/email", methods=["GET", "POST"])
@login_required
@password_checked
@mail_limited
def change_email():
    """Ask to change the address; the new one must be confirmed by a link sent to it."""
    form = ChangeEmailForm()
    if form.validate_on_submit():
        if not verify_password(current_user.password_hash, form.current_password.data):
            password_refused()
            form.current_password.errors.append(_("Das Passwort stimmt nicht."))
        elif accounts.normalise_email(form.email.data) == current_user.email:
            # Nothing to confirm, so nothing is sent: said at the field, not as a sent link.
            form.email.errors.append(_("Das ist schon Ihre E-Mail-Adresse."))
        else:
            new_email = accounts.normalise_email(form.email.data)
            mail_requested()
            owner = accounts.find_by_email(db.session, new_email)
            if owner is not None and owner.id != current_user.id:
                # Someone else's address: its owner gets a neutral word instead of a link
                # (no name, nothing to confirm); the page answers the same, so it tells
                # nobody whether the address has an account.
                mail.queue_for_user(
                    db.session,
                    owner,
                    "email_in_use",
                    _l("Ihre E-Mail-Adresse bei der Vernetzerbörse"),
                    key=f"email_in_use:{owner.id}:{utcnow().date().isoformat()}",  # once a day
                    login_url=mail.absolute_url("auth.login"),
                )
                db.session.commit()
            else:
                request_key = accounts.request_email_change(db.session, current_user)
                token = make_token(
                    "email",
                    {
                        "uid": current_user.id,
                        "email": new_email,
                        "from": current_user.email,
                        "key": request_key,
                    },
                )
                confirm_mail = mail.build(
                    new_email,
                    "change_email",
                    current_user.locale,
                    _l("Bitte bestätigen Sie Ihre neue E-Mail-Adresse"),
                    user=current_user,
                    confirm_url=mail.absolute_url("auth.confirm_email", token=token),
                    valid_days=current_app.config["CONFIRM_MAX_AGE"] // 86400,
                )
                mail.queue(db.session, confirm_mail, user_id=current_user.id)
                db.session.commit()
            flash(
                _("Wir haben einen Bestätigungslink an %(email)s geschickt.", email=new_email),
                "info",
            )
            return redirect(url_for("auth.account"))
    return render_template("auth/change_email.html", form=form), refused_status(form)


@bp.route("/konto/email/<token>", methods=["GET", "POST"])
def confirm_email(token: str):
    """Confirm the new address (GET shows a button, POST changes it)."""
    try:
        payload = read_token("email", token, current_app.config["CONFIRM_MAX_AGE"])
    except TokenError as exc:
        return render_template("auth/link_invalid.html", expired=exc.expired, kind="email"), 400
    uid, new_email = payload.get("uid"), payload.get("email")
    user = db.session.get(User, uid) if isinstance(uid, int) and 0 < uid < 2**31 else None
    if user is None or not isinstance(new_email, str):
        return render_template("auth/link_invalid.html", expired=False, kind="email"), 400
    if (other := someone_else_signed_in(user.id)) is not None:
        return other
    if user.email == new_email:
        flash(_("Diese E-Mail-Adresse ist bereits bestätigt."), "info")
        return redirect(url_for("main.index"))
    # Only the link of the newest request works, and only while the address it was asked
    # from is still the account's: an older link, or one from before a change, is dead.
    if not accounts.is_current_email_request(user, payload.get("key"), payload.get("from")):
        return render_template("auth/link_invalid.html", expired=False, kind="email"), 400
    form = ConfirmForm()
    if form.validate_on_submit():
        old_email = user.email
        try:
            accounts.change_email(db.session, user, new_email, utcnow())
        except accounts.EmailTaken:
            db.session.rollback()
            flash(_("Diese E-Mail-Adresse kann nicht verwendet werden."), "error")
            return render_template("auth/confirm_email.html", form=form, new_email=new_email), 409
        _tell_old_address(user, old_email)
        db.session.commit()
        flash(_("Ihre neue E-Mail-Adresse ist bestätigt."), "success")
        return redirect(
            url_for("auth.account") if current_user.is_authenticated else url_for("auth.login")
        )
    return render_template(
        "auth/confirm_email.html", form=form, new_email=new_email
    ), refused_status(form)


def _tell_old_address(user: User, old_email: str) -> None:
    """The old address hears of the change, so a stolen account does not go unnoticed."""
    notice = mail.build(
        old_email,
        "email_changed",
        user.locale,
        _l("Ihre E-Mail-Adresse bei der Vernetzerbörse wurde geändert"),
        user=user,
        new_email=user.email,
        reset_url=mail.absolute_url("auth.reset_request"),
        contact_email=current_app.config["CONTACT_EMAIL"],
    )
    mail.queue(db.session, notice, user_id=user.id)
