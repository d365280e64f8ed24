"""Fault test: a replica of the Serve graph dies under load. Serve replaces it, the requests in
flight at the kill fail with a JSON 503 (never a hang, never a traceback), and the requests
after it succeed.

It runs on the package's shared `producer serve` (conftest.py), after the server's other tests
(the collection hook there puts it last). The victim is the Writer, the longest stage (token by
token decoding): its process, found among the server's children by its title
(`ray::ServeReplica:<app>:<deployment>`), is killed with SIGKILL at a moment it is burning CPU,
that is, in the middle of a request, so the kill lands on work in flight.
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
VICTIM = "Writer"  # mid-chain, and busy for most of each request: a kill lands on one
RECOVERY_TIMEOUT_S = 180


def wait_until_busy(pid: int, timeout_s: float = 60.0) -> bool:
    """Wait until the process uses over half a core in two 0.2 s windows running (it is
    decoding a request, not idling between health checks); False if it never does."""
    import psutil

    proc = psutil.Process(pid)
    busy, last = 0, sum(proc.cpu_times()[:2])
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = sum(proc.cpu_times()[:2])
        busy, last = (busy + 1 if now - last > 0.1 else 0), now
        if busy >= 2:
            return True
    return False


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
    assert wait_until_busy(victim), f"the {VICTIM} never got to work under load"
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
    # The request the victim was working on was in flight at the kill: it got the 503.
    in_flight = [a for a in answers if a[0] < killed_at < a[1]]
    assert any(a[2] == 503 for a in in_flight), [a[2] for a in in_flight]

    # After it: every request succeeds, and its master can be downloaded.
    for seed in range(3):
        r = requests.post(url + "v1/produce", data={**FORM, "seed": seed}, timeout=60)
        assert r.status_code == 200, r.text
        master = requests.get(url + r.json()["master_url"].lstrip("/"), timeout=60)
        assert master.status_code == 200 and master.headers["content-type"] == "audio/wav"
        assert master.content[:4] == b"RIFF" and len(master.content) > 44
