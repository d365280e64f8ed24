"""The Serve application: the stage deployments bound behind the ingress.

    serve run serve_configs/local.yaml            # or: producer serve
    serve deploy serve_configs/cluster.yaml -a http://HEAD:8265

The YAML's `import_path: producer.serving.app:build_app` names this builder and its `args` are
validated into `ServeArgs` by Serve before the builder runs (the annotation below; this module
deliberately has no `from __future__ import annotations`, so the annotation is the class).
"""

from ray.serve import Application

from producer.serving.config import ServeArgs
from producer.serving.deployments import Generator, Planner, Renderer, Separator, Writer
from producer.serving.ingress import Ingress

__all__ = ["DEPLOYMENTS", "build_app"]

#: Every deployment of the graph, by name, as a config's `deployments:` may list them.
DEPLOYMENTS = ("Ingress", "Separator", "Planner", "Generator", "Writer", "Renderer")


def build_app(args: ServeArgs) -> Application:
    """Planner, generator, Faust writer and renderer (and a separator) behind one ingress."""
    if not isinstance(args, ServeArgs):  # called from Python with a plain dict
        args = ServeArgs.model_validate(args or {})
    return Ingress.bind(
        args,
        Separator.bind(args),
        Planner.bind(args),
        Generator.bind(args),
        Writer.bind(args),
        Renderer.bind(args),
    )
