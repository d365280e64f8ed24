"""`producer assess` at work: the meters of a master, or the critic's verdict on a mix script.

The parser is `cli.assess.add_assess_command`; `main` imports this module only when the command
runs, since it loads numpy, soundfile and the Faust engine at its top.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from producer.audio.io import load_audio
from producer.audio.quality import assess
from producer.audio.stems import stem_files
from producer.cli.assess import verdict_lines
from producer.errors import FaustValidationError, ProducerError
from producer.faust.compile_guard import check_compiles
from producer.faust.validate import validate
from producer.mixing.critic import critique
from producer.mixing.descriptors import apply_descriptors
from producer.mixing.reference import style_targets
from producer.mixing.solo import render_with_solos
from producer.user_files import read_script_file

__all__ = ["run_assess"]


def run_assess(args: argparse.Namespace) -> int:
    critic_mode = args.stems is not None or args.script is not None
    if critic_mode:
        if args.file is not None:
            raise ProducerError("give a master FILE, or --stems DIR --script FILE, not both")
        if args.stems is None or args.script is None:
            raise ProducerError("--stems DIR and --script FILE go together")
        return _critique(args)
    if args.style is not None or args.prompt is not None:
        raise ProducerError("--style and --prompt go with --stems DIR --script FILE")
    if args.file is None:
        raise ProducerError("give a master FILE to measure, or --stems DIR --script FILE")
    return _meter(args)


# ---------------------------------------------------------------------- a master's meters


def _meter(args: argparse.Namespace) -> int:
    audio = load_audio(args.file, sample_rate=args.sample_rate)
    report = assess(audio, args.sample_rate)
    if args.json:
        print(json.dumps(report.model_dump(), indent=2))
        return 0
    print(f"{args.file}: {report.duration_s:.1f} s")
    r = report
    print(f"  loudness     {r.integrated_lufs:6.1f} LUFS  (range {r.loudness_range_lu:.1f} LU)")
    print(f"  true peak    {report.true_peak_dbtp:6.1f} dBTP")
    print(f"  crest factor {report.crest_factor_db:6.1f} dB")
    print(f"  stereo       correlation {r.stereo_correlation:.2f}, width {r.stereo_width:.2f}")
    for band in report.bands:
        print(
            f"  {band.name:<9} {band.energy_db:6.1f} dB (reference {band.reference_db:6.1f}, "
            f"{band.deviation_db:+.1f})"
        )
    print("  findings:   " + ("; ".join(report.findings) if report.findings else "none"))
    return 0


# ---------------------------------------------------------------------- the mix critic


def _critique(args: argparse.Namespace) -> int:
    folder = Path(args.stems)
    if not folder.is_dir():
        raise ProducerError(f"{folder}: no such folder (--stems takes a folder of <role>.wav)")
    script = read_script_file(args.script)
    try:
        validated = validate(script, sample_rate=args.sample_rate)
    except FaustValidationError as err:
        raise FaustValidationError(f"{args.script}: {err}") from None
    roles = validated.stem_roles
    files = stem_files([folder])  # AudioInputError when the folder has no audio files
    missing = [r for r in roles if r not in files]
    if missing:
        have = ", ".join(f.name for f in files.values())
        raise ProducerError(
            f"{args.script} mixes {', '.join(missing)} but {folder} has no "
            f"{', '.join(r + '.wav' for r in missing)} (it has {have})"
        )
    extra = [r for r in files if r not in roles]
    if extra:
        raise ProducerError(
            f"{folder} has {', '.join(files[r].name for r in extra)} but {args.script} has no "
            f"{', '.join(r + '_process' for r in extra)}: every stem needs its chain"
        )

    production = _production(folder)
    style = args.style if args.style is not None else production.get("style")
    prompt = args.prompt if args.prompt is not None else production.get("prompt", "")
    try:
        base = style_targets(style)
    except ValueError as err:
        raise ProducerError(f"--style: {err}") from None
    targets, descriptors = apply_descriptors(base, prompt or "")
    # A production's own master loudness reproduces its report; otherwise the targets'.
    lufs = production.get("target_lufs", targets.master_lufs)

    stems = {r: load_audio(files[r], sample_rate=args.sample_rate) for r in roles}
    # A person's script: compiled first in a child that is stopped past its time limit, since
    # an in-process compile cannot be interrupted (faust/compile_guard.py).
    check_compiles(validated, args.sample_rate)
    rendered = render_with_solos(script, stems, args.sample_rate, target_lufs=lufs)
    verdict = critique(
        stems, rendered.solos, rendered.master, args.sample_rate, targets, script=script
    )

    if args.json:
        report = {
            "stems": str(folder),
            "script": str(args.script),
            "style": verdict.style,
            "prompt": prompt or "",
            "descriptors": [d.to_dict() for d in descriptors],
            "mix": verdict.to_dict(),
        }
        print(json.dumps(report, indent=2, allow_nan=False))
        return 0
    source = " (from the production's result.json)" if production else ""
    print(
        f"{args.script} over {len(stems)} stems in {folder} ({', '.join(roles)}): "
        f"{verdict.style or 'hip-hop'} targets{source}"
    )
    for d in descriptors:
        print(f"  words: {d}")
    for line in verdict_lines(verdict):
        print(line)
    return 0


def _production(folder: Path) -> dict:
    """Style, prompt and master loudness of the production whose `result.stems/` this is
    (its `result.json`), or {} when there is none or it cannot be read."""
    report = folder.with_suffix(".json")
    if folder.suffix != ".stems" or not report.is_file():
        return {}
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
        plan = data["plan"]
        return {
            "style": str(plan["style"]),
            "prompt": str(data.get("prompt") or ""),
            "target_lufs": float(plan["target_lufs"]),
        }
    except (OSError, ValueError, KeyError, TypeError):
        return {}
