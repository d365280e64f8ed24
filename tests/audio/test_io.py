"""Tests for producer.audio.io: loading, refusing, folding, resampling and atomic saving."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from producer.audio.io import AudioLimits, check_audio_array, load_audio, save_audio
from producer.errors import AudioInputError

SR = 44100


def _sine(freq: float, seconds: float, sr: int = SR, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _stereo(seconds: float = 0.5, sr: int = SR) -> np.ndarray:
    """(T, 2) test signal with different content per channel (soundfile's layout)."""
    return np.stack([_sine(440, seconds, sr), _sine(660, seconds, sr, 0.25)], axis=1)


def _refused(path, **kwargs) -> str:
    """Load `path`, expect AudioInputError, check the message names the file on one line."""
    with pytest.raises(AudioInputError) as info:
        load_audio(path, **kwargs)
    message = str(info.value)
    assert str(path) in message
    assert "\n" not in message
    return message


# ----------------------------------------------------------------------------- round trips


@pytest.mark.parametrize(
    ("suffix", "subtype", "tolerance"),
    [
        (".wav", "PCM_24", 1e-6),
        (".wav", "FLOAT", 0.0),
        (".flac", "PCM_24", 1e-6),
        (".aiff", "PCM_24", 1e-6),
        (".ogg", "VORBIS", None),  # lossy: compared by correlation instead
    ],
)
def test_formats_load_as_stereo_float32(tmp_path, suffix, subtype, tolerance):
    data = _stereo()
    path = tmp_path / f"song{suffix}"
    sf.write(path, data, SR, subtype=subtype)
    audio = load_audio(path)
    assert audio.dtype == np.float32
    assert audio.shape == (2, data.shape[0])
    assert audio.flags.c_contiguous
    if tolerance is None:
        for channel in range(2):
            corr = np.corrcoef(audio[channel], data[:, channel])[0, 1]
            assert corr > 0.99
    else:
        np.testing.assert_allclose(audio, data.T, atol=tolerance)


def test_mono_is_duplicated_to_both_channels(tmp_path):
    mono = _sine(440, 0.5)  # the shortest file load_audio accepts
    path = tmp_path / "mono.wav"
    sf.write(path, mono, SR, subtype="FLOAT")
    audio = load_audio(path)
    assert audio.shape == (2, mono.size)
    np.testing.assert_array_equal(audio[0], mono)
    np.testing.assert_array_equal(audio[1], mono)


def test_five_one_downmix_follows_bs775(tmp_path):
    n = SR // 2  # the shortest file load_audio accepts
    data = np.zeros((n, 6), np.float32)
    data[:, 2] = 0.5  # centre
    data[:, 3] = 0.9  # LFE: dropped
    data[:, 4] = 0.2  # left surround
    path = tmp_path / "surround.wav"
    sf.write(path, data, SR, subtype="FLOAT")
    audio = load_audio(path)
    np.testing.assert_allclose(audio[0], 0.5 / np.sqrt(2) + 0.2 / np.sqrt(2), atol=1e-6)
    np.testing.assert_allclose(audio[1], 0.5 / np.sqrt(2), atol=1e-6)


def test_48k_is_resampled_to_44k1_keeping_pitch(tmp_path):
    seconds = 1.0
    path = tmp_path / "hi.wav"
    sf.write(path, _sine(1000, seconds, 48000), 48000, subtype="FLOAT")
    audio = load_audio(path, sample_rate=44100)
    assert audio.shape == (2, 44100)
    # Zero-padded FFT for 0.1 Hz bins; the peak must stay at 1 kHz.
    spectrum = np.abs(np.fft.rfft(audio[0] * np.hanning(audio.shape[1]), n=441000))
    peak_hz = np.argmax(spectrum) * 44100 / 441000
    assert abs(peak_hz - 1000.0) < 0.5
    # Amplitude is kept too (away from the filter's edge transients).
    assert abs(np.abs(audio[0, 2000:-2000]).max() - 0.5) < 0.01


def test_matching_rate_is_not_resampled(tmp_path):
    data = _stereo(0.5, 48000)  # at least the shortest file load_audio accepts
    path = tmp_path / "same.wav"
    sf.write(path, data, 48000, subtype="FLOAT")
    np.testing.assert_array_equal(load_audio(path, sample_rate=48000), data.T)


# ------------------------------------------------------------------------------- refusals


def test_missing_file_is_refused(tmp_path):
    message = _refused(tmp_path / "nope.wav")
    assert "no such file" in message


def test_directory_is_refused(tmp_path):
    _refused(tmp_path)


def test_corrupt_bytes_are_refused(tmp_path):
    path = tmp_path / "noise.wav"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    assert "cannot read audio" in _refused(path)


def test_truncated_wav_is_refused(tmp_path):
    path = tmp_path / "cut.wav"
    sf.write(path, _stereo(1.0), SR, subtype="PCM_16")
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) * 2 // 3])
    message = _refused(path)
    assert "truncated" in message
    assert "44100" in message  # the frame count the header promised


def test_truncated_flac_is_refused(tmp_path):
    path = tmp_path / "cut.flac"
    sf.write(path, _stereo(1.0), SR)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    _refused(path)


def test_truncated_ogg_is_refused(tmp_path):
    path = tmp_path / "cut.ogg"
    sf.write(path, _stereo(2.0), SR)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    assert "truncated" in _refused(path)


def test_zero_length_is_refused(tmp_path):
    path = tmp_path / "empty.wav"
    sf.write(path, np.zeros((0, 2), np.float32), SR)
    assert "zero length" in _refused(path)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples_are_refused(tmp_path, bad):
    data = _stereo()
    data[100, 1] = bad
    path = tmp_path / "nan.wav"
    sf.write(path, data, SR, subtype="FLOAT")
    assert "1 NaN or infinite" in _refused(path)


def test_nine_channels_are_refused(tmp_path):
    path = tmp_path / "nine.wav"
    sf.write(path, np.zeros((100, 9), np.float32), SR)
    assert "9 channels" in _refused(path)


def test_too_long_is_refused_from_the_header_without_decoding(tmp_path, monkeypatch):
    path = tmp_path / "long.wav"
    sf.write(path, _stereo(1.0), SR)

    def no_decoding(*args, **kwargs):
        raise AssertionError("the file must be refused before it is decoded")

    monkeypatch.setattr(sf, "read", no_decoding)
    message = _refused(path, limits=AudioLimits(max_seconds=0.5))
    assert "1.0 s long" in message
    assert "0.5 s" in message


@pytest.mark.parametrize("rate", [4000, 200000])
def test_sample_rate_out_of_range_is_refused(tmp_path, rate):
    path = tmp_path / f"r{rate}.wav"
    sf.write(path, _stereo(0.1, rate), rate)
    assert f"{rate} Hz" in _refused(path)


# ------------------------------------------------------------------------ array checks


def test_array_layouts_are_normalised():
    mono = _sine(440, 0.1)
    stereo_tc = _stereo(0.1)
    np.testing.assert_array_equal(check_audio_array(mono, SR), np.stack([mono, mono]))
    np.testing.assert_array_equal(check_audio_array(stereo_tc, SR), stereo_tc.T)
    np.testing.assert_array_equal(check_audio_array(stereo_tc.T, SR), stereo_tc.T)
    out = check_audio_array(stereo_tc.T.astype(np.float64), SR)
    assert out.dtype == np.float32
    assert out.flags.c_contiguous


def test_integer_arrays_are_scaled_as_pcm():
    pcm = np.array([[0, 16384, -32768, 32767]] * 2, dtype=np.int16)
    np.testing.assert_allclose(check_audio_array(pcm, SR)[0], [0, 0.5, -1.0, 32767 / 32768])


@pytest.mark.parametrize(
    ("array", "rate", "words"),
    [
        (np.zeros((9, 1000)), SR, "9 channels"),
        (np.zeros((2, 0)), SR, "zero length"),
        (np.zeros((2, 10, 10)), SR, "shape"),
        (np.array([[0.0, np.nan, 0.0, 0.0]] * 2), SR, "NaN"),
        (np.zeros((2, 1000), complex), SR, "real"),
        (np.zeros((2, 1000)), 4000, "4000 Hz"),
        (np.zeros((2, 1000)), 200000, "200000 Hz"),
    ],
)
def test_bad_arrays_are_refused_with_their_name(array, rate, words):
    with pytest.raises(AudioInputError, match=words) as info:
        check_audio_array(array, rate, name="stem 'bass'")
    assert str(info.value).startswith("stem 'bass':")


def test_array_length_limit():
    with pytest.raises(AudioInputError, match="limit"):
        check_audio_array(np.zeros((2, 2 * SR)), SR, limits=AudioLimits(max_seconds=1.0))


# ------------------------------------------------------------------------------ saving


def test_save_is_24_bit_wav_by_default_and_creates_dirs(tmp_path):
    path = tmp_path / "out" / "deep" / "master.wav"
    audio = _stereo().T
    assert save_audio(path, audio, SR) == path
    info = sf.info(path)
    assert (info.format, info.subtype, info.channels, info.frames) == (
        "WAV",
        "PCM_24",
        2,
        audio.shape[1],
    )
    np.testing.assert_allclose(load_audio(path), audio, atol=1e-6)
    assert sorted(p.name for p in path.parent.iterdir()) == ["master.wav"]


@pytest.mark.parametrize(
    ("suffix", "fmt", "subtype"),
    [(".flac", "FLAC", "PCM_24"), (".aiff", "AIFF", "PCM_24"), (".ogg", "OGG", "VORBIS")],
)
def test_save_format_follows_suffix(tmp_path, suffix, fmt, subtype):
    path = tmp_path / f"master{suffix}"
    save_audio(path, _stereo().T, SR)
    info = sf.info(path)
    assert (info.format, info.subtype) == (fmt, subtype)


def test_save_mono_vector(tmp_path):
    path = tmp_path / "mono.wav"
    save_audio(path, _sine(440, 0.1), SR, subtype="FLOAT")
    assert sf.info(path).channels == 1


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_save_refuses_non_finite_audio(tmp_path, bad):
    audio = _stereo().T.copy()
    audio[0, 10] = bad
    with pytest.raises(AudioInputError, match="NaN or infinite"):
        save_audio(tmp_path / "bad.wav", audio, SR)
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_unknown_suffix_and_channels_last(tmp_path):
    with pytest.raises(AudioInputError, match="unsupported output format"):
        save_audio(tmp_path / "x.mp4", _stereo().T, SR)
    with pytest.raises(AudioInputError, match="shape"):
        save_audio(tmp_path / "x.wav", _stereo(), SR)  # (T, 2): ambiguous, refused
    assert list(tmp_path.iterdir()) == []


def _break_soundfile_write(monkeypatch):
    """Make soundfile.write write half the data to disk, then fail like a full disk."""
    real_write = sf.write

    def half_then_fail(file, data, *args, **kwargs):
        real_write(file, data[: len(data) // 2], *args, **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sf, "write", half_then_fail)


def test_failed_save_leaves_no_file_and_no_temp(tmp_path, monkeypatch):
    _break_soundfile_write(monkeypatch)
    with pytest.raises(OSError, match="No space"):
        save_audio(tmp_path / "master.wav", _stereo().T, SR)
    assert list(tmp_path.iterdir()) == []


def test_failed_save_keeps_the_existing_file(tmp_path, monkeypatch):
    path = tmp_path / "master.wav"
    save_audio(path, _stereo().T, SR)
    before = path.read_bytes()
    _break_soundfile_write(monkeypatch)
    with pytest.raises(OSError):
        save_audio(path, np.zeros((2, 10), np.float32), SR)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["master.wav"]


def test_save_replaces_an_existing_file(tmp_path):
    path = tmp_path / "master.wav"
    save_audio(path, _stereo().T, SR)
    save_audio(path, np.zeros((2, 10), np.float32), SR)
    assert sf.info(path).frames == 10
