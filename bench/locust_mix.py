"""The people of the load run, as locust users; run by bench/load.py in a process of its own.

    python bench/locust_mix.py --host URL --people people.json --users 50 --seconds 60 --out out.json

locust monkey-patches the standard library with gevent when it is imported, which is why this
module is a separate process: neither bench/load.py nor the test suite ever imports it.

People arrive one by one: locust starts them in batches (all of a second's arrivals at the same
instant), so each waits a random part of that second first; otherwise the ramp would be a series
of lockstep log-ins, five password checks at once every second, which no morning sees.
Everyone thinks between pages (1-4 s), as people do. Redirects are not followed, so every page
is timed on its own; the page after a form is fetched as the browser would, and its flash
message tells whether the write was done or refused (refusals are answers, not errors).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import sys
from urllib.parse import urlencode

import gevent
from locust import FastHttpUser, between, constant_pacing, task
from locust.env import Environment
from locust.stats import StatsEntry

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
SUBMISSION = re.compile(r'name="submission" type="hidden" value="([^"]+)"')
NEED_LINK = re.compile(r'href="/anfragen/(\d+)"')
APPROVE_FORM = re.compile(r'action="/koordination/vorschlaege/(\d+)/freigeben"')
SUCCESS = 'class="flash flash-success"'
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
PHASES = ["start", "planning", "results", "cooperation", "resources", "inclusion", "conflicts"]
DISTRICTS = ["mitte", "nord", "ost", "sued", "west", "bad-cannstatt", "vaihingen", "feuerbach"]

PEOPLE: dict = {}
ARRIVAL_SPREAD_S = 1.0  # locust's batch interval (set in main)
PASSWORD = ""
FEED = "/feeds/needs.atom"
COUNTS = {
    "log_ins": 0,
    "offers_done": 0,
    "offers_refused": 0,
    "posts_done": 0,
    "approvals_done": 0,
    "approvals_refused": 0,
}
# CPU milliseconds each answer cost its worker (the app's Server-Timing header), per page.
CPU_MS: dict[str, list[float]] = {}
SERVER_CPU = re.compile(r"cpu;dur=([0-9.]+)")
_next_account = {role: itertools.count() for role in ("volunteer", "initiative", "coordinator")}


def _token(html: str) -> str:
    match = CSRF.search(html)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1)


class Person(FastHttpUser):
    """Someone with a browser: one cookie jar, no redirects followed."""

    abstract = True
    wait_time = between(1, 4)
    role = ""

    def on_start(self) -> None:
        gevent.sleep(random.uniform(0, ARRIVAL_SPREAD_S))  # arrive within the batch's second
        # Our own jar: production cookies are Secure, and the client's jar keeps them from
        # plain http to loopback (the TLS proxy in front of gunicorn is not part of the run).
        self.cookies: dict[str, str] = {}
        self.log_in()

    def _headers(self, extra: dict | None = None) -> dict:
        headers = dict(extra or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers

    def _remember(self, response, method: str, name: str) -> None:
        timing = SERVER_CPU.search(response.headers.get("Server-Timing") or "")
        if timing:
            CPU_MS.setdefault(f"{method} {name}", []).append(float(timing.group(1)))
        for header in response.headers.getlist("set-cookie"):
            cookie, _, rest = header.partition("=")
            self.cookies[cookie.strip()] = rest.split(";", 1)[0]

    def page(self, path: str, name: str | None = None) -> str:
        with self.client.get(
            path,
            name=name or path,
            headers=self._headers(),
            allow_redirects=False,
            catch_response=True,
        ) as response:
            self._remember(response, "GET", name or path)
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                return ""
            return response.text or ""

    def send(self, path: str, name: str, data: dict) -> str | None:
        """POST a form; the redirect target when the answer is a redirect, else None."""
        with self.client.post(
            path,
            name=name,
            data=urlencode(data, doseq=True),
            headers=self._headers(FORM_HEADERS),
            allow_redirects=False,
            catch_response=True,
        ) as response:
            self._remember(response, "POST", name)
            if response.status_code != 302:
                response.failure(f"status {response.status_code}")
                return None
            return response.headers.get("Location", "")

    def log_in(self) -> None:
        if not self.role:
            return
        accounts = PEOPLE[self.role]
        self.email = accounts[next(_next_account[self.role]) % len(accounts)]
        html = self.page("/anmelden")
        if html and self.send(
            "/anmelden",
            "/anmelden",
            {"csrf_token": _token(html), "email": self.email, "password": PASSWORD},
        ):
            COUNTS["log_ins"] += 1


class Visitor(Person):
    """Anonymous: the open needs, filtered now and then, a need's page, the feed."""

    weight = 22

    @task(4)
    def open_needs(self) -> None:
        html = self.page("/anfragen")
        self.seen = [int(i) for i in NEED_LINK.findall(html)]

    @task(1)
    def filtered(self) -> None:
        self.page(f"/anfragen?bezirk={random.choice(DISTRICTS)}", name="/anfragen?bezirk=[b]")

    @task(1)
    def next_page(self) -> None:
        self.page(f"/anfragen?seite={random.randint(2, 10)}", name="/anfragen?seite=[n]")

    @task(2)
    def need(self) -> None:
        ids = getattr(self, "seen", None)
        if ids:
            self.page(f"/anfragen/{random.choice(ids)}", name="/anfragen/[id]")

    @task(2)
    def feed(self) -> None:
        self.page(FEED)


class Volunteer(Person):
    """A logged-in expert: the ranked needs, a need's page, now and then "Ich kann helfen"."""

    weight = 18
    role = "volunteer"

    @task(5)
    def overview(self) -> None:
        self.ranked = [int(i) for i in NEED_LINK.findall(self.page("/uebersicht"))]

    @task(2)
    def offer(self) -> None:
        ids = getattr(self, "ranked", None)
        if not ids:
            return
        need_id = random.choice(ids)
        detail = self.page(f"/anfragen/{need_id}", name="/anfragen/[id]")
        if f"/anfragen/{need_id}/helfen" not in detail:
            return  # already offered, or the profile is full: no button
        form = self.page(f"/anfragen/{need_id}/helfen", name="/anfragen/[id]/helfen")
        if not form:
            return
        target = self.send(
            f"/anfragen/{need_id}/helfen", "/anfragen/[id]/helfen", {"csrf_token": _token(form)}
        )
        if target is not None:
            after = self.page("/uebersicht")
            COUNTS["offers_done" if SUCCESS in after else "offers_refused"] += 1


class Initiative(Person):
    """Someone acting for an initiative: their needs, and now and then a new one, published."""

    weight = 6
    role = "initiative"

    @task(3)
    def my_needs(self) -> None:
        self.page("/meine-anfragen")

    @task(1)
    def post_need(self) -> None:
        form = self.page("/meine-anfragen/neu")
        if not form:
            return
        submission = SUBMISSION.search(form)
        data = {
            "csrf_token": _token(form),
            "submission": submission.group(1) if submission else "",
            "title": "Wie gewinnen wir mehr Nachbar:innen für unser Fest?",
            "description": "Wir sind zu dritt und suchen Rat, wie wir mehr Leute erreichen.",
            "phases": random.sample(PHASES, k=random.randint(1, 2)),
            "district": random.choice(DISTRICTS),
            "language": "de",
            "formats": ["in_person", "phone"],
            "urgency": random.choice(["normal", "soon", "urgent"]),
            "experts_wanted": "1",
            "expires_on": "",
            "action": "publish",
        }
        target = self.send("/meine-anfragen/neu", "/meine-anfragen/neu", data)
        if target is None:
            return
        match = re.search(r"/anfragen/(\d+)$", target)
        if match:
            COUNTS["posts_done"] += 1
            self.page(f"/anfragen/{match.group(1)}", name="/anfragen/[id] (own)")


class Coordinator(Person):
    """The coordination group: the proposal queue, approving one now and then."""

    weight = 4
    role = "coordinator"

    @task(3)
    def queue(self) -> None:
        self.page("/koordination/vorschlaege")

    @task(1)
    def approve(self) -> None:
        html = self.page("/koordination/vorschlaege")
        waiting = APPROVE_FORM.findall(html)
        if not waiting:
            return
        match_id = random.choice(waiting)
        target = self.send(
            f"/koordination/vorschlaege/{match_id}/freigeben",
            "/koordination/vorschlaege/[id]/freigeben",
            {"csrf_token": _token(html)},
        )
        if target is not None:
            after = self.page("/koordination/vorschlaege")
            COUNTS["approvals_done" if SUCCESS in after else "approvals_refused"] += 1


class Floor(FastHttpUser):
    """The bare health check, twice a second: what the server answers with no work at all."""

    fixed_count = 1
    wait_time = constant_pacing(0.5)

    @task
    def healthz(self) -> None:
        with self.client.get("/healthz", name="/healthz", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")


def _entry(stats) -> dict:
    return {
        "requests": stats.num_requests,
        "errors": stats.num_failures,
        "p50_ms": stats.get_response_time_percentile(0.50),
        "p95_ms": stats.get_response_time_percentile(0.95),
        "p99_ms": stats.get_response_time_percentile(0.99),
        "max_ms": round(stats.max_response_time or 0),
    }


def main() -> int:
    global PASSWORD, FEED, ARRIVAL_SPREAD_S
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--people", required=True, help="JSON: password and e-mails per role")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--spawn-rate", type=float, default=5.0)
    parser.add_argument("--feed", default=FEED)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if not args.host.startswith(("http://127.", "http://localhost")):
        parser.error("the load run only ever targets this machine (loopback)")
    with open(args.people, encoding="utf-8") as handle:
        people = json.load(handle)
    PASSWORD = people.pop("password")
    PEOPLE.update(people)
    FEED = args.feed
    # locust starts floor(rate) people every floor(rate)/rate seconds (locust/dispatch.py).
    ARRIVAL_SPREAD_S = max(1, int(args.spawn_rate)) / args.spawn_rate

    # At the end every person finishes the task at hand (a form and the page after it), so
    # a write is never cut off between the server doing it and the person seeing it.
    env = Environment(
        user_classes=[Visitor, Volunteer, Initiative, Coordinator, Floor],
        host=args.host,
        stop_timeout=60,
    )
    runner = env.create_local_runner()
    runner.start(args.users + Floor.fixed_count, spawn_rate=args.spawn_rate)
    running: dict[str, int] = {}

    def stop() -> None:
        running.update(runner.user_classes_count)
        runner.quit()

    # People arrive over a ramp (log-ins spread out, as on a real morning), then all of them
    # stay for --seconds; the figures cover both.
    ramp = args.users / args.spawn_rate
    gevent.spawn_later(ramp + args.seconds, stop)
    runner.greenlet.join()

    pages = {
        f"{method} {name}": _entry(entry)
        for (name, method), entry in sorted(env.stats.entries.items())
        if name != "/healthz"
    }
    failures = [
        {"page": f"{f.method} {f.name}", "error": str(f.error), "count": f.occurrences}
        for f in env.stats.errors.values()
    ]
    # The people's requests together, the floor's /healthz left out: what they waited for.
    people = StatsEntry(env.stats, "people", "")
    for (name, _method), entry in env.stats.entries.items():
        if name != "/healthz":
            people.extend(entry)
    cpu = {
        page: {"requests": len(times), "cpu_ms_mean": round(sum(times) / len(times), 2)}
        for page, times in sorted(CPU_MS.items())
    }
    floor = env.stats.entries.get(("/healthz", "GET"))
    result = {
        "total": _entry(env.stats.total),
        "people_total": _entry(people),
        "server_cpu_ms": cpu,
        "pages": pages,
        "floor": _entry(floor) if floor else None,
        "failures": failures,
        "writes": COUNTS,
        "users": running,
        "ramp_s": ramp,
    }
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
