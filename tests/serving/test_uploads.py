"""Uploads go through the same loader as files on the command line, named by their own name."""

from __future__ import annotations

import numpy as np
import pytest

from producer.errors import AudioInputError
from producer.serving.errors import LimitError
from producer.serving.uploads import check_upload_size, decode_upload
from tests.serving.conftest import SR, vocal_take, wav_bytes


def test_a_wav_upload_decodes_to_stereo_at_the_working_rate():
    mono = vocal_take(1.0)[:1, : SR // 2]  # 22050 samples: one second at 22.05 kHz
    audio = decode_upload(wav_bytes(mono, sr=22050), "take.wav", SR, max_seconds=10)
    assert audio.shape == (2, SR) and audio.dtype == np.float32  # stereo, at 44.1 kHz


@pytest.mark.parametrize(
    "data",
    [b"not audio at all", b"RIFF\x24\x00\x00\x00WAVEfmt ", wav_bytes(vocal_take(1.0))[:600]],
    ids=["garbage", "header-only", "truncated"],
)
def test_unusable_uploads_are_refused_by_name_never_by_temp_path(data):
    with pytest.raises(AudioInputError) as err:
        decode_upload(data, "../../my song.wav", SR, max_seconds=10)
    message = str(err.value)
    assert message.startswith("upload 'my song.wav'") and "/tmp" not in message


def test_over_the_length_limit_is_413_before_decoding():
    with pytest.raises(LimitError, match=r"2\.0 s long; the limit is 1\.5 s") as err:
        decode_upload(wav_bytes(vocal_take(2.0)), "long.wav", SR, max_seconds=1.5)
    assert err.value.status == 413


def test_size_limits():
    check_upload_size(1000, 1000)
    with pytest.raises(LimitError, match="over the 1 MiB limit") as err:
        check_upload_size(2**20 + 1, 2**20)
    assert err.value.status == 413
    with pytest.raises(AudioInputError, match="empty"):
        check_upload_size(0, 2**20)
