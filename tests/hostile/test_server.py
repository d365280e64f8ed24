"""Hostile clients against the server (issue 16, item 6): stalled uploads, a foreign Host, a
cross-site POST, missing browser headers, and Ray listening beyond this machine.

Most cases run against a real `producer serve` (serve_configs/local.yaml on a local Ray, the
`served` fixture of tests/serving, started once for this module); the ASGI checks also run
in-process (fast). Linux only for the socket tables (/proc/net/tcp).
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

# The fixtures: the shared `producer serve`, and the page under uvicorn with a headless Chromium.
from tests.serving.conftest import ROOT, local_backend, served  # noqa: F401
from tests.serving.test_web import _wait, browser, web_server  # noqa: F401

STALLERS = 60  # the count: more than the ingress's 32 slots and 16 queue places
HEALTH_WITHIN_S = 1.0


# ---------------------------------------------------------------------- helpers


def assert_json_error(response: requests.Response, status: int, kind: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert body["error"]["status"] == status and body["error"]["type"] == kind, body
    return body


def _port(url: str) -> int:
    return int(url.rstrip("/").rsplit(":", 1)[1])


def _stall(port: int) -> socket.socket:
    """A client that sends an upload's headers and 5 body bytes, then nothing."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(
        (
            f"POST /v1/produce HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: multipart/form-data; boundary=xx\r\nContent-Length: 1000000\r\n\r\n"
            "--xx\r"
        ).encode()
    )
    return sock


def _status_line(sock: socket.socket, timeout_s: float) -> str:
    sock.settimeout(timeout_s)
    try:
        data = sock.recv(65536)
    except OSError:
        return "(no answer)"
    return data.decode(errors="replace").split("\r\n", 1)[0] if data else "(closed)"


def _tree(root: int) -> set[int]:
    """`root` and every process below it, or in its session (Ray's own processes)."""
    parents: dict[int, int] = {}
    sessions: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state ppid pgrp session
        parents[int(entry)] = int(fields[1])
        sessions[int(entry)] = int(fields[3])
    tree = {root} | {pid for pid, sid in sessions.items() if sid == root}
    grew = True
    while grew:
        below = {pid for pid, ppid in parents.items() if ppid in tree} - tree
        tree |= below
        grew = bool(below)
    return tree


def _listening(pids: set[int]) -> list[tuple[str, int, int]]:
    """(address, port, pid) of every TCP socket in LISTEN state owned by `pids`."""
    owner: dict[int, int] = {}
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                owner[int(link[8:-1])] = pid
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A" or int(fields[9]) not in owner:  # 0A: LISTEN
                continue
            hex_addr, hex_port = fields[1].split(":")
            raw = bytes.fromhex(hex_addr)
            # The kernel prints each 32-bit word in host (little-endian) order.
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.append((str(ipaddress.ip_address(raw)), int(hex_port, 16), owner[int(fields[9])]))
    return found


def _not_loopback(sockets: list[tuple[str, int, int]]) -> list[str]:
    bad = []
    for address, port, pid in sockets:
        ip = ipaddress.ip_address(address)
        mapped = getattr(ip, "ipv4_mapped", None)
        if not (ip.is_loopback or (mapped is not None and mapped.is_loopback)):
            try:
                name = Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")[:80]
            except OSError:
                name = "?"
            bad.append(f"{address}:{port} ({name})")
    return bad


linux_only = pytest.mark.skipif(
    not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc/net/tcp"
)


# ---------------------------------------------------------------------- a running producer serve


@pytest.mark.slow
def test_healthz_answers_within_a_second_while_60_clients_stall(served):  # noqa: F811
    port = _port(served.url)
    stallers = [_stall(port) for _ in range(STALLERS)]
    try:
        slowest = 0.0
        started = time.monotonic()
        # Past the body idle timeout (10 s), so the stallers that held a slot are cut off too.
        while time.monotonic() - started < 13.0:
            t = time.monotonic()
            health = requests.get(served.url + "healthz", timeout=10)
            took = time.monotonic() - t
            slowest = max(slowest, took)
            assert health.status_code == 200, health.text  # not the proxy's plain-text 503
            assert health.json()["status"] == "ok"
            assert took <= HEALTH_WITHIN_S, f"/healthz took {took:.2f} s"
            time.sleep(0.25)
        print(f"slowest /healthz with {STALLERS} stalled clients: {slowest:.3f} s")
        answers = [_status_line(sock, 5.0) for sock in stallers]
    finally:
        for sock in stallers:
            sock.close()
    # Each stalled upload was answered: 503 at once (too many bodies arriving) or 408 after
    # the idle timeout; none is left hanging.
    counts = {line: answers.count(line) for line in set(answers)}
    print(f"the stalled clients got: {counts}")
    assert all(" 503 " in a or " 408 " in a for a in answers), counts
    assert any(" 408 " in a for a in answers), counts


def _rss_mb(pid: int) -> float:
    """Resident memory of `pid` in MB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _renderers(root: int) -> list[int]:
    """The Renderer replica processes of the `producer serve` started as `root`."""
    found = []
    for pid in _tree(root):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_text()
        except OSError:
            continue
        if "Renderer" in cmdline and "ServeReplica" in cmdline:
            found.append(pid)
    return found


@pytest.mark.slow
@linux_only
def test_memory_and_compile_bombs_are_refused_and_leave_the_renderer_as_it_was(served):  # noqa: F811
    # The bombs: 200 ten-second echoes (7.9 GB in the renderer) and 80 chained reverbs
    # (76 s of compile that stalled the replica), on a production's own stems.
    beat = {"prompt": "dark trap beat at 140 bpm", "duration": 3, "seed": 5, "candidates": 1}
    made = requests.post(served.url + "v1/produce", data=beat, timeout=300)
    assert made.status_code == 200, made.text
    body = made.json()
    renderers = _renderers(served.pid)
    assert renderers, "no Renderer replica found"
    before = {pid: _rss_mb(pid) for pid in renderers}
    first = f"{body['stems'][0]['role']}_process = "
    assert first in body["script"]
    bombs = {
        "memory": " : ".join(["ef.echo(10, 10, 0.95)"] * 200),
        "compile": " : ".join([f"re.mono_freeverb(0.5, 0.5, 0.2, {20 + k})" for k in range(80)]),
    }
    for kind, chain in bombs.items():
        script = body["script"].replace(first, first + chain + " : ", 1)
        t = time.monotonic()
        response = requests.post(
            served.url + "v1/render", json={"result_id": body["id"], "script": script}, timeout=60
        )
        took = time.monotonic() - t
        error = assert_json_error(response, 422, "FaustValidationError")
        words = "delay lines need" if kind == "memory" else "to compile"
        assert words in error["error"]["message"], error
        assert took < 5.0, f"the {kind} bomb took {took:.1f} s to refuse"
    t = time.monotonic()
    health = requests.get(served.url + "healthz", timeout=10)
    assert health.status_code == 200 and time.monotonic() - t <= HEALTH_WITHIN_S
    after = {pid: _rss_mb(pid) for pid in renderers}
    print(f"renderer RSS before/after the bombs (MB): {before} / {after}")
    for pid in renderers:
        assert after[pid] - before[pid] < 200, (before, after)  # the issue saw +7.5 GB


@pytest.mark.slow
def test_a_foreign_host_header_is_refused_with_json(served):  # noqa: F811
    port = _port(served.url)
    for host in ("evil.example", f"evil.example:{port}", f"rebind.attacker.test:{port}"):
        refused = requests.get(served.url, headers={"Host": host}, timeout=10)
        body = assert_json_error(refused, 400, "HostNotAllowed")
        assert host in body["error"]["message"]
        assert refused.headers["x-frame-options"] == "DENY"
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost", f"[::1]:{port}"):
        assert requests.get(served.url + "healthz", headers={"Host": host}, timeout=10).ok, host


@pytest.mark.slow
def test_a_cross_site_post_is_refused(served):  # noqa: F811
    produce = served.url + "v1/produce"
    form = {"prompt": "trap", "candidates": 9}  # over the limit: 422 once let in, no work done
    for headers in (
        {"Origin": "http://evil.example"},
        {"Origin": "null"},  # a sandboxed frame or a file:// page
        {"Origin": f"http://localhost:{_port(served.url) + 1}"},  # another port: another site
        {"Sec-Fetch-Site": "cross-site"},
    ):
        refused = requests.post(produce, data=form, headers=headers, timeout=10)
        assert_json_error(refused, 403, "CrossOriginRequest")
    # The page's own origin, and clients that send no Origin (curl, the CLI), get through.
    own = served.url.rstrip("/")
    for headers in ({"Origin": own}, {}):
        let_in = requests.post(produce, data=form, headers=headers, timeout=30)
        assert let_in.status_code == 422, let_in.text
    # Reading is not state-changing: a foreign Origin on GET is the browser's business (CORS).
    assert requests.get(served.url + "healthz", headers={"Origin": "http://evil.example"}).ok


@pytest.mark.slow
def test_the_page_and_the_api_carry_the_security_headers(served):  # noqa: F811
    for path in ("", "web/app.js", "healthz", "v1/results/nope"):
        response = requests.get(served.url + path, timeout=10)
        headers = response.headers
        assert headers["x-frame-options"] == "DENY", path
        assert headers["x-content-type-options"] == "nosniff", path
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp, path
        assert "unsafe-inline" not in csp, path


@pytest.mark.slow
@linux_only
def test_the_local_ray_of_producer_serve_listens_on_loopback_only(served):  # noqa: F811
    sockets = _listening(_tree(served.pid))
    # The GCS, raylet (2), the HTTP proxy, the workers, the agents: not a vacuous pass.
    assert len(sockets) >= 6, sockets
    assert _port(served.url) in {port for _, port, _ in sockets}  # the HTTP proxy itself
    # The one exception, which no option changes: every Serve replica opens its
    # inter-deployment gRPC server on [::]:0 (hard-coded in ray/serve/_private/replica.py,
    # Ray 2.60), guarded by Ray's token authentication (docs/security.md). Exactly one such
    # port per replica process, and nothing else off loopback.
    wide = _not_loopback(sockets)
    replica_ports = [w for w in wide if "ray::ServeReplica:" in w and w.startswith(":::")]
    replicas = {
        pid for _, _, pid in sockets if "ServeReplica" in Path(f"/proc/{pid}/cmdline").read_text()
    }
    assert len(replica_ports) == len(replicas) == 6, wide
    assert not [w for w in wide if w not in replica_ports], wide


_START_RAY = """
import sys, time
which = sys.argv[1]
if which == "preprocess":
    from ray_jobs.preprocess import _init_ray
    _init_ray()
else:
    from ray_jobs.config import TrainJobConfig
    from ray_jobs.train import _init_ray
    _init_ray(TrainJobConfig(data="unused", num_workers=1), None)
import ray
ray.get(ray.remote(lambda: 1).remote())  # a worker up, listening
print("ready", flush=True)
sys.stdin.readline()
ray.shutdown()
"""


@pytest.mark.slow
@linux_only
@pytest.mark.parametrize("command", ["preprocess", "train"])
def test_the_local_ray_of_train_and_preprocess_listens_on_loopback_only(command):
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "PRODUCER_RAY_HOST")}
    proc = subprocess.Popen(
        [sys.executable, "-c", _START_RAY, command],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        line = proc.stdout.readline()  # ray.init and one task: seconds
        assert line.strip() == "ready", f"{command}'s Ray did not start"
        time.sleep(2)  # the agents open their ports a moment after start
        sockets = _listening(_tree(proc.pid))
        assert len(sockets) >= 4, sockets
        assert not _not_loopback(sockets), _not_loopback(sockets)
    finally:
        proc.stdin.write("\n")
        proc.stdin.flush()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


# ---------------------------------------------------------------------- the same checks in-process


@pytest.fixture
def api_client(tmp_path):
    """The API over no backend (only the guard, the body limit and the store are exercised)."""
    from types import SimpleNamespace

    from fastapi.testclient import TestClient

    from producer.serving.api import create_api
    from producer.serving.config import ServeArgs

    args = ServeArgs(store={"dir": str(tmp_path / "results")})
    backend = SimpleNamespace(sample_rate=44100)
    return TestClient(
        create_api(backend, args), base_url="http://127.0.0.1:8000", raise_server_exceptions=False
    )


def test_host_policy_allows_loopback_names_ips_and_the_configured_ones():
    from producer.serving.browser_guard import HostPolicy

    default = HostPolicy.from_env({})
    for ok in ("127.0.0.1:8000", "localhost", "LOCALHOST:1", "[::1]:8000", "192.168.1.5:8000"):
        assert default.allows(ok), ok
    for bad in ("evil.example", "evil.example:8000", "", "localhost.evil.example", "a:b:c"):
        assert not default.allows(bad), bad
    named = HostPolicy.from_env(
        {"PRODUCER_HTTP_HOST": "beats.local", "PRODUCER_ALLOWED_HOSTS": "studio.example.org"}
    )
    assert named.allows("beats.local:8000") and named.allows("studio.example.org")
    assert not named.allows("evil.example")
    assert HostPolicy.from_env({"PRODUCER_ALLOWED_HOSTS": "*"}).allows("anything.example")
    shared = HostPolicy.from_env({"PRODUCER_HTTP_HOST": "0.0.0.0"})
    assert shared.allows(socket.gethostname()) and not shared.allows("evil.example")


def test_foreign_host_cross_site_post_and_headers_in_process(api_client):
    refused = api_client.get("/", headers={"Host": "evil.example:8000"})
    assert refused.status_code == 400 and refused.json()["error"]["type"] == "HostNotAllowed"
    cross = api_client.post(
        "/v1/produce", data={"prompt": "trap"}, headers={"Origin": "https://evil.example"}
    )
    assert cross.status_code == 403 and cross.json()["error"]["type"] == "CrossOriginRequest"
    page = api_client.get("/")
    assert page.status_code == 200
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    docs = api_client.get("/docs")  # Swagger UI: its CDN bundle, under its own policy
    assert docs.status_code == 200 and "cdn.jsdelivr.net" in docs.headers["content-security-policy"]


def test_the_page_has_no_inline_script_or_style():
    """The CSP allows no inline code: the page must not need any."""
    import re

    from producer.serving.web import WEB_DIR

    page = (WEB_DIR / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)  # every script is a file
    assert "<style" not in page and not re.search(r"\sstyle=", page)
    assert not re.search(r"\son[a-z]+=", page)  # no onclick= handlers


def test_producer_serve_tells_the_ingress_its_host_names():
    from producer.serving.launch import load_config

    config = load_config(
        ROOT / "serve_configs" / "local.yaml", host="0.0.0.0", allowed_hosts=["beats.local"]
    )
    env = config.applications[0].runtime_env["env_vars"]
    assert env == {"PRODUCER_HTTP_HOST": "0.0.0.0", "PRODUCER_ALLOWED_HOSTS": "beats.local"}
    json.dumps(env)  # plain strings, as a runtime_env needs


def _exchange(middleware, method: str, headers: dict[str, str], receive):
    """One request through an ASGI middleware; the answer's status and headers."""
    import asyncio

    sent = []

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": "/v1/produce",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    asyncio.run(middleware(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}


async def _read_all(scope, receive, send):
    """A route that reads its whole body, then answers 200."""
    from starlette.responses import PlainTextResponse

    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False) and message["type"] == "http.request"
    await PlainTextResponse("ok")(scope, receive, send)


def test_a_stalled_body_is_408_and_one_body_too_many_is_503_at_once():
    import asyncio

    from producer.serving.body_limit import BodyLimit

    async def stall():
        await asyncio.Event().wait()  # headers came; the body never does

    upload = {"content-length": "1000", "content-type": "application/octet-stream"}
    limit = BodyLimit(_read_all, 10_000, idle_timeout_s=0.2, max_unfinished=1, retry_after_s=7)
    t = time.monotonic()
    status, _ = _exchange(limit, "POST", upload, stall)
    assert status == 408 and time.monotonic() - t < 2.0
    assert limit.unfinished == 0  # the slot is free again

    limit.unfinished = 1  # one body arriving already
    status, headers = _exchange(limit, "POST", upload, stall)
    assert status == 503 and headers["retry-after"] == "7"

    async def no_body():
        return {"type": "http.request", "body": b"", "more_body": False}

    status, _ = _exchange(limit, "GET", {}, no_body)  # /healthz and downloads never wait
    assert status == 200

    async def slow_drip():  # a byte every 0.1 s never stalls, but the whole body has a deadline
        await asyncio.sleep(0.1)
        return {"type": "http.request", "body": b"x", "more_body": True}

    limit = BodyLimit(_read_all, 10_000, idle_timeout_s=0.2, body_timeout_s=0.5)
    t = time.monotonic()
    status, _ = _exchange(limit, "POST", upload, slow_drip)
    assert status == 408 and time.monotonic() - t < 2.0


# ---------------------------------------------------------------------- the page under its CSP


@pytest.mark.slow
def test_the_page_makes_a_beat_under_its_csp_without_a_violation(web_server, browser):  # noqa: F811
    """Chromium enforces the page's Content-Security-Policy; nothing the page does (its script,
    style sheet, the band bars' CSSOM styles, audio, the plot) may be blocked."""
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(web_server + "/")
    _wait(
        driver, "the health line", lambda d: "server ready" in d.find_element(By.ID, "health").text
    )
    driver.find_element(By.ID, "prompt").send_keys("dark trap beat")
    duration = driver.find_element(By.ID, "duration")
    duration.clear()
    duration.send_keys("0.5")
    driver.find_element(By.ID, "produce").click()
    _wait(driver, "the result", lambda d: d.find_element(By.ID, "result").is_displayed())
    _wait(driver, "the band bars", lambda d: d.find_elements(By.CSS_SELECTOR, "#bands [style]"))
    bar = driver.find_element(By.CSS_SELECTOR, "#bands [style]")
    assert "width" in bar.get_attribute("style")  # set through the CSSOM: allowed by the CSP
    console = [entry["message"] for entry in driver.get_log("browser")]
    assert not [m for m in console if "Content Security Policy" in m], console
