"""`backflush token` and `backflush serve` from the command line: tokens made, listed and
revoked on SQLite and PostgreSQL; a live server over two plants' ledgers on loopback; and
the clear refusals of bad options."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.e2e.support import bf, ok, process, stool_ledger


def test_a_token_is_shown_once_listed_without_its_secret_and_revoked(db_url: str) -> None:
    stool_ledger(db_url)
    made = ok("token", "create", "--role", "operator", "--name", "mes", "--db", db_url)
    secret = made.stdout.strip()
    assert secret.startswith("bf_") and "\n" not in secret and len(secret) > 40
    assert "mes" in made.stderr and "operator" in made.stderr and secret not in made.stderr
    listed = ok("token", "list", "--db", db_url)
    assert "mes" in listed.stdout and "in use" in listed.stdout
    assert secret not in listed.output
    twice = bf("token", "create", "--role", "viewer", "--name", "mes", "--db", db_url)
    assert twice.code == 2 and "mes" in twice.flat
    assert bf("token", "create", "--role", "owner", "--db", db_url).code == 2
    ok("token", "revoke", "mes", "--db", db_url)
    assert "revoked" in ok("token", "list", "--db", db_url).stdout
    again = bf("token", "revoke", "mes", "--db", db_url)
    assert again.code == 2 and "mes" in again.flat


def test_serve_refuses_bad_options_before_serving(tmp_path: Path) -> None:
    db = stool_ledger(f"sqlite:///{tmp_path / 'plant.db'}")
    for args, option in ((["--ledger", "north"], "--ledger"),
                         (["--ledger", "no rth=sqlite:///x.db"], "--ledger"),
                         (["--ledger", "main=sqlite:///x.db"], "--ledger"),
                         (["--ledger", "a=sqlite:///x.db", "--ledger", "a=sqlite:///y.db"],
                          "--ledger"),
                         (["--port", "0"], "--port")):
        out = bf("serve", "--db", db, *args)
        assert out.code == 2 and option in out.flat, (args, out.output)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        out = bf("serve", "--db", db, "--port", str(port))
        assert out.code == 2 and "--port" in out.flat and "in use" in out.flat
    missing = bf("serve", "--db", f"sqlite:///{tmp_path / 'none.db'}", "--port", "8000")
    assert missing.code == 4 and "none.db" in missing.flat


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port: int = s.getsockname()[1]
        return port


def _call(port: int, method: str, path: str, secret: str | None = None,
          body: Any = None) -> tuple[int, dict[str, str], Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if secret:
        headers["Authorization"] = f"Bearer {secret}"
    conn.request(method, path, None if body is None else json.dumps(body), headers)
    answer = conn.getresponse()
    data = answer.read()
    conn.close()
    return (answer.status, {k.lower(): v for k, v in answer.getheaders()},
            json.loads(data) if data else None)


def test_one_server_serves_two_plants_each_with_its_own_tokens(tmp_path: Path) -> None:
    north = stool_ledger(f"sqlite:///{tmp_path / 'north.db'}")
    south = stool_ledger(f"sqlite:///{tmp_path / 'south.db'}")
    secret = process("token", "create", "--role", "operator", "--db", north).stdout.strip()
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "backflush", "serve", "--ledger", f"north={north}",
         "--ledger", f"south={south}", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _call(port, "GET", "/api/v1/health")[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.1)
        wo = {"id": "WO-90", "type": "completion", "date": "2026-12-02", "item": "STOOL",
              "qty": "3"}
        status, headers, posted = _call(port, "POST", "/api/v1/ledgers/north/events",
                                        secret, wo)
        assert status == 201 and posted["id"] == "WO-90", posted
        assert headers.get("x-request-id")
        status, headers, _ = _call(port, "POST", "/api/v1/ledgers/north/events", secret, wo)
        assert status == 201 and headers.get("idempotent-replayed") == "true"
        status, _, problem = _call(port, "POST", "/api/v1/ledgers/south/events", secret, wo)
        assert status == 401 and problem["code"] == "unauthorized"  # north's token only
        status, _, problem = _call(port, "GET", "/api/v1/ledgers/west/items", secret)
        assert status == 404 and "west" in problem["detail"]
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    logged = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    posts = [entry for entry in logged if entry["method"] == "POST"]
    assert [e["status"] for e in posts] == [201, 201, 401]
    assert [e["ledger"] for e in posts] == ["north", "north", "south"]
    assert posts[0]["token"].startswith("tok_") and secret not in err + out
    assert "north" in err and "south" in err  # what is served, said on start
