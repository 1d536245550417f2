"""The toolkit ("Werkzeugkoffer"): curated by coordinators, suggested by experts, PDFs checked
by content and size, and listed with a need, a match and the introduction mail."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select
from support import post_form

from matching import matches
from matching.models import (
    Match,
    MatchStatus,
    Material,
    MaterialFile,
    MaterialStatus,
    OutboxMessage,
    Role,
    utcnow,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
FORM = {
    "phase": "start",
    "title": "Checkliste: Das erste Treffen",
    "description": "Was beim ersten Treffen im Viertel hilft.",
    "url": "",
    "language": "de",
}


@pytest.fixture()
def coordinator(make_user, auth):
    user = make_user("koo@example.org", roles=(Role.COORDINATOR,), first_name="Kim")
    auth.login(user.email)
    return user


def upload(client, path: str, data: dict, content: bytes | None, name: str = "treffen.pdf"):
    payload = dict(data)
    if content is not None:
        payload["file"] = (io.BytesIO(content), name)
    return post_form(client, path, payload, content_type="multipart/form-data")


def material(db, title: str = FORM["title"]) -> Material:
    return db.session.scalar(select(Material).where(Material.title == title))


def test_a_coordinators_pdf_is_public_at_once_and_served_as_a_safe_download(
    client, db, coordinator
):
    response = upload(client, "/werkzeugkoffer/neu", FORM, PDF, name="Erstes Treffen (neu).pdf")
    assert response.status_code == 302
    stored = material(db)
    assert (stored.status, stored.file_size) == (MaterialStatus.APPROVED, len(PDF))
    assert stored.file_name == "Erstes_Treffen_neu.pdf"
    assert db.session.get(MaterialFile, stored.id).content == PDF

    client.post("/abmelden", data={"csrf_token": ""})  # the public sees it too
    public = client.get("/werkzeugkoffer").get_data(as_text=True)
    assert "Checkliste: Das erste Treffen" in public and "PDF, 1 KB" in public
    download = client.get(f"/werkzeugkoffer/{stored.id}/datei")
    assert download.status_code == 200 and download.data == PDF
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "Erstes_Treffen_neu.pdf" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"Hallo, ich bin keine PDF-Datei", "liste.pdf", "Das ist keine PDF-Datei."),
        (b"<html><script>alert(1)</script>", "seite.pdf", "Das ist keine PDF-Datei."),
        (PDF + b"x" * 3000, "gross.pdf", "Die Datei ist zu groß. Erlaubt sind höchstens"),
    ],
)
def test_wrong_or_too_large_files_are_refused_with_a_message(
    app, client, db, coordinator, monkeypatch, content, name, message
):
    monkeypatch.setitem(app.config, "TOOLKIT_MAX_UPLOAD_BYTES", 2048)
    response = upload(client, "/werkzeugkoffer/neu", FORM, content, name=name)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert material(db) is None


def test_a_file_far_beyond_the_limit_gets_a_clear_page_not_a_crash(
    app, client, db, coordinator, monkeypatch
):
    monkeypatch.setitem(app.config, "TOOLKIT_MAX_UPLOAD_BYTES", 1024)
    response = upload(client, "/werkzeugkoffer/neu", FORM, PDF + b"x" * 300_000)
    assert response.status_code == 413
    assert "Die Datei ist zu groß" in response.get_data(as_text=True)
    assert material(db) is None


def test_a_material_needs_a_link_or_a_file(client, db, coordinator):
    response = upload(client, "/werkzeugkoffer/neu", FORM, None)
    assert "Bitte geben Sie einen Link an oder laden Sie eine PDF-Datei hoch." in (
        response.get_data(as_text=True)
    )
    linked = upload(client, "/werkzeugkoffer/neu", {**FORM, "url": "https://example.org/a"}, None)
    assert linked.status_code == 302 and material(db).url == "https://example.org/a"


def test_a_volunteers_suggestion_waits_for_a_coordinator(
    client, db, auth, make_volunteer, make_user
):
    make_user("koo@example.org", roles=(Role.COORDINATOR,), first_name="Kim")
    make_volunteer("vera@example.org")
    auth.login("vera@example.org")
    response = upload(client, "/werkzeugkoffer/neu", {**FORM, "url": "https://example.org/x"}, PDF)
    assert response.status_code == 302
    suggestion = material(db)
    assert suggestion.status == MaterialStatus.SUGGESTED
    [mail] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "material_suggested")
    ).all()
    assert mail.recipient == "koo@example.org" and "Vera Muster schlägt" in mail.text_body
    own = client.get("/werkzeugkoffer").get_data(as_text=True)
    assert "Ihr Vorschlag liegt seit heute bei der Koordination" in own  # her clock
    assert client.get(f"/werkzeugkoffer/{suggestion.id}/datei").status_code == 200  # her own
    auth.logout()
    assert "Checkliste" not in client.get("/werkzeugkoffer").get_data(as_text=True)
    assert client.get(f"/werkzeugkoffer/{suggestion.id}/datei").status_code == 404

    auth.login("koo@example.org")
    manage = client.get("/koordination/werkzeugkoffer").get_data(as_text=True)
    assert "vorgeschlagen von Vera Muster" in manage
    post_form(
        client,
        f"/koordination/werkzeugkoffer/{suggestion.id}/freigeben",
        {},
        token_from="/koordination/werkzeugkoffer",
    )
    db.session.refresh(suggestion)
    assert suggestion.status == MaterialStatus.APPROVED
    assert "Checkliste" in client.get("/werkzeugkoffer").get_data(as_text=True)


def test_a_suggestion_can_be_rejected_with_a_reason(client, db, auth, make_user, make_volunteer):
    make_volunteer("vera@example.org")
    auth.login("vera@example.org")
    upload(client, "/werkzeugkoffer/neu", {**FORM, "url": "https://example.org/x"}, None)
    auth.logout()
    make_user("koo@example.org", roles=(Role.COORDINATOR,))
    auth.login("koo@example.org")
    suggestion = material(db)
    path = f"/koordination/werkzeugkoffer/{suggestion.id}/ablehnen"
    assert "Bitte geben Sie kurz einen Grund an." in post_form(client, path, {}).get_data(
        as_text=True
    )
    post_form(client, path, {"reason": "Gibt es schon"})
    db.session.refresh(suggestion)
    assert (suggestion.status, suggestion.review_reason) == (
        MaterialStatus.REJECTED,
        "Gibt es schon",
    )


def test_who_may_do_what(client, auth, make_user):
    assert client.get("/werkzeugkoffer").status_code == 200
    assert client.get("/werkzeugkoffer/neu").status_code == 302  # log in first
    make_user("ines@example.org", roles=(Role.INITIATIVE,))
    auth.login("ines@example.org")
    assert client.get("/werkzeugkoffer/neu").status_code == 403
    assert client.get("/koordination/werkzeugkoffer").status_code == 403


def test_materials_travel_with_the_need_the_match_and_the_introduction_mail(
    client, db, auth, make_initiative, make_need, make_volunteer
):
    now = utcnow()
    for phase, title in [("start", "Erstes Treffen"), ("conflicts", "Streit schlichten")]:
        db.session.add(
            Material(
                phase=phase,
                title=title,
                url=f"https://example.org/{phase}",
                status=MaterialStatus.APPROVED,
            )
        )
    db.session.add(Material(phase="start", title="Noch nicht frei", url="https://example.org/n"))
    initiative, _member = make_initiative()
    need = make_need(initiative, phases=("start",))
    profile = make_volunteer("vera@example.org")
    match = Match(
        need_id=need.id, volunteer_id=profile.id, status=MatchStatus.APPROVED, decided_at=now
    )
    db.session.add(match)
    db.session.commit()

    need_page = client.get(f"/anfragen/{need.id}").get_data(as_text=True)
    assert "Aus dem Werkzeugkoffer" in need_page and "Erstes Treffen" in need_page
    assert "Streit schlichten" not in need_page and "Noch nicht frei" not in need_page

    matches.change_status(db.session, profile.user, match, "accept", now=now)
    db.session.commit()
    [intro] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "match_introduction_volunteer")
    ).all()
    assert "Erstes Treffen (Start / Akquise): https://example.org/start" in intro.text_body
    assert "Streit schlichten" not in intro.text_body

    auth.login("vera@example.org")
    match_page = client.get(f"/vermittlungen/{match.id}").get_data(as_text=True)
    assert "Aus dem Werkzeugkoffer" in match_page and "Erstes Treffen" in match_page


def test_an_upload_without_the_forms_csrf_token_is_refused(client, db, coordinator):
    """The upload views skip the app-wide check (it reads the body under the small limit);
    the form's own CSRF field still has to be right."""
    forged = client.post(
        "/werkzeugkoffer/neu",
        data={**FORM, "file": (io.BytesIO(PDF), "x.pdf")},
        content_type="multipart/form-data",
    )
    assert forged.status_code == 422
    assert "Das Formular war zu lange offen" in forged.get_data(as_text=True)
    assert material(db) is None
