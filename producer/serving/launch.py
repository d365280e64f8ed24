"""Serve config files: load and check them, start them on a local Ray, wait until they serve.

    config = load_config("serve_configs/local.yaml", port=8001, checkpoint="runs/a/export")
    url = start(config)          # a local Ray in this process; returns http://127.0.0.1:8001/
    ...
    stop()

`start` does with Serve's public API what `serve run serve_configs/local.yaml` does: `serve.start`
with the file's HTTP options, then `serve.run_many` with each application built by our builder,
each deployment's options from the file applied (`app.build_app_with_options`) and the app's
runtime_env on every replica; then it waits until every deployment is up, reporting progress.
It is what `producer serve` and the serving tests run; a cluster takes the same file with
`serve deploy`, where Serve's controller reads it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from producer.errors import ProducerError
from producer.ray_local import init_ray, local_workers_use_this_python

__all__ = ["IMPORT_PATH", "load_config", "start", "stop", "url_of"]

#: The builder the shipped configs name.
IMPORT_PATH = "producer.serving.app:build_app"


def load_config(
    path: str | os.PathLike,
    *,
    host: str | None = None,
    port: int | None = None,
    checkpoint: str | None = None,
    store_dir: str | None = None,
    allowed_hosts: Sequence[str] = (),
):
    """The file as a `ServeDeploySchema`, with overrides applied and our apps' args checked.

    `host` and `port` replace the file's `http_options`; `checkpoint` and `store_dir` the
    `args.checkpoint` and `args.store.dir` of every application built by `IMPORT_PATH`. Those
    applications' ingress also learns the bound host and `allowed_hosts` (more Host names it
    answers to; `*`: any), through their `runtime_env` (`browser_guard.HostPolicy.from_env`).

    Raises `ProducerError` (one line: the file, the field, the problem) for an unreadable file,
    a schema error, bad `args`, or a deployment name the app does not have.
    """
    import yaml
    from pydantic import ValidationError
    from ray.serve.schema import ServeDeploySchema

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ProducerError(f"{path}: cannot read the serve config ({_reason(err)})") from None
    if not isinstance(raw, dict):
        raise ProducerError(f"{path}: a serve config is a mapping (http_options, applications)")
    http = raw.setdefault("http_options", {}) or {}
    raw["http_options"] = http
    if host is not None:
        http["host"] = host
    if port is not None:
        http["port"] = port
    for app in raw.get("applications") or []:
        if not isinstance(app, dict) or app.get("import_path") != IMPORT_PATH:
            continue
        args = app.setdefault("args", {}) or {}
        app["args"] = args
        if checkpoint is not None:
            args["checkpoint"] = str(checkpoint)
        if store_dir is not None:
            args.setdefault("store", {})["dir"] = str(store_dir)
        _tell_hosts(app, http.get("host"), allowed_hosts)
    try:
        config = ServeDeploySchema.model_validate(raw)
    except ValidationError as err:
        raise ProducerError(f"{path}: {_first(err)}") from None
    for app in config.applications:
        if app.import_path == IMPORT_PATH:
            check_app(app, path)
    return config


def _tell_hosts(app: dict, bind_host: str | None, allowed_hosts: Sequence[str]) -> None:
    """Put the bound host and the extra Host names in the application's environment: the
    ingress replicas read them there (a replica cannot see the proxy's `http_options`)."""
    # deferred: fastapi (this module is imported by `producer --help`)
    from producer.serving.browser_guard import ALLOWED_HOSTS_ENV, BIND_HOST_ENV

    runtime_env = app.get("runtime_env") or {}
    env_vars = dict(runtime_env.get("env_vars") or {})
    env_vars[BIND_HOST_ENV] = str(bind_host or "127.0.0.1")
    if allowed_hosts:
        env_vars[ALLOWED_HOSTS_ENV] = ",".join(allowed_hosts)
    app["runtime_env"] = {**runtime_env, "env_vars": env_vars}


def check_app(app, where: str | os.PathLike = "config") -> None:
    """Our app's `args` validate as `ServeArgs`, and every listed deployment exists."""
    from pydantic import ValidationError

    from producer.serving.app import DEPLOYMENTS  # deferred: ray
    from producer.serving.config import ServeArgs  # deferred: numpy, the pipeline

    try:
        ServeArgs.model_validate(app.args or {})
    except ValidationError as err:
        raise ProducerError(f"{where}: application '{app.name}': args.{_first(err)}") from None
    for deployment in app.deployments:
        if deployment.name not in DEPLOYMENTS:
            raise ProducerError(
                f"{where}: application '{app.name}' has no deployment '{deployment.name}' "
                f"(it has {', '.join(DEPLOYMENTS)})"
            )


def url_of(config, app_index: int = 0) -> str:
    """The HTTP address of an application of the config (its route prefix on the proxy)."""
    http = config.http_options
    host = http.host or "127.0.0.1"
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    prefix = config.applications[app_index].route_prefix or "/"
    return f"http://{shown}:{http.port}{prefix}"


def start(
    config,
    *,
    num_cpus: float | None = None,
    timeout_s: float = 900.0,
    on_status=None,
) -> str:
    """Start a local Ray (unless one is up), deploy the config, wait for RUNNING; the URL.

    `on_status(text)` hears progress lines while the replicas start. Raises `ProducerError`
    when an application fails to deploy (with Serve's message) or is not up in `timeout_s`.
    """
    import ray
    from ray import serve
    from ray.serve.config import gRPCOptions

    from producer.serving.app import run_target  # deferred: ray and the stages

    targets = [run_target(app) for app in config.applications]
    if not ray.is_initialized():
        local_workers_use_this_python()
        # On 127.0.0.1 only (unless RAY_ADDRESS or PRODUCER_RAY_HOST say otherwise): the HTTP
        # proxy is the one thing meant to be reached, at the config's host.
        init_ray(
            num_cpus=num_cpus,
            namespace="serve",
            include_dashboard=False,
            log_to_driver=True,
        )
    serve.start(
        http_options=config.http_options.model_dump(),
        proxy_location=config.proxy_location,
        grpc_options=gRPCOptions(**config.grpc_options.model_dump()),
    )
    # Not waiting here: the loop below reports the replicas as they come up and turns a
    # failed deployment into one line.
    serve.run_many(
        targets, wait_for_ingress_deployment_creation=False, wait_for_applications_running=False
    )
    names = [app.name for app in config.applications]
    deadline = time.monotonic() + timeout_s
    last = ""
    while True:
        status = serve.status()
        apps = {name: status.applications.get(name) for name in names}
        failed = [(n, a) for n, a in apps.items() if a is not None and a.status == "DEPLOY_FAILED"]
        if failed:
            name, app = failed[0]
            raise ProducerError(f"application '{name}' failed to deploy: {_failure(app)}")
        if all(a is not None and a.status == "RUNNING" for a in apps.values()):
            return url_of(config)
        line = _progress(apps)
        if on_status is not None and line != last:
            on_status(line)
            last = line
        if time.monotonic() > deadline:
            raise ProducerError(f"the serve config was not up after {timeout_s:g} s: {line}")
        time.sleep(0.5)


def stop() -> None:
    """Shut Serve down (the local Ray stays up until the process ends or `ray.shutdown()`)."""
    from ray import serve

    serve.shutdown()


def _progress(apps: dict[str, Any]) -> str:
    parts = []
    for name, app in apps.items():
        if app is None:
            parts.append(f"{name}: waiting")
            continue
        up = [d for d, s in app.deployments.items() if s.status == "HEALTHY"]
        parts.append(f"{name}: {app.status}, {len(up)}/{len(app.deployments)} deployments up")
    return "; ".join(parts)


def _failure(app: Any) -> str:
    """Why an application failed: the failing deployment's own error (a replica's constructor
    raising, say) rather than the application's "Failed to update the deployments [...]"."""
    for name, deployment in app.deployments.items():
        if deployment.status in ("UNHEALTHY", "DEPLOY_FAILED") and deployment.message:
            return f"{name}: {_one_line(deployment.message)}"
    return _one_line(app.message)


def _first(err) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "config"
    return f"{where}: {first.get('msg', 'invalid')}"


def _one_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not lines:
        return "no message"
    # Serve's message ends with the exception; the traceback before it is for the log.
    return lines[-1] if len(lines) > 1 else lines[0]


def _reason(err: BaseException) -> str:
    return getattr(err, "strerror", None) or str(err).splitlines()[0]
