"""Fault test: a replica of the Serve graph dies under load. Serve replaces it, the requests in
flight at the kill fail with a JSON 503 (never a hang, never a traceback), and the requests
after it succeed.

It runs on the package's shared `producer serve` (conftest.py), after the server's other tests
(the collection hook there puts it last). The replica's process, found among the server's
children by its title (`ray::ServeReplica:<app>:<deployment>`), is killed with SIGKILL.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import requests

pytestmark = pytest.mark.slow

FORM = {"prompt": "boom bap beat", "duration": 0.5, "candidates": 1}  # the smallest production
CLIENT_TIMEOUT_S = 60  # a client that waits longer than this has hung
CLIENTS = 3  # below local.yaml's max_inflight (4): no overload 503s to tell apart
VICTIM = "Generator"  # mid-chain, and quick to restart (no model to load)
RECOVERY_TIMEOUT_S = 180


def replicas(served, deployment: str, app: str = "producer") -> dict[int, str]:
    """The live replica processes of a deployment of the shared server: pid → title."""
    import psutil

    title = f"ray::ServeReplica:{app}:{deployment}"
    found = {}
    for child in psutil.Process(served.pid).children(recursive=True):
        try:
            args = child.cmdline()
            if args and args[0].startswith(title) and child.status() != psutil.STATUS_ZOMBIE:
                found[child.pid] = args[0]
        except psutil.Error:
            continue
    return found


class Client(threading.Thread):
    """Posts productions one after another until told to stop; records every answer."""

    def __init__(self, url: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.url, self.stop = url, stop
        self.answers: list[tuple[float, float, int, str, dict | str]] = []  # start, end, …

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                r = requests.post(self.url + "v1/produce", data=FORM, timeout=CLIENT_TIMEOUT_S)
            except requests.RequestException as err:  # a timeout is a hang
                self.answers.append((started, time.monotonic(), -1, "", repr(err)))
                continue
            kind = r.headers.get("content-type", "")
            body = r.json() if kind.startswith("application/json") else r.text
            self.answers.append((started, time.monotonic(), r.status_code, kind, body))
            if r.status_code == 503:
                time.sleep(0.5)


def test_a_replica_killed_under_load_is_replaced_and_no_client_hangs(served):
    url = served.url
    assert requests.post(url + "v1/produce", data=FORM, timeout=CLIENT_TIMEOUT_S).ok
    (victim,) = replicas(served, VICTIM)

    stop = threading.Event()
    clients = [Client(url, stop) for _ in range(CLIENTS)]
    for client in clients:
        client.start()
    deadline = time.monotonic() + 60
    while sum(len(c.answers) for c in clients) < CLIENTS and time.monotonic() < deadline:
        time.sleep(0.2)  # load is on: every client has had an answer
    killed_at = time.monotonic()
    os.kill(victim, signal.SIGKILL)  # the replica's process dies, as in a crash or OOM kill

    # Serve notices the dead replica and starts another process for it.
    replaced = None
    while time.monotonic() - killed_at < RECOVERY_TIMEOUT_S:
        now = replicas(served, VICTIM)
        if now and victim not in now:
            replaced = time.monotonic() - killed_at
            break
        time.sleep(0.5)
    time.sleep(2)  # a little load on the new replica too
    stop.set()
    for client in clients:
        client.join(CLIENT_TIMEOUT_S + 10)
    assert not any(c.is_alive() for c in clients), "a client is still waiting"
    assert replaced is not None, f"{VICTIM} not replaced in {RECOVERY_TIMEOUT_S} s"

    answers = sorted(a for c in clients for a in c.answers)
    codes = [a[2] for a in answers]
    print(
        f"{VICTIM} replica killed under load of {CLIENTS} clients; a new one started in "
        f"{replaced:.1f} s; answers: {codes.count(200)} × 200, {codes.count(503)} × 503, "
        f"others {[c for c in codes if c not in (200, 503)]}; "
        f"longest {max(a[1] - a[0] for a in answers):.1f} s"
    )
    assert all(c in (200, 503) for c in codes), [a for a in answers if a[2] not in (200, 503)]
    for _, _, code, kind, body in answers:
        if code == 503:  # in flight at the kill: a clear JSON answer, and when to come back
            assert kind.startswith("application/json"), body
            assert body["error"]["status"] == 503 and "Traceback" not in str(body)
    assert codes.count(200) >= CLIENTS

    # After it: every request succeeds, and its master can be downloaded.
    for seed in range(3):
        r = requests.post(url + "v1/produce", data={**FORM, "seed": seed}, timeout=60)
        assert r.status_code == 200, r.text
        master = requests.get(url + r.json()["master_url"].lstrip("/"), timeout=60)
        assert master.status_code == 200 and master.headers["content-type"] == "audio/wav"
        assert master.content[:4] == b"RIFF" and len(master.content) > 44
