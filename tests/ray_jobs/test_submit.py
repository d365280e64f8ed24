"""`producer submit preprocess|train`: the submission built without a cluster, the CLI's one-line
errors, and real jobs on a private Ray head (started here, stopped here, nothing else touched).

The cluster tests run in file order and share one head, one synthetic corpus and its shards.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
import yaml

from producer.cli import main as producer_main
from producer.errors import ProducerError
from ray_jobs.config import ConfigError
from ray_jobs.submit import (
    JOB_ENV,
    SubmitError,
    build_submission,
    follow_job,
    parse_resources,
    resolve_address,
    submit_refusal,
)
from ray_jobs.submit import main as submit_main

ROOT = Path(__file__).resolve().parents[2]
LOCAL_CPU = ROOT / "ray_jobs/configs/local-cpu.yaml"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _free_ports(n: int) -> list[int]:
    """`n` distinct ports free right now (all held open together, so no duplicates)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _copy_ray_jobs(dest: Path) -> None:
    shutil.copytree(
        ROOT / "ray_jobs", dest / "ray_jobs", ignore=shutil.ignore_patterns("__pycache__")
    )


def _write_config(path: Path, **sections) -> Path:
    """local-cpu.yaml with some keys replaced: _write_config(p, train={"epochs": 1})."""
    data = yaml.safe_load(LOCAL_CPU.read_text())
    for name, values in sections.items():
        if values is None:
            data.pop(name, None)
        else:
            data[name].update(values)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def workdir(tmp_path) -> Path:
    """A project folder: the job code and a config with absolute paths."""
    work = tmp_path / "work"
    _copy_ray_jobs(work)
    _write_config(
        work / "configs/job.yaml",
        preprocess={"data_dir": str(tmp_path / "data"), "output_dir": str(tmp_path / "shards")},
        train={"data": str(tmp_path / "shards"), "storage_path": str(tmp_path / "runs")},
    )
    return work


# --- building the submission (no cluster) ------------------------------------------------------


def test_entrypoint_runtime_env_and_resources(workdir):
    overrides = ["train.epochs=1", "train.fault_injection={kill_rank: 1, kill_at_step: 3}"]
    s = build_submission(
        "train",
        workdir / "configs/job.yaml",
        overrides,
        workdir,
        env=["WANDB_MODE=offline", "EMPTY="],
        excludes=["notes/"],
        entrypoint_num_cpus=2,
        entrypoint_num_gpus=0.5,
        entrypoint_resources={"driver_slot": 1},
    )
    # The shell command the cluster runs, and exactly the arguments it passes to the job.
    assert shlex.split(s.entrypoint) == [
        "python", "-m", "ray_jobs.train", "--config", "configs/job.yaml",
        "--set", "train.epochs=1",
        "--set", "train.fault_injection={kill_rank: 1, kill_at_step: 3}",
    ]  # fmt: skip
    assert s.runtime_env == {
        "working_dir": str(workdir.resolve()),
        "env_vars": {
            "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0",
            "WANDB_MODE": "offline",
            "EMPTY": "",
        },
        "excludes": ["notes/"],
    }
    kwargs = s.submit_kwargs()
    assert kwargs["entrypoint"] == s.entrypoint and kwargs["runtime_env"] == s.runtime_env
    assert (kwargs["entrypoint_num_cpus"], kwargs["entrypoint_num_gpus"]) == (2.0, 0.5)
    assert kwargs["entrypoint_resources"] == {"driver_slot": 1.0}
    assert kwargs["metadata"] == {"producer_job": "train", "config": "configs/job.yaml"}
    assert s.runtime_env["working_dir"] == str(workdir.resolve())
    assert s.warnings == []  # absolute paths, the job code travels

    pre = build_submission("preprocess", workdir / "configs/job.yaml", working_dir=workdir)
    assert shlex.split(pre.entrypoint) == [
        "python", "-m", "ray_jobs.preprocess", "--config", "configs/job.yaml",
    ]  # fmt: skip
    # Defaults: one CPU for the driver (so it is placed by resources, not pinned to the head).
    kwargs = pre.submit_kwargs()
    assert (kwargs["entrypoint_num_cpus"], kwargs["entrypoint_num_gpus"]) == (1.0, 0.0)
    assert kwargs["entrypoint_resources"] is None
    assert pre.runtime_env["env_vars"] == JOB_ENV
    assert "excludes" not in pre.runtime_env


def test_env_can_turn_the_uv_hook_back_on(workdir):
    s = build_submission(
        "train",
        workdir / "configs/job.yaml",
        working_dir=workdir,
        env={"RAY_ENABLE_UV_RUN_RUNTIME_ENV": "1"},
    )
    assert s.runtime_env["env_vars"] == {"RAY_ENABLE_UV_RUN_RUNTIME_ENV": "1"}


def test_config_path_is_taken_from_cwd_and_made_relative(workdir, monkeypatch):
    monkeypatch.chdir(workdir / "configs")
    s = build_submission("train", "job.yaml", working_dir="..")
    assert s.config == "configs/job.yaml"
    assert "--config configs/job.yaml" in s.entrypoint
    assert s.runtime_env["working_dir"] == str(workdir.resolve())


def test_config_outside_the_working_dir_is_refused(workdir, tmp_path):
    outside = _write_config(tmp_path / "elsewhere/job.yaml")
    with pytest.raises(SubmitError) as info:
        build_submission("train", outside, working_dir=workdir)
    message = str(info.value)
    assert "\n" not in message
    assert "inside the working dir" in message and str(workdir.resolve()) in message


def test_config_reached_through_a_symlink_counts_as_inside(workdir, tmp_path):
    # A link to the project: the config is inside it as written (and Ray follows the link).
    link = tmp_path / "link"
    link.symlink_to(workdir)
    s = build_submission("train", link / "configs/job.yaml", working_dir=link)
    assert s.config == "configs/job.yaml"
    s = build_submission("train", link / "configs/job.yaml", working_dir=workdir)
    assert s.config == "configs/job.yaml"


def test_missing_and_invalid_configs_are_one_line(workdir):
    with pytest.raises(SubmitError, match="no such config file"):
        build_submission("train", workdir / "nope.yaml", working_dir=workdir)
    bad = workdir / "configs/bad.yaml"
    bad.write_text(yaml.safe_dump({"train": {"data": "/x", "zero_stage": 3}}))
    with pytest.raises(ConfigError) as info:
        build_submission("train", bad, working_dir=workdir)
    assert isinstance(info.value, ProducerError)
    assert "\n" not in str(info.value) and "unknown key 'train.zero_stage'" in str(info.value)
    # Overrides are checked locally too, before anything is uploaded.
    with pytest.raises(ConfigError, match=r"unknown key 'train\.epoch'"):
        build_submission("train", workdir / "configs/job.yaml", ["train.epoch=1"], workdir)


def test_config_without_the_jobs_section(workdir):
    config = _write_config(workdir / "configs/pre-only.yaml", train=None)
    build_submission("preprocess", config, working_dir=workdir)  # fine for preprocessing
    with pytest.raises(SubmitError, match="no 'train:' section"):
        build_submission("train", config, working_dir=workdir)


def test_bad_flags_are_one_line(workdir):
    config = workdir / "configs/job.yaml"
    cases = [
        ({"env": ["NOEQUALS"]}, "KEY=VALUE"),
        ({"env": ["BAD-NAME=1"]}, "not an environment variable name"),
        ({"entrypoint_num_cpus": -1}, "--entrypoint-num-cpus"),
        ({"entrypoint_num_gpus": float("nan")}, "--entrypoint-num-gpus"),
        ({"entrypoint_resources": {"CPU": 1}}, "--entrypoint-num-cpus"),
        ({"entrypoint_resources": {"slot": "one"}}, "must be a number"),
        ({"entrypoint_resources": {"slot": -1}}, ">= 0"),
    ]
    for kwargs, words in cases:
        with pytest.raises(SubmitError, match=re.escape(words)):
            build_submission("train", config, working_dir=workdir, **kwargs)
    with pytest.raises(SubmitError, match="unknown job"):
        build_submission("serve", config, working_dir=workdir)
    with pytest.raises(SubmitError, match="not a directory"):
        build_submission("train", config, working_dir=workdir / "nope")
    assert parse_resources('{"slot": 1}') == {"slot": 1}
    assert parse_resources(None) == {}
    for text in ("{slot: 1", "[1]"):
        with pytest.raises(SubmitError, match="--entrypoint-resources"):
            parse_resources(text)


def test_relative_paths_in_the_config_are_warned_about(workdir):
    config = _write_config(
        workdir / "configs/rel.yaml",
        train={"data": "./shards", "storage_path": "./runs", "export_dir": "/abs/export"},
    )
    s = build_submission("train", config, working_dir=workdir)
    assert [w.split(" is relative")[0] for w in s.warnings] == [
        "configs/rel.yaml: train.data './shards'",
        "configs/rel.yaml: train.storage_path './runs'",
    ]
    # Input data that travels in the upload is fine where it is.
    (workdir / "shards").mkdir()
    (workdir / "shards/part.txt").write_text("x")
    s = build_submission("train", config, working_dir=workdir)
    assert len(s.warnings) == 1 and "storage_path" in s.warnings[0]


def test_missing_job_code_is_warned_about(tmp_path):
    work = tmp_path / "configs-only"
    config = _write_config(work / "job.yaml", train={"data": "/shards", "storage_path": "/runs"})
    s = build_submission("train", config, working_dir=work)
    assert any("no ray_jobs/train.py" in w for w in s.warnings)


# --- what is uploaded ----------------------------------------------------------------------------


def _ray_zip_files(root: Path, excludes: list[str]) -> set[str]:
    """The files Ray's own packager puts in the working_dir zip."""
    from ray._private.runtime_env.packaging import create_package

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "pkg.zip"
        create_package(str(root), target, include_gitignore=True, excludes=excludes)
        with zipfile.ZipFile(target) as z:
            return {n for n in z.namelist() if not n.endswith("/")}


def test_repository_upload_is_small():
    """What `producer submit … --working-dir .` sends from this repository (.rayignore), as
    Ray's own packager zips it."""
    files = _ray_zip_files(ROOT, [])
    for prefix in (".venv/", ".git/", "runs/", "data/", ".pytest_cache/"):
        assert not any(f.startswith(prefix) for f in files), prefix
    assert not any("__pycache__/" in f for f in files)
    # The job code, its configs and the packaged default model travel.
    assert {
        "ray_jobs/train.py",
        "ray_jobs/preprocess.py",
        "ray_jobs/configs/local-cpu.yaml",
    } <= files
    assert "producer/models/weights/default/model.safetensors" in files
    assert sum((ROOT / f).stat().st_size for f in files) < 64 * 1024**2


def test_address_resolution(monkeypatch):
    monkeypatch.delenv("RAY_API_SERVER_ADDRESS", raising=False)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert resolve_address("head:8265/") == "http://head:8265"
    assert resolve_address("https://head") == "https://head"
    assert resolve_address(None) == "http://127.0.0.1:8265"
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.1:6379")  # a GCS address: not the dashboard's
    assert resolve_address(None) == "http://127.0.0.1:8265"
    monkeypatch.setenv("RAY_ADDRESS", "http://a:8265")
    assert resolve_address(None) == "http://a:8265"
    monkeypatch.setenv("RAY_API_SERVER_ADDRESS", "http://b:8265")
    assert resolve_address(None) == "http://b:8265"
    assert resolve_address("http://c:8265") == "http://c:8265"  # the flag wins
    with pytest.raises(SubmitError, match="HTTP address"):
        resolve_address("ray://head:10001")


# --- the CLI's errors ------------------------------------------------------------------------


def test_unreachable_address_is_one_line_and_quick(workdir, capsys, monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", "http://127.0.0.1:9")  # the flag must win over this
    port = _free_port()  # nothing listens there now
    started = time.monotonic()
    args = f"submit train --address http://127.0.0.1:{port} --timeout 3".split()
    args += ["--config", str(workdir / "configs/job.yaml"), "--working-dir", str(workdir)]
    code = producer_main(args)
    assert time.monotonic() - started < 15
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("producer submit: error: cannot reach the Ray dashboard at ")
    assert f"127.0.0.1:{port}" in err and "connection refused" in err


@pytest.fixture
def token_protected_dashboard():
    """An HTTP server that answers 401 to everything, as a token-protected Ray dashboard does
    to a client without the token."""
    import http.server
    import threading

    class Refuse(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"Unauthorized: Missing authentication token"
            self.send_response(401)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_token_protected_dashboard_is_one_line(workdir, capsys, token_protected_dashboard):
    args = ["submit", "preprocess", "--address", token_protected_dashboard, "--timeout", "3"]
    args += ["--config", str(workdir / "configs/job.yaml"), "--working-dir", str(workdir)]
    assert producer_main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "wants the cluster's token" in err and "RAY_AUTH_MODE=token" in err


def test_cli_config_errors_exit_2_before_connecting(workdir, capsys):
    # The address is never contacted: the config is checked first.
    base = ["submit", "train", "--address", "http://127.0.0.1:9", "--working-dir", str(workdir)]
    bad = workdir / "configs/bad.yaml"
    bad.write_text("train:\n  data: /x\n  lr: -1\n")
    pre_only = _write_config(workdir / "configs/pre.yaml", train=None)
    cases = [
        (["--config", str(bad)], "train.lr"),
        (
            ["--config", str(workdir / "configs/job.yaml"), "--set", "train.epochs=0"],
            "train.epochs",
        ),
        (["--config", str(pre_only)], "no 'train:' section"),
        (["--config", str(workdir / "missing.yaml")], "no such config file"),
        (["--config", str(LOCAL_CPU)], "inside the working dir"),
        (["--config", str(workdir / "configs/job.yaml"), "--entrypoint-resources", "{"], "JSON"),
    ]
    for extra, words in cases:
        assert producer_main(base + extra) == 2, extra
        err = capsys.readouterr().err
        assert err.startswith("producer submit: error: ") and err.count("\n") == 1, err
        assert words in err


def test_module_entry_point_errors(workdir, capsys):
    code = submit_main(
        ["train", "--config", str(workdir / "nope.yaml"), "--working-dir", str(workdir)]
    )
    assert code == 2
    assert capsys.readouterr().err == f"error: {workdir / 'nope.yaml'}: no such config file\n"


def test_preprocess_command_forwards_every_flag(capsys, tmp_path):
    with pytest.raises(SystemExit) as info:
        producer_main(["preprocess", "--help"])
    assert info.value.code == 0
    assert "--separator-actors" in capsys.readouterr().out  # the job's own flags
    assert producer_main(["preprocess", "--config", str(tmp_path / "x.yaml"), "--set", "a=1"]) == 2
    assert "x.yaml: cannot read the config" in capsys.readouterr().err


# --- real jobs on a private Ray head -----------------------------------------------------------


def _ray_processes(marker: str) -> list:
    """This machine's processes whose command line or working dir names `marker` (our head's
    temp dir: Ray's daemons and workers name it; a job's driver runs in a folder under it)."""
    import psutil

    found = []
    for proc in psutil.process_iter(["cmdline", "cwd"]):
        try:
            cmdline = proc.info["cmdline"] or ()
            if any(marker in part for part in cmdline) or marker in (proc.info["cwd"] or ""):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


class _Head:
    """A Ray head booting in the background; `url` waits until its jobs API answers."""

    def __init__(self, proc: subprocess.Popen, url: str, log: Path):
        self.proc, self._url, self.log, self._ready = proc, url, log, False

    @property
    def url(self) -> str:
        import requests

        deadline = time.monotonic() + 120
        while not self._ready:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ray start exited: {self.log.read_text()}")
            with contextlib.suppress(requests.RequestException):
                # The jobs API answers once the dashboard (and its job module) is up.
                self._ready = requests.get(f"{self._url}/api/jobs/", timeout=2).ok
            if not self._ready:
                assert time.monotonic() < deadline, "the Ray dashboard did not come up in 120 s"
                time.sleep(0.5)
        return self._url


@pytest.fixture(scope="module")
def ray_head():
    """`ray start --head --block` on 127.0.0.1 and free ports, in a private temp dir.

    Stopping it never uses `ray stop` (which kills every Ray on the machine, other people's
    included): SIGTERM to our own `ray start --block`, which takes down the processes it
    started; then whatever still runs with our temp dir in its command line or working dir;
    then the process group we started it in.
    """
    ray_exe = Path(sys.executable).with_name("ray")
    temp_dir = tempfile.mkdtemp(prefix="rsub-", dir="/tmp")  # short: socket paths < 108 chars
    # Every port Ray would otherwise take a fixed default for (another Ray may hold those).
    names = [
        "port",
        "dashboard-port",
        "ray-client-server-port",
        "dashboard-agent-listen-port",
        "dashboard-agent-grpc-port",
        "runtime-env-agent-port",
        "metrics-export-port",
        "node-manager-port",
        "object-manager-port",
    ]
    ports = dict(zip(names, _free_ports(len(names)), strict=True))
    env = {
        **os.environ,
        "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0",
        # Jobs run `python -m …`: this environment's interpreter.
        "PATH": f"{ray_exe.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "RAY_USAGE_STATS_ENABLED": "0",
        # Ray (2.60) turns token auth on when ~/.ray/auth_token exists; a private test head
        # needs none (a test above covers the error a token-protected dashboard gives).
        "RAY_AUTH_MODE": "disabled",
        # SIGTERM stops at once (no 30 s drain: no Serve traffic to hand over here).
        "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0",
    }
    for name in ("RAY_ADDRESS", "RAY_API_SERVER_ADDRESS"):
        env.pop(name, None)
    command = [
        str(ray_exe), "start", "--head", "--block",
        "--node-ip-address=127.0.0.1", "--dashboard-host=127.0.0.1", "--include-dashboard=true",
        # 3 logical CPUs on 2 cores: the job's driver reserves one, the training worker one, and
        # Ray Data's read tasks feeding the worker need one more.
        "--num-cpus=3", "--num-gpus=0", f"--object-store-memory={300 * 1024**2}",
        "--min-worker-port=0", "--max-worker-port=0", "--disable-usage-stats",
        f"--temp-dir={temp_dir}",
        *(f"--{name}={port}" for name, port in ports.items()),
    ]  # fmt: skip
    log_path = Path(temp_dir) / "ray-start.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield _Head(proc, f"http://127.0.0.1:{ports['dashboard-port']}", log_path)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=30)
        for leftover in _ray_processes(temp_dir):
            with contextlib.suppress(Exception):
                leftover.kill()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        shutil.rmtree(temp_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A working dir (the job code + a config) beside a 3-song synthetic corpus."""
    from producer.data.synth import synthesize_corpus

    root = tmp_path_factory.mktemp("submit")
    synthesize_corpus(root / "data", 3, seed=0, duration=2.0, progress=False, workers=1)
    work = root / "work"
    _copy_ray_jobs(work)
    _write_config(
        work / "job.yaml",
        preprocess={
            "data_dir": str(root / "data"),
            "output_dir": str(root / "shards"),
            "quality_copies": 1,
        },
        train={
            "data": str(root / "shards"),
            "storage_path": str(root / "runs"),
            "run_name": "submitted",
            "epochs": 1,
            "num_workers": 1,
            "max_failures": 0,
        },
    )
    return work


def _submit(url, project, kind, *extra):
    args = ["submit", kind, "--address", url, "--config", str(project / "job.yaml")]
    return producer_main([*args, "--working-dir", str(project), *extra])


def _job_id(err: str) -> str:
    match = re.search(r"^submitted job (\S+)$", err, re.MULTILINE)
    assert match, err
    return match.group(1)


@pytest.fixture(scope="module")
def shards(ray_head, project) -> Path:
    """The corpus preprocessed by a submitted job (--no-follow, then waited for)."""
    from ray.job_submission import JobStatus, JobSubmissionClient

    url = ray_head.url  # waits for the head (it booted while the corpus was written)
    out, err = _capture(lambda: _submit(url, project, "preprocess", "--no-follow"), expect=0)
    job_id = out.strip()
    assert job_id == _job_id(err)  # stdout: the id alone; stderr: how to follow and stop it
    assert f"ray job logs -f --address {url} {job_id}" in err
    assert f"ray job stop --address {url} {job_id}" in err
    client = JobSubmissionClient(url)
    deadline = time.monotonic() + 120
    while not (status := client.get_job_status(job_id)).is_terminal():
        assert time.monotonic() < deadline, "the preprocess job did not finish in 120 s"
        time.sleep(1)
    logs = client.get_job_logs(job_id)
    assert status == JobStatus.SUCCEEDED, logs
    assert re.search(r"done 3, skipped 0, failed 0", logs), logs
    return project.parent / "shards"


def _capture(call, expect: int) -> tuple[str, str]:
    """Run `call` with sys.stdout / sys.stderr captured (the followed log goes to stdout)."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = call()
    assert code == expect, (
        f"exit {code}\n--- stdout\n{out.getvalue()}\n--- stderr\n{err.getvalue()}"
    )
    return out.getvalue(), err.getvalue()


@pytest.mark.slow
def test_submitted_training_job_succeeds(ray_head, project, shards):
    from ray.job_submission import JobStatus, JobSubmissionClient

    url = ray_head.url
    assert list((shards / "shards").glob("*.parquet"))
    out, err = _capture(lambda: _submit(url, project, "train"), expect=0)
    job_id = _job_id(err)
    command = "python -m ray_jobs.train --config job.yaml"
    assert f"submitting to {url}: {command} (working dir {project}, packed by Ray's" in err
    assert err.rstrip().endswith(f"job {job_id} succeeded")
    # Followed: the job's own final lines reached our stdout, and they are in Ray's log.
    final = re.search(r"trained 1 epochs \(\d+ steps, 3 songs\) in [\d.]+ s", out)
    assert final, out
    client = JobSubmissionClient(url)
    assert client.get_job_status(job_id) == JobStatus.SUCCEEDED
    logs = client.get_job_logs(job_id)
    assert final.group(0) in logs
    assert out.endswith(logs[-2000:])  # nothing lost or doubled at the end of the stream
    export = project.parent / "runs/submitted/export"
    assert f"model: {export}" in logs
    assert (export / "config.json").is_file()
    info = client.get_job_info(job_id)
    assert info.metadata["producer_job"] == "train" and info.metadata["config"] == "job.yaml"
    assert info.runtime_env["env_vars"]["RAY_ENABLE_UV_RUN_RUNTIME_ENV"] == "0"


@pytest.mark.slow
def test_failed_job_exits_1(ray_head, project, shards):
    url = ray_head.url
    out, err = _capture(
        lambda: _submit(url, project, "train", "--set", "train.data=/nonexistent"), expect=1
    )
    job_id = _job_id(err)
    assert "no training shards in /nonexistent" in out  # the job's own one-line error
    last = err.rstrip().splitlines()[-1]
    assert last.startswith(f"job {job_id} failed")
    assert "Traceback" not in err


@pytest.mark.slow
def test_ctrl_c_leaves_the_job_running(ray_head, project, shards):
    from ray.job_submission import JobStatus, JobSubmissionClient

    url = ray_head.url
    command = [sys.executable, "-m", "ray_jobs.submit", "train", "--address", url]
    command += ["--config", str(project / "job.yaml"), "--working-dir", str(project)]
    # A long training run (it is stopped below), so the job is still running at the interrupt;
    # one that fails or ends at once could finish first and make the exit code 1 or 0, not 130.
    command += ["--set", "train.run_name=interrupted", "--set", "train.epochs=500"]
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},
        # As a terminal would start it: Ctrl-C on. A process that ignores SIGINT passes that
        # on to its children, and Python then installs no handler (Ray, started earlier in
        # this pytest process, may have set it so): the Ctrl-C below would go unheard.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    # Wait for the submission line, then interrupt while it follows the log.
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if line.startswith("submitted job "):
            break
    job_id = _job_id("".join(lines))
    proc.send_signal(signal.SIGINT)
    try:
        _, rest_err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # where it hangs: every thread's stack (faulthandler)
        proc.send_signal(signal.SIGABRT)
        _, err = proc.communicate(timeout=30)
        pytest.fail(f"no exit 60 s after Ctrl-C; its threads:\n{err[-6000:]}")
    assert proc.returncode == 130, rest_err
    assert f"job {job_id} keeps running" in rest_err, rest_err
    assert f"ray job stop --address {url} {job_id}" in rest_err
    assert "Traceback" not in rest_err, rest_err

    class DroppingClient(JobSubmissionClient):
        """The real client, whose log stream breaks after its first chunk (a proxy hiccup)."""

        async def tail_job_logs(self, job_id):
            async for chunk in super().tail_job_logs(job_id):
                yield chunk
                break
            raise RuntimeError("WebSocket connection closed unexpectedly with close code 1006")

    client = DroppingClient(url)
    assert client.get_job_status(job_id) != JobStatus.STOPPED  # left alone
    # Stopped as the message says, a job ends STOPPED; following it through a broken stream
    # falls back to polling and writes the whole log once.
    client.stop_job(job_id)
    written, notes = [], []
    status = follow_job(client, job_id, written.append, poll_s=0.5, note=notes.append)
    assert status == JobStatus.STOPPED
    assert notes == [
        "log stream lost (WebSocket connection closed unexpectedly with close code 1006); "
        "polling instead"
    ]
    assert "".join(written) == client.get_job_logs(job_id)


def test_a_working_dir_over_rays_cap_is_one_line(workdir, monkeypatch):
    """Ray refuses a package over its cap where it stores it (the dashboard); its own message,
    made by its own check, becomes one line that says what to do."""
    from ray._private.runtime_env import packaging

    monkeypatch.setattr(packaging, "GCS_STORAGE_MAX_SIZE", 2 * 1024 * 1024)
    with pytest.raises(ValueError) as refused:  # what the dashboard raises for a 3 MiB zip
        packaging._store_package_in_gcs("gcs://_ray_pkg_x.zip", b"\0" * (3 * 1024 * 1024))
    # It reaches the client inside a failed request (RuntimeError, with the server's text).
    failed = RuntimeError(f"Request failed with status code 500: Traceback …\n{refused.value}")
    s = build_submission("train", workdir / "configs/job.yaml", working_dir=workdir)
    for err in (refused.value, failed):
        message = str(submit_refusal(err, s))
        assert "\n" not in message and str(workdir.resolve()) in message
        assert "3.00MiB packed, over Ray's 2.00MiB cap" in message and ".rayignore" in message
