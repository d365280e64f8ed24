"""Acceptance: `producer serve` runs serve_configs/local.yaml on a local Ray, and the HTTP API
makes a beat over the network, refuses bad input with JSON 4xx, and sheds load with 503.

One server (`server` in conftest.py) for these tests and the fault test (the six replicas take a
minute or two to start on two cores); it is stopped with Ctrl-C (SIGINT), as a person would.
"""

from __future__ import annotations

import io
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import requests

from producer.audio.loudness import integrated_loudness, true_peak_dbtp
from tests.serving.conftest import SR, vocal_take, wav_bytes

pytestmark = pytest.mark.slow


def decode(content: bytes) -> np.ndarray:
    import soundfile as sf

    data, rate = sf.read(io.BytesIO(content), dtype="float32", always_2d=True)
    assert rate == SR
    return data.T


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"]["status"] == status and "Traceback" not in response.text
    return body


def test_a_beat_over_http_is_mastered_to_minus_14_lufs(server):
    assert requests.get(server + "healthz", timeout=10).json()["status"] == "ok"
    form = {"prompt": "dark trap beat at 140 bpm", "duration": 6, "seed": 1, "candidates": 2}
    started = time.perf_counter()
    response = requests.post(server + "v1/produce", data=form, timeout=300)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text
    body = response.json()
    print(f"POST /v1/produce (6 s, 2 candidates): {elapsed:.2f} s; stages {body['timings_s']}")
    assert body["plan"]["bpm"] == 140 and len(body["candidates"]) == 2 + 1  # the teacher's
    master = requests.get(server + body["master_url"].lstrip("/"), timeout=60)
    assert master.status_code == 200 and master.headers["content-type"] == "audio/wav"
    audio = decode(master.content)
    assert audio.shape == (2, 6 * SR)
    assert integrated_loudness(audio, SR) == pytest.approx(-14.0, abs=1.0)
    assert true_peak_dbtp(audio, SR) <= -1.0 + 0.05
    for stem in body["stems"]:
        got = requests.get(server + stem["url"].lstrip("/"), timeout=60)
        assert got.status_code == 200 and decode(got.content).shape == (2, 6 * SR)

    hostile = 'import("stdfaust.lib");\nprocess = ffunction(int rand(), <stdlib.h>, "");'
    refused = requests.post(
        server + "v1/render", json={"result_id": body["id"], "script": hostile}, timeout=60
    )
    error = assert_json_error(refused, 422)
    assert (
        error["error"]["type"] == "FaustValidationError"
        and "ffunction" in error["error"]["message"]
    )

    again = requests.post(
        server + "v1/render", json={"result_id": body["id"], "script": body["script"]}, timeout=120
    )
    assert again.status_code == 200, again.text
    remaster = decode(requests.get(server + again.json()["master_url"].lstrip("/")).content)
    np.testing.assert_array_equal(remaster, audio)


def test_an_a_cappella_goes_through_the_separator_replica_and_is_kept(server):
    take = vocal_take(4.0)
    response = requests.post(
        server + "v1/produce",
        data={"prompt": "boom bap beat", "input_role": "vocals", "candidates": 1},
        files={"audio": ("take.wav", wav_bytes(take, subtype="FLOAT"), "audio/wav")},
        timeout=300,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["duration_s"] == 4.0
    vocals = next(s for s in body["stems"] if s["role"] == "vocals")
    assert vocals["source"] == "input"
    kept = decode(requests.get(server + vocals["url"].lstrip("/"), timeout=60).content)
    np.testing.assert_array_equal(kept, take)


def test_bad_input_is_json_4xx_from_any_replica(server):
    bad = requests.post(
        server + "v1/produce",
        data={"prompt": "trap", "input_role": "vocals"},
        files={"audio": ("song.wav", b"definitely not audio", "audio/wav")},
        timeout=120,
    )
    body = assert_json_error(bad, 400)  # raised in the Separator replica, unwrapped at the edge
    assert body["error"]["type"] == "AudioInputError"
    assert body["error"]["message"].startswith("upload 'song.wav'")
    assert_json_error(requests.get(server + "v1/results/" + "0" * 32 + "/master.wav"), 404)
    assert_json_error(requests.get(server + "v1/results/nope"), 404)
    limit = assert_json_error(
        requests.post(server + "v1/produce", data={"prompt": "trap", "candidates": 9}), 422
    )
    assert "over the limit of 4" in limit["error"]["message"]
    spec = requests.get(server + "openapi.json", timeout=10).json()
    assert "/v1/produce" in spec["paths"] and requests.get(server + "docs").status_code == 200


def test_more_requests_than_the_ingress_admits_get_503_with_retry_after(server):
    form = {"prompt": "lo-fi beat", "duration": 2, "candidates": 1}

    def post(_):
        return requests.post(server + "v1/produce", data=form, timeout=300)

    with ThreadPoolExecutor(7) as pool:  # local.yaml admits 4 at a time
        responses = list(pool.map(post, range(7)))
    codes = sorted(r.status_code for r in responses)
    assert set(codes) == {200, 503} and codes.count(200) >= 4, codes
    for r in responses:
        if r.status_code == 503:
            assert_json_error(r, 503)
            assert r.headers["retry-after"] == "5"
