"""`producer serve`: the Ray Serve graph on this machine, in the foreground, until Ctrl-C.

    producer serve                                   # serve_configs/local.yaml on 127.0.0.1:8000
    producer serve --port 8080 --checkpoint runs/a/export
    producer serve --config my.yaml --host 0.0.0.0   # share it on the network
    producer serve --host 0.0.0.0 --allow-host beats.example.org   # ...under a DNS name

It starts a local Ray, deploys the config (`producer.serving.launch`, what `serve run FILE`
does), waits until every replica is up and prints the URL. Ctrl-C (or SIGTERM) shuts Serve and
Ray down. For a cluster use `serve deploy serve_configs/cluster.yaml` (see the README). Ray
itself listens on 127.0.0.1 only (`producer.ray_local`); docs/security.md says what listens
where.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from producer.cli import options as opt
from producer.serving.launch import load_config, start, stop

DEFAULT_CONFIG = "serve_configs/local.yaml"


def _config_path(name: str) -> Path:
    """The config as given; the shipped default also from the repository when run elsewhere."""
    path = Path(name)
    if not path.exists() and name == DEFAULT_CONFIG:
        shipped = Path(__file__).resolve().parents[2] / DEFAULT_CONFIG
        if shipped.exists():
            return shipped
    return path


def _cmd_serve(args: argparse.Namespace) -> int:
    path = _config_path(args.config)
    config = load_config(
        path,
        host=args.host,
        port=args.port,
        checkpoint=args.checkpoint,
        store_dir=args.store_dir,
        allowed_hosts=args.allow_host or (),
    )
    _stop_on_signals()
    print(
        f"producer serve: starting {path} on a local Ray (replicas load their models…)",
        file=sys.stderr,
        flush=True,
    )
    try:
        url = start(
            config,
            num_cpus=args.num_cpus,
            on_status=lambda line: print(f"producer serve: {line}", file=sys.stderr, flush=True),
        )
        _stop_on_signals()  # again: ray.init installed its own SIGTERM handler
        print(f"producer serve: serving {url} (API docs {url}docs); Ctrl-C stops", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("producer serve: stopping (a few seconds)", file=sys.stderr, flush=True)
        return 0
    finally:
        # A second Ctrl-C (uv run forwards one, the terminal sends one) must not cut the
        # shutdown short and leave replicas behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _shutdown(stop)


def _stop_on_signals() -> None:
    """Ctrl-C and SIGTERM both stop the server cleanly (even where SIGINT came in ignored)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.default_int_handler)


def _shutdown(stop) -> None:
    import ray

    if ray.is_initialized():
        try:
            stop()
        finally:
            ray.shutdown()


def add_serve_command(sub) -> None:
    """Register `producer serve` on the main parser's subparsers."""
    p = sub.add_parser(
        "serve",
        help="serve the producer over HTTP (Ray Serve graph) on this machine until Ctrl-C",
        description="Start a local Ray, deploy a Serve config (planner, generator, Faust "
        "writer, renderer and separator replicas behind one FastAPI ingress), print the URL "
        "and serve until Ctrl-C. The HTTP API is described at <url>/docs.",
    )
    p.add_argument(
        "--config", default=DEFAULT_CONFIG, help=f"a Serve config file (default {DEFAULT_CONFIG})"
    )
    p.add_argument("--host", help="address to listen on (default: the config's, 127.0.0.1)")
    p.add_argument(
        "--port", type=opt.port, help="port to listen on, 1..65535 (default: the config's, 8000)"
    )
    p.add_argument(
        "--allow-host",
        action="append",
        metavar="NAME",
        help="one more Host name browsers may use to reach the server, e.g. a DNS name for "
        "--host 0.0.0.0 (repeatable; '*': any). Always allowed: localhost, the --host, IP "
        "addresses. See docs/security.md",
    )
    p.add_argument("--checkpoint", help="a trained model folder (default: the packaged model)")
    p.add_argument("--store-dir", help="folder for results (default: the config's)")
    p.add_argument(
        "--num-cpus", type=opt.cpus, help="CPUs the local Ray may use (default: all of them)"
    )
    p.set_defaults(func=_cmd_serve)
