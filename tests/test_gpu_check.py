"""benchmarks/gpu_check.py's configs are valid before any GPU time is spent on them: the Serve
config it derives from serve_configs/cluster.yaml and its training overrides of
ray_jobs/configs/*.yaml load with the project's own loaders (no Ray is started)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "benchmarks" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("gpu", [True, False])
def test_the_serve_config_derived_from_cluster_yaml_loads(gpu_check, tmp_path, gpu):
    from producer.serving.launch import load_config

    cluster = yaml.safe_load((ROOT / "serve_configs" / "cluster.yaml").read_text())
    derived = gpu_check.serve_config(cluster, gpu=gpu, checkpoint="/ckpt", separator="/demucs")
    path = tmp_path / "gpu-check.yaml"
    path.write_text(yaml.safe_dump(derived, sort_keys=False))
    config = load_config(path, host="127.0.0.1", port=8123, store_dir=str(tmp_path / "store"))

    app = config.applications[0]
    assert app.args["checkpoint"] == "/ckpt" and app.args["separator"] == "/demucs"
    assert app.args["writer_device"] == app.args["separator_device"] == ("auto" if gpu else "cpu")
    assert config.http_options.host == "127.0.0.1" and config.http_options.port == 8123
    gpus = {}
    for d in app.deployments:
        assert d.num_replicas == 1 and d.autoscaling_config is None
        gpus[d.name] = getattr(d.ray_actor_options, "num_gpus", None) or 0
    expected = 0.5 if gpu else 0
    assert gpus == {
        "Ingress": 0,
        "Separator": expected,
        "Planner": 0,
        "Generator": 0,
        "Writer": expected,
        "Renderer": 0,
    }
    # cluster.yaml untouched: the derivation copies it.
    assert cluster["http_options"]["host"] == "0.0.0.0"


@pytest.mark.parametrize("gpu", [True, False])
def test_the_training_overrides_validate(gpu_check, tmp_path, gpu):
    from ray_jobs.config import load_config

    base = ROOT / "ray_jobs" / "configs" / ("gpu-cluster.yaml" if gpu else "local-cpu.yaml")
    sets = gpu_check.train_overrides(
        gpu=gpu,
        data=tmp_path / "pre",
        storage=tmp_path / "runs",
        run_name="gck",
        model="debug",
        text_model=tmp_path / "bert",
        epochs=2,
        torch_adam=not gpu,
    )
    job = load_config(base, sets).train
    assert job.num_workers == 1 and job.use_gpu is gpu and job.max_failures == 0
    assert job.resources_per_worker == ({"CPU": 4, "GPU": 1} if gpu else {"CPU": 1})
    assert job.deepspeed.zero_stage == 2 and job.deepspeed.bf16 is gpu
    assert job.deepspeed.torch_adam is (not gpu)
    assert job.text_model_name == str(tmp_path / "bert")


def test_the_summary_names_every_failure(gpu_check):
    report = {
        "cpu_only": False,
        "total_seconds": 12.0,
        "machine": {"nproc": 16},
        "checks": {
            "env": {"status": "ok", "seconds": 1.0, "summary": {"gpu": "H200"}},
            "train": {
                "status": "failed",
                "seconds": 3.0,
                "error": "train_fused_adam: RuntimeError: boom",
                "figures": {"errors": {"train_fused_adam": "RuntimeError: boom"}},
            },
        },
    }
    text = gpu_check.summarize(report)
    assert "-- env: OK" in text and "gpu: H200" in text
    assert "-- train: FAILED" in text and "NOT OK: train" in text
