"""The local Ray that `producer serve`, `producer train` and `producer preprocess` start: it
listens on 127.0.0.1 only, unless a cluster address or an explicit host is given.

    from producer.ray_local import init_ray
    init_ray(num_cpus=4, include_dashboard=False)      # instead of ray.init(...)

Why this is needed (measured with `ss -ltnp`, Ray 2.60, Linux): a plain `ray.init()` takes the
machine's outward address (the one a route to the internet would use) as the node's address,
and then the GCS, the raylet (node manager and object manager), every worker and the dashboard
agent listen on all interfaces, and the dashboard and runtime-env agents on the outward
address. Anyone on the network could then reach the GCS, which runs code on request.
`ray.init(_node_ip_address="127.0.0.1")` alone does not help: Ray rewrites a loopback node
address to the outward one (`services.resolve_ip_for_localhost`) unless Ray clusters are
switched off, which is the switch Ray keeps for Windows and macOS
(`RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER`, read into `ray_constants.ENABLE_RAY_CLUSTER`). With it
off while `ray.init` runs, the node's address is the loopback one and every Ray server binds
there (measured: GCS, raylet, workers, dashboard, dashboard agent and runtime-env agent all on
127.0.0.1). The cost is that no other machine can join this Ray, which a local one never wants.

What decides where Ray listens:

- `RAY_ADDRESS` set, or an `address` passed (a cluster, `auto`): join that Ray as it is.
- `host` (or the `PRODUCER_RAY_HOST` environment variable) naming a non-loopback address: a
  new local Ray whose node address is that host (Ray then binds its gRPC servers to every
  interface, as it does for any outward address); for other machines to join it.
- otherwise: a new local Ray on 127.0.0.1 (`address="local"`: never a `ray start` cluster found
  running on the machine; set `RAY_ADDRESS=auto` to join one).

The dashboard, when asked for, always listens on 127.0.0.1: it accepts job submissions, which
run any code (`ray dashboard` or an SSH tunnel reach it from elsewhere).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
from collections.abc import Iterator
from typing import Any

__all__ = [
    "LOOPBACK",
    "RAY_HOST_ENV",
    "init_ray",
    "is_loopback",
    "local_workers_use_this_python",
    "ray_host",
]

#: Where a local Ray listens unless told otherwise.
LOOPBACK = "127.0.0.1"
#: An explicit node address for a local Ray, for all three commands.
RAY_HOST_ENV = "PRODUCER_RAY_HOST"
# The switch Ray documents for Windows and macOS; "0" means: single-node Ray only.
_CLUSTERS_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def is_loopback(host: str) -> bool:
    """True for `localhost` and any loopback IP literal (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def ray_host(host: str | None = None) -> str:
    """The node address a new local Ray gets: `host`, else `$PRODUCER_RAY_HOST`, else loopback."""
    return host or os.environ.get(RAY_HOST_ENV) or LOOPBACK


def init_ray(*, address: str | None = None, host: str | None = None, **init_kwargs: Any) -> bool:
    """`ray.init(**init_kwargs)` that starts a loopback-only local Ray unless told otherwise.

    `address` (or `RAY_ADDRESS`) joins that Ray; `num_cpus`, `include_dashboard` and the other
    start-up options are dropped then, as Ray refuses them when joining. Returns True when this
    call started a new local Ray.
    """
    import ray

    address = address or os.environ.get("RAY_ADDRESS") or None
    if address is not None:
        for key in ("num_cpus", "num_gpus", "include_dashboard", "dashboard_host"):
            init_kwargs.pop(key, None)
        ray.init(address=address, **init_kwargs)
        return False
    node = ray_host(host)
    if init_kwargs.get("include_dashboard"):
        init_kwargs.setdefault("dashboard_host", LOOPBACK)
    if is_loopback(node):
        with _single_node_ray():
            ray.init(address="local", **init_kwargs)
    else:
        ray.init(address="local", _node_ip_address=node, **init_kwargs)
    return True


def local_workers_use_this_python() -> None:
    """Stop Ray from starting every worker through `uv run` when the driver runs under it.

    Ray (>= 2.47) turns a driver launched by `uv run` into a runtime_env whose workers each
    run `uv run` again (a sync and, here, a bytecode compile per worker: measured ~60 s before
    the first actor started on 2 cores). A local Ray's workers already run this interpreter,
    from this environment, so the hook buys nothing. Call before `ray.init`; a cluster job's
    runtime_env is set by `ray job submit`, not here.
    """
    os.environ["RAY_ENABLE_UV_RUN_RUNTIME_ENV"] = "0"  # read when ray is first imported
    ray_constants().RAY_ENABLE_UV_RUN_RUNTIME_ENV = False  # ray already imported: flip its copy


def ray_constants():
    """Ray's `ray._private.ray_constants` module: the project's one private Ray import.

    Ray reads two switches from the environment once, when it is first imported, into this
    module (`ENABLE_RAY_CLUSTER`, `RAY_ENABLE_UV_RUN_RUNTIME_ENV`); no public API sets them
    afterwards. `tests/test_ray_local.py` fails when a Ray upgrade moves or renames them.
    """
    from ray._private import ray_constants as constants  # private: see the docstring

    return constants


@contextlib.contextmanager
def _single_node_ray() -> Iterator[None]:
    """Ray's "no clusters" switch on, so its node address stays loopback, then back as it was.

    Ray reads the environment variable when it is first imported; the flag it read is flipped
    too (the same pattern as `local_workers_use_this_python`). Only
    `services.get_node_ip_address` reads it while `ray.init` starts the node; it is restored so
    a later `ray.init(address=...)` in this process can join a cluster.
    """
    constants = ray_constants()
    before_env = os.environ.get(_CLUSTERS_ENV)
    before_flag = constants.ENABLE_RAY_CLUSTER
    os.environ[_CLUSTERS_ENV] = "0"
    constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        constants.ENABLE_RAY_CLUSTER = before_flag
        if before_env is None:
            os.environ.pop(_CLUSTERS_ENV, None)
        else:
            os.environ[_CLUSTERS_ENV] = before_env
