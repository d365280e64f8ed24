"""Submit the preprocessing or training job to a Ray cluster (the Ray Jobs API), and follow it.

    producer submit train --address http://HEAD:8265 --config ray_jobs/configs/gpu-cluster.yaml \\
        --set train.epochs=1
    python -m ray_jobs.submit preprocess --address http://HEAD:8265 --config … (same flags)

What it does, in order, so that a mistake costs one line and no cluster time:

    build_submission   check the config locally (`load_config`, the job's section present), that
                       it lies inside the working dir (it travels with it) → entrypoint,
                       runtime_env, entrypoint resources
    connect            reach the dashboard (a short timeout, one line when it is not there)
    submit_job         JobSubmissionClient.submit_job: Ray zips the working dir by its own rules
                       (.gitignore, .rayignore, --exclude), refuses it over its cap (512 MiB) in
                       one line before sending anything, and uploads it
    follow_job         stream the job's log (websocket; polling if the stream drops) until the
                       job ends → exit 0 SUCCEEDED, 1 FAILED or STOPPED; Ctrl-C leaves it running

The entrypoint is `python -m ray_jobs.<kind> --config <path relative to the working dir>
--set …`: the job starts in the unpacked working dir on the cluster, so the config, and
`ray_jobs/` itself, come from the upload; `python` is the cluster's own environment (the one
`ray start` runs in, see cluster.yaml).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import queue
import re
import shlex
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from producer.errors import ProducerError
from ray_jobs.config import load_config

#: The jobs this module submits: `python -m ray_jobs.<kind>`, each reading its config section.
KINDS = ("preprocess", "train")

#: Default dashboard address (Ray's own default for `ray job submit`).
DEFAULT_ADDRESS = "http://127.0.0.1:8265"

#: Env vars every submitted job gets. RAY_ENABLE_UV_RUN_RUNTIME_ENV=0: the job must run in the
#: cluster's installed environment (cluster.yaml's setup_commands synced it on every node). With
#: Ray's uv hook on, a driver that finds `uv run` among its ancestors makes every worker start
#: through `uv run` in the unpacked working dir, which holds pyproject.toml and uv.lock: a fresh
#: environment synced per job and node (CUDA torch: gigabytes; on an offline cluster, a failure).
#: `--env RAY_ENABLE_UV_RUN_RUNTIME_ENV=1` turns it back on.
JOB_ENV = {"RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0"}

#: Config keys that name paths, per job: (inputs read by the job, outputs it writes).
_PATH_KEYS = {
    "preprocess": (("data_dir",), ("output_dir",)),
    "train": (("data",), ("storage_path", "export_dir")),
}

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class SubmitError(ProducerError):
    """A job that cannot be submitted or followed; one line that says what to do."""


# --- the submission, built and checked without a cluster --------------------------------------


@dataclass(frozen=True)
class Submission:
    """Everything `JobSubmissionClient.submit_job` gets, plus what the user should know."""

    kind: str
    entrypoint: str  # shell command run in the unpacked working dir
    runtime_env: dict[str, Any]  # working_dir (absolute), env_vars, excludes
    entrypoint_num_cpus: float
    entrypoint_num_gpus: float
    entrypoint_resources: dict[str, float]
    metadata: dict[str, str]
    config: str  # the config's path relative to the working dir (POSIX)
    warnings: list[str] = field(default_factory=list)

    def submit_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of `JobSubmissionClient.submit_job`."""
        return {
            "entrypoint": self.entrypoint,
            "runtime_env": self.runtime_env,
            "metadata": self.metadata,
            "entrypoint_num_cpus": self.entrypoint_num_cpus,
            "entrypoint_num_gpus": self.entrypoint_num_gpus,
            "entrypoint_resources": self.entrypoint_resources or None,
        }


def build_submission(
    kind: str,
    config_path: str | os.PathLike,
    overrides: Sequence[str] = (),
    working_dir: str | os.PathLike = ".",
    *,
    env: Mapping[str, str] | Iterable[str] = (),
    excludes: Sequence[str] = (),
    entrypoint_num_cpus: float = 1.0,
    entrypoint_num_gpus: float = 0.0,
    entrypoint_resources: Mapping[str, float] | None = None,
) -> Submission:
    """Check everything that can be checked locally and return the submission.

    `config_path` is taken from the current directory (like any CLI path) and must lie inside
    `working_dir`; the entrypoint names it relative to the working dir. `env` is a mapping or
    "KEY=VALUE" strings, added to `JOB_ENV`.

    What travels is Ray's business: `JobSubmissionClient.submit_job` packs the working dir by
    its own rules (.gitignore, .rayignore, `excludes`) and refuses a package over its cap, which
    `submit_job` turns into one line.

    Raises:
        SubmitError: unknown kind, working dir or config not usable, config without the job's
            section, bad env / resources.
        ConfigError: the config does not load (one line naming the file and the key).
    """
    if kind not in KINDS:
        raise SubmitError(f"unknown job {kind!r} (choose from {', '.join(KINDS)})")
    work = Path(working_dir).expanduser()
    if not work.is_dir():
        raise SubmitError(f"working dir {work}: not a directory")
    config = Path(config_path).expanduser()
    if not config.is_file():
        raise SubmitError(f"{config_path}: no such config file")
    rel = _relative_inside(config, work)
    work = work.resolve()
    if rel is None:
        raise SubmitError(
            f"{config_path}: the config must be inside the working dir {work}, which is what "
            "reaches the cluster; copy it there or pass --working-dir"
        )
    job = load_config(config, overrides)
    section = getattr(job, kind)
    if section is None:
        raise SubmitError(f"{config_path}: no '{kind}:' section, which a {kind} job needs")

    env_vars = {**JOB_ENV, **_parse_env(env)}
    cpus, gpus, resources = _check_resources(
        entrypoint_num_cpus, entrypoint_num_gpus, entrypoint_resources
    )

    notes = _path_warnings(kind, section, rel, work)
    if not (work / "ray_jobs" / f"{kind}.py").is_file():
        notes.append(
            f"{work} has no ray_jobs/{kind}.py to upload: the job runs the copy installed on "
            "the cluster"
        )

    command = ["python", "-m", f"ray_jobs.{kind}", "--config", rel]
    for item in overrides:
        command += ["--set", item]
    runtime_env: dict[str, Any] = {"working_dir": str(work), "env_vars": env_vars}
    if excludes:
        runtime_env["excludes"] = list(excludes)
    return Submission(
        kind=kind,
        entrypoint=shlex.join(command),
        runtime_env=runtime_env,
        entrypoint_num_cpus=cpus,
        entrypoint_num_gpus=gpus,
        entrypoint_resources=resources,
        metadata={"producer_job": kind, "config": rel},
        config=rel,
        warnings=notes,
    )


def _relative_inside(path: Path, folder: Path) -> str | None:
    """`path` relative to `folder` (POSIX), as written or with symlinks resolved; None when it
    is outside (Ray's zip follows symlinks, so a link inside the folder travels too)."""
    as_written = (Path(os.path.abspath(path)), Path(os.path.abspath(folder)))
    for inner, outer in (as_written, (path.resolve(), folder.resolve())):
        with contextlib.suppress(ValueError):
            return inner.relative_to(outer).as_posix()
    return None


def _parse_env(env: Mapping[str, str] | Iterable[str]) -> dict[str, str]:
    if isinstance(env, Mapping):
        items = [(str(k), str(v)) for k, v in env.items()]
    else:
        items = []
        for item in env:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise SubmitError(f"--env {item!r}: expected KEY=VALUE")
            items.append((key.strip(), value))
    for key, _ in items:
        if "=" in key or not key.replace("_", "").isalnum():
            raise SubmitError(f"--env: {key!r} is not an environment variable name")
    return dict(items)


def parse_resources(text: str | None) -> dict[str, float]:
    """`--entrypoint-resources '{"head": 0.001}'` → a dict; SubmitError when it is not one."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise SubmitError(f"--entrypoint-resources: invalid JSON ({err.msg}): {text}") from None
    if not isinstance(value, dict):
        raise SubmitError(f'--entrypoint-resources: expected a JSON object like {{"A": 1}}: {text}')
    return value


def _check_resources(
    cpus: float, gpus: float, resources: Mapping[str, Any] | None
) -> tuple[float, float, dict[str, float]]:
    for name, amount in (("--entrypoint-num-cpus", cpus), ("--entrypoint-num-gpus", gpus)):
        if not (math.isfinite(amount) and amount >= 0):
            raise SubmitError(f"{name}: must be a number >= 0 (got {amount})")
    out: dict[str, float] = {}
    for key, amount in (resources or {}).items():
        if key in ("CPU", "GPU", "memory"):
            raise SubmitError(
                f"--entrypoint-resources: use --entrypoint-num-cpus/-gpus for {key!r}"
            )
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise SubmitError(f"--entrypoint-resources: {key!r} must be a number (got {amount!r})")
        if not (math.isfinite(amount) and amount >= 0):
            raise SubmitError(f"--entrypoint-resources: {key!r} must be >= 0 (got {amount})")
        out[str(key)] = float(amount)
    return float(cpus), float(gpus), out


def _path_warnings(kind: str, section: Any, config_rel: str, work: Path) -> list[str]:
    """Relative paths resolve on the cluster, inside the job's unpacked working dir."""
    inputs, outputs = _PATH_KEYS[kind]
    warnings = []
    for key in inputs + outputs:
        value = getattr(section, key, None)
        if not value or "://" in value or os.path.isabs(os.path.expanduser(value)):
            continue
        if key in inputs:
            if os.path.normpath(value) == "." or (work / value).exists():
                continue  # it travels with the upload (unless an ignore rule leaves it out)
            what = "where it is not"
        else:
            what = "which is temporary"
        warnings.append(
            f"{config_rel}: {kind}.{key} {value!r} is relative: on the cluster it resolves "
            f"inside the job's unpacked working dir, {what}; use an absolute path or shared "
            "storage (s3://…)"
        )
    return warnings


# --- the cluster ---------------------------------------------------------------------------


def resolve_address(address: str | None) -> str:
    """The dashboard URL: `address`, else $RAY_API_SERVER_ADDRESS, else an http $RAY_ADDRESS,
    else Ray's default. "HEAD:8265" gets http://; a ray:// or GCS address is refused."""
    if not address:
        env_address = os.environ.get("RAY_ADDRESS", "")
        address = (
            os.environ.get("RAY_API_SERVER_ADDRESS")
            or (env_address if env_address.startswith(("http://", "https://")) else None)
            or DEFAULT_ADDRESS
        )
    address = address.strip().rstrip("/")
    if "://" not in address:
        address = f"http://{address}"
    scheme = address.split("://", 1)[0]
    if scheme not in ("http", "https"):
        raise SubmitError(
            f"--address {address}: give the dashboard's HTTP address, e.g. http://HEAD:8265 "
            "(`ray dashboard cluster.yaml` forwards it to http://127.0.0.1:8265)"
        )
    return address


@contextlib.contextmanager
def _explicit_address() -> Iterator[None]:
    """Ray's client lets RAY_API_SERVER_ADDRESS / RAY_ADDRESS override the address it is given;
    here the resolved address wins."""
    saved = {
        k: os.environ.pop(k) for k in ("RAY_API_SERVER_ADDRESS", "RAY_ADDRESS") if k in os.environ
    }
    try:
        yield
    finally:
        os.environ.update(saved)


def connect(address: str | None, timeout: float = 10.0):
    """A `JobSubmissionClient` for the dashboard at `address`, after checking it answers.

    Ray's client waits on a dead address for as long as TCP does; this checks first, with
    `timeout` seconds to connect.
    """
    import requests

    url = resolve_address(address)
    try:
        # Any HTTP answer will do (a cluster with token auth answers 401 to a request without
        # the token; the client below sends it, when this process has one).
        requests.get(f"{url}/api/version", timeout=(timeout, timeout))
    except requests.exceptions.RequestException as err:
        raise SubmitError(
            f"cannot reach the Ray dashboard at {url} ({_reason(err)}); is the cluster up? "
            "(`ray dashboard cluster.yaml` forwards a cluster's dashboard to "
            "http://127.0.0.1:8265)"
        ) from None
    from ray.exceptions import AuthenticationError
    from ray.job_submission import JobSubmissionClient

    # Ray's client logs each step at INFO ("Uploading package …", "WebSocket closed …"); the
    # command says what matters itself. Warnings (a very large file) still show.
    for name in (
        "ray.dashboard.modules.dashboard_sdk",
        "ray.dashboard.modules.job.sdk",
        "ray._private.runtime_env.packaging",  # a logger's name, not an import
    ):
        logging.getLogger(name).setLevel(logging.WARNING)

    try:
        with _explicit_address():
            return JobSubmissionClient(url)
    except AuthenticationError:
        raise SubmitError(
            f"the Ray dashboard at {url} wants the cluster's token (Ray token authentication): "
            "set RAY_AUTH_MODE=token, and RAY_AUTH_TOKEN (or ~/.ray/auth_token) to the token "
            "the cluster was started with"
        ) from None
    except (ConnectionError, RuntimeError) as err:
        raise SubmitError(f"{url}: {_one_line(err)}") from None


def _reason(err: BaseException) -> str:
    import requests

    if isinstance(err, requests.exceptions.ConnectTimeout | requests.exceptions.ReadTimeout):
        return "timed out"
    text = str(err)
    for marker in ("Connection refused", "Name or service not known", "No route to host"):
        if marker in text:
            return marker.lower()
    return _one_line(err)


def _one_line(err: BaseException | str, limit: int = 300) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: What the dashboard answers while no job agent has registered yet (a cluster just started).
_NO_AGENT = "No available agent to submit job"


def submit_job(
    client,
    submission: Submission,
    *,
    agent_wait_s: float = 60.0,
    note: Callable[[str], Any] = lambda _: None,
) -> str:
    """Upload the working dir and start the job; returns its submission id.

    A cluster that has just started answers "No available agent" until its job agent is up;
    that is retried for `agent_wait_s` seconds (the job was not created, so this is safe; the
    package, already uploaded, is not sent again).
    """
    deadline = time.monotonic() + agent_wait_s
    waiting = False
    while True:
        try:
            return client.submit_job(**submission.submit_kwargs())
        except RuntimeError as err:
            if _NO_AGENT in str(err) and time.monotonic() < deadline:
                if not waiting:
                    note("the cluster's job agent is not up yet; retrying")
                    waiting = True
                time.sleep(1.0)
                continue
            raise submit_refusal(err, submission) from None
        except (ValueError, ConnectionError, OSError) as err:
            raise submit_refusal(err, submission) from None


#: Ray's packager's refusal of a working dir over its upload cap (raised by the dashboard when
#: it stores the package, so it reaches the client inside a failed request).
_TOO_BIG = re.compile(r"Package size \(([^)]*)\) exceeds the maximum size of ([\d.]+ ?MiB)")


def submit_refusal(err: BaseException, submission: Submission) -> SubmitError:
    """The one line for a submission Ray refused; a package over Ray's cap says what to do."""
    too_big = _TOO_BIG.search(str(err))
    if too_big:
        size, cap = too_big.groups()
        return SubmitError(
            f"the working dir {submission.runtime_env['working_dir']} is too big for Ray to "
            f"upload: {size} packed, over Ray's {cap} cap; leave large folders out with "
            ".rayignore (or --exclude) and put data on shared storage"
        )
    return SubmitError(f"submitting the {submission.kind} job failed: {_server_error(err)}")


def _server_error(err: BaseException) -> str:
    """One line from a failed request; a server-side traceback becomes its last line."""
    text = str(err)
    if "Traceback (most recent call last)" in text:
        head = text.split(":", 1)[0] if text.startswith("Request failed") else ""
        last = [ln.strip() for ln in text.splitlines() if ln.strip()][-1].rstrip(".")
        text = f"{head}: {last}" if head else last
    return _one_line(text)


#: Seconds without a log chunk after which `follow_job` checks whether the job has ended.
_QUIET_CHECK_S = 15.0


def follow_job(
    client,
    job_id: str,
    write: Callable[[str], Any],
    *,
    poll_s: float = 1.0,
    max_poll_failures: int = 30,
    note: Callable[[str], Any] = lambda _: None,
):
    """Write the job's log as it grows, until the job ends; returns its final `JobStatus`.

    Streams over the dashboard's websocket (`tail_job_logs`). If the stream breaks (a proxy
    without websockets, a network blip), it polls `get_job_logs` instead and writes only what
    it has not written yet; a final fetch after the job ends catches the last lines either way.

    The stream runs in a daemon thread with its own event loop, and this thread only waits on a
    queue and writes: Ctrl-C raises KeyboardInterrupt here, at a clean point (never inside
    aiohttp's teardown), and propagates (the job keeps running).
    """
    import requests

    written = 0

    def emit(text: str) -> None:
        nonlocal written
        if text:
            write(text)
            written += len(text)

    chunks: queue.Queue = queue.Queue()
    threading.Thread(
        target=_stream_logs, args=(client, job_id, chunks), name="job-log-stream", daemon=True
    ).start()
    quiet_since = time.monotonic()
    while True:
        try:
            kind, value = chunks.get(timeout=0.5)
        except queue.Empty:
            # A stream that goes silent (a proxy holding a dead connection) must not outlive
            # the job: after a quiet spell, ask; once the job has ended, polling finishes up.
            if time.monotonic() - quiet_since > _QUIET_CHECK_S:
                quiet_since = time.monotonic()
                with contextlib.suppress(Exception):
                    if client.get_job_status(job_id).is_terminal():
                        break
            continue
        quiet_since = time.monotonic()
        if kind == "chunk":
            emit(value)
            continue
        if kind == "error":
            note(f"log stream lost ({_one_line(value, 120)}); polling instead")
        break

    failures = 0
    while True:
        try:
            status = client.get_job_status(job_id)
            logs = client.get_job_logs(job_id)  # after the status: complete once it is terminal
        except (requests.exceptions.RequestException, RuntimeError, ConnectionError) as err:
            failures += 1
            if failures >= max_poll_failures:
                raise SubmitError(
                    f"lost the cluster while following job {job_id} ({_one_line(err, 120)}); it "
                    f"may still be running: ray job status {job_id}"
                ) from None
            time.sleep(poll_s)
            continue
        failures = 0
        emit(logs[written:])
        if status.is_terminal():
            return status
        time.sleep(poll_s)


def _stream_logs(client, job_id: str, chunks: queue.Queue) -> None:
    """Put ("chunk", text)… then ("end", None) or ("error", exception) on `chunks`."""

    async def stream() -> None:
        async for chunk in client.tail_job_logs(job_id):
            chunks.put(("chunk", chunk))

    try:
        with warnings.catch_warnings():  # Ray's own websocket call, not ours to fix
            warnings.filterwarnings("ignore", "ssl=None is deprecated", DeprecationWarning)
            asyncio.run(stream())
    except Exception as err:  # any stream failure: the caller falls back to polling
        chunks.put(("error", err))
    else:
        chunks.put(("end", None))


def job_message(client, job_id: str) -> str:
    """The first line of Ray's message about a job ('' when there is none)."""
    try:
        message = client.get_job_info(job_id).message or ""
    except Exception:  # only decoration for the final line
        return ""
    first = message.strip().splitlines()[0] if message.strip() else ""
    return _one_line(first.split(", last available logs")[0], 200)


# --- the command ---------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of `producer submit` and `python -m ray_jobs.submit`."""
    parser.add_argument("kind", choices=KINDS, help="the job: python -m ray_jobs.<kind>")
    parser.add_argument(
        "--address",
        help="the dashboard, http://HEAD:8265 (default: $RAY_API_SERVER_ADDRESS, an http "
        f"$RAY_ADDRESS, else {DEFAULT_ADDRESS})",
    )
    parser.add_argument(
        "--config",
        required=True,
        help="job config (ray_jobs/configs/*.yaml); must be inside the working dir",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set train.epochs=1 (repeatable; checked locally, "
        "then passed on)",
    )
    parser.add_argument(
        "--working-dir",
        default=".",
        help="folder uploaded as the job's working dir (default: the current one); "
        ".gitignore and .rayignore apply, 512 MiB at most",
    )
    parser.add_argument(
        "--exclude",
        dest="excludes",
        action="append",
        default=[],
        metavar="PATTERN",
        help="also leave out of the upload (gitwildmatch, relative to the working dir)",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="environment variable for the job (repeatable); jobs always get "
        "RAY_ENABLE_UV_RUN_RUNTIME_ENV=0 (run the cluster's installed env) unless set here",
    )
    parser.add_argument(
        "--entrypoint-num-cpus",
        type=float,
        default=1.0,
        help="CPUs reserved for the driver (default 1). Reserving any resource makes Ray place "
        "the driver on a node that has it instead of always on the head; cluster.yaml's head "
        "offers no CPUs, so the driver runs on a worker and cannot starve or OOM the head",
    )
    parser.add_argument(
        "--entrypoint-num-gpus", type=float, default=0.0, help="GPUs reserved for the driver"
    )
    parser.add_argument(
        "--entrypoint-resources",
        metavar="JSON",
        help="custom resources reserved for the driver, e.g. '{\"driver_slot\": 1}'",
    )
    parser.add_argument(
        "--no-follow",
        action="store_true",
        help="print the job id and return at once (exit 0) instead of following the log",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        help="seconds to wait for the dashboard to answer (default 10)",
    )


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """The command body: 0 succeeded (or submitted, with --no-follow), 1 failed or stopped,
    130 interrupted while following. Raises ProducerError (one line) for everything the user
    can fix, before anything reaches the cluster where possible."""
    out = out or sys.stdout
    err = err or sys.stderr

    def say(line: str) -> None:
        print(line, file=err, flush=True)

    submission = build_submission(
        args.kind,
        args.config,
        args.overrides,
        args.working_dir,
        env=args.env,
        excludes=args.excludes,
        entrypoint_num_cpus=args.entrypoint_num_cpus,
        entrypoint_num_gpus=args.entrypoint_num_gpus,
        entrypoint_resources=parse_resources(args.entrypoint_resources),
    )
    for warning in submission.warnings:
        say(f"warning: {warning}")
    client = connect(args.address, timeout=args.timeout)
    url = client.get_address()
    say(
        f"submitting to {url}: {submission.entrypoint} (working dir "
        f"{submission.runtime_env['working_dir']}, packed by Ray's .gitignore / .rayignore rules)"
    )
    job_id = submit_job(client, submission, note=lambda m: say(f"note: {m}"))

    def write(text: str) -> None:
        out.write(text)
        out.flush()

    try:  # from here on, Ctrl-C leaves a running job behind: say so, and how to stop it
        say(f"submitted job {job_id}")
        say(f"  follow: ray job logs -f --address {url} {job_id}")
        say(f"  stop:   ray job stop --address {url} {job_id}")
        if args.no_follow:
            print(job_id, file=out, flush=True)
            return EXIT_OK
        status = follow_job(client, job_id, write, note=lambda m: say(f"note: {m}"))
    except KeyboardInterrupt:
        say(
            f"stopped following; job {job_id} keeps running. Stop it with: "
            f"ray job stop --address {url} {job_id}"
        )
        return EXIT_INTERRUPTED
    status = str(status)
    if status == "SUCCEEDED":
        say(f"job {job_id} succeeded")
        return EXIT_OK
    if status == "STOPPED":
        say(f"job {job_id} was stopped before it finished (ray job stop)")
        return EXIT_FAILED
    message = job_message(client, job_id)
    say(f"job {job_id} failed" + (f": {message}" if message else ""))
    return EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ray_jobs.submit", description=__doc__.split("\n")[0]
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except ProducerError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:  # before the job was submitted: nothing runs
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
