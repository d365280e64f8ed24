"""GPU check: the project's GPU paths on one CUDA machine, with figures, in a few minutes.

    python benchmarks/gpu_check.py --out gpu_check_out            # on a CUDA machine
    python benchmarks/gpu_check.py --cpu-only --out /tmp/gck      # dry run: everything on CPU
    python benchmarks/gpu_check.py --only env,train               # a subset (setup always runs)

Every check runs the project's own code paths on tiny, randomly initialised models (nothing is
downloaded; the MiniLM text encoder is not needed: the tiny checkpoint names a tiny local BERT):

    setup   the fixtures: a tiny BERT, a debug-preset checkpoint, a tiny local HTDemucs
    env     torch / CUDA / GPU, versions of ray, deepspeed, dawdreamer, demucs…, nvcc, a matmul
    model   `producer demo --checkpoint … --device cuda` and `--device cpu`: wall time, the WAV,
            its loudness (-14 LUFS ± 1)
    demucs  `producer.audio.separation.Separator` on ~20 s of synthetic audio, cuda vs cpu
            (the tiny local model; with --full-demucs also a random full-size HTDemucs)
    serve   serve_configs/cluster.yaml scaled to one node (1 GPU, 12 CPUs, one replica each,
            writer and separator on num_gpus 0.5 with device auto, the tiny checkpoint and
            Demucs), started with `producer.serving.launch`, then POST /v1/produce over HTTP
            (once more with an uploaded mix, so the Separator runs): status, latency, master
            loudness, and the device each replica uses (asked inside each replica actor)
    train   ray_jobs/configs/gpu-cluster.yaml scaled to one worker ({CPU: 4, GPU: 1}, ZeRO-2,
            bf16): a synthetic corpus (tests/ray_jobs/corpus.py) → ray_jobs.preprocess (Demucs
            actor on num_gpus 0.5) → ray_jobs.train; samples/s, checkpoint and export, reload.
            DeepSpeed's FusedAdam (the config's torch_adam: false) is JIT-built by nvcc in the
            background while the other checks run; if it cannot be built, or training with it
            fails, the job runs again with torch_adam: true and both outcomes are recorded.

Each check runs in its own process (its own session and Ray temp dir) under a time limit, and a
global `--budget` bounds the whole run; a failing or hung check is recorded (status, one-line
error, traceback tail, log tail) and the next one runs. Results: `<out>/gpu_check.json` (every
figure), `<out>/summary.txt` (what stdout shows) and `<out>/logs.txt` (each check's log tail).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve()

#: Checks in run order (setup first: the others use its fixtures; train last: it waits for
#: the background FusedAdam build).
CHECKS = ("setup", "env", "model", "demucs", "serve", "train")
#: Per-check time limits in seconds (each is also cut to what is left of --budget).
LIMITS = {"setup": 90, "env": 60, "model": 150, "demucs": 120, "serve": 200, "train": 240}
FUSED_ADAM_LIMIT = 300
#: Check processes running now: (process, name, started); stopped if the run is interrupted.
_RUNNING: list[tuple[subprocess.Popen, str, float]] = []
PROMPT = "dark trap beat at 140 bpm with heavy 808s"
TARGET_LUFS = -14.0
LUFS_TOLERANCE = 1.0
SR = 44100
#: Ray's object store per check: plenty for tiny models and seconds of audio, and it does not
#: ask /dev/shm for 30 % of the machine's memory.
OBJECT_STORE_BYTES = 2 * 2**30


# ============================================================================ the parent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="gpu_check_out", help="folder for the JSON and summary")
    ap.add_argument("--cpu-only", action="store_true", help="run every check on the CPU")
    ap.add_argument("--only", default="", help="comma-separated checks (setup always runs)")
    ap.add_argument("--budget", type=float, default=330.0, help="seconds for the whole run")
    ap.add_argument("--work", default=None, help="scratch folder (default: a new one in /tmp)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds of each beat")
    ap.add_argument("--candidates", type=int, default=2, help="Faust scripts per beat")
    ap.add_argument("--demucs-seconds", type=float, default=20.0)
    ap.add_argument(
        "--full-demucs",
        choices=("auto", "on", "off"),
        default="auto",
        help="also time a random full-size HTDemucs (auto: on with a GPU)",
    )
    ap.add_argument("--songs", type=int, default=None, help="training corpus size (16; 8 on CPU)")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument(
        "--train-model", default=None, help="training preset (default on GPU, debug on CPU)"
    )
    ap.add_argument(
        "--torch-adam", action="store_true", help="train with torch's AdamW (skip FusedAdam)"
    )
    ap.add_argument("--serve-cpus", type=int, default=12, help="logical CPUs of Serve's Ray")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--child-extra", default="{}", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child_main(args)

    started = time.monotonic()
    deadline = started + args.budget
    # The interpreter's own bin first: DeepSpeed's JIT build runs `ninja` from there, and Ray
    # workers (which inherit this environment) too.
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    work = Path(args.work or tempfile.mkdtemp(prefix="gck", dir="/tmp")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    (work / "results").mkdir(exist_ok=True)
    (work / "logs").mkdir(exist_ok=True)
    wanted = [c.strip() for c in args.only.split(",") if c.strip()] or list(CHECKS)
    unknown = sorted(set(wanted) - set(CHECKS))
    if unknown:
        ap.error(f"unknown checks: {', '.join(unknown)} (choose from {', '.join(CHECKS)})")
    todo = [c for c in CHECKS if c == "setup" or c in wanted]

    report: dict[str, Any] = {
        "started_unix": time.time(),
        "argv": sys.argv[1:] if argv is None else argv,
        "cpu_only": args.cpu_only,
        "work": str(work),
        "machine": _machine(),
        "checks": {},
    }
    _say(f"gpu_check: {', '.join(todo)} (budget {args.budget:g} s, work {work})")

    def interrupted(signum, frame):
        raise SystemExit(128 + signum)  # runs the finally below: children stopped, JSON written

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)

    # FusedAdam: nvcc builds DeepSpeed's op while the other checks run (GPU runs only).
    build = None
    if "train" in todo and not args.cpu_only and not args.torch_adam:
        build = _spawn(args, "fused_adam", work)

    try:
        for name in todo:
            left = deadline - time.monotonic()
            if name == "train" and build is not None:
                report["checks"]["fused_adam_build"] = _finish_build(build, work, deadline)
                build = None
                left = deadline - time.monotonic()
            if left < 15:
                report["checks"][name] = {"status": "skipped", "error": "out of time (--budget)"}
                _say(f"[{name}] skipped: out of time")
                continue
            extra = {}
            if name == "train":
                fa = report["checks"].get("fused_adam_build", {})
                extra["fused_adam"] = "ok" if fa.get("status") == "ok" else "failed"
            limit = min(LIMITS[name], left)
            result = _run_child(args, name, work, limit, extra)
            report["checks"][name] = result
            _say(f"[{name}] {result['status']} in {result.get('seconds', 0):.1f} s")
            if result.get("error"):
                _say(f"    {result['error'][:300]}")
            if name == "setup" and result["status"] != "ok":
                _say("setup failed: the other checks need its fixtures; they run anyway")
            report["total_seconds"] = round(time.monotonic() - started, 1)
            _dump(out / "gpu_check.json", report)  # what is done so far, in case of a kill
    except SystemExit as stop:
        report["interrupted"] = f"stopped by signal {int(stop.code or 0) - 128} (partial results)"
        _say(report["interrupted"])
    finally:
        for proc, name, _ in list(_RUNNING):
            _stop(proc)
            _cleanup_ray(work / f"ray_{name}")
            report["checks"].setdefault(name, {"status": "interrupted"})
        report["total_seconds"] = round(time.monotonic() - started, 1)
        summary = summarize(report)
        _dump(out / "gpu_check.json", report)
        (out / "summary.txt").write_text(summary + "\n")
        _write_logs(work, out / "logs.txt")
        print(summary, flush=True)
        if not args.keep and args.work is None:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
    failed = [n for n, r in report["checks"].items() if r.get("status") != "ok"]
    return 1 if failed else 0


def _say(line: str) -> None:
    print(line, flush=True)


def _dump(path: Path, report: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=1, default=str) + "\n")
    tmp.replace(path)


def _machine() -> dict[str, Any]:
    import platform

    cpu = platform.processor()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "executable": sys.executable,
        "load_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def _child_command(args, name: str, work: Path, extra: dict) -> list[str]:
    cmd = [sys.executable, str(HERE), "--child", name, "--work", str(work)]
    cmd += ["--duration", str(args.duration), "--candidates", str(args.candidates)]
    cmd += ["--demucs-seconds", str(args.demucs_seconds), "--full-demucs", args.full_demucs]
    cmd += ["--epochs", str(args.epochs), "--serve-cpus", str(args.serve_cpus)]
    if args.songs is not None:
        cmd += ["--songs", str(args.songs)]
    if args.train_model:
        cmd += ["--train-model", args.train_model]
    if args.cpu_only:
        cmd.append("--cpu-only")
    if args.torch_adam:
        cmd.append("--torch-adam")
    cmd += ["--child-extra", json.dumps(extra)]
    return cmd


def _spawn(args, name: str, work: Path, extra: dict | None = None):
    """Start a check's process in its own session; (process, name, started)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    paths = [str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    log = open(work / "logs" / f"{name}.log", "wb")  # noqa: SIM115 (closed by the child's exit)
    proc = subprocess.Popen(
        _child_command(args, name, work, extra or {}),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    log.close()
    _RUNNING.append((proc, name, time.monotonic()))
    return _RUNNING[-1]


def _wait_or_stop(proc: subprocess.Popen, limit: float) -> bool:
    """Wait up to `limit` seconds for `proc`; stop it past that. True when it was stopped."""
    try:
        proc.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        _stop(proc)
        return True
    return False


def _run_child(args, name: str, work: Path, limit: float, extra: dict) -> dict[str, Any]:
    proc, _, t0 = _spawn(args, name, work, extra)
    timed_out = _wait_or_stop(proc, limit)
    _cleanup_ray(work / f"ray_{name}")
    _RUNNING.remove((proc, name, t0))
    return _collect(name, work, proc.returncode, time.monotonic() - t0, timed_out, limit)


def _finish_build(build, work: Path, deadline: float) -> dict[str, Any]:
    """Wait for the background FusedAdam build (at most what the budget allows)."""
    proc, name, t0 = build
    # Leave the training itself at least 100 s of the budget.
    wait = max(
        0.0, min(FUSED_ADAM_LIMIT - (time.monotonic() - t0), deadline - time.monotonic() - 100)
    )
    timed_out = _wait_or_stop(proc, wait)
    _RUNNING.remove(build)
    result = _collect(name, work, proc.returncode, time.monotonic() - t0, timed_out, wait)
    _say(f"[fused_adam_build] {result['status']} after {result['seconds']:.1f} s")
    return result


def _collect(name, work, code, seconds, timed_out, limit) -> dict[str, Any]:
    path = work / "results" / f"{name}.json"
    try:
        result = json.loads(path.read_text())
    except (OSError, ValueError):
        result = {"status": "failed", "error": f"no result from the check (exit code {code})"}
    if timed_out:
        result["status"] = "timeout"
        result["error"] = f"still running after its limit of {limit:.0f} s (killed)"
    result["seconds"] = round(seconds, 1)
    result["exit_code"] = code
    if result.get("status") != "ok":
        result["log_tail"] = _tail(work / "logs" / f"{name}.log", 40)
    return result


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the check's whole session, then SIGKILL what is left."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _cleanup_ray(temp_dir: Path) -> None:
    """Kill what a check's Ray left running: the processes whose command line names its
    temp dir (each check has its own, so nothing else is touched)."""
    marker = str(temp_dir)
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(entry.name), signal.SIGKILL)


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _write_logs(work: Path, target: Path) -> None:
    parts = []
    for log in sorted((work / "logs").glob("*.log")):
        parts.append(f"===== {log.stem} (last 300 lines)\n{_tail(log, 300)}\n")
    text = "\n".join(parts)
    target.write_text(text[-8_000_000:])


# ============================================================================ the summary


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def summarize(report: dict[str, Any]) -> str:
    """The readable summary: one block per check, its key figures, errors in one line."""
    lines = [
        "=" * 78,
        f"gpu_check ({'CPU only' if report.get('cpu_only') else 'GPU'}) "
        f"in {report.get('total_seconds', 0)} s on {report['machine'].get('nproc')} CPUs",
    ]
    for name, result in report["checks"].items():
        status = result.get("status", "?")
        lines.append(f"-- {name}: {status.upper()} ({result.get('seconds', 0)} s)")
        if result.get("error"):
            lines.append(f"   error: {result['error']}")
        for key, value in (result.get("summary") or {}).items():
            lines.append(f"   {key}: {_fmt(value)}")
        for sub, err in (result.get("figures", {}).get("errors") or {}).items():
            lines.append(f"   {sub} failed: {err}")
    bad = [n for n, r in report["checks"].items() if r.get("status") != "ok"]
    lines.append(f"== {'ALL OK' if not bad else 'NOT OK: ' + ', '.join(bad)}")
    lines.append("=" * 78)
    return "\n".join(lines)


# ============================================================================ the children


class Ctx:
    """What a check gets: its options, its scratch folder, the fixtures, and a figures dict
    where sub-steps record what they measured (or their error, without stopping the check)."""

    def __init__(self, args):
        self.args = args
        self.name = args.child
        self.cpu_only = bool(args.cpu_only)
        self.work = Path(args.work)
        self.dir = self.work / self.name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.fixtures = self.work / "setup"
        self.extra = json.loads(args.child_extra or "{}")
        self.figures: dict[str, Any] = {}
        self.summary: dict[str, Any] = {}
        self.errors: dict[str, str] = {}
        self.tracebacks: dict[str, str] = {}

    @property
    def checkpoint(self) -> Path:
        return self.fixtures / "ckpt"

    @property
    def bert(self) -> Path:
        return self.fixtures / "bert"

    @property
    def demucs(self) -> Path:
        return self.fixtures / "demucs"

    @property
    def ray_temp(self) -> Path:
        return self.work / f"ray_{self.name}"

    def devices(self) -> list[str]:
        import torch

        if self.cpu_only:
            return ["cpu"]
        if not torch.cuda.is_available():
            raise RuntimeError("CUDA is not available (use --cpu-only for a dry run)")
        return ["cuda", "cpu"]

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """A sub-step: its error is recorded and the check goes on (and ends failed)."""
        t0 = time.perf_counter()
        try:
            yield
        except Exception as err:  # every failure is a finding, reported and survived
            self.errors[name] = _one_line(err)
            self.tracebacks[name] = _tb_tail(err)
            _say(f"[{self.name}] {name} FAILED: {_one_line(err)}")
        finally:
            _say(f"[{self.name}] {name}: {time.perf_counter() - t0:.2f} s")


def _one_line(err: BaseException) -> str:
    text = str(err).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return f"{type(err).__name__}: {(lines[-1] if lines else '')[:400]}"


def _tb_tail(err: BaseException, lines: int = 25) -> str:
    tb = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    return "\n".join(tb.splitlines()[-lines:])


def child_main(args) -> int:
    ctx = Ctx(args)
    fn: Callable[[Ctx], None] = CHILDREN[ctx.name]
    result: dict[str, Any] = {"status": "ok"}
    t0 = time.perf_counter()
    try:
        fn(ctx)
    except Exception as err:
        ctx.errors["check"] = _one_line(err)
        ctx.tracebacks["check"] = _tb_tail(err)
        _say(f"[{ctx.name}] FAILED: {_one_line(err)}")
        traceback.print_exc()
    if ctx.errors:
        result["status"] = "failed"
        result["error"] = "; ".join(f"{k}: {v}" for k, v in ctx.errors.items())[:1000]
        result["traceback"] = ctx.tracebacks
    result["figures"] = {**ctx.figures, **({"errors": ctx.errors} if ctx.errors else {})}
    result["summary"] = ctx.summary
    result["child_seconds"] = round(time.perf_counter() - t0, 2)
    out = ctx.work / "results" / f"{ctx.name}.json"
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1, default=str))
    tmp.replace(out)
    return 0 if result["status"] == "ok" else 1


# ---------------------------------------------------------------------------- setup


def check_setup(ctx: Ctx) -> None:
    import torch

    from producer.audio.separation import save_local_demucs
    from producer.models.config import preset
    from producer.models.unified import UnifiedProducerModel
    from tests.audio.tiny_demucs import tiny_htdemucs
    from tests.tiny_models import tiny_bert

    with ctx.step("tiny_bert"):
        torch.manual_seed(0)
        tiny_bert(ctx.bert)
    with ctx.step("tiny_checkpoint"):
        torch.manual_seed(0)
        config = preset("debug")  # tests/conftest.py's tiny_checkpoint, with the tiny BERT
        config.text_model_name = str(ctx.bert)
        UnifiedProducerModel.from_config(config).save_pretrained(ctx.checkpoint)
        again = UnifiedProducerModel.from_pretrained(ctx.checkpoint)
        ctx.figures["checkpoint_parameters"] = sum(p.numel() for p in again.parameters())
    with ctx.step("tiny_demucs"):
        save_local_demucs(tiny_htdemucs(), None, ctx.demucs)
    ctx.summary["fixtures"] = str(ctx.fixtures)


# ---------------------------------------------------------------------------- env


def _version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _nvidia_smi(query: str) -> str:
    """One `nvidia-smi --query-…` as CSV without a header (its error text when it fails)."""
    cmd = ["nvidia-smi", query, "--format=csv,noheader"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    return out.stdout.strip() or out.stderr.strip()


def _nccl_version(torch) -> str | None:
    try:
        version = torch.cuda.nccl.version()
    except Exception:
        return None
    return ".".join(map(str, version)) if isinstance(version, tuple) else str(version)


def check_env(ctx: Ctx) -> None:
    import sysconfig

    import torch

    f = ctx.figures
    f["torch"] = torch.__version__
    f["torch_cuda"] = torch.version.cuda
    f["cuda_available"] = torch.cuda.is_available()
    f["versions"] = {
        d: _version(d)
        for d in (
            "ray",
            "deepspeed",
            "dawdreamer",
            "demucs",
            "xgrammar",
            "transformers",
            "tokenizers",
            "huggingface-hub",
            "numpy",
            "pydantic",
            "fastapi",
            "starlette",
            "uvicorn",
            "soundfile",
            "librosa",
            "numba",
            "scipy",
            "pyarrow",
            "pandas",
            "torchaudio",
        )
    }
    f["python_h"] = (Path(sysconfig.get_paths()["include"]) / "Python.h").is_file()
    with ctx.step("imports"):
        import dawdreamer  # noqa: F401
        import deepspeed
        import demucs  # noqa: F401
        import ray
        import ray.data
        import ray.serve
        import ray.train
        import xgrammar  # noqa: F401

        import producer.pipeline
        import producer.serving.app  # noqa: F401
        import ray_jobs.train  # noqa: F401

        f["ray_version"] = ray.__version__
        from deepspeed.accelerator import get_accelerator

        f["deepspeed_accelerator"] = get_accelerator()._name
        f["deepspeed_version"] = deepspeed.__version__
    with ctx.step("cuda_toolkit"):
        from torch.utils.cpp_extension import CUDA_HOME

        f["cuda_home"] = CUDA_HOME
        nvcc = Path(CUDA_HOME or "/nonexistent") / "bin" / "nvcc"
        if nvcc.is_file():
            out = subprocess.run([str(nvcc), "--version"], capture_output=True, text=True)
            f["nvcc"] = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr
        else:
            f["nvcc"] = None
    if ctx.cpu_only or not torch.cuda.is_available():
        ctx.summary["torch"] = f"{torch.__version__} (cuda {torch.version.cuda}, GPU not used)"
        return
    with ctx.step("gpu"):
        props = torch.cuda.get_device_properties(0)
        f["gpu"] = {
            "name": props.name,
            "capability": f"{props.major}.{props.minor}",
            "memory_gib": round(props.total_memory / 2**30, 1),
            "multiprocessors": props.multi_processor_count,
            "count": torch.cuda.device_count(),
            "cudnn": torch.backends.cudnn.version(),
            "nccl": _nccl_version(torch),
            "bf16": torch.cuda.is_bf16_supported(),
        }
        n = 4096
        a = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
        b = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
        for _ in range(3):
            a @ b
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        reps = 20
        for _ in range(reps):
            a @ b
        torch.cuda.synchronize()
        f["bf16_matmul_tflops_4096"] = round(2 * n**3 * reps / (time.perf_counter() - t0) / 1e12, 1)
    with ctx.step("nvidia_smi"):
        f["nvidia_smi"] = _nvidia_smi("--query-gpu=name,driver_version,memory.total")
    gpu = f.get("gpu", {})
    ctx.summary["gpu"] = (
        f"{gpu.get('name')} ({gpu.get('memory_gib')} GiB, cc {gpu.get('capability')})"
    )
    ctx.summary["torch"] = f"{torch.__version__} cuda {torch.version.cuda}"
    ctx.summary["versions"] = ", ".join(
        f"{k} {f['versions'].get(k)}" for k in ("ray", "deepspeed", "dawdreamer", "demucs")
    )
    ctx.summary["bf16 matmul TFLOP/s (4096³)"] = f.get("bf16_matmul_tflops_4096")
    ctx.summary["nvcc / Python.h"] = f"{f.get('nvcc')} / {f['python_h']}"


# ---------------------------------------------------------------------------- model


def _wav_loudness(path: Path) -> dict[str, Any]:
    import soundfile as sf

    from producer.audio.loudness import integrated_loudness

    audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    lufs = float(integrated_loudness(audio.T, rate))
    return {
        "seconds": round(audio.shape[0] / rate, 3),
        "channels": audio.shape[1],
        "sample_rate": rate,
        "lufs": round(lufs, 2),
        "lufs_ok": abs(lufs - TARGET_LUFS) <= LUFS_TOLERANCE,
        "peak_dbfs": round(20 * math.log10(max(float(abs(audio).max()), 1e-12)), 2),
    }


def check_model(ctx: Ctx) -> None:
    """`producer demo` on each device, as a person would run it (a process each)."""
    for device in ctx.devices():
        with ctx.step(f"demo_{device}"):
            out = ctx.dir / device / "result.wav"
            out.parent.mkdir(parents=True, exist_ok=True)
            cmd = [
                sys.executable,
                "-m",
                "producer.cli",
                "demo",
                "--checkpoint",
                str(ctx.checkpoint),
            ]
            cmd += ["--device", device, "--output", str(out), "--prompt", PROMPT]
            cmd += ["--duration", str(ctx.args.duration), "--candidates", str(ctx.args.candidates)]
            cmd += ["--seed", "0", "--no-plot", "--json"]
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=140)
            wall = time.perf_counter() - t0
            fig: dict[str, Any] = {"wall_s": round(wall, 2), "exit_code": proc.returncode}
            ctx.figures[f"demo_{device}"] = fig
            if proc.returncode != 0:
                raise RuntimeError(
                    f"demo exit {proc.returncode}: {_last_line(proc.stderr or proc.stdout)}"
                )
            with contextlib.suppress(ValueError):
                report = json.loads(proc.stdout[proc.stdout.index("{") :])
                fig["timings_s"] = report.get("timings_s")
                fig["reported_lufs"] = report.get("quality", {}).get("integrated_lufs")
                fig["plan"] = {k: report.get("plan", {}).get(k) for k in ("style", "bpm", "key")}
            if not out.is_file():
                raise RuntimeError(f"demo wrote no {out}")
            fig["wav"] = _wav_loudness(out)
            ctx.summary[f"demo {device}"] = (
                f"{wall:.1f} s wall (total stage {(fig.get('timings_s') or {}).get('total')} s), "
                f"{fig['wav']['lufs']} LUFS, {fig['wav']['seconds']} s"
            )
            if not fig["wav"]["lufs_ok"]:
                raise RuntimeError(f"master at {fig['wav']['lufs']} LUFS, not {TARGET_LUFS} ± 1")


def _last_line(text: str) -> str:
    lines = [ln for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1][:400] if lines else ""


# ---------------------------------------------------------------------------- demucs


def synthetic_mix(seconds: float, sr: int = SR):
    """(2, T) float32: drums, bass, vocals and harmony of tests/conftest.py summed."""
    import numpy as np

    from tests.conftest import synth_stem

    mix = sum(synth_stem(r, seconds, sr) for r in ("drums", "bass", "vocals", "harmony"))
    return (0.5 * mix / max(float(np.abs(mix).max()), 1e-9)).astype(np.float32)


def _time_separation(sep, audio, sr: int, device: str) -> tuple[float, dict]:
    import torch

    sep.separate(audio[:, : 2 * sr], sr)  # warm-up: kernels, cuDNN plans, allocator
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    stems = sep.separate(audio, sr)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - t0, stems


def check_demucs(ctx: Ctx) -> None:
    import numpy as np
    import torch

    from producer.audio.separation import Separator, SeparatorConfig

    seconds = ctx.args.demucs_seconds
    audio = synthetic_mix(seconds)
    devices = ctx.devices()
    outputs: dict[str, dict] = {}
    for device in devices:
        with ctx.step(f"tiny_{device}"):
            sep = Separator.from_config(
                SeparatorConfig(model=str(ctx.demucs), device=device, progress=False)
            )
            took, stems = _time_separation(sep, audio, SR, device)
            outputs[device] = stems
            shapes = {role: list(a.shape) for role, a in stems.items()}
            ctx.figures[f"tiny_{device}"] = {
                "seconds": round(took, 3),
                "x_realtime": round(seconds / took, 1),
                "shapes": shapes,
            }
            bad = [
                r for r, a in stems.items() if a.shape != audio.shape or not np.isfinite(a).all()
            ]
            if bad:
                raise RuntimeError(f"stems {bad} are not {list(audio.shape)} and finite")
            ctx.summary[f"tiny {device}"] = (
                f"{took:.2f} s for {seconds:g} s ({seconds / took:.0f}x)"
            )
    if len(outputs) == 2:
        diff = max(
            float(np.abs(outputs["cuda"][r] - outputs["cpu"][r]).max()) for r in outputs["cpu"]
        )
        ctx.figures["tiny_cuda_vs_cpu_max_abs_diff"] = diff
        ctx.summary["cuda vs cpu max |diff|"] = diff
    full = ctx.args.full_demucs == "on" or (ctx.args.full_demucs == "auto" and not ctx.cpu_only)
    if not full:
        return
    from demucs.htdemucs import HTDemucs

    from tests.audio.tiny_demucs import SOURCES

    torch.manual_seed(0)
    model = HTDemucs(sources=SOURCES).eval()  # the htdemucs architecture, random weights
    ctx.figures["full_parameters"] = sum(p.numel() for p in model.parameters())
    for device in devices:
        with ctx.step(f"full_{device}"):
            sep = Separator(model, SeparatorConfig(device=device, progress=False))
            took, stems = _time_separation(sep, audio, SR, device)
            ctx.figures[f"full_{device}"] = {
                "seconds": round(took, 3),
                "x_realtime": round(seconds / took, 1),
                "shapes": {role: list(a.shape) for role, a in stems.items()},
            }
            ctx.summary[f"full-size {device}"] = (
                f"{took:.2f} s for {seconds:g} s ({seconds / took:.1f}x)"
            )


# ---------------------------------------------------------------------------- serve


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_config(cluster: dict, *, gpu: bool, checkpoint: str, separator: str) -> dict:
    """serve_configs/cluster.yaml scaled to one node: one replica per deployment, the writer
    and the separator on half a GPU each (device auto), the given checkpoint and Demucs."""
    import copy

    config = copy.deepcopy(cluster)
    config["proxy_location"] = "HeadOnly"
    config["http_options"] = {**config.get("http_options", {}), "host": "127.0.0.1"}
    for app in config["applications"]:
        args = app.setdefault("args", {})
        args["checkpoint"] = checkpoint
        args["separator"] = separator
        args["separator_download"] = False
        args["model_device"] = "cpu"
        args["writer_device"] = "auto" if gpu else "cpu"
        args["separator_device"] = "auto" if gpu else "cpu"
        for deployment in app.get("deployments", []):
            deployment["num_replicas"] = 1
            deployment["autoscaling_config"] = None
            options = deployment.setdefault("ray_actor_options", {})
            if deployment["name"] in ("Writer", "Separator"):
                if gpu:
                    options["num_gpus"] = 0.5
                else:
                    options.pop("num_gpus", None)
            elif not gpu:
                options.pop("num_gpus", None)
    return config


def _probe_replica(actor) -> dict[str, Any]:
    """Runs inside a Serve replica actor (`__ray_call__`): which device its stage uses."""
    import os
    import sys

    info: dict[str, Any] = {
        "pid": os.getpid(),
        "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES"),
    }
    torch = sys.modules.get("torch")
    if torch is None:
        info["torch_imported"] = False
    else:
        info["cuda_available"] = torch.cuda.is_available()
        info["cuda_initialized"] = torch.cuda.is_initialized()
        if torch.cuda.is_initialized():
            info["cuda_allocated_mb"] = round(torch.cuda.memory_allocated() / 2**20, 1)
            info["cuda_max_allocated_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
            info["cuda_device"] = torch.cuda.get_device_name(0)
    try:
        user = actor._replica_impl._user_callable_wrapper._callable
        stage = getattr(user, "stage", None)
        producer = getattr(stage, "producer", None)
        if producer is not None:
            info["stage_device"] = str(producer.device)
            model = getattr(producer, "model", None)
            if model is not None:
                info["model_param_device"] = str(next(model.parameters()).device)
        elif stage is not None and hasattr(stage, "device"):
            info["stage_device"] = str(stage.device)
            from producer.audio.separation import _cache

            info["separator_cached_devices"] = sorted({str(k[1]) for k in _cache})
    except Exception as err:
        info["stage_probe_error"] = f"{type(err).__name__}: {err}"
    return info


def _post_produce(url: str, data: dict, files: dict | None = None) -> tuple[Any, float]:
    import requests

    t0 = time.perf_counter()
    response = requests.post(url + "v1/produce", data=data, files=files, timeout=180)
    return response, time.perf_counter() - t0


def _check_master(url: str, body: dict, ctx: Ctx, key: str) -> dict[str, Any]:
    import requests

    response = requests.get(url + body["master_url"].lstrip("/"), timeout=60)
    response.raise_for_status()
    path = ctx.dir / f"{key}.wav"
    path.write_bytes(response.content)
    return _wav_loudness(path)


def check_serve(ctx: Ctx) -> None:
    import io

    import ray
    import requests
    import soundfile as sf
    import yaml

    from producer.serving import launch
    from ray_jobs.preprocess import local_workers_use_this_python

    gpu = not ctx.cpu_only
    if gpu:
        ctx.devices()  # fail now when there is no CUDA
    cluster = yaml.safe_load((ROOT / "serve_configs" / "cluster.yaml").read_text())
    derived = serve_config(
        cluster, gpu=gpu, checkpoint=str(ctx.checkpoint), separator=str(ctx.demucs)
    )
    path = ctx.dir / "gpu-check.yaml"
    path.write_text(yaml.safe_dump(derived, sort_keys=False))
    port = _free_port()
    config = launch.load_config(
        path, host="127.0.0.1", port=port, store_dir=str(ctx.dir / "results")
    )
    need = sum(
        float((d.get("ray_actor_options") or {}).get("num_cpus", 1))
        for d in derived["applications"][0].get("deployments", [])
    )
    cpus = max(ctx.args.serve_cpus, math.ceil(need))
    ctx.figures["ray_cpus"] = cpus
    ctx.figures["deployment_cpus"] = need
    local_workers_use_this_python()
    ray.init(
        num_cpus=cpus,
        num_gpus=1 if gpu else 0,
        namespace="serve",
        object_store_memory=OBJECT_STORE_BYTES,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        _temp_dir=str(ctx.ray_temp),
    )
    try:
        t0 = time.perf_counter()
        url = launch.start(config, timeout_s=150, on_status=lambda s: _say(f"[serve] {s}"))
        ctx.figures["startup_s"] = round(time.perf_counter() - t0, 1)
        ctx.summary["startup"] = f"{ctx.figures['startup_s']} s (6 deployments, warm-up on)"
        with ctx.step("healthz"):
            health = requests.get(url + "healthz", timeout=30)
            ctx.figures["healthz"] = {"status": health.status_code, "body": health.json()}
            if health.status_code != 200:
                raise RuntimeError(f"/healthz answered {health.status_code}")
        form = {
            "prompt": PROMPT,
            "duration": str(ctx.args.duration),
            "seed": "0",
            "candidates": str(ctx.args.candidates),
        }
        for attempt in ("produce_1", "produce_2"):
            with ctx.step(attempt):
                response, took = _post_produce(url, {**form, "seed": attempt[-1]})
                fig: dict[str, Any] = {"status": response.status_code, "latency_s": round(took, 2)}
                ctx.figures[attempt] = fig
                if response.status_code != 200:
                    raise RuntimeError(
                        f"POST /v1/produce {response.status_code}: {response.text[:300]}"
                    )
                body = response.json()
                fig["timings_s"] = body.get("timings_s")
                fig["reported_lufs"] = body.get("quality", {}).get("integrated_lufs")
                fig["master"] = _check_master(url, body, ctx, attempt)
                ctx.summary[attempt] = (
                    f"200 in {took:.2f} s, master {fig['master']['lufs']} LUFS "
                    f"({fig['master']['seconds']} s)"
                )
                if not fig["master"]["lufs_ok"]:
                    raise RuntimeError(f"master at {fig['master']['lufs']} LUFS")
        with ctx.step("produce_upload"):
            buf = io.BytesIO()
            sf.write(buf, synthetic_mix(ctx.args.duration).T, SR, format="WAV", subtype="PCM_16")
            files = {"audio": ("song.wav", buf.getvalue(), "audio/wav")}
            response, took = _post_produce(url, {**form, "seed": "3"}, files)
            fig = {"status": response.status_code, "latency_s": round(took, 2)}
            ctx.figures["produce_upload"] = fig
            if response.status_code != 200:
                raise RuntimeError(
                    f"POST /v1/produce (upload) {response.status_code}: {response.text[:300]}"
                )
            body = response.json()
            fig["timings_s"] = body.get("timings_s")
            fig["stems"] = [(s["role"], s["source"]) for s in body.get("stems", [])]
            fig["master"] = _check_master(url, body, ctx, "produce_upload")
            ctx.summary["produce_upload"] = (
                f"200 in {took:.2f} s, master {fig['master']['lufs']} LUFS, stems {fig['stems']}"
            )
            if not fig["master"]["lufs_ok"]:
                raise RuntimeError(f"master at {fig['master']['lufs']} LUFS")
        with ctx.step("replica_devices"):
            devices = {}
            for entry in ray.util.list_named_actors(all_namespaces=True):
                name = entry["name"] if isinstance(entry, dict) else entry
                namespace = entry.get("namespace", "serve") if isinstance(entry, dict) else "serve"
                if "SERVE_REPLICA" not in name:
                    continue
                actor = ray.get_actor(name, namespace=namespace)
                devices[name] = ray.get(actor.__ray_call__.remote(_probe_replica), timeout=30)
            ctx.figures["replicas"] = devices
            for name, info in sorted(devices.items()):
                short = name.split("#")[1] if "#" in name else name
                ctx.summary[f"replica {short}"] = (
                    f"device {info.get('stage_device', '-')}, "
                    f"CUDA_VISIBLE_DEVICES={info.get('CUDA_VISIBLE_DEVICES')}, "
                    f"cuda MB {info.get('cuda_allocated_mb', 0)}"
                )
        if gpu:
            with ctx.step("nvidia_smi"):
                ctx.figures["nvidia_smi_apps"] = _nvidia_smi("--query-compute-apps=pid,used_memory")
    finally:
        with contextlib.suppress(Exception):
            launch.stop()
        ray.shutdown()


# ---------------------------------------------------------------------------- train


def check_fused_adam(ctx: Ctx) -> None:
    """JIT-build (or load from the torch extensions cache) DeepSpeed's FusedAdam op."""
    import torch

    if not torch.cuda.is_available():
        raise RuntimeError("CUDA is not available")
    from deepspeed.ops.op_builder import FusedAdamBuilder

    from ray_jobs.train import deepspeed_arch_list

    arch = os.environ.get("TORCH_CUDA_ARCH_LIST", "")
    ctx.figures["TORCH_CUDA_ARCH_LIST"] = arch
    if arch.strip():  # as the train job's workers do: DeepSpeed cannot parse "9.0a"
        os.environ["TORCH_CUDA_ARCH_LIST"] = deepspeed_arch_list(arch)
    t0 = time.perf_counter()
    FusedAdamBuilder().load()
    ctx.figures["build_s"] = round(time.perf_counter() - t0, 1)
    ctx.summary["FusedAdam"] = f"built/loaded in {ctx.figures['build_s']} s"


def train_overrides(
    *,
    gpu: bool,
    data,
    storage,
    run_name: str,
    model: str,
    text_model,
    epochs: int,
    torch_adam: bool,
) -> list[str]:
    """`--set` overrides scaling ray_jobs/configs/gpu-cluster.yaml (GPU) or local-cpu.yaml to
    one worker on this machine: {CPU: 4, GPU: 1}, ZeRO-2, bf16 (GPU), no restarts."""
    return [
        f"train.data={data}",
        f"train.storage_path={storage}",
        f"train.run_name={run_name}",
        f"train.model={model}",
        f"train.text_model_name={text_model}",
        f"train.epochs={epochs}",
        "train.batch_size=4",
        "train.warmup_steps=2",
        "train.max_tokens=256",
        "train.num_workers=1",
        f"train.use_gpu={'true' if gpu else 'false'}",
        "train.resources_per_worker=" + ("{CPU: 4, GPU: 1}" if gpu else "{CPU: 1}"),
        "train.max_failures=0",
        "train.checkpoint_every_steps=null",
        "train.export_dir=null",
        "train.deepspeed.zero_stage=2",
        f"train.deepspeed.bf16={'true' if gpu else 'false'}",
        f"train.deepspeed.torch_adam={'true' if torch_adam else 'false'}",
    ]


def check_train(ctx: Ctx) -> None:
    import ray
    import torch

    from producer.data.shards import load_shards
    from producer.models.unified import UnifiedProducerModel
    from ray_jobs.config import load_config
    from ray_jobs.preprocess import PreprocessSettings, local_workers_use_this_python
    from ray_jobs.preprocess import preprocess as run_preprocess
    from ray_jobs.train import train
    from tests.ray_jobs.corpus import SR as CORPUS_SR
    from tests.ray_jobs.corpus import make_corpus

    gpu = not ctx.cpu_only
    if gpu:
        ctx.devices()
    songs = ctx.args.songs or (16 if gpu else 8)
    stemless = [f"song_{i:05d}" for i in range(min(4, songs // 4))]
    t0 = time.perf_counter()
    make_corpus(ctx.dir, songs, seed=3, stemless=stemless)
    ctx.figures["corpus"] = {
        "songs": songs,
        "stemless": len(stemless),
        "seconds": round(time.perf_counter() - t0, 1),
    }

    cpus = os.cpu_count() or 2
    local_workers_use_this_python()
    ray.init(
        num_cpus=max(cpus, 6 if gpu else 2),
        num_gpus=1 if gpu else 0,
        object_store_memory=OBJECT_STORE_BYTES,
        include_dashboard=True,  # Ray Train's placement-group cleaner polls the state API
        dashboard_host="127.0.0.1",
        configure_logging=False,
        _temp_dir=str(ctx.ray_temp),
    )
    try:
        t0 = time.perf_counter()
        settings = PreprocessSettings(
            data_dir=str(ctx.dir / "data"),
            output_dir=str(ctx.dir / "pre"),
            separator=str(ctx.dir / "demucs"),
            separator_num_gpus=0.5 if gpu else 0.0,
            separator_num_cpus=2 if gpu else 1,
            batch_size=4,
            analysis_concurrency=max(1, min(8, cpus - 4)) if gpu else 1,
            sample_rate=CORPUS_SR,
            quality_copies=2,
        )
        pre = run_preprocess(settings, progress=False)
        rows = len(load_shards(ctx.dir / "pre"))
        ctx.figures["preprocess"] = {
            "seconds": round(time.perf_counter() - t0, 1),
            "done": pre.done,
            "failed": pre.failed,
            "separated": pre.separated,
            "rows": rows,
        }
        ctx.summary["preprocess"] = (
            f"{pre.done} songs ({pre.separated} separated by Demucs on "
            f"{'GPU' if gpu else 'CPU'}) in {ctx.figures['preprocess']['seconds']} s"
        )

        base = ROOT / "ray_jobs" / "configs" / ("gpu-cluster.yaml" if gpu else "local-cpu.yaml")
        model = ctx.args.train_model or ("default" if gpu else "debug")
        fused = gpu and not ctx.args.torch_adam and ctx.extra.get("fused_adam") == "ok"
        attempts = [False, True] if fused else [True]
        if gpu and not fused:
            ctx.figures["fused_adam_skipped"] = (
                "torch_adam: true (FusedAdam not built, or --torch-adam)"
            )
        for torch_adam in attempts:
            label = "torch_adam" if torch_adam else "fused_adam"
            overrides = train_overrides(
                gpu=gpu,
                data=ctx.dir / "pre",
                storage=ctx.dir / "runs",
                run_name=f"gck-{label}",
                model=model,
                text_model=ctx.bert,
                epochs=ctx.args.epochs,
                torch_adam=torch_adam,
            )
            with ctx.step(f"train_{label}"):
                job = load_config(base, overrides).train
                t0 = time.perf_counter()
                report = train(job)
                took = time.perf_counter() - t0
                fig: dict[str, Any] = {
                    "seconds": round(took, 1),
                    "epochs": report.epochs,
                    "steps": report.steps,
                    "rows": report.rows,
                    "history": report.history,
                    "samples_per_s_overall": round(report.rows * report.epochs / took, 2),
                    "checkpoint": report.checkpoint,
                    "export_dir": report.export_dir,
                }
                ctx.figures[f"train_{label}"] = fig
                ckpt = Path(report.checkpoint or "") / "deepspeed"
                fig["checkpoint_files"] = sorted(p.name for p in ckpt.rglob("*") if p.is_file())[
                    :20
                ]
                export = Path(report.export_dir)
                fig["export_files"] = sorted(p.name for p in export.iterdir())
                if not fig["checkpoint_files"]:
                    raise RuntimeError(f"no DeepSpeed checkpoint files under {ckpt}")
                device = "cuda" if gpu else "cpu"
                reloaded = UnifiedProducerModel.from_pretrained(export, device=device)
                plan = reloaded.plan_production("trap beat at 140 bpm", duration=4.0)
                fig["reload"] = {"device": device, "plan_bpm": plan.bpm, "style": plan.style}
                last = report.history[-1] if report.history else {}
                ctx.summary[f"train {label}"] = (
                    f"{report.epochs} epochs / {report.steps} steps on {report.rows} rows in "
                    f"{took:.1f} s; last epoch {last.get('samples_per_s')} samples/s; "
                    f"export reloads on {device} (plan {plan.bpm:g} bpm)"
                )
                del reloaded
                if gpu:
                    torch.cuda.empty_cache()
            if f"train_{label}" not in ctx.errors:
                break  # a FusedAdam failure stands (the check fails) even when AdamW then ran
    finally:
        ray.shutdown()


CHILDREN: dict[str, Callable[[Ctx], None]] = {
    "setup": check_setup,
    "env": check_env,
    "model": check_model,
    "demucs": check_demucs,
    "serve": check_serve,
    "train": check_train,
    "fused_adam": check_fused_adam,
}


if __name__ == "__main__":
    sys.exit(main())
