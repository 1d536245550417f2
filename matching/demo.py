"""Demo data for trying the service: a coordinator, volunteers, initiatives, needs.

Idempotent: every person, initiative and need is looked up by its e-mail or name
first, so running it again adds nothing (and completes a load that was interrupted).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.auth.accounts import find_by_email
from matching.auth.passwords import hash_password
from matching.models import (
    ConsentRecord,
    Initiative,
    InitiativeMember,
    Match,
    MatchOrigin,
    MatchStatus,
    Need,
    NeedPhase,
    NeedStatus,
    ProfileStatus,
    Role,
    User,
    VolunteerDistrict,
    VolunteerLanguage,
    VolunteerPhaseLevel,
    VolunteerProfile,
    utcnow,
)
from matching.reference import DISTRICT_CODES, PHASE_CODES

DEMO_PASSWORD = "Vernetzen-im-Quartier"
DOMAIN = "demo.vernetzerboerse.de"

FIRST_NAMES = [
    "Anna",
    "Bernd",
    "Claudia",
    "Dieter",
    "Elif",
    "Frank",
    "Gabi",
    "Hans",
    "Ingrid",
    "Jürgen",
    "Karin",
    "Lothar",
    "Maria",
    "Norbert",
    "Olga",
    "Peter",
    "Renate",
    "Sabine",
    "Thomas",
    "Ursula",
    "Volker",
    "Waltraud",
    "Yusuf",
    "Zeynep",
    "Brigitte",
    "Klaus",
    "Monika",
    "Rainer",
    "Sibylle",
    "Werner",
]
LAST_NAMES = [
    "Bauer",
    "Schmid",
    "Weber",
    "Keller",
    "Yilmaz",
    "Maier",
    "Hofmann",
    "Wagner",
    "Becker",
    "Schulz",
    "Koch",
    "Richter",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Braun",
    "Zimmermann",
    "Krüger",
    "Hartmann",
]

INITIATIVES = [
    ("Nachbarschaftstreff Hallschlag", "bad-cannstatt", "Hallschlag"),
    ("Gemeinschaftsgarten Nordbahnhof", "nord", "Nordbahnhof"),
    ("Repair-Café Ostheim", "ost", "Ostheim"),
    ("Lebendiges Heslach", "sued", "Heslach"),
    ("Westquartier miteinander", "west", "Vogelsang"),
    ("Zuffenhausen hilft", "zuffenhausen", "Rot"),
    ("Fasanenhof vernetzt", "moehringen", "Fasanenhof"),
    ("Generationenbrücke Vaihingen", "vaihingen", "Rohr"),
    ("Feuerbacher Balkon e.V. i.G.", "feuerbach", "Feuerbacher Tal"),
    ("Quartier Freiberg aktiv", "muehlhausen", "Freiberg"),
]

NEED_TITLES = [
    ("Wie finden wir Mitstreiter:innen für unseren Treff?", ("start",)),
    ("Wir brauchen einen Plan für das erste Jahr", ("planning",)),
    ("Wer macht was? Aufgaben im Team verteilen", ("results",)),
    ("Zusammenarbeit mit der Kirchengemeinde und dem Sportverein", ("cooperation",)),
    ("Fördermittel für unseren Gemeinschaftsgarten", ("resources",)),
    ("Wie erreichen wir Nachbar:innen, die kaum Deutsch sprechen?", ("inclusion",)),
    ("Streit im Orga-Team – wie weiter?", ("conflicts",)),
    ("Austausch mit anderen Initiativen im Bezirk", ("exchange",)),
    ("Raum für unser monatliches Treffen gesucht", ("resources", "cooperation")),
    ("Erste Schritte: Idee für ein Nachbarschaftsfest", ("start", "planning")),
]

NEED_STATES = (
    [NeedStatus.OPEN] * 12
    + [NeedStatus.DRAFT] * 2
    + [NeedStatus.MATCHED] * 3
    + [NeedStatus.CLOSED, NeedStatus.WITHDRAWN, NeedStatus.EXPIRED]
)


@dataclass
class Summary:
    created: dict[str, int] = field(default_factory=dict)
    logins: list[tuple[str, str]] = field(default_factory=list)

    def count(self, kind: str) -> None:
        self.created[kind] = self.created.get(kind, 0) + 1

    def report(self) -> str:
        made = ", ".join(f"{n} {k}" for k, n in self.created.items()) or "nichts (schon geladen)"
        lines = [
            f"Demo-Daten: neu angelegt: {made}.",
            "",
            f"Demo-Zugänge (Passwort für alle: {DEMO_PASSWORD}):",
        ]
        lines += [f"  {role:<14} {email}" for role, email in self.logins]
        return "\n".join(lines)


def _user(
    session: Session,
    summary: Summary,
    email: str,
    first: str,
    last: str,
    roles: tuple[Role, ...],
    password_hash: str,
) -> User:
    user = find_by_email(session, email)
    if user is None:
        now = utcnow()
        user = User(
            email=email,
            password_hash=password_hash,
            first_name=first,
            last_name=last,
            confirmed_at=now,
            privacy_version=current_app.config["PRIVACY_VERSION"],
            phone=f"0711 {random.Random(email).randint(1000000, 9999999)}",
        )
        for role in roles:
            user.add_role(role)
        session.add(user)
        session.flush()
        session.add(
            ConsentRecord(
                user_id=user.id, version=current_app.config["PRIVACY_VERSION"], given_at=now
            )
        )
        summary.count("Konten")
    return user


def _volunteer(
    session: Session, summary: Summary, rng: random.Random, index: int, password_hash: str
) -> VolunteerProfile:
    first = FIRST_NAMES[index % len(FIRST_NAMES)]
    last = LAST_NAMES[index % len(LAST_NAMES)]
    user = _user(
        session,
        summary,
        f"expertin{index + 1:02d}@{DOMAIN}",
        first,
        last,
        (Role.VOLUNTEER,),
        password_hash,
    )
    if user.volunteer_profile is not None:
        return user.volunteer_profile
    status = ProfileStatus.PENDING if index % 10 == 9 else ProfileStatus.APPROVED
    profile = VolunteerProfile(
        user=user,
        status=status,
        capacity=rng.choice((1, 2, 2, 3)),
        whole_city=index % 7 == 0,
        offers_video=rng.random() < 0.4,
        bio=f"{first} engagiert sich seit Jahren in der Nachbarschaftsarbeit.",
        submitted_at=utcnow(),
        reviewed_at=utcnow() if status == ProfileStatus.APPROVED else None,
    )
    strong = rng.sample(PHASE_CODES, k=rng.randint(2, 4))
    for phase in PHASE_CODES:
        level = rng.randint(2, 3) if phase in strong else rng.choice((0, 0, 1))
        profile.levels.append(VolunteerPhaseLevel(phase=phase, level=level))
    home = DISTRICT_CODES[index % len(DISTRICT_CODES)]
    extra = rng.sample([d for d in DISTRICT_CODES if d != home], k=rng.randint(0, 2))
    for district in (home, *extra):
        profile.district_rows.append(VolunteerDistrict(district=district))
    for language in ("de", *rng.sample(("en", "tr", "it", "ru", "ar"), k=rng.randint(0, 1))):
        profile.language_rows.append(VolunteerLanguage(language=language))
    session.add(profile)
    summary.count("Profile")
    return profile


def load(session: Session, seed: int = 2026) -> Summary:
    """Create whatever of the demo data is missing; returns what was made and the log-ins."""
    rng = random.Random(seed)
    summary = Summary()
    password_hash = hash_password(DEMO_PASSWORD)
    coordinator = _user(
        session,
        summary,
        f"koordination@{DOMAIN}",
        "Katrin",
        "Koordinatorin",
        (Role.COORDINATOR,),
        password_hash,
    )
    summary.logins.append(("Koordination", coordinator.email))
    volunteers = [_volunteer(session, summary, rng, i, password_hash) for i in range(30)]
    summary.logins.append(("Expert:in", volunteers[0].user.email))
    session.flush()
    need_index = 0
    today = date.today()
    for i, (name, district, sub) in enumerate(INITIATIVES):
        contact = _user(
            session,
            summary,
            f"initiative{i + 1:02d}@{DOMAIN}",
            FIRST_NAMES[-(i + 1)],
            LAST_NAMES[-(i + 1)],
            (Role.INITIATIVE,),
            password_hash,
        )
        if i == 0:
            summary.logins.append(("Initiative", contact.email))
        initiative = session.scalar(select(Initiative).where(Initiative.name == name))
        if initiative is None:
            initiative = Initiative(
                name=name,
                district=district,
                sub_district=sub,
                description=f"Wir sind Nachbar:innen in {sub}.",
            )
            initiative.member_rows.append(InitiativeMember(user=contact))
            session.add(initiative)
            session.flush()
            summary.count("Initiativen")
        for _ in range(2):
            title, phases = NEED_TITLES[need_index % len(NEED_TITLES)]
            state = NEED_STATES[need_index % len(NEED_STATES)]
            need_index += 1
            exists = session.scalar(
                select(Need.id).where(Need.initiative_id == initiative.id, Need.title == title)
            )
            if exists is None:
                _need(
                    session,
                    summary,
                    rng,
                    initiative,
                    contact,
                    title,
                    phases,
                    state,
                    today,
                    volunteers,
                )
    return summary


def _need(session, summary, rng, initiative, contact, title, phases, state, today, volunteers):
    now = utcnow()
    age = timedelta(days=rng.randint(1, 40))
    need = Need(
        initiative=initiative,
        created_by_id=contact.id,
        title=title,
        description="Wir sind eine kleine Gruppe und freuen uns über Rat aus der Praxis.",
        district=initiative.district,
        urgency=rng.choice(("normal", "normal", "soon", "urgent")),
        status=state,
        created_at=now - age,
        published_at=None if state == NeedStatus.DRAFT else now - age,
        expires_on=today - timedelta(days=1) if state == NeedStatus.EXPIRED else None,
        closed_at=now
        if state in (NeedStatus.CLOSED, NeedStatus.WITHDRAWN, NeedStatus.EXPIRED)
        else None,
        status_reason="Hat sich erledigt." if state == NeedStatus.WITHDRAWN else "",
    )
    need.phase_rows = [NeedPhase(phase=p) for p in phases]
    session.add(need)
    session.flush()
    summary.count("Anfragen")
    if state in (NeedStatus.MATCHED, NeedStatus.CLOSED):
        volunteer = rng.choice([v for v in volunteers if v.status == ProfileStatus.APPROVED])
        done = state == NeedStatus.CLOSED
        session.add(
            Match(
                need_id=need.id,
                volunteer_id=volunteer.id,
                origin=MatchOrigin.MANUAL,
                status=MatchStatus.COMPLETED if done else MatchStatus.ACCEPTED,
                decided_at=now,
                accepted_at=now,
                completed_at=now if done else None,
            )
        )
        summary.count("Vermittlungen")
    elif state == NeedStatus.OPEN and rng.random() < 0.4:
        volunteer = rng.choice([v for v in volunteers if v.status == ProfileStatus.APPROVED])
        session.add(
            Match(
                need_id=need.id,
                volunteer_id=volunteer.id,
                origin=MatchOrigin.OFFER,
                status=MatchStatus.PROPOSED,
            )
        )
        summary.count("Vorschläge")
