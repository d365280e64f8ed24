"""Every Serve config that ships loads, validates, and builds the app it names."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ray.serve.schema import ServeDeploySchema

from producer.errors import ProducerError
from producer.serving.app import DEPLOYMENTS, build_app
from producer.serving.config import ServeArgs
from producer.serving.launch import IMPORT_PATH, load_config, url_of

CONFIGS = sorted((Path(__file__).parents[2] / "serve_configs").glob("*.yaml"))


def test_the_shipped_configs_are_there():
    assert {p.name for p in CONFIGS} >= {"local.yaml", "cluster.yaml"}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_shipped_config_validates_and_builds_its_app(path):
    from ray.serve._private.build_app import build_app as serve_build

    raw = yaml.safe_load(path.read_text())
    ServeDeploySchema.model_validate(raw)  # Ray's own schema, as `serve run/deploy` reads it
    config = load_config(path)  # + our args and deployment names
    for app in config.applications:
        assert app.import_path == IMPORT_PATH
        args = ServeArgs.model_validate(app.args)
        built = serve_build(build_app(args), name=app.name)
        names = {d.name for d in built.deployments}
        assert names == set(DEPLOYMENTS) and built.ingress_deployment_name == "Ingress"
        assert {d.name for d in app.deployments} == names  # every stage configured explicitly
        for d in app.deployments:
            assert d.max_ongoing_requests >= 1 and d.max_queued_requests >= 1  # bounded queues


def _deployments(path: str) -> dict:
    config = load_config(Path(__file__).parents[2] / "serve_configs" / path)
    return {d.name: d for d in config.applications[0].deployments}


def test_local_fits_a_two_core_laptop_on_cpus_and_listens_on_loopback():
    config = load_config(Path(__file__).parents[2] / "serve_configs" / "local.yaml")
    assert config.http_options.host == "127.0.0.1"
    deployments = _deployments("local.yaml")
    cpus = sum(d.ray_actor_options.num_cpus * d.num_replicas for d in deployments.values())
    assert cpus <= 1.9  # beside Ray's own processes
    assert all(not d.ray_actor_options.num_gpus for d in deployments.values())
    assert all(d.num_replicas == 1 for d in deployments.values())
    args = ServeArgs.model_validate(config.applications[0].args)
    assert {args.model_device, args.writer_device, args.separator_device} == {"cpu"}


def test_cluster_puts_the_writer_and_separator_on_gpus_and_autoscales_the_stages():
    deployments = _deployments("cluster.yaml")
    for name in ("Writer", "Separator"):
        assert deployments[name].ray_actor_options.num_gpus > 0
    for name in ("Generator", "Renderer", "Planner"):
        assert not deployments[name].ray_actor_options.num_gpus
    for name in ("Separator", "Planner", "Generator", "Writer", "Renderer"):
        scaling = deployments[name].autoscaling_config
        assert scaling["min_replicas"] >= 1 and scaling["max_replicas"] > scaling["min_replicas"]


def test_cluster_ingress_answers_the_load_balancers_name_and_ips_only():
    from producer.serving.browser_guard import HostPolicy

    app = load_config(CONFIGS[0].parent / "cluster.yaml").applications[0]
    policy = HostPolicy.from_env(app.runtime_env["env_vars"])
    assert policy.allows("producer.example.com")
    assert policy.allows("10.0.3.7:8000")  # a node's IP, as health checks send it
    assert not policy.allows("evil.example")


def test_overrides_replace_the_address_model_and_store(tmp_path):
    path = Path(__file__).parents[2] / "serve_configs" / "local.yaml"
    config = load_config(path, host="0.0.0.0", port=8123, checkpoint="runs/a", store_dir="res")
    assert url_of(config) == "http://127.0.0.1:8123/"
    assert config.http_options.host == "0.0.0.0"
    args = ServeArgs.model_validate(config.applications[0].args)
    assert args.checkpoint == "runs/a" and Path(args.store.dir).is_absolute()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda raw: raw["applications"][0]["args"]["limits"].update(max_candidates=99),
            "args.limits.max_candidates: Input should be less than or equal to 16",
        ),
        (
            lambda raw: raw["applications"][0]["args"].update(chekpoint="x"),
            "args.chekpoint: Extra inputs are not permitted",
        ),
        (
            lambda raw: raw["applications"][0]["deployments"][0].update(name="Mixer"),
            "has no deployment 'Mixer'",
        ),
        (
            lambda raw: raw["applications"][0]["deployments"][0].update(num_replicas=-1),
            "applications.0.deployments.0.num_replicas",
        ),
    ],
)
def test_a_bad_config_is_one_line_naming_the_field(tmp_path, change, message):
    raw = yaml.safe_load((Path(__file__).parents[2] / "serve_configs" / "local.yaml").read_text())
    change(raw)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ProducerError, match=r"bad\.yaml") as err:
        load_config(path)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_an_unreadable_config_is_one_line(tmp_path):
    with pytest.raises(ProducerError, match="cannot read the serve config"):
        load_config(tmp_path / "missing.yaml")


def test_a_failed_deployment_is_reported_with_its_own_error():
    """Serve says "Failed to update the deployments ['Generator']"; the user needs the replica's
    own exception (seen on a GPU box without libGL: DawDreamer could not load)."""
    from ray.serve._private.common import DeploymentStatusTrigger
    from ray.serve.schema import (
        ApplicationStatus,
        ApplicationStatusOverview,
        DeploymentStatus,
        DeploymentStatusOverview,
    )

    from producer.serving.launch import _failure

    def deployment(status, message=""):
        trigger = DeploymentStatusTrigger.CONFIG_UPDATE_STARTED
        return DeploymentStatusOverview(status, trigger, {}, message)

    crash = (
        "The deployment failed to start 3 times in a row. See controller logs for details. "
        'Error:\nTraceback (most recent call last):\n  File "x.py", line 1, in <module>\n'
        "producer.errors.RenderError: DawDreamer failed to start: libGL.so.1: cannot open"
    )
    app = ApplicationStatusOverview(
        ApplicationStatus.DEPLOY_FAILED,
        "Failed to update the deployments ['Generator'].",
        0.0,
        {
            "Planner": deployment(DeploymentStatus.HEALTHY),
            "Generator": deployment(DeploymentStatus.DEPLOY_FAILED, crash),
        },
    )
    assert _failure(app) == (
        "Generator: producer.errors.RenderError: DawDreamer failed to start: libGL.so.1: "
        "cannot open"
    )
    healthy = {"Planner": deployment(DeploymentStatus.HEALTHY)}
    app = ApplicationStatusOverview(ApplicationStatus.DEPLOY_FAILED, "import failed", 0.0, healthy)
    assert _failure(app) == "import failed"


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_producer_serve_deploys_each_stage_with_the_files_options(path):
    """`producer serve` deploys through `serve.run_many` (Serve's public API), not Serve's
    controller reading the file: every deployment's options and the app's runtime_env must
    still reach the replicas exactly as the file says."""
    from ray.serve._private.build_app import build_app as serve_build

    from producer.serving.app import run_target

    config = load_config(path, allowed_hosts=["beats.example"])
    app = config.applications[0]
    target = run_target(app)
    built = serve_build(target.target, name=target.name)
    assert (target.name, target.route_prefix) == (app.name, app.route_prefix)
    deployed = {d.name: d for d in built.deployments}
    assert set(deployed) == set(DEPLOYMENTS)
    env = app.runtime_env["env_vars"]
    assert env["PRODUCER_ALLOWED_HOSTS"] == "beats.example"
    for want in app.deployments:
        got = deployed[want.name]
        assert got.max_ongoing_requests == want.max_ongoing_requests
        assert got.max_queued_requests == want.max_queued_requests
        options = got.ray_actor_options
        assert options["num_cpus"] == want.ray_actor_options.num_cpus
        assert options.get("num_gpus", 0) == (want.ray_actor_options.num_gpus or 0)
        assert options["runtime_env"]["env_vars"] == env
        scaling = got._deployment_config.autoscaling_config  # no public reader
        if want.autoscaling_config is None:
            assert scaling is None and got.num_replicas == want.num_replicas
        else:
            assert scaling.min_replicas == want.autoscaling_config["min_replicas"]
            assert scaling.max_replicas == want.autoscaling_config["max_replicas"]


def test_producer_serve_refuses_an_app_it_does_not_build(tmp_path):
    from producer.serving.app import run_target

    raw = yaml.safe_load((CONFIGS[0]).read_text())
    raw["applications"][0]["import_path"] = "my.module:app"
    path = tmp_path / "other.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ProducerError, match=r"runs its own app .* not my\.module:app"):
        run_target(load_config(path).applications[0])
