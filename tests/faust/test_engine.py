"""The Faust execution engine: exact routing, caching, state reset, errors, lengths, threads."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from producer.errors import FaustCompileError, RenderError
from producer.faust import engine, juce_thread
from producer.faust.engine import (
    cache_info,
    program_io,
    run_faust,
    run_faust_parallel,
    run_mix,
)

SR = 44100

REVERB = """import("stdfaust.lib");
process = _,_ <: _,_, (re.stereo_freeverb(0.84, 0.5, 0.2, 23) : *(0.1), *(0.1)) :> _,_;
"""


def noise(channels: int, length: int, seed: int = 0, level: float = 0.25) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((channels, length)) * level).astype(np.float32)


def test_gain_program_scales_input_exactly():
    x = noise(1, 4410)
    y = run_faust("process = *(0.5);", x, SR)
    assert y.dtype == np.float32
    assert y.shape == (1, 4410)
    np.testing.assert_array_equal(y, x * np.float32(0.5))


@pytest.mark.parametrize(
    "code",
    [
        "process = _,_ <: !,_,_,! : _, *(2);",
        'import("stdfaust.lib");\nprocess = ro.cross(2) : _, *(2);',
    ],
)
def test_stereo_program_routes_channels(code):
    # Swap the channels, then scale the new right one. DawDreamer computes in place, so
    # without `-inpl` the left output overwrote the left input before it was read: (R, 2R).
    x = np.stack([np.full(1000, 0.25), np.full(1000, -0.5)]).astype(np.float32)
    y = run_faust(code, x, SR)
    np.testing.assert_array_equal(y[0], x[1])
    np.testing.assert_array_equal(y[1], x[0] * 2)


def test_program_io_reports_channel_counts():
    assert program_io("process = _,_,_ :> _;", SR) == (3, 1)
    assert program_io('import("stdfaust.lib");\nprocess = os.osc(440) <: _,_;', SR) == (0, 2)


def test_stdfaust_resolves_without_an_explicit_import():
    y = run_faust("process = fi.lowpass(2, 1000);", noise(1, 2048), SR)
    assert y.shape == (1, 2048)


def test_second_run_hits_the_cache_and_is_bit_identical_with_state():
    # A reverb's tail and the compressor's envelope carry state from one render to the
    # next unless the engine resets it: identical output proves the reset.
    code = REVERB + "// cache test\n"
    x = noise(2, SR // 2, seed=1)
    before = cache_info()
    t0 = time.perf_counter()
    first = run_faust(code, x, SR)
    cold = time.perf_counter() - t0
    after_first = cache_info()
    t0 = time.perf_counter()
    second = run_faust(code, x, SR)
    warm = time.perf_counter() - t0
    after_second = cache_info()

    assert after_first.compiles == before.compiles + 1
    assert after_second.compiles == after_first.compiles  # no recompile
    assert after_second.hits == after_first.hits + 1
    assert warm < cold
    assert np.abs(first).max() > 0.01  # the reverb did something
    np.testing.assert_array_equal(first, second)


def test_state_does_not_leak_between_different_inputs():
    code = REVERB + "// leak test\n"
    loud, silent = noise(2, 8192, seed=2), np.zeros((2, 8192), dtype=np.float32)
    run_faust(code, loud, SR)
    np.testing.assert_array_equal(run_faust(code, silent, SR), silent)


def test_generator_with_num_samples_is_deterministic():
    code = 'import("stdfaust.lib");\nprocess = no.noise * 0.5;'
    a = run_faust(code, None, SR, num_samples=1001)
    b = run_faust(code, np.zeros((0, 1001), dtype=np.float32), SR)
    assert a.shape == (1, 1001)
    np.testing.assert_array_equal(a, b)


def test_generator_without_length_is_refused():
    with pytest.raises(RenderError, match="num_samples"):
        run_faust("process = 0.1;", None, SR)


@pytest.mark.parametrize("length", [1, 63, 2047, 2048, 2049, 44101])
@pytest.mark.parametrize("block_size", [64, 2048])
def test_output_length_equals_input_length(length, block_size):
    x = noise(2, length, seed=length)
    y = run_faust("process = _,_;", x, SR, block_size=block_size)
    assert y.shape == (2, length)
    np.testing.assert_array_equal(y, x)


def test_empty_input_gives_empty_output():
    y = run_faust("process = _,_ :> _;", np.zeros((2, 0), dtype=np.float32), SR)
    assert y.shape == (1, 0)


def test_num_samples_must_agree_with_the_inputs():
    with pytest.raises(RenderError, match="num_samples=5"):
        run_faust("process = _;", noise(1, 10), SR, num_samples=5)


def test_block_size_must_be_positive():
    with pytest.raises(RenderError, match="block size"):
        run_faust("process = _;", noise(1, 10), SR, block_size=-1)


def test_input_channel_mismatch_is_a_render_error():
    with pytest.raises(RenderError, match="2 input channel"):
        run_faust("process = _,_;", noise(3, 100), SR)


def test_syntax_error_raises_with_the_compilers_message_and_line():
    code = 'import("stdfaust.lib");\ngain = 0.5;\nprocess = _ : *(gain;\n'
    with pytest.raises(FaustCompileError) as err:
        run_faust(code, noise(1, 100), SR)
    message = str(err.value)
    assert "syntax error" in message
    assert "line 3" in message  # the script's own numbering, not DawDreamer's
    assert "Check the faustlibraries path" not in message


def test_undefined_symbol_names_the_symbol():
    with pytest.raises(FaustCompileError, match="undefined symbol : nosuch"):
        program_io('import("stdfaust.lib");\nprocess = fi.nosuch(3);', SR)


def test_a_failed_compile_is_not_cached():
    code = "process = _ : *(;"
    for _ in range(2):
        with pytest.raises(FaustCompileError):
            run_faust(code, noise(1, 10), SR)


@pytest.mark.parametrize(
    "code",
    [
        "process = _ : sqrt(-1 - abs(_));",
        "process = _ : log(0 * _);",
        # A zero the compiler cannot see (a constant divisor of 0 is refused at compile time).
        "process = _ <: _, (_ > 10) : /;",
    ],
    ids=["sqrt-negative", "log-zero", "divide-by-zero"],
)
def test_non_finite_output_is_a_render_error(code):
    with pytest.raises(RenderError, match="non-finite"):
        run_faust(code, noise(1, 1000), SR)


def test_non_finite_input_is_named_as_the_cause():
    x = noise(1, 100)
    x[0, 50] = np.nan
    with pytest.raises(RenderError, match="inputs already contain"):
        run_faust("process = _;", x, SR)


def test_runaway_gain_is_a_render_error():
    with pytest.raises(RenderError, match=r"\+40 dBFS"):
        run_faust("process = *(1000);", noise(1, 1000, level=0.5), SR)


def test_parallel_runs_match_serial_runs_in_order():
    programs = [(f"process = *({k + 1}), *({-k});", noise(2, 3000, seed=k)) for k in range(5)]
    parallel = run_faust_parallel(programs, SR, max_workers=3)
    for (code, x), y in zip(programs, parallel, strict=True):
        np.testing.assert_array_equal(y, run_faust(code, x, SR))


def test_same_program_on_many_threads_at_once():
    # Concurrent runs of one program must each get their own graph.
    code = REVERB + "// threads\n"
    x = noise(2, 20000, seed=3)
    expected = run_faust(code, x, SR)
    results: list[np.ndarray] = []
    threads = [
        threading.Thread(target=lambda: results.append(run_faust(code, x, SR))) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 4
    for y in results:
        np.testing.assert_array_equal(y, expected)


def test_compile_error_in_parallel_programs_propagates():
    programs = [("process = _;", noise(1, 100)), ("process = _ : *(;", noise(1, 100))]
    with pytest.raises(FaustCompileError):
        run_faust_parallel(programs, SR)


def test_run_mix_equals_one_program_with_sum():
    header = 'import("stdfaust.lib");\n'
    stems = [
        "fi.highpass(2, 100), fi.highpass(2, 100)",
        "co.compressor_stereo(4, -20, 0.003, 0.1)",
        "*(0.5), *(0.25)",
    ]
    master = "co.limiter_1176_R4_stereo"
    xs = [noise(2, 30000, seed=10 + k) for k in range(3)]
    split = run_mix(
        [(header + f"process = {s};", x) for s, x in zip(stems, xs, strict=True)],
        header + f"process = {master};",
        SR,
    )
    whole = run_faust(
        header + "process = " + ", ".join(f"({s})" for s in stems) + f" :> {master};",
        np.concatenate(xs),
        SR,
    )
    assert split.shape == whole.shape == (2, 30000)
    # The same DSP, compiled as different programs: float rounding differs (the bus sum's
    # order, libfaust's code order), and a limiter's attack/release switch can turn a
    # rounding difference into a ~1e-4 one for a few samples: -80 dBFS.
    np.testing.assert_allclose(split, whole, atol=1e-4)


def test_run_mix_checks_the_master_input_count():
    with pytest.raises(RenderError, match="master program takes 1"):
        run_mix([("process = _,_;", noise(2, 100))], "process = _;", SR)


def test_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(engine, "_CACHE", engine._ProgramCache(max_entries=3))
    for k in range(6):
        run_faust(f"process = *({k});", noise(1, 10), SR)
    info = cache_info()
    assert info.size == 3
    assert info.compiles == 6
    run_faust("process = *(5);", noise(1, 10), SR)  # still cached
    assert cache_info().compiles == 6
    run_faust("process = *(0);", noise(1, 10), SR)  # evicted: compiles again
    assert cache_info().compiles == 7


def test_cache_is_bounded_by_memory(monkeypatch):
    # Each one-second echo line is sized for 192 kHz: 1 MB, charged on top of the overhead.
    echo = engine.program_bytes("process = ef.echo(1, 0.5, 0.5);")
    assert echo == engine.PROGRAM_OVERHEAD_BYTES + 2**20
    assert engine.program_bytes("process = *(2);") == engine.PROGRAM_OVERHEAD_BYTES
    monkeypatch.setattr(engine, "_CACHE", engine._ProgramCache(max_entries=32, max_bytes=2 * echo))
    for k in range(4):
        run_faust(f"process = ef.echo(1, 0.5, 0.{k + 1});", noise(1, 10), SR)
    info = cache_info()
    assert info.compiles == 4
    assert info.size == 2 and info.idle_bytes == 2 * echo  # the two most recent stay
    run_faust("process = ef.echo(1, 0.5, 0.4);", noise(1, 10), SR)  # still cached
    assert cache_info().compiles == 4
    run_faust("process = ef.echo(1, 0.5, 0.1);", noise(1, 10), SR)  # evicted: compiles again
    assert cache_info().compiles == 5


def test_a_program_larger_than_the_bound_is_not_kept(monkeypatch):
    monkeypatch.setattr(engine, "_CACHE", engine._ProgramCache(max_entries=32, max_bytes=2**20))
    run_faust("process = *(3);", noise(1, 10), SR)
    info = cache_info()
    assert info.idle_bytes == 0  # rendered, then closed: nothing held
    run_faust("process = *(3);", noise(1, 10), SR)
    assert cache_info().compiles == 2


def test_denormals_are_flushed_only_during_the_render():
    if engine._LIBM is None:
        pytest.skip("FTZ/DAZ handling is Linux x86-64 only")
    tiny = np.float32(1e-39)  # subnormal in float32
    assert np.float32(tiny * np.float32(1.0)) != 0  # gradual underflow outside the render
    with engine._no_denormals():
        assert np.float32(np.array([tiny]) * np.float32(1.0))[0] == 0
    assert np.array([tiny])[0] * np.float32(1.0) != 0


def test_juce_thread_reports_a_failed_probe():
    def broken_probe():
        raise RuntimeError("no libfaust")

    worker = juce_thread.JuceThread(broken_probe)
    with pytest.raises(RenderError, match="no libfaust"):
        worker.call(lambda: 1)


def test_juce_thread_reports_a_stuck_probe(monkeypatch):
    monkeypatch.setattr(juce_thread, "PROBE_TIMEOUT_S", 0.05)
    release = threading.Event()
    worker = juce_thread.JuceThread(lambda: release.wait(5))
    try:
        with pytest.raises(RenderError, match="message thread"):
            worker.call(lambda: 1)
    finally:
        release.set()


def test_juce_thread_runs_calls_in_order_and_relays_errors():
    worker = juce_thread.JuceThread(lambda: None)
    assert worker.call(lambda a, b: a + b, 2, 3) == 5
    with pytest.raises(ZeroDivisionError):
        worker.call(lambda: 1 / 0)


def test_dawdreamer_missing_its_system_libraries_says_what_to_install():
    """Seen on a bare GPU image: `import dawdreamer` fails on libGL.so.1; every render then
    fails with one line that names the fix."""
    from producer.errors import RenderError
    from producer.faust.juce_thread import JuceThread

    def probe():
        raise ImportError("libGL.so.1: cannot open shared object file: No such file or directory")

    thread = JuceThread(probe)
    with pytest.raises(RenderError, match=r"libGL\.so\.1.*apt-get install libgl1"):
        thread.call(print)

    def other():
        raise OSError("boom")

    with pytest.raises(RenderError, match=r"DawDreamer failed to start: boom$"):  # no hint
        JuceThread(other).call(print)
