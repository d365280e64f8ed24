"""Every shipped job config and cluster.yaml loads and validates; bad ones fail in one line."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from ray_jobs.config import (
    TASKS,
    ConfigError,
    DeepSpeedConfig,
    JobConfig,
    TrainJobConfig,
    load_config,
)

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted((ROOT / "ray_jobs" / "configs").glob("*.yaml"))
CLUSTER = ROOT / "cluster.yaml"


# --- every shipped job config ------------------------------------------------------------------


def test_the_documented_configs_ship():
    names = {p.name for p in CONFIGS}
    assert {"local-cpu.yaml", "gpu-cluster.yaml", "mistral-7b-zero3.yaml"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_loads_with_both_sections(path):
    job = load_config(path)
    assert job.preprocess is not None and job.train is not None
    # The train section reads what the preprocess section writes.
    assert job.train.data == job.preprocess.output_dir
    # Round trip, as the Ray job hands the config to its workers.
    assert JobConfig.model_validate(job.model_dump()) == job


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_multi_node_configs_use_shared_storage(path):
    """A config for several GPU workers must not checkpoint to a node-local relative path."""
    job = load_config(path)
    if job.train.use_gpu:
        for where in (job.train.storage_path, job.train.data, job.preprocess.output_dir):
            assert "://" in where or where.startswith("/mnt/"), where
        assert "shared storage" in path.read_text()


def test_local_cpu_shape():
    job = load_config(ROOT / "ray_jobs/configs/local-cpu.yaml")
    t = job.train
    assert (t.num_workers, t.use_gpu, t.model) == (2, False, "debug")
    assert t.deepspeed.zero_stage == 2 and not t.deepspeed.bf16
    assert not t.deepspeed.offload_optimizer and not t.deepspeed.offload_param
    assert job.preprocess.separator_num_gpus == 0
    assert t.resolved_storage_path() == str(Path("runs").resolve())


def test_gpu_cluster_shape():
    t = load_config(ROOT / "ray_jobs/configs/gpu-cluster.yaml").train
    assert t.use_gpu and t.deepspeed.bf16 and t.deepspeed.zero_stage == 2
    assert t.num_workers > 1 and t.model == "default"
    assert t.resolved_storage_path().startswith("s3://")


def test_the_train_jobs_first_log_line_says_how_it_runs():
    from ray_jobs.train import describe_job

    local = describe_job(load_config(ROOT / "ray_jobs/configs/local-cpu.yaml").train, 600)
    assert local.startswith("training 600 songs")
    assert "2 CPU workers (gloo" in local and "ZeRO-2" in local and "float32" in local
    assert "no offload" in local and str(Path("runs").resolve()) in local
    big = describe_job(load_config(ROOT / "ray_jobs/configs/mistral-7b-zero3.yaml").train, 10)
    assert "8 GPU workers (NCCL" in big and "ZeRO-3" in big and "bf16 autocast" in big
    assert "offload optimizer and parameters to CPU" in big and "+ LoRA" in big


def test_mistral_zero3_shape():
    t = load_config(ROOT / "ray_jobs/configs/mistral-7b-zero3.yaml").train
    assert t.decoder_model_name == "mistralai/Mistral-7B-v0.1"
    ds = t.deepspeed
    assert ds.zero_stage == 3 and ds.offload_optimizer and ds.offload_param and ds.bf16
    assert t.lora.enabled
    assert t.lora.target_modules == ["q_proj", "k_proj", "v_proj", "o_proj"]
    assert t.num_workers == 8 and t.use_gpu
    assert t.lora.to_peft_kwargs()["lora_alpha"] == 32


def test_tasks_match_the_model():
    from producer.models.unified import TASKS as MODEL_TASKS

    assert TASKS == MODEL_TASKS


# --- the DeepSpeed dict is one DeepSpeed accepts -------------------------------------------------


@pytest.fixture(scope="module")
def deepspeed_config_cls():
    pytest.importorskip("deepspeed", reason="DeepSpeed is not installed")
    from deepspeed.runtime.config import DeepSpeedConfig as DSConfig

    return DSConfig


def _known_deepspeed_keys() -> set[str]:
    """Every top-level key name DeepSpeed defines as a constant."""
    import deepspeed.runtime.constants as constants
    import deepspeed.runtime.precision_config as precision
    import deepspeed.runtime.zero.config as zero

    return {v for m in (constants, precision, zero) for v in vars(m).values() if isinstance(v, str)}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_deepspeed_dict_is_accepted_by_deepspeed(path, deepspeed_config_cls):
    t = load_config(path).train
    d = t.deepspeed_dict(total_steps=100)
    # DeepSpeed's own parser (no distributed init needed: it falls back to world size 1). Its
    # pydantic ZeRO config refuses unknown keys, so a misspelt one fails here.
    parsed = deepspeed_config_cls(copy.deepcopy(d))
    assert parsed.zero_optimization_stage == t.deepspeed.zero_stage
    assert parsed.train_micro_batch_size_per_gpu == t.batch_size
    assert parsed.gradient_accumulation_steps == t.deepspeed.gradient_accumulation_steps
    # bf16 is autocast over float32 weights (DeepSpeed's bf16 mode would cast the buffers).
    assert parsed.torch_autocast_enabled == t.deepspeed.bf16
    assert not parsed.bfloat16_config.enabled
    assert parsed.gradient_clipping == t.deepspeed.gradient_clipping
    assert parsed.optimizer_name == "adamw" and parsed.scheduler_name == "WarmupCosineLR"
    zero = parsed.zero_config
    assert (zero.offload_optimizer is not None) == t.deepspeed.offload_optimizer
    assert (zero.offload_param is not None) == t.deepspeed.offload_param
    # The top level is read with dict.get, so check its keys against DeepSpeed's own names.
    assert set(d) <= _known_deepspeed_keys()


def test_deepspeed_scheduler_params_build_a_scheduler(deepspeed_config_cls):
    import torch
    from deepspeed.runtime.lr_schedules import WarmupCosineLR

    d = DeepSpeedConfig().to_deepspeed_dict(4, 1e-3, 0.01, warmup=0, total_steps=10)
    param = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.AdamW([param], lr=1e-3)
    sched = WarmupCosineLR(opt, **d["scheduler"]["params"])
    for _ in range(10):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(1e-4, rel=1e-3)  # cosine floor: 10% of lr


def test_deepspeed_dict_refuses_impossible_arguments():
    with pytest.raises(ConfigError, match="total_steps"):
        DeepSpeedConfig().to_deepspeed_dict(4, 1e-3, 0.0, warmup=0, total_steps=0)


# --- bad configs: one line, naming the file and the key ----------------------------------------


def _base() -> dict:
    return yaml.safe_load((ROOT / "ray_jobs/configs/local-cpu.yaml").read_text())


def _set(data: dict, dotted: str, value) -> dict:
    *parents, last = dotted.split(".")
    node = data
    for p in parents:
        node = node.setdefault(p, {})
    node[last] = value
    return data


BAD = [
    # (key to set, value, words the error must contain)
    ("train.deepspeed.zero_stag", 3, ["unknown key 'train.deepspeed.zero_stag'", "zero_stage"]),
    ("train.zero_stage", 3, ["unknown key 'train.zero_stage'", "known:", "deepspeed"]),
    ("preprocess.separator_actor", 2, ["unknown key 'preprocess.separator_actor'"]),
    ("extra_section.x", 1, ["unknown key 'extra_section'"]),
    ("train.deepspeed.zero_stage", 4, ["train.deepspeed.zero_stage", "0, 1, 2 or 3", "got 4"]),
    ("train.deepspeed.offload_param", True, ["train.deepspeed.offload_param", "zero_stage 3"]),
    ("train.deepspeed.bf16", True, ["train.deepspeed.bf16", "use_gpu"]),
    ("train.num_workers", 0, ["train.num_workers", "greater than or equal to 1"]),
    ("train.num_workers", "two", ["train.num_workers", "valid integer", "'two'"]),
    ("train.lr", 0, ["train.lr", "greater than 0"]),
    ("train.lr", -1.0e-3, ["train.lr"]),
    ("train.weight_decay", -0.1, ["train.weight_decay"]),
    ("train.audio_prob", 1.5, ["train.audio_prob"]),
    ("train.tasks", ["planning", "mixing"], ["train.tasks", "mixing"]),
    ("train.model", "huge", ["train.model", "debug"]),
    ("train.resources_per_worker", {"GPU": 1}, ["train.resources_per_worker.GPU", "use_gpu"]),
    ("train.resources_per_worker", {"CPU": -1}, ["train.resources_per_worker", ">= 0"]),
    ("train.max_failures", -2, ["train.max_failures"]),
    ("train.run_name", "a/b", ["train.run_name"]),
    ("train.fault_injection", {"kill_rank": 5, "kill_at_step": 2}, ["fault_injection.kill_rank"]),
    ("train.fault_injection", {"kill_rank": 0}, ["missing", "fault_injection.kill_at_step"]),
    ("train.lora.dropout", 1.0, ["train.lora.dropout"]),
    ("train.lora.target_modules", [], ["train.lora.target_modules"]),
    ("preprocess.separator_num_gpus", -1, ["preprocess.separator_num_gpus"]),
    ("preprocess.separator_num_gpus", 1.5, ["preprocess.separator_num_gpus", "whole number"]),
    ("preprocess.separator_actors", 0, ["preprocess.separator_actors"]),
    ("preprocess.batch_size", 0.5, ["preprocess.batch_size"]),
    ("preprocess.overwrite", "yes please", ["preprocess.overwrite", "boolean"]),
]


@pytest.mark.parametrize(("key", "value", "words"), BAD, ids=[f"{k}={v}" for k, v, _ in BAD])
def test_bad_value_is_one_line_naming_the_key(tmp_path, key, value, words):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(_set(_base(), key, value)))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    for word in words:
        assert word in message


def test_missing_required_key(tmp_path):
    data = _base()
    del data["train"]["data"]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"missing required key 'train\.data'"):
        load_config(path)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", ["empty"]),
        ("- a\n- b\n", ["mapping"]),
        ("train: [1, 2\n", ["invalid YAML"]),
        ("preprocess: null\ntrain: null\n", ["'preprocess:' or a 'train:'"]),
        ("train:\n  data: x\n  lr: 0.1\n  lr: 0.2\n", ["bad.yaml:4:", "duplicate key 'lr'"]),
    ],
    ids=["empty", "list", "syntax", "no-sections", "duplicate"],
)
def test_bad_files(tmp_path, text, words):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "\n" not in str(info.value)
    for word in words:
        assert word in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.yaml")


def test_scientific_notation_is_a_number(tmp_path):
    path = tmp_path / "lr.yaml"
    path.write_text("train:\n  data: shards\n  lr: 1e-4\n")
    assert load_config(path).train.lr == 1e-4


def test_overrides(tmp_path):
    path = ROOT / "ray_jobs/configs/local-cpu.yaml"
    job = load_config(
        path,
        overrides=[
            "train.epochs=1",
            "train.fault_injection={kill_rank: 1, kill_at_step: 3}",
            "train.lr=5e-4",
        ],
    )
    assert job.train.epochs == 1 and job.train.lr == 5e-4
    assert (job.train.fault_injection.kill_rank, job.train.fault_injection.kill_at_step) == (1, 3)
    with pytest.raises(ConfigError, match=r"unknown key 'train\.epoch'"):
        load_config(path, overrides=["train.epoch=1"])
    with pytest.raises(ConfigError, match=r"KEY\.PATH=VALUE"):
        load_config(path, overrides=["train.epochs"])


def test_config_built_in_code_is_checked_too():
    with pytest.raises(ValueError, match="offload_param"):
        TrainJobConfig(data="x", deepspeed={"zero_stage": 2, "offload_param": True})
    with pytest.raises(ConfigError, match=r"<config>: train\.num_workers"):
        JobConfig.from_dict({"train": {"data": "x", "num_workers": 0}})


def test_export_dir_defaults_under_the_run(tmp_path):
    t = TrainJobConfig(data="x", storage_path=str(tmp_path), run_name="r")
    assert t.resolved_export_dir() == f"{tmp_path}/r/export"
    t = TrainJobConfig(data="x", storage_path="s3://b/runs/", run_name="r")
    assert t.resolved_export_dir() == "s3://b/runs/r/export"


# --- cluster.yaml against the schema Ray ships -------------------------------------------------


@pytest.fixture(scope="module")
def ray_schema():
    jsonschema = pytest.importorskip(
        "jsonschema", reason="jsonschema is not installed: cluster.yaml cannot be validated"
    )
    import ray.autoscaler

    schema_path = Path(ray.autoscaler.__file__).parent / "ray-schema.json"
    return jsonschema, json.loads(schema_path.read_text())


@pytest.fixture
def cluster() -> dict:
    return yaml.safe_load(CLUSTER.read_text())


def test_cluster_yaml_validates_against_ray_schema(ray_schema, cluster):
    jsonschema, schema = ray_schema
    jsonschema.validate(cluster, schema)


def test_cluster_yaml_passes_ray_own_checks(ray_schema, cluster):
    """What `ray up` does before launching: merge the AWS defaults, then validate."""
    from ray.autoscaler._private.util import prepare_config, validate_config

    validate_config(prepare_config(cluster))


@pytest.mark.parametrize(
    "breakage",
    [
        lambda c: c["available_node_types"]["ray.worker.gpu"].update(min_workers="zero"),
        lambda c: c["available_node_types"]["ray.worker.gpu"].update(resources={"GPU": "one"}),
        lambda c: c.update(max_worker=3),
        lambda c: c.pop("cluster_name"),
    ],
    ids=["min_workers-string", "resources-string", "unknown-key", "no-cluster-name"],
)
def test_broken_cluster_yaml_fails_the_schema(ray_schema, cluster, breakage):
    jsonschema, schema = ray_schema
    breakage(cluster)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(cluster, schema)


def test_cluster_yaml_shape(cluster):
    assert cluster["cluster_name"] == "producer"
    assert cluster["provider"]["type"] == "aws"
    types = cluster["available_node_types"]
    head = types[cluster["head_node_type"]]
    assert "GPU" not in head["resources"]
    gpu = [t for name, t in types.items() if t["resources"].get("GPU", 0) >= 1]
    assert len(gpu) == 1
    assert gpu[0]["min_workers"] == 0 and 1 <= gpu[0]["max_workers"] <= cluster["max_workers"]
    # The biggest shipped training job fits the GPU pool.
    workers = max(load_config(p).train.num_workers for p in CONFIGS)
    assert workers <= gpu[0]["max_workers"]
    assert "~/producer" in cluster["file_mounts"]
    setup = " ".join(cluster["setup_commands"])
    assert "uv sync --locked" in setup
    for key in ("head_start_ray_commands", "worker_start_ray_commands"):
        assert any("uv run" in c and "ray start" in c for c in cluster[key])


def test_deepspeed_parser_has_teeth(deepspeed_config_cls):
    """The acceptance test above would catch a misspelt ZeRO key."""
    d = DeepSpeedConfig().to_deepspeed_dict(4, 1e-3, 0.0, warmup=1, total_steps=10)
    d["zero_optimization"]["offload_optimiser"] = {"device": "cpu"}
    with pytest.raises(ValueError, match="offload_optimiser"):
        deepspeed_config_cls(d)


def test_preprocess_settings_come_from_every_shipped_config():
    from ray_jobs.preprocess import settings_from_config

    for path in CONFIGS:
        config = load_config(path)
        settings = settings_from_config(path, ["preprocess.batch_size=3"])
        assert settings.data_dir == config.preprocess.data_dir
        assert settings.separator == config.preprocess.separator
        assert settings.separator_num_gpus == config.preprocess.separator_num_gpus
        assert settings.batch_size == 3


def test_preprocess_cli_without_config_or_folders_is_a_usage_error(capsys):
    from ray_jobs.preprocess import main

    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "--config" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("value", "fixed"),
    [
        ("9.0a", "9.0"),
        ("8.0 9.0a 10.0f+PTX", "8.0;9.0;10.0+PTX"),
        ("9.0;9.0a", "9.0"),
        ("7.5;8.6+PTX", "7.5;8.6+PTX"),
        ("", ""),
    ],
)
def test_arch_lists_deepspeed_cannot_parse_are_rewritten(value, fixed):
    from ray_jobs.train import deepspeed_arch_list

    assert deepspeed_arch_list(value) == fixed
    # What DeepSpeed's JIT builder does with the list must now work.
    for cc in filter(None, fixed.split(";")):
        tuple(int(part.split("+")[0]) for part in cc.split("."))
