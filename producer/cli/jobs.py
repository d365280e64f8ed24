"""The cluster-job commands of `producer`: submit, preprocess.

    producer submit train --address http://HEAD:8265 --config ray_jobs/configs/gpu-cluster.yaml
    producer preprocess --config ray_jobs/configs/local-cpu.yaml --set preprocess.batch_size=8

`submit` sends `python -m ray_jobs.<kind>` to a Ray cluster and follows it (`ray_jobs.submit`);
`preprocess` runs the Ray Data job here, with every flag of `python -m ray_jobs.preprocess`.
(`train` lives in cli.model: the single-process trainer, or the Ray job with `--config`.)
Registered into the main parser by `add_job_commands`; the job modules are imported only when a
command runs.
"""

from __future__ import annotations

import argparse


def _cmd_submit(args: argparse.Namespace) -> int:
    from ray_jobs.submit import run

    return run(args)


def _cmd_preprocess(args: argparse.Namespace) -> int:
    from ray_jobs.preprocess import main

    return main(args.preprocess_args)


def add_job_commands(sub) -> None:
    """Add `submit` and `preprocess` to the `producer` subparsers `sub`."""
    from ray_jobs.submit import add_arguments

    submit = sub.add_parser(
        "submit",
        help="submit the preprocess or train job to a Ray cluster and follow it",
        description="Submit `python -m ray_jobs.<kind> --config … --set …` to a Ray cluster "
        "(the Ray Jobs API), uploading the working dir, then follow its log. Exit 0 when the "
        "job succeeds, 1 when it fails or is stopped, 2 when it cannot be submitted, 130 on "
        "Ctrl-C (the job keeps running).",
    )
    add_arguments(submit)
    submit.set_defaults(func=_cmd_submit)

    pre = sub.add_parser(
        "preprocess",
        help="run the Ray Data preprocessing job here (flags: python -m ray_jobs.preprocess)",
        description="Song folder → stems → training rows → Parquet shards, on a local Ray (or "
        "the one in $RAY_ADDRESS). Every flag goes to `python -m ray_jobs.preprocess`, e.g. "
        "--config FILE [--set KEY=VALUE …]; `producer preprocess --help` lists them.",
        # Every argument, --help included, goes to the job's own parser, which knows its flags:
        # no help of its own and no option prefix, so nothing here looks like an option.
        add_help=False,
        prefix_chars="\0",
    )
    pre.add_argument("preprocess_args", nargs=argparse.REMAINDER)
    pre.set_defaults(func=_cmd_preprocess)
