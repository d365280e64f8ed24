"""Run already-validated Faust programs over audio with DawDreamer (libfaust + LLVM JIT).

    run_faust(code, inputs, sr)              one program: (C_in, T) → (C_out, T) float32
    run_faust_parallel([(code, inputs)], sr) independent programs on worker threads
    run_mix(stems, master_code, sr)          stem programs in parallel → sum → master program
    program_io(code, sr)                     (inputs, outputs) of a program

Compiling is the slow part (libfaust + LLVM: 0.04–0.4 s per program, ~0.8 s for a whole
four-stem mix as one program); rendering 30 s of that mix takes ~0.22 s. So compiled programs
live in an LRU cache keyed by (sha256 of the code, sample rate, block size, compile flags);
each entry is a small pool of ready RenderEngine → PlaybackProcessor → FaustProcessor graphs.
The cache is bounded by count and by memory: each idle graph is charged its delay lines (as the
validator's budget counts them: an echo line is sized for 192 kHz) plus a fixed overhead, so a
few echo-heavy scripts cannot keep gigabytes alive after they rendered (issue 16).

Why reusing a processor is safe: it carries DSP state (reverb tails, compressor envelopes,
noise generators), but `RenderEngine.render` resets the graph before rendering
(`AudioProcessorGraph::reset` → `FaustProcessor::reset` → the DSP's `instanceClear`), so a
re-run starts from the same zeroed state as the first run and is bit-identical (tested).

Threads: `RenderEngine.render` releases the GIL, so distinct graphs render concurrently; a
graph is lent to one thread at a time (taken out of its pool while it renders). Graphs are
built and compiled only on one dedicated thread (`juce_thread.py`: JUCE completes graph
changes only on its message thread, and libfaust's compiler is not thread-safe); they are
destroyed under `_LIBFAUST_LOCK`, which keeps factory deletion out of a running compile.

Speed (benchmarks/RESULTS.md, 30 s four-stem mix, 2 vCPUs): split into per-stem programs
rendered on threads, summed, then a master program (`run_mix`), it renders in ~0.22 s, 1.4–1.5×
pedalboard's boards run one after another; as one program on one thread ~0.32 s, ~1.0×. The
measurements behind every setting here are recorded there.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ctypes.util
import hashlib
import math
import os
import platform
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from producer.errors import FaustCompileError, FaustValidationError, RenderError
from producer.faust.budget import memory
from producer.faust.juce_thread import JuceThread, juce_thread
from producer.faust.parser import parse

# Block size made no measurable difference between 512 and 8192 (within ±5 %, noise); 2048
# keeps one block of a stereo program in L1/L2 and amortises the per-block graph bookkeeping.
DEFAULT_BLOCK_SIZE = 2048

# libfaust options for every compile.
#   -inpl       REQUIRED for correct audio. DawDreamer calls compute() with the same buffers
#               for inputs and outputs, and Faust's default code may write output j before it
#               reads input k > j: `ro.cross(2)` comes out as (R, R), and whether a mix is
#               affected depends on how libfaust orders the code. `-inpl` makes Faust read
#               every input of a sample before writing any output. Cost: within noise.
#   -mcd 0      every delay line as a ring buffer, none as a shifting copy (default: delays
#               under 16 samples are copied each sample). ~10 % faster render of the benchmark
#               mix as one program, ~5 % as stems, and 10–25 % faster compiles; output equal
#               to the default's to float rounding (≤ 1e-6).
# Measured and rejected (benchmarks/RESULTS.md):
#   -double     DawDreamer hands float32 buffers to compute(): garbage/NaN output.
#   -vec …      4–8× longer compiles, no faster render on these chains.
#   -ftz 1/2    software denormal flushing, slower on reverbs than the hardware flush below.
#   -fm def     crashes libfaust's LLVM backend.
#   opt_level   0–4 vs the default -1 (max): no shorter compiles, slower or equal renders.
COMPILE_FLAGS: tuple[str, ...] = ("-inpl", "-mcd", "0")

# Anything louder than +40 dBFS is a runaway (unstable feedback, a gain typo), not a mix.
PEAK_LIMIT = 100.0

# Compiled programs kept; a split mix uses one per stem plus the master.
CACHE_SIZE = 32

# Memory the idle graphs of the cache may hold, in bytes: four scripts at the validator's delay
# limit (64 MB), or hundreds of everyday mixes (a four-stem mix's reverbs take about 1 MB).
CACHE_BYTES = 256 * 2**20

# What one graph costs beyond its delay lines: JIT code, the graph, its buffers. Measured in one
# warm process: 0.8 MB per EQ + compressor program, 1.1 MB per reverb program (its 0.3 MB of
# delay lines included); rounded up. (16 MB, a cold process's growth, left room for 16 graphs
# and the cache thrashed: the instruments recompiled every production, e2e 6.5x -> 4.7x.)
PROGRAM_OVERHEAD_BYTES = 2 * 2**20

# Idle graphs kept per program: enough for identical stem programs rendering at once.
POOL_SIZE = 4

# Held around every libfaust compile and every processor destruction (see _Instance.close).
_LIBFAUST_LOCK = threading.Lock()

# DawDreamer compiles `auto_import + "\n" + code`, so the script's line 1 is libfaust's
# line 2; importing stdfaust.lib twice is harmless and lets scripts omit the import.
_AUTO_IMPORT = 'import("stdfaust.lib");'
_LINE_OFFSET = 1


# --- denormals -----------------------------------------------------------------------------


class _FEnv(ctypes.Structure):
    """glibc's x86-64 fenv_t: the x87 environment (28 bytes), then the SSE MXCSR register."""

    _fields_ = (("x87", ctypes.c_uint8 * 28), ("mxcsr", ctypes.c_uint32))


def _load_libm() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        return None
    try:
        libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
        return libm if libm.fegetenv(ctypes.byref(_FEnv())) == 0 else None
    except (OSError, AttributeError):
        return None


_LIBM = _load_libm()
_FTZ_DAZ = 0x8040  # MXCSR bit 15: flush to zero; bit 6: denormals are zero


@contextlib.contextmanager
def _no_denormals() -> Iterator[None]:
    """Flush subnormal floats to zero on this thread for the duration of a render.

    Filter and reverb states decaying through silence go subnormal, and x86 computes on
    subnormals many times slower: a drum stem with gaps rendered ~1.4× slower without this.
    Audio hosts set FTZ/DAZ on their audio threads (JUCE's ScopedNoDenormals, which is why
    pedalboard never pays this); DawDreamer's render does not, so we do. MXCSR is per thread
    and the render runs on the calling thread; it is restored before Python code runs again.
    No-op off Linux x86-64.
    """
    if _LIBM is None:
        yield
        return
    old = _FEnv()
    _LIBM.fegetenv(ctypes.byref(old))
    new = _FEnv.from_buffer_copy(old)
    new.mxcsr |= _FTZ_DAZ
    _LIBM.fesetenv(ctypes.byref(new))
    try:
        yield
    finally:
        _LIBM.fesetenv(ctypes.byref(old))


# --- compiled programs and their cache --------------------------------------------------------


@dataclass
class _Instance:
    """One compiled program wired into its own render graph (used by one thread at a time)."""

    engine: object  # dawdreamer.RenderEngine
    playback: object | None  # PlaybackProcessor feeding the inputs; None for generators
    faust: object  # dawdreamer.FaustProcessor
    num_inputs: int
    num_outputs: int

    def render(self, x: np.ndarray, length: int, sample_rate: int) -> np.ndarray:
        if self.playback is not None:
            self.playback.set_data(x)  # one memcpy per channel for C-contiguous float32
        with _no_denormals():
            # render() takes seconds and truncates seconds·rate to whole samples, so T/rate
            # can come back as T-1; half a sample more always truncates to exactly T.
            self.engine.render((length + 0.5) / sample_rate)
        return self.engine.get_audio()  # a fresh copy of the recorded output

    def close(self) -> None:
        """Destroy the DawDreamer objects now, on this thread, outside any libfaust compile.

        Destroying a FaustProcessor deletes its libfaust factory (global compiler state), so
        it must not overlap a compile; _LIBFAUST_LOCK orders the two. Graph teardown itself
        is safe on any thread.
        """
        with _LIBFAUST_LOCK:
            self.engine = self.playback = self.faust = None

    def shrink(self, sample_rate: int) -> None:
        """Free the input copy and the recording (T-sized) before the graph goes idle.

        A cached graph otherwise holds C_in·T + C_out·T floats: ~320 MB for a 3-minute
        eight-input mix, times the cache size. Costs one one-sample render (reset + a block).
        """
        if self.playback is not None:
            self.playback.set_data(np.zeros((self.num_inputs, 1), dtype=np.float32))
        self.engine.render(1.5 / sample_rate)


@dataclass
class _Entry:
    """A cached program: its channel counts and the idle graphs ready to render it."""

    num_inputs: int
    num_outputs: int
    cost: int  # bytes one graph of this program holds (`program_bytes`)
    idle: list[_Instance] = field(default_factory=list)


@dataclass(frozen=True)
class CacheInfo:
    """Counters of the compiled-program cache."""

    hits: int  # lookups served by an already compiled program
    misses: int  # lookups that had to compile (failed compiles included)
    compiles: int  # successful compiles, including extra graphs for concurrent runs
    size: int  # programs currently cached
    idle_bytes: int = 0  # estimated memory of the idle graphs the cache holds


def program_bytes(code: str) -> int:
    """Estimated memory of one compiled graph of `code`: delay lines plus a fixed overhead.

    The delay lines are counted as the validator's budget counts them (`budget.memory`); code
    outside the mix language (tests, the renderer's own programs) is charged the overhead only.
    """
    # Programs may leave out the import line (DawDreamer adds it); the parser wants it.
    text = code if code.lstrip().startswith("import") else f"{_AUTO_IMPORT}\n{code}"
    try:
        delay, _ = memory(parse(text))
    except FaustValidationError:
        delay = 0
    return PROGRAM_OVERHEAD_BYTES + delay


class _ProgramCache:
    """LRU of compiled programs; each entry pools graphs so that threads never share one.

    Bounded by `max_entries` programs and by `max_bytes` of idle graphs (`program_bytes` each):
    least recently used programs go first, and a graph larger than the whole bound is closed
    as soon as it has rendered.
    """

    def __init__(self, max_entries: int, max_bytes: int = CACHE_BYTES) -> None:
        self._max = max_entries
        self._max_bytes = max_bytes
        self._entries: OrderedDict[tuple, _Entry] = OrderedDict()
        self._lock = threading.Lock()  # guards _entries and the counters; never held long
        self._bytes = 0  # sum of cost × idle graphs over the entries
        self.hits = self.misses = self.compiles = 0

    def acquire(self, code: str, sample_rate: int, block_size: int) -> tuple[tuple, _Instance]:
        key = (hashlib.sha256(code.encode()).hexdigest(), sample_rate, block_size, COMPILE_FLAGS)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                if entry.idle:
                    self._bytes -= entry.cost
                    return key, entry.idle.pop()
            else:
                self.misses += 1
        # Build outside the cache lock so other programs keep rendering meanwhile. A second
        # graph of a program already compiled is cheap: libfaust reuses the live factory.
        cost = program_bytes(code) if entry is None else entry.cost
        instance = _juce().call(_build, code, sample_rate, block_size)
        with self._lock:
            self.compiles += 1
            if key not in self._entries:
                self._entries[key] = _Entry(instance.num_inputs, instance.num_outputs, cost)
            evicted = self._trim(keep=key)
        _close_all(evicted)
        return key, instance

    def release(self, key: tuple, instance: _Instance) -> None:
        evicted: list[_Instance] = []
        with self._lock:
            entry = self._entries.get(key)
            pooled = (
                entry is not None and len(entry.idle) < POOL_SIZE and entry.cost <= self._max_bytes
            )
            if pooled:
                entry.idle.append(instance)
                self._bytes += entry.cost
                evicted = self._trim(keep=key)
        if not pooled:
            # Evicted meanwhile, a pool already full, or too large to keep at all.
            instance.close()
        _close_all(evicted)

    def _trim(self, keep: tuple) -> list[_Instance]:
        """Drop least recently used programs (never `keep`) until both bounds hold.

        Called with the lock held; returns the idle graphs to close once it is released.
        """
        out: list[_Instance] = []
        for k in list(self._entries):
            if len(self._entries) <= self._max and self._bytes <= self._max_bytes:
                break
            if k == keep:
                continue
            entry = self._entries.pop(k)
            self._bytes -= entry.cost * len(entry.idle)
            out.extend(entry.idle)
        return out

    def info(self) -> CacheInfo:
        with self._lock:
            return CacheInfo(self.hits, self.misses, self.compiles, len(self._entries), self._bytes)

    def clear(self) -> None:
        with self._lock:
            entries = list(self._entries.values())
            self._entries.clear()
            self._bytes = 0
            self.hits = self.misses = self.compiles = 0
        _close_all([idle for entry in entries for idle in entry.idle])


def _close_all(instances: Sequence[_Instance]) -> None:
    for instance in instances:
        instance.close()


_CACHE = _ProgramCache(CACHE_SIZE)
# Destroy cached graphs before interpreter teardown, when nanobind would report them leaked.
atexit.register(lambda: _CACHE.clear())


def cache_info() -> CacheInfo:
    """Hits, misses, compiles and size of the compiled-program cache."""
    return _CACHE.info()


def clear_cache() -> None:
    """Drop every compiled program and zero the counters (tests; cold-compile benchmarks)."""
    _CACHE.clear()


def _faust_libraries_dir() -> str | None:
    """The faustlibraries that DawDreamer ships in its wheel (stdfaust.lib, filters.lib…)."""
    import dawdreamer

    path = Path(dawdreamer.__file__).parent / "faustlibraries"
    return str(path) if (path / "stdfaust.lib").is_file() else None


def _juce() -> JuceThread:
    return juce_thread(_probe)


def _probe() -> None:
    """Build and render a one-sample identity graph (makes the builder JUCE's message thread)."""
    instance = _build("process = _;", 44100, 64)
    instance.render(np.zeros((1, 1), dtype=np.float32), 1, 44100)
    instance.close()


def _build(code: str, sample_rate: int, block_size: int) -> _Instance:
    """Compile `code` and wire it behind a playback processor; FaustCompileError on refusal.

    Runs on the JUCE thread only (see juce_thread.py).
    """
    import dawdreamer  # deferred: a large native module, not needed to import the package

    with _LIBFAUST_LOCK:
        return _build_locked(dawdreamer, code, sample_rate, block_size)


def _build_locked(dawdreamer, code: str, sample_rate: int, block_size: int) -> _Instance:
    engine = dawdreamer.RenderEngine(float(sample_rate), block_size)
    faust = engine.make_faust_processor("program")
    faust.auto_import = _AUTO_IMPORT
    libraries = _faust_libraries_dir()
    if libraries is not None:
        # Explicit, so that stdfaust.lib resolves offline from the wheel.
        faust.faust_libraries_paths = [libraries]
    faust.compile_flags = list(COMPILE_FLAGS)
    error = None
    try:
        faust.set_dsp_string(code)
        if not faust.compile():
            error = "Faust compile error: libfaust refused the program"
    except RuntimeError as exc:  # DawDreamer raises with libfaust's message
        error = _compiler_message(str(exc))
    num_outputs = faust.get_num_output_channels() if error is None else 0
    if error is None and num_outputs < 1:
        error = "Faust compile error: `process` has no outputs"
    if error is not None:
        # Destroy the processor here, on this thread, not wherever the traceback dies.
        del faust, engine
        raise FaustCompileError(error)
    num_inputs = faust.get_num_input_channels()
    if num_inputs:
        playback = engine.make_playback_processor(
            "inputs", np.zeros((num_inputs, 1), dtype=np.float32)
        )
        engine.load_graph([(playback, []), (faust, ["inputs"])])
    else:
        playback = None
        engine.load_graph([(faust, [])])
    instance = _Instance(engine, playback, faust, num_inputs, num_outputs)
    # The first render wires the graph (JUCE prepares it), which must happen on this thread.
    instance.shrink(sample_rate)
    return instance


_LOCATION = re.compile(r"\bdawdreamer\s*:\s*(\d+)\s*:\s*", re.IGNORECASE)


def _compiler_message(raw: str) -> str:
    """libfaust's own words without DawDreamer's wrapper, with the script's line numbers.

    'FaustProcessor::compile(): dawdreamer:4 : ERROR : undefined symbol : foo\\n. Check the
    faustlibraries path: …' → 'Faust compile error: line 3: ERROR : undefined symbol : foo'.
    """
    text = raw.removeprefix("FaustProcessor::compile():").strip()
    text = re.sub(r"\s*\.?\s*Check the faustlibraries path:.*$", "", text, flags=re.DOTALL)
    text = _LOCATION.sub(lambda m: f"line {max(1, int(m.group(1)) - _LINE_OFFSET)}: ", text)
    text = text.strip()
    return f"Faust compile error: {text}" if text else "Faust compile error (no message)"


# --- public API ----------------------------------------------------------------------------


def program_io(code: str, sample_rate: int, *, block_size: int | None = None) -> tuple[int, int]:
    """(number of inputs, number of outputs) of a Faust program; compiles and caches it.

    Raises `FaustCompileError` if libfaust refuses the program.
    """
    key, instance = _CACHE.acquire(code, int(sample_rate), block_size or DEFAULT_BLOCK_SIZE)
    _CACHE.release(key, instance)
    return instance.num_inputs, instance.num_outputs


def run_faust(
    code: str,
    inputs: np.ndarray | None,
    sample_rate: int,
    *,
    block_size: int | None = None,
    num_samples: int | None = None,
) -> np.ndarray:
    """Run a Faust program over `inputs` (C_in, T) and return its (C_out, T) float32 output.

    C_in must equal the program's input count. A generator (no inputs) takes `inputs=None`
    or a (0, T) array, with `num_samples` giving T. The output has exactly T samples.
    A second run of the same code reuses the compiled program and gives bit-identical output.
    Raises `FaustCompileError` (libfaust refused the code) or `RenderError` (wrong channel
    count, NaN/Inf or runaway output above +40 dBFS).
    """
    sample_rate, block_size = int(sample_rate), int(block_size or DEFAULT_BLOCK_SIZE)
    if sample_rate <= 0 or block_size <= 0:
        raise RenderError(
            f"sample rate and block size must be positive, got {sample_rate} and {block_size}"
        )
    x, length = _as_inputs(inputs, num_samples)

    key, instance = _CACHE.acquire(code, sample_rate, block_size)
    if x.shape[0] != instance.num_inputs or length == 0:
        _CACHE.release(key, instance)
        if x.shape[0] != instance.num_inputs:
            raise RenderError(
                f"the program takes {instance.num_inputs} input channel(s) but was given "
                f"{x.shape[0]}"
            )
        return np.zeros((instance.num_outputs, 0), dtype=np.float32)
    try:
        out = instance.render(x, length, sample_rate)
        instance.shrink(sample_rate)
    except RuntimeError as exc:
        message = f"DawDreamer could not render the program: {exc}"
    else:
        message = None
    if message is not None:
        instance.close()  # not trusted again
        raise RenderError(message)
    _CACHE.release(key, instance)

    if out.shape != (instance.num_outputs, length):
        raise RenderError(
            f"DawDreamer returned {out.shape[0]} channel(s) × {out.shape[1]} samples, "
            f"expected {instance.num_outputs} × {length}"
        )
    check_output(out, sample_rate, inputs=x)
    return out


def _as_inputs(inputs: np.ndarray | None, num_samples: int | None) -> tuple[np.ndarray, int]:
    """(C_in, T) C-contiguous float32 inputs and T; checks the generator form."""
    if inputs is None or (np.ndim(inputs) == 2 and np.shape(inputs)[0] == 0):
        if num_samples is None:
            if inputs is None:
                raise RenderError("a program without inputs needs num_samples")
            num_samples = np.shape(inputs)[1]
        if num_samples < 0:
            raise RenderError(f"num_samples must be >= 0, got {num_samples}")
        return np.zeros((0, int(num_samples)), dtype=np.float32), int(num_samples)
    # C-contiguous float32 gives DawDreamer's set_data its one-memcpy-per-channel path.
    x = np.ascontiguousarray(inputs, dtype=np.float32)
    if x.ndim != 2:
        raise RenderError(f"inputs must be (channels, samples), got shape {x.shape}")
    if num_samples is not None and num_samples != x.shape[1]:
        raise RenderError(f"num_samples={num_samples} but the inputs have {x.shape[1]} samples")
    return x, x.shape[1]


def check_output(out: np.ndarray, sample_rate: int, *, inputs: np.ndarray | None = None) -> None:
    """Raise `RenderError` with a one-line reason if `out` has NaN/Inf or a runaway peak."""
    if out.size == 0:
        return
    # max and min propagate NaN and keep ±Inf; two passes, no temporary array.
    peak = max(float(np.max(out)), -float(np.min(out)))
    if not math.isfinite(peak):
        bad = ~np.isfinite(out)
        channel, index = np.unravel_index(int(np.argmax(bad)), out.shape)
        cause = (
            "the inputs already contain NaN/Inf"
            if inputs is not None and inputs.size and not np.isfinite(inputs).all()
            else "e.g. a division by zero, or sqrt/log of a negative number"
        )
        raise RenderError(
            f"the program produced non-finite audio (NaN/Inf) on output {channel} from "
            f"{index / sample_rate:.3f} s; {cause}"
        )
    if peak > PEAK_LIMIT:
        raise RenderError(
            f"the program's output peaks at {20 * math.log10(peak):+.1f} dBFS, above the "
            f"+{20 * math.log10(PEAK_LIMIT):.0f} dBFS safety limit (runaway gain or unstable "
            "feedback)"
        )


def default_workers() -> int:
    """CPU cores this process may run on (respects taskset/cpusets, unlike os.cpu_count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS
        return os.cpu_count() or 1


def run_faust_parallel(
    programs: Sequence[tuple[str, np.ndarray | None]],
    sample_rate: int,
    *,
    block_size: int | None = None,
    max_workers: int | None = None,
) -> list[np.ndarray]:
    """Run independent programs concurrently; returns their outputs in the given order.

    Each item is (code, inputs) as for `run_faust` (generators are not supported here: give
    them a (0, T) array). Up to `max_workers` threads (default: the usable CPU cores) render
    at once, since DawDreamer renders without the GIL. Cold programs compile one at a time
    (libfaust is not thread-safe) while already compiled ones render, so compiling and
    rendering overlap. The first error in program order is raised, after all have finished.
    """
    if not programs:
        return []
    workers = min(len(programs), max_workers or default_workers())
    if workers == 1:
        return [run_faust(c, x, sample_rate, block_size=block_size) for c, x in programs]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="faust") as pool:
        futures = [
            pool.submit(run_faust, c, x, sample_rate, block_size=block_size) for c, x in programs
        ]
    return [f.result() for f in futures]


def run_mix(
    stems: Sequence[tuple[str, np.ndarray]],
    master_code: str,
    sample_rate: int,
    *,
    block_size: int | None = None,
    max_workers: int | None = None,
) -> np.ndarray:
    """Stem programs in parallel, their outputs summed, then the master program: (C, T).

    `stems` lists (stem program, its (C_in, T) inputs); every stem program must output as
    many channels as `master_code` takes (e.g. 2) and all inputs must have the same T. This is
    the split form of one mix script `process = s1, s2, … :> master;` and renders the same
    audio (to float rounding), ~1.5× faster on two vCPUs because the stems, most of the work,
    run concurrently, and the master compiles (if new) while they render. Raises like
    `run_faust`.
    """
    if not stems:
        raise RenderError("a mix needs at least one stem program")
    lengths = {np.shape(x)[-1] for _, x in stems}
    if len(lengths) != 1:
        raise RenderError(f"stem inputs differ in length: {sorted(lengths)} samples")
    # The master compiles (if cold) on its own thread while the stems render.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="faust-master") as pool:
        master_io = pool.submit(program_io, master_code, sample_rate, block_size=block_size)
        outs = run_faust_parallel(
            stems, sample_rate, block_size=block_size, max_workers=max_workers
        )
    master_inputs, _ = master_io.result()
    shapes = {o.shape for o in outs}
    if len(shapes) != 1:
        raise RenderError(f"stem programs disagree on output shape: {sorted(shapes)}")
    if master_inputs != outs[0].shape[0]:
        raise RenderError(
            f"the master program takes {master_inputs} input channel(s) but the stems "
            f"output {outs[0].shape[0]}"
        )
    bus = outs[0]  # ours to modify: run_faust returns fresh arrays
    for out in outs[1:]:
        np.add(bus, out, out=bus)
    return run_faust(master_code, bus, sample_rate, block_size=block_size)
