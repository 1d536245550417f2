"""Atom feeds of open needs: all, per district and per phase; public, no personal data."""

from __future__ import annotations

from datetime import UTC, datetime, time

from flask import Blueprint, Response, abort, current_app, request, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from matching.extensions import db
from matching.feeds import atom
from matching.models import Need, utcnow
from matching.needs import queries
from matching.reference import DISTRICT_BY_CODE, PHASE_BY_CODE
from matching.reports import impact as reports_impact

bp = Blueprint("feeds", __name__, url_prefix="/feeds")

FEED_SIZE = 50
SUMMARY_LENGTH = 600
FEED_LOCALE = "de"  # the association's website is German


def _site_url(endpoint: str, **values) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + url_for(endpoint, **values)


# The time of a feed nothing was ever in: fixed, so its ETag holds and a reader polling it
# gets 304 (the time of the request made it a new feed every second).
NEVER_CHANGED = datetime(2026, 1, 1, tzinfo=UTC)


@bp.route("/needs.atom")
def open_needs():
    """All open needs, newest first."""
    return _feed(_l("Vernetzerbörse: offene Anfragen"), "feeds.open_needs")


@bp.route("/needs/bezirk/<district>.atom")
def district_needs(district: str):
    """Open needs in one district."""
    if district not in DISTRICT_BY_CODE:
        abort(404)
    name = DISTRICT_BY_CODE[district].name
    title = _l("Vernetzerbörse: offene Anfragen in %(district)s", district=name)
    return _feed(title, "feeds.district_needs", district=district)


@bp.route("/needs/thema/<phase>.atom")
def phase_needs(phase: str):
    """Open needs in one phase."""
    if phase not in PHASE_BY_CODE:
        abort(404)
    label = PHASE_BY_CODE[phase].de
    title = _l("Vernetzerbörse: offene Anfragen zum Thema „%(phase)s“", phase=label)
    return _feed(title, "feeds.phase_needs", phase=phase)


def _feed(title, endpoint: str, *, phase: str | None = None, district: str | None = None):
    rows = db.session.scalars(queries.open_needs(phase, district).limit(FEED_SIZE)).all()
    changed = db.session.scalar(queries.last_need_change(phase, district))
    with force_locale(FEED_LOCALE):
        feed = atom.Feed(
            id=_site_url(endpoint, phase=phase, district=district),
            title=str(title),
            subtitle=str(
                _l(
                    "Nachbarschaftsinitiativen in Stuttgart suchen Rat von Vernetzungs-Expert:innen."
                )
            ),
            updated=changed or NEVER_CHANGED,
            self_link=_site_url(endpoint, phase=phase, district=district),
            alternate_link=_site_url("needs.index", thema=phase, bezirk=district),
            author=current_app.config["ASSOCIATION_NAME"],
            language=FEED_LOCALE,
            entries=tuple(_entry(need) for need in rows),
        )
    response = Response(atom.render(feed), mimetype=atom.ATOM_MEDIA_TYPE)
    response.headers["Cache-Control"] = "public, max-age=300"
    response.last_modified = feed.updated
    response.add_etag()
    return response.make_conditional(request)


def _entry(need: Need) -> atom.Entry:
    url = _site_url("needs.detail", need_id=need.id)
    district = DISTRICT_BY_CODE.get(need.district)
    district_name = district.name if district else need.district
    phases = [PHASE_BY_CODE[code] for code in need.phases]
    description = need.description.strip()
    if len(description) > SUMMARY_LENGTH:
        description = description[:SUMMARY_LENGTH].rstrip() + " …"
    facts = " · ".join([need.initiative.name, district_name, ", ".join(p.de for p in phases)])
    return atom.Entry(
        id=url,
        title=need.title,
        updated=need.updated_at,
        published=need.published_at,
        link=url,
        summary=f"{facts}\n\n{description}".strip(),
        categories=(*tuple((p.code, p.de) for p in phases), (need.district, district_name)),
    )


@bp.route("/wirkung.atom")
def impact():
    """What the advice achieved, one entry per calendar year; only where it is published."""
    if not current_app.config["PUBLIC_IMPACT"]:
        abort(404)
    today = utcnow().astimezone(reports_impact.BERLIN).date()
    years = [
        reports_impact.public_year(db.session, number, today)
        for number in reports_impact.public_years(db.session, today)
    ]
    with force_locale(FEED_LOCALE):
        entries = tuple(_impact_entry(found, today) for found in years)
        feed = atom.Feed(
            id=_site_url("feeds.impact"),
            title=str(_l("Vernetzerbörse: Was wir bewirken")),
            subtitle=str(_l("Die Zahlen eines jeden Jahres, zusammengefasst.")),
            updated=max((e.updated for e in entries), default=NEVER_CHANGED),
            self_link=_site_url("feeds.impact"),
            alternate_link=_site_url("impact.public_impact"),
            author=current_app.config["ASSOCIATION_NAME"],
            language=FEED_LOCALE,
            entries=entries,
        )
    response = Response(atom.render(feed), mimetype=atom.ATOM_MEDIA_TYPE)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def _impact_entry(found, today) -> atom.Entry:
    """A year's figures in one sentence; small counts said as "weniger als 3"."""

    def count(value: int | None) -> str:
        if value is None:
            return str(_l("weniger als %(num)d", num=reports_impact.SHOWN_FROM))
        return str(value)

    # A finished year does not change after its last day; the running one changes today.
    last_day = reports_impact.year(found.year).until if found.complete else None
    updated = last_day or datetime.combine(today, time(), reports_impact.BERLIN)
    summary = str(
        _l(
            "Anfragen von Initiativen: %(posted)s. Beraten: %(advised)s. Initiativen erreicht: %(reached)s. Aktive Expert:innen: %(volunteers)s. Treffen: %(meetings)s.",
            posted=count(found.posted),
            advised=count(found.advised),
            reached=count(found.initiatives_reached),
            volunteers=count(found.volunteers_active),
            meetings=count(found.meetings_held),
        )
    )
    title = (
        _l("Was wir bewirkt haben: %(year)d", year=found.year)
        if found.complete
        else _l("Was wir bewirken: %(year)d bis heute", year=found.year)
    )
    url = _site_url("impact.public_impact", jahr=found.year)
    return atom.Entry(
        id=url, title=str(title), updated=updated, published=None, link=url, summary=summary
    )
