"""Server-Timing: the CPU per request, for benchmarks only."""

from __future__ import annotations

import re

from config import TestingConfig
from matching import create_app


def test_no_timing_header_unless_asked(client):
    assert "Server-Timing" not in client.get("/").headers


def test_timing_header_gives_the_cpu_of_the_request():
    config = TestingConfig()
    config.SERVER_TIMING = True
    app = create_app(config)
    answer = app.test_client().get("/")
    assert answer.status_code == 200
    timing = re.fullmatch(r"cpu;dur=(\d+\.\d)", answer.headers["Server-Timing"])
    assert timing is not None
    assert 0.0 < float(timing.group(1)) < 10_000
