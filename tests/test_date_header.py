"""One ``Date`` header per answer: the HTTP server sends it, the app never does.

Werkzeug's ``make_conditional`` (the Atom feeds; ``send_file`` for static files and the
toolkit's PDFs) added one of its own. gunicorn drops an app's Date and sends its own, but
Werkzeug's development server sends both: the feeds came with two, also their 304s.
"""

from __future__ import annotations

import http.client
import threading

import pytest
from werkzeug.serving import make_server

FEED = "/feeds/needs.atom"
STATIC = "/static/css/app.css"


@pytest.mark.parametrize("path", [FEED, STATIC])
def test_the_app_leaves_the_date_to_the_server(client, path):
    first = client.get(path)
    assert first.status_code == 200
    assert first.headers.getlist("Date") == []
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.headers.getlist("Date") == []
    head = client.head(path)
    assert head.status_code == 200
    assert head.headers.getlist("Date") == []


@pytest.fixture()
def server(app, db):
    """The app behind Werkzeug's HTTP server (what `flask run` uses), on a free port."""
    httpd = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_port
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def _ask(port: int, method: str, path: str, headers: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status, response.msg
    finally:
        connection.close()


@pytest.mark.parametrize("path", [FEED, STATIC])
def test_a_real_server_sends_exactly_one_date(server, path):
    status, headers = _ask(server, "GET", path)
    assert status == 200
    assert len(headers.get_all("Date")) == 1
    etag = headers["ETag"]
    status, headers = _ask(server, "GET", path, {"If-None-Match": etag})
    assert status == 304
    assert len(headers.get_all("Date")) == 1
    status, headers = _ask(server, "HEAD", path)
    assert status == 200
    assert len(headers.get_all("Date")) == 1
