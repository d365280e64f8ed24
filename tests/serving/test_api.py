"""The HTTP API over the stages in this process (no Ray): results, re-renders, every error JSON."""

from __future__ import annotations

import asyncio
import io

import numpy as np
import pytest

from producer.audio.loudness import integrated_loudness
from producer.errors import FaustValidationError
from producer.faust.validate import validate
from tests.serving.conftest import SR, vocal_take, wav_bytes

pytestmark = pytest.mark.slow  # the tiny model, real renders: a few seconds each

BEAT = {"prompt": "dark trap beat at 140 bpm in F minor", "duration": 3, "seed": 3, "candidates": 2}


def decode(content: bytes) -> np.ndarray:
    """A downloaded WAV as (2, T) float32."""
    import soundfile as sf

    data, rate = sf.read(io.BytesIO(content), dtype="float32", always_2d=True)
    assert rate == SR
    return data.T


def assert_error(response, status: int, kind: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"]["status"] == status and body["error"]["message"]
    assert "Traceback" not in response.text
    if kind is not None:
        assert body["error"]["type"] == kind
    return body


@pytest.fixture(scope="module")
def made(local_backend, tmp_path_factory):
    """One production through the API, shared by the tests that only read it."""
    from fastapi.testclient import TestClient

    from producer.serving.api import create_api
    from producer.serving.config import ServeArgs

    args = ServeArgs(store={"dir": str(tmp_path_factory.mktemp("results"))})
    client = TestClient(
        create_api(local_backend, args),
        base_url="http://127.0.0.1:8000",  # a Host the server answers to, not "testserver"
        raise_server_exceptions=False,
    )
    response = client.post("/v1/produce", data=BEAT)
    assert response.status_code == 200, response.text
    return client, response.json()


def test_produce_answers_plan_script_quality_stems_and_a_master_at_minus_14_lufs(made):
    client, body = made
    assert body["plan"]["bpm"] == 140 and body["plan"]["key"] == "F"
    roles = [s["role"] for s in body["plan"]["stems"]]
    assert [s["role"] for s in body["stems"]] == roles
    validate(body["script"], roles=roles, sample_rate=SR)
    sources = [c["source"] for c in body["candidates"]]
    assert sources == ["model", "model", "teacher"]  # 2 asked for, and the teacher's
    assert sum(c["chosen"] for c in body["candidates"]) == 1
    assert 0 <= body["quality"]["score"] <= 1
    assert set(body["timings_s"]) >= {"plan", "generate", "write", "render", "score", "total"}

    master = client.get(body["master_url"])
    assert master.status_code == 200 and master.headers["content-type"] == "audio/wav"
    audio = decode(master.content)
    assert audio.shape == (2, 3 * SR)
    assert integrated_loudness(audio, SR) == pytest.approx(-14.0, abs=1.0)
    for stem in body["stems"]:
        got = client.get(stem["url"])
        assert got.status_code == 200 and decode(got.content).shape == (2, 3 * SR)
    again = client.get(f"/v1/results/{body['id']}")
    assert again.status_code == 200 and again.json() == body


def test_produce_answers_the_mix_critics_verdict_on_the_master(made):
    client, body = made
    mix = body["mix"]
    assert mix["style"] == body["plan"]["style"] == "trap"
    assert 0.0 <= mix["score"] <= 1.0 and isinstance(mix["passes_basics"], bool)
    assert all(isinstance(f, str) and f for f in mix["findings"])
    failed = [c["message"] for c in mix["checks"] if not c["passed"]]
    assert sorted(failed) == sorted(mix["findings"])
    assert {"balance", "low_end_mono", "tonal_balance"} <= {c["name"] for c in mix["checks"]}
    assert mix["passes_basics"] == all(c["passed"] for c in mix["checks"] if c["basic"])
    # "dark trap beat": the mood word tilts the top of the targets, and says so.
    assert [(d["name"], d["status"]) for d in body["descriptors"]] == [("dark", "applied")]
    for c in body["candidates"]:
        assert 0.0 <= c["critic_score"] <= 1.0 and isinstance(c["passes_basics"], bool)
        assert isinstance(c["critic_findings"], list)
    (chosen,) = [c for c in body["candidates"] if c["chosen"]]
    assert chosen["critic_score"] == mix["score"] and chosen["critic_findings"] == mix["findings"]
    assert chosen["total"] == max(c["total"] for c in body["candidates"])
    # A re-render of the same script is judged the same way.
    child = client.post("/v1/render", json={"result_id": body["id"], "script": body["script"]})
    assert child.status_code == 200, child.text
    assert child.json()["mix"] == mix and child.json()["descriptors"] == body["descriptors"]


def test_rendering_the_same_script_again_gives_the_same_master(made):
    client, body = made
    response = client.post("/v1/render", json={"result_id": body["id"], "script": body["script"]})
    assert response.status_code == 200, response.text
    child = response.json()
    assert child["parent_id"] == body["id"] and child["id"] != body["id"]
    assert child["script"] == body["script"] and child["plan"] == body["plan"]
    a = decode(client.get(body["master_url"]).content)
    b = decode(client.get(child["master_url"]).content)
    np.testing.assert_array_equal(a, b)  # same float stems, same script: the same master
    stem = client.get(child["stems"][0]["url"])
    assert stem.status_code == 200


def test_an_edited_script_renders_a_different_master(made):
    client, body = made
    roles = [s["role"] for s in body["stems"]]
    chains = "\n".join(f"{r}_process = _ : fi.lowpass(2, 800);" for r in roles)
    inputs = ", ".join("_" for _ in roles)
    script = (
        f'import("stdfaust.lib");\n{chains}\nprocess = {inputs} : '
        + ", ".join(f"{r}_process" for r in roles)
        + " :> _;\n"
    )
    response = client.post("/v1/render", json={"result_id": body["id"], "script": script})
    assert response.status_code == 200, response.text
    audio = decode(client.get(response.json()["master_url"]).content)
    assert integrated_loudness(audio, SR) == pytest.approx(-14.0, abs=1.0)


@pytest.mark.parametrize(
    "script",
    [
        'import("stdfaust.lib");\nprocess = ffunction(int rand(), <stdlib.h>, "");',
        'import("stdfaust.lib");\nprocess = soundfile("x", 2);',
        'import("/etc/passwd");\nprocess = _;',
        'process = component("evil.dsp");',
    ],
    ids=["ffunction", "soundfile", "import", "component"],
)
def test_hostile_scripts_get_the_validators_own_message(made, script):
    client, body = made
    roles = [s["role"] for s in body["stems"]]
    with pytest.raises(FaustValidationError) as expected:
        validate(script, n_stems=len(roles), roles=roles, sample_rate=SR)
    response = client.post("/v1/render", json={"result_id": body["id"], "script": script})
    error = assert_error(response, 422, "FaustValidationError")
    assert error["error"]["message"] == str(expected.value)
    assert error["detail"]["line"] == expected.value.line


_ECHOES = " : ".join(["ef.echo(10, 10, 0.95)"] * 200)
_REVERBS = " : ".join([f"re.mono_freeverb(0.5, 0.5, 0.2, {20 + k})" for k in range(20)])


@pytest.mark.parametrize(
    ("chain", "words"),
    [(_ECHOES, "delay lines need 1600 MB"), (_REVERBS, "to compile")],
    ids=["200-echoes", "20-reverbs"],
)
def test_scripts_over_the_resource_budget_are_422_before_any_compile(made, chain, words):
    # The memory and compile-time bombs, on this production's own stems: the first
    # stem's chain is prefixed with them, so only the budget can refuse the script.
    client, body = made
    roles = [s["role"] for s in body["stems"]]
    first = f"{roles[0]}_process = "
    assert first in body["script"]
    script = body["script"].replace(first, first + chain + " : ", 1)
    with pytest.raises(FaustValidationError) as expected:
        validate(script, n_stems=len(roles), roles=roles, sample_rate=SR)
    assert words in str(expected.value)
    response = client.post("/v1/render", json={"result_id": body["id"], "script": script})
    error = assert_error(response, 422, "FaustValidationError")
    assert error["error"]["message"] == str(expected.value)


def test_a_script_for_other_stems_is_refused(made):
    client, body = made
    script = (made[1]["script"]).replace("drums_process", "vocals_process")
    if script == made[1]["script"]:
        pytest.skip("the plan has no drums")
    assert_error(
        client.post("/v1/render", json={"result_id": body["id"], "script": script}),
        422,
        "FaustValidationError",
    )


def test_unknown_or_malformed_result_ids_are_404(made):
    client, body = made
    unknown = "0" * 32
    for path in (
        f"/v1/results/{unknown}",
        f"/v1/results/{unknown}/master.wav",
        "/v1/results/not-an-id/master.wav",
        "/v1/results/..%2F..%2Fetc/master.wav",
        f"/v1/results/{body['id']}/stems/vocals.wav",
        f"/v1/results/{body['id']}/stems/..%2Fresult.json.wav",
    ):
        assert_error(client.get(path), 404)
    assert_error(
        client.post("/v1/render", json={"result_id": unknown, "script": body["script"]}), 404
    )


@pytest.mark.parametrize(
    ("form", "status", "words"),
    [
        ({"prompt": "x" * 501}, 422, "501 characters; the limit is 500"),
        ({"prompt": "   "}, 422, "the prompt is empty"),
        ({"prompt": "trap", "candidates": 5}, 422, "candidates 5 is over the limit of 4"),
        ({"prompt": "trap", "candidates": 0}, 422, "candidates"),
        ({"prompt": "trap", "candidates": "many"}, 422, "candidates"),
        ({"prompt": "trap", "duration": 61}, 422, "over the limit of 60 s"),
        ({"prompt": "trap", "duration": 0.1}, 422, "duration"),
        ({"prompt": "trap", "input_role": "vocals"}, 422, "without an audio upload"),
        ({"prompt": "trap", "input_role": "kazoo"}, 422, "input_role"),
        ({}, 422, "prompt: Field required"),
    ],
)
def test_requests_over_the_limits_are_422_naming_the_limit(make_client, form, status, words):
    body = assert_error(make_client().post("/v1/produce", data=form), status)
    assert words in body["error"]["message"]


def test_an_a_cappella_upload_is_kept_as_the_vocals_stem(make_client):
    client = make_client()
    take = vocal_take(3.0)
    response = client.post(
        "/v1/produce",
        data={"prompt": "boom bap beat at 90 bpm", "input_role": "vocals", "candidates": 1},
        files={"audio": ("take.wav", wav_bytes(take, subtype="FLOAT"), "audio/wav")},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    vocals = next(s for s in body["stems"] if s["role"] == "vocals")
    assert vocals["source"] == "input" and vocals["generator"] == "input"
    kept = decode(client.get(vocals["url"]).content)
    np.testing.assert_array_equal(kept, take)
    assert body["duration_s"] == 3.0


@pytest.mark.parametrize(
    ("data", "limits", "status", "words"),
    [
        (b"this is not a wav file", {}, 400, "upload 'song.wav'"),
        (b"", {}, 400, "the upload is empty"),
        (wav_bytes(vocal_take(1.0)), {"max_upload_bytes": 4096}, 413, "over the 4096 bytes limit"),
        (
            wav_bytes(vocal_take(3.0)),
            {"max_upload_seconds": 2},
            413,
            "3.0 s long; the limit is 2 s",
        ),
    ],
    ids=["garbage", "empty", "too-big", "too-long"],
)
def test_bad_uploads_are_4xx_with_a_clear_message(make_client, data, limits, status, words):
    response = make_client(**limits).post(
        "/v1/produce",
        data={"prompt": "trap", "input_role": "vocals"},
        files={"audio": ("song.wav", data, "audio/wav")},
    )
    assert words in assert_error(response, status)["error"]["message"]


def test_a_body_over_the_limit_is_refused_before_it_is_read(make_client):
    client = make_client(max_upload_bytes=4096)
    big = b"\0" * (2 << 20)  # over the upload limit plus the 1 MiB the form may add
    declared = client.post(
        "/v1/produce", data={"prompt": "trap"}, files={"audio": ("big.wav", big, "audio/wav")}
    )
    assert "request body is over" in assert_error(declared, 413)["error"]["message"]

    def chunks():  # no Content-Length: cut off while the form parser reads it
        yield b'--x\r\nContent-Disposition: form-data; name="audio"; filename="a.wav"\r\n\r\n'
        for _ in range(64):
            yield b"\0" * 65536

    chunked = client.post(
        "/v1/produce",
        content=chunks(),
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert "request body is over" in assert_error(chunked, 413)["error"]["message"]


def test_a_full_mix_without_separator_weights_is_422_saying_what_to_do(
    make_client, tmp_path, monkeypatch
):
    from producer.audio.separation import clear_separator_cache

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    clear_separator_cache()
    response = make_client().post(
        "/v1/produce",
        data={"prompt": "trap"},
        files={"audio": ("mix.wav", wav_bytes(vocal_take(2.0)), "audio/wav")},
    )
    body = assert_error(response, 422)
    assert "htdemucs" in body["error"]["message"]


def test_plan_route(make_client):
    response = make_client().post("/v1/plan", json={"prompt": "boom bap at 90 bpm, no drums"})
    assert response.status_code == 200, response.text
    plan = response.json()
    assert plan["bpm"] == 90 and "drums" not in [s["role"] for s in plan["stems"]]
    assert_error(make_client().post("/v1/plan", json={"prompt": ""}), 422)
    assert_error(make_client().post("/v1/plan", json={"prompt": "x", "bpm": 3}), 422)


def test_the_plan_explains_itself_and_a_self_contradicting_prompt_is_422(make_client):
    client = make_client()
    plan = client.post("/v1/plan", json={"prompt": "ATL beat, just drums and 808s"}).json()
    assert plan["style"] == "trap" and {s["role"] for s in plan["stems"]} == {"drums", "bass"}
    why = {r["field"]: r for r in plan["reasons"]}
    assert why["style"]["source"] == "prompt" and why["style"]["words"] == ["ATL"]
    assert why["melody"]["value"] == "leave out" and why["melody"]["rule"] == "restriction"
    body = assert_error(
        client.post("/v1/plan", json={"prompt": "heavy 808s but no bass at all"}), 422, "PlanError"
    )
    assert "bass" in body["error"]["message"]
    body = assert_error(
        client.post("/v1/produce", data={"prompt": "no drums, no bass, no melody, no chords"}),
        422,
        "PlanError",
    )
    assert "leave at least one in" in body["error"]["message"]


def test_a_request_over_its_time_limit_is_504(make_client):
    response = make_client(request_timeout_s=0.01).post("/v1/produce", data=BEAT)
    assert "0.01 s" in assert_error(response, 504, "RequestTimeoutError")["error"]["message"]


def test_a_production_that_fails_after_its_stems_were_written_leaves_no_files(
    make_client, local_backend, tmp_path, monkeypatch
):
    import time

    from producer.errors import ProducerError

    store = tmp_path / "results"
    seen = []

    def broken(written, stems, plan, prompt):
        for _ in range(100):  # the stems' files appear while the later stages run
            seen[:] = sorted(p.name for p in store.glob(".tmp-*/stems/*.wav"))
            if len(seen) == len(stems):
                break
            time.sleep(0.02)
        raise ProducerError("the renderer broke")

    # The stems are handed to the store before the renderer runs; its failure must take them
    # away again (the folder goes once their writes finish).
    monkeypatch.setattr(local_backend.renderer, "render_and_score", broken)
    response = make_client().post("/v1/produce", data=BEAT)
    assert "the renderer broke" in assert_error(response, 400)["error"]["message"]
    assert seen and all(name.endswith(".wav") for name in seen)
    for _ in range(100):
        if not any(store.iterdir()):
            break
        time.sleep(0.05)
    assert list(store.iterdir()) == []


def test_over_the_inflight_limit_is_503_with_retry_after(local_backend, tmp_path):
    import httpx2

    from producer.serving.api import create_api
    from producer.serving.config import ServeArgs

    args = ServeArgs(limits={"max_inflight": 1, "retry_after_s": 9}, store={"dir": str(tmp_path)})
    app = create_api(local_backend, args)

    async def both():
        async with httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1", timeout=120
        ) as client:
            # Both at once: whichever is admitted first holds the one slot while it produces.
            return await asyncio.gather(*(client.post("/v1/produce", data=BEAT) for _ in "ab"))

    responses = sorted(asyncio.run(both()), key=lambda r: r.status_code)
    assert [r.status_code for r in responses] == [200, 503]
    assert_error(responses[1], 503, "OverloadedError")
    assert responses[1].headers["retry-after"] == "9"


def test_health_docs_and_unknown_routes(make_client):
    client = make_client()
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    spec = client.get("/openapi.json").json()
    assert {"/v1/produce", "/v1/plan", "/v1/render", "/healthz"} <= set(spec["paths"])
    assert "multipart/form-data" in spec["paths"]["/v1/produce"]["post"]["requestBody"]["content"]
    body = spec["components"]["schemas"]["ProductionBody"]["properties"]
    assert {"mix", "descriptors"} <= set(body)
    candidate = spec["components"]["schemas"]["CandidateInfo"]["properties"]
    assert {"critic_score", "critic_findings", "passes_basics"} <= set(candidate)
    assert client.get("/docs").status_code == 200
    assert_error(client.get("/v1/nothing"), 404)
    assert_error(client.get("/v1/produce"), 405)
    assert client.get("/").headers["content-type"].startswith("text/html")  # the web page
