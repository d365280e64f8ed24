"""Serving under load: the local Serve graph over HTTP against the in-process pipeline.

    uv run python benchmarks/serve_load.py [--seconds 60] [--clients 1,4,16] [--single 7] \\
        [--duration 6] [--candidates 2] [--json benchmarks/serve_load.json]

1. `producer serve` (serve_configs/local.yaml, the packaged default model, a private store) is
   started as a user starts it, in a subprocess, on a free port.
2. One request at a time, alternating (so drift in the machine's load hits both alike): the
   same `POST /v1/produce` (prompt, duration, seed, candidates) over HTTP, and the same job on
   `LocalBackend` in this process (the pipeline stage by stage, as the graph runs it, no HTTP,
   no Ray, no store). The p50 of each, the graph's overhead p50(HTTP) / p50(in-process) - 1, and
   the median of the rounds' own ratios (each round's arms ran within seconds of each other).
   In-process runs with the replicas' torch thread count (`torch_threads` of local.yaml), so the
   two do the same work on the same threads; a third arm runs it in-process with torch's default
   thread count (what `producer demo` uses), for reference.
3. For each client count: that many threads, each sending the request again as soon as the last
   one came back, for `--seconds`: completed requests/s, p50/p99 latency of the 200s, and the
   count of every status (503 is the only error expected beyond capacity: the ingress admits
   `limits.max_inflight` at once). A client told 503 waits its `Retry-After`, as a client should.
   A client that waits past `--client-timeout` counts as a hang.

The machine's load is printed before each phase; other programs running at the same time make
every figure worse, the ratios less so.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests
from machine import machine

ROOT = Path(__file__).resolve().parents[1]
PROMPT = "Create a dark trap beat with heavy 808s"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(store: Path, log: Path, timeout_s: float = 600) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [sys.executable, "-m", "producer.cli", "serve", "--port", str(port)]
    command += ["--store-dir", str(store)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log_path = log
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(
            command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}/"
    started = time.monotonic()
    while f"serving {url}" not in log_path.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() - started > timeout_s:
            stop_server(proc)
            tail = log_path.read_text(errors="replace")[-3000:]
            raise SystemExit(f"producer serve did not come up:\n{tail}")
        time.sleep(1)
    print(f"producer serve up in {time.monotonic() - started:.0f} s at {url}", flush=True)
    return proc, url


def stop_server(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def form(args, seed: int) -> dict:
    return {
        "prompt": PROMPT,
        "duration": str(args.duration),
        "seed": str(seed),
        "candidates": str(args.candidates),
    }


def one_http(session: requests.Session, url: str, args, seed: int) -> tuple[int, float, float]:
    """(status, seconds, the Retry-After it was told: 0 without one)."""
    t = time.perf_counter()
    response = session.post(url + "v1/produce", data=form(args, seed), timeout=args.client_timeout)
    try:
        retry_after = float(response.headers.get("retry-after", 0))
    except ValueError:
        retry_after = 1.0
    return response.status_code, time.perf_counter() - t, retry_after


def one_http_timed(session: requests.Session, url: str, args, seed: int) -> tuple[int, float, dict]:
    """(status, seconds, the server's own per-stage `timings_s`)."""
    t = time.perf_counter()
    response = session.post(url + "v1/produce", data=form(args, seed), timeout=args.client_timeout)
    seconds = time.perf_counter() - t
    timings = response.json().get("timings_s", {}) if response.status_code == 200 else {}
    return response.status_code, seconds, timings


def local_backend(torch_threads: int | None):
    """The stages in this process, on the same model and thread count as the replicas."""
    from producer.serving.config import ServeArgs
    from producer.serving.local import LocalBackend
    from producer.serving.stages import setup_process

    serve_args = ServeArgs(torch_threads=torch_threads, warmup=False)
    setup_process(serve_args)
    return LocalBackend(serve_args)


def one_local(backend, args, seed: int, threads: int | None) -> tuple[float, dict]:
    """(seconds, the stages' timings) of one production in this process."""
    import torch

    from producer.serving.backend import ProduceJob

    torch.set_num_threads(threads)
    job = ProduceJob(PROMPT, args.duration, seed, args.candidates, None, "", None, 120.0)
    t = time.perf_counter()
    produced = asyncio.run(backend.produce(job))
    return time.perf_counter() - t, produced.timings


def stage_medians(http_timings: list[dict], local_timings: list[dict]) -> dict:
    """Per stage: the median seconds in each arm (the server's own timings, the in-process
    arm's), so a difference shows where it arises: in a stage, or outside them (HTTP, hops,
    the store)."""
    keys = [k for k in local_timings[0] if all(k in t for t in http_timings + local_timings)]
    return {
        k: {
            "graph": statistics.median(t[k] for t in http_timings),
            "in_process": statistics.median(t[k] for t in local_timings),
        }
        for k in keys
    }


def single(url: str, backend, args) -> dict:
    """Alternating one-at-a-time requests: the graph over HTTP and the stages in-process."""
    import torch

    session = requests.Session()
    replica_threads, default_threads = torch.get_num_threads(), os.cpu_count() or 1
    # Warm both: the first request compiles Faust code and grammars in each process.
    one_local(backend, args, 0, replica_threads)
    status, _, _ = one_http(session, url, args, 0)
    if status != 200:
        raise SystemExit(f"the warm-up request got HTTP {status}")
    http, local, local_default, http_timings, local_timings = [], [], [], [], []
    for i in range(args.single):
        # HTTP and in-process make the same beat (a seed neither process has seen); the
        # reference arm another one, or it would warm the in-process caches (Faust code
        # compiled per script) for the arm it shares the process with.
        seed, other_seed = 1 + i, 10_000 + i
        if i % 2:
            mine = one_local(backend, args, seed, replica_threads)
            local_default.append(one_local(backend, args, other_seed, default_threads)[0])
            status, s, timings = one_http_timed(session, url, args, seed)
        else:
            status, s, timings = one_http_timed(session, url, args, seed)
            local_default.append(one_local(backend, args, other_seed, default_threads)[0])
            mine = one_local(backend, args, seed, replica_threads)
        if status != 200:
            raise SystemExit(f"request {i} got HTTP {status}")
        http.append(s)
        http_timings.append(timings | {"wall": s})
        local.append(mine[0])
        local_timings.append(mine[1] | {"wall": mine[0]})
    p50_http, p50_local = statistics.median(http), statistics.median(local)
    return {
        "stages_p50_s": stage_medians(http_timings, local_timings),
        "http_s": http,
        "local_s": local,
        "p50_http_s": p50_http,
        "p50_local_s": p50_local,
        "local_default_threads_s": local_default,
        "p50_local_default_threads_s": statistics.median(local_default),
        "default_threads": default_threads,
        "overhead": p50_http / p50_local - 1,
        # Per round (same seed, same minute): robust to the machine's drift between rounds.
        "median_round_ratio": statistics.median(h / lo for h, lo in zip(http, local, strict=True)),
    }


def load(url: str, clients: int, args) -> dict:
    """`clients` threads sending back to back for `args.seconds`."""
    stop_at = time.monotonic() + args.seconds
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter = Counter()

    def client(k: int) -> None:
        session = requests.Session()
        n = 0
        while time.monotonic() < stop_at:
            seed = 1000 * k + n
            n += 1
            retry_after = 0.0
            try:
                status, s, retry_after = one_http(session, url, args, seed)
            except requests.Timeout:
                status, s = "hang", args.client_timeout
            except requests.RequestException as err:
                status, s = type(err).__name__, 0.0
            with lock:
                statuses[status] += 1
                if status == 200:
                    latencies.append(s)
            if status == 503:  # a well-behaved client waits as told (but not past the phase)
                time.sleep(max(0.0, min(retry_after or 1.0, stop_at - time.monotonic())))

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    ok = sorted(latencies)
    return {
        "clients": clients,
        "wall_s": wall,
        "ok": len(ok),
        "throughput_per_s": len(ok) / wall,
        "p50_s": statistics.median(ok) if ok else None,
        "p99_s": ok[min(len(ok) - 1, int(0.99 * len(ok)))] if ok else None,
        "statuses": {str(k): v for k, v in statuses.items()},
    }


def load_1min() -> float:
    return os.getloadavg()[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0, help="per client count")
    ap.add_argument("--clients", default="1,4,16", help="comma-separated; empty: no load phase")
    ap.add_argument("--single", type=int, default=15, help="one-at-a-time pairs (HTTP, local)")
    ap.add_argument("--duration", type=float, default=6.0, help="seconds of beat per request")
    ap.add_argument("--candidates", type=int, default=2)
    ap.add_argument("--client-timeout", type=float, default=300.0)
    ap.add_argument("--torch-threads", type=int, default=None, help="default: local.yaml's")
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks/serve_load.json")
    args = ap.parse_args()

    import yaml

    config = yaml.safe_load((ROOT / "serve_configs/local.yaml").read_text())
    threads = args.torch_threads or config["applications"][0]["args"].get("torch_threads")
    results: dict = {"machine": machine(), "args": vars(args) | {"json": str(args.json)}}
    print(f"in-process stages with torch_threads={threads}", flush=True)
    backend = local_backend(threads)
    with tempfile.TemporaryDirectory(prefix="serve-load-") as tmp:
        proc, url = start_server(Path(tmp) / "results", Path(tmp) / "serve.log")
        try:
            print(f"load {load_1min():.1f}: single requests", flush=True)
            results["single"] = single(url, backend, args)
            s = results["single"]
            print(
                f"one at a time: HTTP p50 {s['p50_http_s']:.3f} s, in-process p50 "
                f"{s['p50_local_s']:.3f} s, overhead {100 * s['overhead']:+.1f}%",
                flush=True,
            )
            del backend  # its memory and threads out of the way of the load phases
            results["load"] = []
            for clients in [int(c) for c in args.clients.split(",") if c.strip()]:
                print(f"load {load_1min():.1f}: {clients} clients, {args.seconds:g} s", flush=True)
                row = load(url, clients, args)
                results["load"].append(row)
                print(json.dumps(row), flush=True)
        finally:
            stop_server(proc)

    print(f"\n{args.duration:g} s beats, {args.candidates} candidates, default model, local.yaml")
    s = results["single"]
    print(
        f"one request: graph over HTTP p50 {s['p50_http_s']:.3f} s | in-process stages p50 "
        f"{s['p50_local_s']:.3f} s | overhead {100 * s['overhead']:+.1f}%  ({args.single} rounds)"
    )
    print(f"median of the rounds' HTTP/in-process ratios: {s['median_round_ratio']:.3f}")
    print("per stage, p50 s (graph: the server's own timings):")
    for stage, both in s["stages_p50_s"].items():
        print(f"  {stage:>10} graph {both['graph']:.3f}  in-process {both['in_process']:.3f}")
    print(
        f"in-process with torch's default {s['default_threads']} threads (producer demo): p50 "
        f"{s['p50_local_default_threads_s']:.3f} s"
    )
    print(f"{'clients':>7} {'req/s':>7} {'p50 s':>7} {'p99 s':>7}  statuses")
    for row in results["load"]:
        p50 = f"{row['p50_s']:.2f}" if row["p50_s"] is not None else "-"
        p99 = f"{row['p99_s']:.2f}" if row["p99_s"] is not None else "-"
        print(
            f"{row['clients']:>7} {row['throughput_per_s']:>7.3f} {p50:>7} {p99:>7}  "
            f"{row['statuses']}"
        )
    args.json.write_text(json.dumps(results, indent=1))
    print(f"→ {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
