"""Serving fixtures: synthetic uploads, the HTTP API over the stages in this process, and one
`producer serve` (serve_configs/local.yaml on a local Ray) shared by the tests over the network."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import requests
import soundfile as sf

SR = 44100
ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 420


def wav_bytes(audio: np.ndarray, sr: int = SR, subtype: str = "PCM_16") -> bytes:
    """(2, T) float audio as the bytes of a WAV file."""
    buf = io.BytesIO()
    sf.write(buf, audio.T, sr, format="WAV", subtype=subtype)
    return buf.getvalue()


def vocal_take(seconds: float, bpm: float = 90.0) -> np.ndarray:
    """A sung-like line on a 90 bpm grid (vibrato tones, a syllable per beat)."""
    t = np.arange(int(seconds * SR)) / SR
    pos = t / (60.0 / bpm)
    notes = np.array([57, 60, 62, 64, 62, 60, 57, 55])
    freq = 440.0 * 2 ** ((notes[pos.astype(int) % len(notes)] - 69) / 12)
    phase = 2 * np.pi * np.cumsum(freq * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * t))) / SR
    mono = 0.3 * np.exp(-(pos % 1.0) * 2.5) * (np.sin(phase) + 0.3 * np.sin(2 * phase))
    return np.stack([mono, 0.9 * mono]).astype(np.float32)


@pytest.fixture(scope="module")
def local_backend(tiny_checkpoint, one_torch_thread):
    """Every stage in this process on the tiny model (loaded once per module)."""
    from producer.serving.config import ServeArgs
    from producer.serving.local import LocalBackend

    return LocalBackend(ServeArgs(checkpoint=str(tiny_checkpoint), warmup=False))


@pytest.fixture
def make_client(local_backend, tmp_path):
    """`make_client(**limits)`: a TestClient of the API with these limits, a fresh store."""
    from fastapi.testclient import TestClient

    from producer.serving.api import create_api
    from producer.serving.config import ServeArgs

    def make(**limits):
        args = ServeArgs(
            checkpoint=local_backend.args.checkpoint,
            limits=limits,
            store={"dir": str(tmp_path / "results")},
        )
        # A Host the server answers to (browser_guard refuses TestClient's "testserver").
        return TestClient(
            create_api(local_backend, args),
            base_url="http://127.0.0.1:8000",
            raise_server_exceptions=False,
        )

    return make


@dataclass(frozen=True)
class Served:
    url: str  # http://127.0.0.1:PORT/
    pid: int  # the `producer serve` process; the local Ray's processes are its children


@pytest.fixture(scope="package")
def served(tmp_path_factory):
    """`producer serve` in the background on a free port, for every test of this package that
    asks (started once: the replicas take a minute or two on two cores); Ctrl-C at the end."""
    port = free_port()
    store = tmp_path_factory.mktemp("results")
    log_path = tmp_path_factory.mktemp("serve") / "serve.log"
    command = [sys.executable, "-m", "producer.cli", "serve", "--port", str(port)]
    command += ["--store-dir", str(store)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}/"
    started = time.monotonic()
    try:
        while f"serving {url}" not in log_path.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() - started > START_TIMEOUT_S:
                pytest.fail(f"producer serve did not come up:\n{_tail(log_path)}")
            time.sleep(1)
        print(f"producer serve up in {time.monotonic() - started:.0f} s")
        yield Served(url, proc.pid)
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C: Serve and the local Ray shut down
        try:
            code = proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            pytest.fail(f"producer serve did not stop on Ctrl-C:\n{_tail(log_path)}")
    assert code == 0, _tail(log_path)
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "healthz", timeout=5)


@pytest.fixture
def server(served) -> str:
    """The shared server's URL."""
    return served.url


def pytest_collection_modifyitems(config, items):
    """The fault test kills a replica of the shared server: run it after the server's other
    tests (right after them, so the server stops before the next package)."""
    fault = [item for item in items if item.nodeid.startswith("tests/serving/test_fault.py")]
    if not fault:
        return
    rest = [item for item in items if item not in fault]
    users = [k for k, item in enumerate(rest) if "served" in getattr(item, "fixturenames", ())]
    at = users[-1] + 1 if users else len(rest)
    items[:] = rest[:at] + fault + rest[at:]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, lines: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
