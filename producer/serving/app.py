"""The Serve application: the stage deployments bound behind the ingress.

    serve run serve_configs/local.yaml            # or: producer serve
    serve deploy serve_configs/cluster.yaml -a http://HEAD:8265

The YAML's `import_path: producer.serving.app:build_app` names this builder and its `args` are
validated into `ServeArgs` by Serve before the builder runs (the annotation below; this module
deliberately has no `from __future__ import annotations`, so the annotation is the class).
"""

from collections.abc import Mapping
from typing import Any

from ray.serve import Application, RunTarget

from producer.errors import ProducerError
from producer.serving import deployments
from producer.serving.config import ServeArgs
from producer.serving.deployments import Generator, Planner, Renderer, Separator, Writer
from producer.serving.ingress import Ingress
from producer.serving.launch import IMPORT_PATH

__all__ = ["DEPLOYMENTS", "build_app", "build_app_with_options", "run_target"]

#: Every deployment of the graph, by name, as a config's `deployments:` may list them.
DEPLOYMENTS = ("Ingress", "Separator", "Planner", "Generator", "Writer", "Renderer")


def build_app(args: ServeArgs) -> Application:
    """Planner, generator, Faust writer and renderer (and a separator) behind one ingress."""
    return build_app_with_options(args, {})


def build_app_with_options(args, options: Mapping[str, Mapping[str, Any]]) -> Application:
    """`build_app` with each deployment's `Deployment.options` (by name) applied first: what a
    config's `deployments:` list asks for, when the app is deployed with `serve.run_many`
    rather than by Serve's controller from the file (`producer.serving.launch.start`)."""
    if not isinstance(args, ServeArgs):  # called from Python with a plain dict
        args = ServeArgs.model_validate(args or {})

    def bound(deployment, *inner):
        given = options.get(deployment.name)
        return (deployment.options(**given) if given else deployment).bind(args, *inner)

    return bound(
        Ingress,
        bound(Separator),
        bound(Planner),
        bound(Generator),
        bound(Writer),
        bound(Renderer),
    )


def run_target(app) -> RunTarget:
    """A `serve.RunTarget` of one application of the config: our builder, called with the
    app's `args` and with each listed deployment's options applied, and the app's
    `runtime_env` given to every replica (what Serve's controller does with the file)."""
    if app.import_path != IMPORT_PATH:
        raise ProducerError(
            f"application '{app.name}': producer serve runs its own app ({IMPORT_PATH}), not "
            f"{app.import_path}; run other apps with `serve run`"
        )
    env = app.runtime_env or {}
    options: dict[str, dict] = {}
    for deployment in app.deployments:
        given = deployment.model_dump(exclude_unset=True)
        given.pop("name", None)
        if "rolling_update_percentage" in given:
            raise ProducerError(
                f"application '{app.name}', deployment '{deployment.name}': "
                "rolling_update_percentage applies to `serve deploy` only"
            )
        options[deployment.name] = given
    if env:
        for name in DEPLOYMENTS:
            given = options.setdefault(name, {})
            actor = dict(given.get("ray_actor_options") or _default_actor_options(name))
            actor["runtime_env"] = _merged_env(env, actor.get("runtime_env") or {})
            given["ray_actor_options"] = actor
    return RunTarget(
        target=build_app_with_options(app.args or {}, options),
        name=app.name,
        route_prefix=app.route_prefix,
        logging_config=app.logging_config,
    )


def _default_actor_options(name: str) -> dict:
    """The ray_actor_options a deployment is declared with (its decorator's)."""
    cls = Ingress if name == "Ingress" else getattr(deployments, name)
    return dict(cls.ray_actor_options or {})


def _merged_env(app_env: dict, own: dict) -> dict:
    """A replica's runtime_env: the application's, with the deployment's own on top (env_vars
    merged), as Serve merges them for a config file."""
    merged = {**app_env, **own}
    if "env_vars" in app_env or "env_vars" in own:
        merged["env_vars"] = {**(app_env.get("env_vars") or {}), **(own.get("env_vars") or {})}
    return merged
