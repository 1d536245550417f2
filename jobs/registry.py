"""Which jobs there are, what they do and when the scheduler runs them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from jobs import tasks
from jobs.base import JobFunction
from matching.matches import autorun


@dataclass(frozen=True)
class Job:
    name: str
    run: JobFunction
    description: str
    # APScheduler cron fields in JOBS_TIMEZONE, read from the configuration.
    schedule: Callable[[Mapping], dict]
    # Also run within a minute whenever this says a run is wanted (the scheduler asks it).
    wanted: Callable[[Session], bool] | None = None


def _matching_schedule(config: Mapping) -> dict:
    minutes = config["MATCHING_INTERVAL_MINUTES"]
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 24 * 60:
        raise ValueError(
            f"MATCHING_INTERVAL_MINUTES muss eine ganze Zahl von 1 bis 1440 sein, nicht {minutes!r}"
        )
    if minutes < 60:
        return {"minute": f"*/{minutes}"}
    return {"hour": f"*/{minutes // 60}", "minute": 0}


def _digest_schedule(config: Mapping) -> dict:
    return {
        "day_of_week": config["DIGEST_DAY_OF_WEEK"],
        "hour": config["DIGEST_HOUR"],
        "minute": config["DIGEST_MINUTE"],
    }


JOBS: tuple[Job, ...] = (
    Job(
        "send_weekly_digests",
        tasks.send_weekly_digests,
        "Wöchentliche Übersichten für Ehrenamtliche, Koordination und Initiativen einreihen",
        _digest_schedule,
    ),
    Job(
        "drain_outbox",
        tasks.drain_outbox,
        "Fällige E-Mails aus dem Postausgang senden",
        lambda config: {"minute": "*"},
    ),
    Job(
        "expire_needs",
        tasks.expire_needs,
        "Offene Anfragen nach ihrem Ablaufdatum schließen",
        lambda config: {"minute": 5},
    ),
    Job(
        "remind_unanswered",
        tasks.remind_unanswered,
        "Ehrenamtliche einmal an Vermittlungen erinnern, die seit 7 Tagen auf Antwort warten",
        lambda config: {"hour": 9, "minute": 0},
    ),
    Job(
        "remind_coordinators",
        tasks.remind_coordinators,
        "Koordination einmal an Vorschläge erinnern, die zu lange auf Entscheidung warten",
        lambda config: {"hour": 8, "minute": 0},
    ),
    Job(
        "release_unanswered",
        tasks.release_unanswered,
        "Vermittlungen, auf die lange keine Antwort kam, wieder für andere Expert:innen öffnen",
        lambda config: {"hour": 9, "minute": 30},
    ),
    Job(
        "alert_uncovered_needs",
        tasks.alert_uncovered_needs,
        "Koordination über Anfragen informieren, für die seit Langem niemand passt",
        lambda config: {"hour": 8, "minute": 30},
    ),
    Job(
        "apply_retention",
        tasks.apply_retention,
        "Aufbewahrungsfristen umsetzen: Texte beendeter Anfragen, alte E-Mails, IP-Adressen",
        lambda config: {"hour": 3, "minute": 45},
    ),
    Job(
        "purge_unconfirmed",
        tasks.purge_unconfirmed,
        "Konten löschen, deren E-Mail-Adresse 7 Tage lang nicht bestätigt wurde",
        lambda config: {"hour": 3, "minute": 30},
    ),
    Job(
        "propose_matches",
        tasks.propose_matches,
        "Expert:innen für alle offenen Anfragen vorschlagen; wartende Vorschläge bleiben, "
        "wie sie sind",
        _matching_schedule,
        wanted=autorun.wanted,
    ),
    Job(
        "mail_new_messages",
        tasks.mail_new_messages,
        "Neue Nachrichten an die andere Seite melden (höchstens alle 15 Minuten je Vermittlung)",
        lambda config: {"minute": "*"},
    ),
    Job(
        "mail_message_summaries",
        tasks.mail_message_summaries,
        "Tägliche Zusammenfassung neuer Nachrichten für alle, die sie gewählt haben",
        lambda config: {"hour": 18, "minute": 0},
    ),
    Job(
        "remind_meetings",
        tasks.remind_meetings,
        "Beide Seiten am Tag vor dem ersten Treffen erinnern",
        lambda config: {"hour": 17, "minute": 0},
    ),
    Job(
        "ask_meeting_outcomes",
        tasks.ask_meeting_outcomes,
        "Nach dem ersten Treffen fragen, ob es stattgefunden hat",
        lambda config: {"minute": 20},
    ),
)

BY_NAME: dict[str, Job] = {job.name: job for job in JOBS}

_DAYS = {
    "mon": "montags",
    "tue": "dienstags",
    "wed": "mittwochs",
    "thu": "donnerstags",
    "fri": "freitags",
    "sat": "samstags",
    "sun": "sonntags",
}


def describe(fields: Mapping) -> str:
    """The cron fields of a job in words: "jede Minute", "stündlich um :05", "montags 07:00"."""
    values = {key: str(value).lower() for key, value in fields.items()}
    clock = None
    if values.get("hour", "").isdigit() and values.get("minute", "").isdigit():
        clock = f"{int(values['hour']):02d}:{int(values['minute']):02d}"
    day = values.get("day_of_week", "")
    if day.isdigit() and int(day) < len(_DAYS):  # APScheduler counts from 0 = Monday
        day = list(_DAYS)[int(day)]
    if values == {"minute": "*"}:
        return "jede Minute"
    if set(values) == {"minute"} and values["minute"].startswith("*/"):
        return f"alle {values['minute'][2:]} Minuten"
    if values.get("hour", "").startswith("*/") and values.get("minute") == "0" and len(values) == 2:
        hours = values["hour"][2:]
        return "stündlich" if hours == "1" else f"alle {hours} Stunden"
    if set(values) == {"minute"} and values["minute"].isdigit():
        return f"stündlich um :{int(values['minute']):02d}"
    if set(values) == {"hour", "minute"} and clock:
        return f"täglich {clock}"
    if set(values) == {"day_of_week", "hour", "minute"} and clock and day in _DAYS:
        return f"{_DAYS[day]} {clock}"
    return ", ".join(f"{key}={value}" for key, value in fields.items())
