"""The mix critic: what a mix engineer checks, measured, with a number, a limit and a sentence.

    critique(raw_stems, solos, master, sr, targets, script=None) -> MixVerdict
    critique_script(script, raw_stems, sr, targets) -> (MixVerdict, SoloRender)

`audio.quality` meters a master. The critic also listens to the stems: each one soloed through
its own chain (`solo.render_with_solos`), against the raw stem that went in, and the master
against the style's targets (`reference.style_targets`). Every check is named and carries its
value, its limit, its stem and band where it has one, and a sentence an engineer would write.

The checks (thresholds are the constants below, each with its reason; `Check.basic` marks the
basics, which `MixVerdict.passes_basics` requires):

================= ======================================================================= =====
name              what is measured, and its limit                                         basic
================= ======================================================================= =====
balance           a stem's loudness (BS.1770 integrated, of its solo render) minus the     yes
                  pre-master mix's, LU; inside the style's range `targets.balance_lu`
buried            the same; no more than BURIED_MARGIN_LU (6) under the range's floor      yes
overpowering      a stem's LU minus all the other stems' together; at most OVERPOWER_LU   yes
                  (+3)
low_end_kept      bass, drums: the share of energy under 100 Hz in the solo over that in   yes
                  the raw stem, frame by frame; at least LOW_END_KEPT_MIN (70%)
low_end_mono      L/R correlation of the master under 150 Hz; at least                     yes
                  `targets.low_end_min_correlation` (0.9)
harshness         the master's 2-5 kHz share against the style curve; at most HARSH_DB     yes
                  (+4 dB) over
mud               the master's 200-500 Hz share against the style curve; at most MUD_DB    yes
                  (+4 dB) over
presence_boost    how much the chains lifted 2-5 kHz over what the stems brought: the      yes
                  solos' 2-5 kHz energy over the raw stems' at each solo's broadband gain
                  (fader and level changes cancel), dB; at most PRESENCE_BOOST_DB (+5)
kick_bass_masking drums and bass in 40-150 Hz: the share of the quieter one's energy in    no
                  time-frequency cells where the other is at least as loud; at most
                  MASKING_MAX (50%)
tonal_balance     each band of `audio.quality.BANDS` of the master against the style     no
                  curve plus `targets.tonal_offset_db`; within `targets.tonal_tolerance_db`
width             side share S²/(M²+S²) of the master above 500 Hz; in `targets.width`   no
plr               true peak minus integrated loudness of the master; in `targets.plr_db`  no
dc_offset         the largest channel mean of the master; at most DC_MAX (0.01)           no
low_end_reverb    bass, drums: a reverb or echo on the chain (read from the script: any   no
                  on the bass, on the drums one without a high-pass before it), or the
                  low band ringing on where the raw stem rests; at most TAIL_MAX_DB (-30)
================= ======================================================================= =====

Tonal numbers are relative: each band's share of the master's energy minus the curve's share,
minus the median of those differences over the six bands (as `audio.quality` does), so they
hold at any loudness. The 2-5 kHz and 200-500 Hz ranges are measured against the same median.
Where a number points at a stem (the biggest contributor to a harsh range, the widest low end,
the DC), the check names it.

Score. Each failed check is `severity` s = (distance outside its limit) / (its scale) out, and
the score is 1 / (1 + Σ weight · s²/(1 + s)): exactly 1 when every check passes, smooth at a
limit (quadratic just outside it, linear far outside), falling as faults grow and add up, and
still ordered among bad mixes (a reciprocal, not an exponential, so two bad mixes do not both
read 0.000). Weights favour the basics. On the synthetic trap production of tests/mixing: the
engineer's mix 1.0; its flat mix (stems at unit gain, centred, unprocessed) 0.65; 40 random
writer scripts 0.05-0.90 (median 0.16); the planted faults 0.08 (808 high-passed at 400 Hz),
0.19 (wide sub), 0.23 (chords 20 dB down), 0.27 (DC), 0.46 (reverb on the 808; the 808 12 dB
up), 0.76 (808 at unit gain, fighting the kick), 0.81 (+9 dB at 3 kHz on four stems).

The verdict's types are in `verdict.py` (`Check`, `MixVerdict`, re-exported here), the
short-time spectra every spectral check reads in `spectra.py`.

Speed: critiquing a 20 s, 44.1 kHz production with 5 stems takes 0.17-0.20 s on the 2-core
development machine (5 runs after a warm-up; 0.24-0.28 s on one thread). Most of it is the
K-weighting of the solos and the short-time spectra, which run on two threads (their kernels
release the GIL).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from producer.audio.io import AudioLimits, check_audio_array
from producer.audio.loudness import integrated_loudness, true_peak_dbtp
from producer.audio.reference_spectra import BANDS, range_share_db, style_key
from producer.mixing.descriptors import side_level_db
from producer.mixing.solo import SoloRender, render_with_solos
from producer.mixing.spectra import (
    Spectrum,
    correlation,
    db,
    side_power,
    side_share,
    spectrum,
)
from producer.mixing.targets import MONO_BELOW_HZ, WIDTH_FROM_HZ, MixTargets
from producer.mixing.verdict import Check, MixVerdict

__all__ = ["Check", "MixVerdict", "critique", "critique_script"]

# --- thresholds (why beside each) -----------------------------------------------------------

#: A stem this far under the floor of its balance range is lost in the mix, not just quiet.
BURIED_MARGIN_LU = 6.0
#: A stem with no balance range is buried this far under the mix.
BURIED_DEFAULT_LU = -25.0
#: A stem more than this louder than all the other stems together (2x their power) swamps
#: them; kick + 808 may be the whole mix's weight, but not one stem over everything.
OVERPOWER_LU = 3.0
#: Bass and drums must keep at least this fraction of their share of energy under 100 Hz
#: through their chain's filtering (`_low_end_kept`). Measured on tests/mixing's synthetic
#: stems (an 808 at 39-52 Hz, a 55 Hz kick): a high-pass at 40 Hz keeps 97% / 100% (bass /
#: drums), 60 Hz 85% / 86%, 80 Hz 67% / 66%, 100 Hz 49% / 47%, 150 Hz 25% / 20%, 400 Hz 10% /
#: 1%; compressors, gates and saturation 91-108%. So a rumble filter passes and anything that
#: reaches into the 808's or the kick's fundamental fails.
LOW_END_KEPT_MIN = 0.7
LOW_END_HZ = 100.0
#: A raw stem with less than this share under 100 Hz has no low end to keep (hi-hats alone).
LOW_END_PRESENT_MIN = 0.05
#: 2-5 kHz (presence, where the ear is most sensitive) and 200-500 Hz (mud): a broad excess of
#: 4 dB over the style curve is a distinct, audible problem, not taste (the bands' own
#: tolerance is 4.5 dB; these narrower ranges matter more, so a little stricter).
HARSH_RANGE_HZ = (2000.0, 5000.0)
HARSH_DB = 4.0
#: The chains may lift the 2-5 kHz range at most this much over what the stems brought (each
#: stem taken at its own broadband gain, so faders and compression cancel). The style curve is
#: of finished songs, with their vocals' presence in it; a beat's stems sit 5-15 dB under it
#: there, and a broad boost that chases the curve past ~5 dB is what an engineer hears as
#: harsh, brittle hats and snares, however the master reads against the curve. Measured on the
#: generated stems of benchmarks/mix_quality.py: the teacher's mixes lifted -0.1 to +10 dB
#: (before this check), random writer scripts -3 to +9, a +9 dB bell at 3 kHz on every stem
#: +4 to +8 over the mix it was added to.
PRESENCE_BOOST_DB = 5.0
MUD_RANGE_HZ = (200.0, 500.0)
MUD_DB = 4.0
#: Kick and bass fight in 40-150 Hz when more than this share of the quieter one's low-band
#: energy sits in time-frequency cells (0.1 s × 10.8 Hz) where the other is at least as loud.
#: On the synthetic stems: the 808 a few dB under the drums 32%; at unit gain, every 808 note
#: starting on a kick, 53%; 12 dB louder, 67%.
MASKING_RANGE_HZ = (40.0, 150.0)
MASKING_MAX = 0.5
#: A channel mean above 1% of full scale (-40 dBFS) wastes headroom (as `audio.quality`).
DC_MAX = 0.01
#: Where the raw bass/drums stem rests (its low band 40 dB under its loudest frame), its solo's
#: low band (< 150 Hz) may ring on at most this loud against the notes: a dry chain reads -40
#: dB and under (filters, heavy compression), a reverb or echo send -25 dB (0.05 send) to -10.
TAIL_MAX_DB = -30.0
TAIL_SILENT_DB = 40.0
_NOTE_DB = 20.0  # frames within this of the loudest are the notes
#: The tail is only measured when at least this share of the frames are gaps.
TAIL_MIN_GAP_SHARE = 0.05

# Scales (one severity unit) and weights of each check in the score.
_SCALE = {
    "balance": 3.0,
    "buried": 3.0,
    "overpowering": 3.0,
    "low_end_kept": 0.15,
    "low_end_mono": 0.15,
    "harshness": 1.0,  # narrow ranges where each dB past the limit is audible
    "mud": 1.0,
    "presence_boost": 1.0,
    "kick_bass_masking": 0.15,
    "tonal_balance": 3.0,
    "width": 0.1,
    "plr": 2.0,
    "dc_offset": 0.01,
    "low_end_reverb": 10.0,
    "asked_for": 2.0,
}
_WEIGHT = {
    "balance": 1.0,
    "buried": 0.5,
    "overpowering": 1.0,
    "low_end_kept": 1.5,
    "low_end_mono": 1.5,
    "harshness": 1.0,
    "mud": 1.0,
    "presence_boost": 1.0,
    "kick_bass_masking": 0.5,
    "tonal_balance": 0.3,
    "width": 0.5,
    "plr": 0.5,
    "dc_offset": 1.0,
    "low_end_reverb": 0.8,
    "asked_for": 0.5,
}
#: A mix goes at least this share of the way a prompt's word asked (`asked_for`): "bright"
#: (+3 dB high) is heard when the high band sits no more than 1.5 dB under its moved target.
ASKED_SHARE = 0.5
_BASIC = {
    "balance",
    "buried",
    "overpowering",
    "low_end_kept",
    "low_end_mono",
    "harshness",
    "mud",
    "presence_boost",
}

_RESPONSE_ITERATIONS = 6  # alternating means that fit a chain's static response (converges in ~4)
_SPECTRUM_S = 0.1  # stems: ~0.1 s frames (4096 at 44.1 kHz, 10.8 Hz bins), half overlap
_MASTER_SPECTRUM_S = 0.2  # master: ~0.2 s frames (8192 at 44.1 kHz), as `audio.quality`
_FLOOR_LU = -99.0  # balance of a stem silent in the mix (keeps JSON finite)
_SEND_CALLS = ("re.mono_freeverb", "re.stereo_freeverb", "ef.echo", "de.delay")
_ANY_LENGTH = AudioLimits(max_seconds=math.inf)
_WORKERS = 2  # measurement threads (the development and CI machines have 2 cores)
_BAND_LABEL = {
    "sub": "sub (20-60 Hz)",
    "bass": "bass (60-250 Hz)",
    "low_mid": "low-mid (250-500 Hz)",
    "mid": "mid (500 Hz-2 kHz)",
    "high_mid": "high-mid (2-6 kHz)",
    "high": "high (6-20 kHz)",
}


# --- the critic -----------------------------------------------------------------------------


def critique(
    raw_stems: Mapping[str, np.ndarray],
    solos: Mapping[str, np.ndarray],
    master: np.ndarray,
    sample_rate: int,
    targets: MixTargets,
    script: str | None = None,
) -> MixVerdict:
    """Check a rendered mix against `targets` (pure: numpy arrays in, a verdict out).

    `raw_stems` are the stems that went into the script (role → audio); `solos` each stem's
    render through its own chain before the master bus (`SoloRender.solos`; their sum is the
    pre-master mix); `master` the final master. Arrays are anything `check_audio_array`
    accepts. `script` (the mix script's text) lets the critic name causes ("its high-pass at
    400 Hz") and read sends off the chains. Raises `AudioInputError` for unusable audio.
    """
    sr = int(sample_rate)
    solo = {
        r: check_audio_array(a, sr, name=f"solo {r}", limits=_ANY_LENGTH) for r, a in solos.items()
    }
    length = max((a.shape[1] for a in solo.values()), default=0)
    solo = {r: _fit(a, length) for r, a in solo.items()}
    raw = {
        r: _fit(check_audio_array(a, sr, name=f"stem {r}", limits=_ANY_LENGTH), length)
        for r, a in raw_stems.items()
        if r in solo
    }
    out = check_audio_array(master, sr, name="master", limits=_ANY_LENGTH)
    chains = _chains(script)
    style = targets.style
    label = f"the {style_key(style)} curve"

    checks: list[Check] = []
    mix = np.zeros((2, length), np.float32)
    for a in solo.values():
        mix += a
    # The measurements are independent and their numeric kernels (scipy's sosfilt, pocketfft)
    # release the GIL: two threads bring a 20 s, 5-stem critique from ~0.3 s to ~0.2 s.
    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        lufs_jobs = {r: pool.submit(integrated_loudness, a, sr) for r, a in solo.items()}
        mix_job = pool.submit(integrated_loudness, mix, sr)
        master_job = pool.submit(integrated_loudness, out, sr)
        peak_job = pool.submit(true_peak_dbtp, out, sr)
        spec_jobs = {r: pool.submit(spectrum, a, sr, _SPECTRUM_S) for r, a in solo.items()}
        raw_jobs = {r: pool.submit(spectrum, a, sr, _SPECTRUM_S) for r, a in raw.items()}
        master_spec_job = pool.submit(spectrum, out, sr, _MASTER_SPECTRUM_S)
    stem_lufs = {r: job.result() for r, job in lufs_jobs.items()}
    mix_lufs = mix_job.result() if length else -math.inf
    balance = {
        r: (v - mix_lufs if math.isfinite(v) and math.isfinite(mix_lufs) else -math.inf)
        for r, v in stem_lufs.items()
    }
    # "Something went in": above -80 dBFS RMS (a gated loudness per raw stem costs too much).
    raw_audible = {r: float(np.mean(np.square(a, dtype=np.float64))) > 1e-8 for r, a in raw.items()}
    checks += _balance_checks(balance, raw_audible, targets)

    solo_spec = {r: job.result() for r, job in spec_jobs.items()}
    raw_spec = {r: job.result() for r, job in raw_jobs.items()}
    checks += _low_end_checks(raw_spec, solo_spec, chains)
    checks += _masking_check(solo_spec)
    checks += _reverb_checks(raw_spec, solo_spec, chains)
    checks += _presence_check(raw_spec, solo_spec)

    master_spec = master_spec_job.result()
    bands, tonal_checks = _tonal(master_spec, solo_spec, targets, label, sr)
    checks += tonal_checks
    checks += _stereo_checks(master_spec, solo_spec, targets)

    master_lufs = master_job.result()
    plr = peak_job.result() - master_lufs if math.isfinite(master_lufs) else None
    checks += _level_checks(out, plr, solo, targets)
    side = side_share(master_spec, WIDTH_FROM_HZ, 20000.0)
    checks += _asked_checks(targets, balance, bands, side)

    penalty = sum(c.weight * c.severity**2 / (1.0 + c.severity) for c in checks)
    score = 1.0 / (1.0 + penalty)
    failed = [c for c in checks if not c.passed]
    findings = [c.message for c in failed if c.basic] + [c.message for c in failed if not c.basic]
    return MixVerdict(
        checks=checks,
        stem_lufs={r: (v if math.isfinite(v) else None) for r, v in stem_lufs.items()},
        balance_lu={r: (v if math.isfinite(v) else None) for r, v in balance.items()},
        bands=bands,
        style=style,
        mix_lufs=mix_lufs if math.isfinite(mix_lufs) else None,
        master_lufs=master_lufs if math.isfinite(master_lufs) else None,
        plr_db=plr,
        score=score,
        passes_basics=all(c.passed for c in checks if c.basic),
        findings=findings,
    )


def critique_script(
    script: str,
    raw_stems: Mapping[str, np.ndarray],
    sample_rate: int,
    targets: MixTargets,
) -> tuple[MixVerdict, SoloRender]:
    """Render `script` over `raw_stems` once (`render_with_solos`, mastered to
    `targets.master_lufs`) and critique it. Raises as `render_with_solos`."""
    rendered = render_with_solos(script, raw_stems, sample_rate, target_lufs=targets.master_lufs)
    verdict = critique(
        raw_stems, rendered.solos, rendered.master, sample_rate, targets, script=script
    )
    return verdict, rendered


# --- the checks -------------------------------------------------------------------------------


def _make(name: str, passed: bool, value, limit, excess: float = 0.0, **kw) -> Check:
    severity = 0.0 if passed else max(0.0, excess) / _SCALE[name]
    return Check(
        name=name,
        passed=passed,
        value=value,
        limit=limit,
        basic=name in _BASIC,
        severity=severity,
        weight=_WEIGHT[name],
        **kw,
    )


def _balance_checks(
    balance: dict[str, float], raw_audible: dict[str, bool], targets: MixTargets
) -> list[Check]:
    checks = []
    audible = [r for r, v in balance.items() if math.isfinite(v)]
    if len([r for r in balance if raw_audible.get(r, True)]) < 2:
        return checks  # one stem is the whole mix: there is nothing to balance it against
    total = sum(10 ** (balance[r] / 10) for r in audible)
    for role, value in balance.items():
        if not raw_audible.get(role, math.isfinite(value)):
            continue  # nothing went in: nothing to balance
        shown = value if math.isfinite(value) else _FLOOR_LU
        rng = targets.balance_lu.get(role)
        if rng is not None:
            lo, hi = rng
            ok = lo <= shown <= hi
            side = "quiet" if shown < lo else "loud"
            excess = lo - shown if shown < lo else shown - hi
            message = (
                f"{role}: {shown:+.1f} LU against the mix (range {lo:+.0f} to {hi:+.0f} LU): "
                f"{abs(excess):.1f} LU too {side}"
            )
            checks.append(_make("balance", ok, shown, (lo, hi), excess, stem=role, message=message))
            floor = lo - BURIED_MARGIN_LU
        else:
            floor = BURIED_DEFAULT_LU
        silent = not math.isfinite(value)
        why = (
            "silent in the mix: its chain or fader removes it"
            if silent
            else (f"{shown:+.1f} LU under the mix")
        )
        checks.append(
            _make(
                "buried",
                shown >= floor,
                shown,
                floor,
                floor - shown,
                stem=role,
                message=f"{role} is buried: {why} (at least {floor:+.0f} LU)",
            )
        )
        if len(audible) >= 2 and math.isfinite(value):
            rest = total - 10 ** (value / 10)
            # Stems add as powers (uncorrelated); the gating makes this an estimate.
            over = value - db(rest) if rest > 0 else math.inf
            over_shown = min(over, 99.0)
            checks.append(
                _make(
                    "overpowering",
                    over <= OVERPOWER_LU,
                    over_shown,
                    OVERPOWER_LU,
                    over_shown - OVERPOWER_LU,
                    stem=role,
                    message=(
                        f"{role} overpowers the mix: {over_shown:+.1f} LU louder than all the "
                        f"other stems together (at most {OVERPOWER_LU:+.0f} LU)"
                    ),
                )
            )
    return checks


def _low_end_checks(
    raw_spec: dict[str, Spectrum], solo_spec: dict[str, Spectrum], chains: dict[str, list]
) -> list[Check]:
    checks = []
    for role in ("bass", "drums"):
        if role not in raw_spec or role not in solo_spec:
            continue
        kept = _low_end_kept(raw_spec[role], solo_spec[role])
        if kept is None:
            continue
        cause = _low_cut_cause(chains.get(role, []))
        what = "the 808" if role == "bass" else "the kick"
        message = (
            f"{role}: only {kept:.0%} of its share of energy below {LOW_END_HZ:.0f} Hz survives "
            f"its chain (at least {LOW_END_KEPT_MIN:.0%}): {cause} removes {what}"
        )
        checks.append(
            _make(
                "low_end_kept",
                kept >= LOW_END_KEPT_MIN,
                kept,
                LOW_END_KEPT_MIN,
                LOW_END_KEPT_MIN - kept,
                stem=role,
                band=f"below {LOW_END_HZ:.0f} Hz",
                message=message,
            )
        )
    return checks


def _low_end_kept(raw: Spectrum, solo: Spectrum) -> float | None:
    """The solo's share of energy under LOW_END_HZ over the raw stem's: how much low end the
    chain's filtering kept. None when the raw stem has (almost) no low end.

    Compared as they are, a compressor would count: it turns the kick down against the hats
    (they happen at different moments), which moves the stem's share of low end although no
    filter touched it. So the chain's static response is estimated first: in the log domain
    the solo's power in frame t and bin k is the raw power plus a per-frame gain (what a
    compressor or fader does, the same at every frequency) plus a per-bin gain (what a filter
    does, the same at every moment), fitted over the cells where the raw stem has energy
    (within 40 dB of its frame's loudest bin, every cell weighted alike so that the loud kick
    bins cannot pass a filter's cut off as a gain change). The shares are then the raw
    stem's average spectrum before and after that per-bin gain.
    """
    band = raw.between(20.0, 16000.0)
    r = raw.power[:, band].astype(np.float64)
    s = solo.power[:, band].astype(np.float64)
    freqs = raw.freqs[band]
    mean = r.mean(axis=0)
    low = freqs < LOW_END_HZ
    if mean.sum() <= 0 or mean[low].sum() < LOW_END_PRESENT_MIN * mean.sum():
        return None
    frame = r.sum(axis=1)
    cells = (
        (r > r.max(axis=1, keepdims=True) * 1e-4) & (frame[:, None] > frame.max() * 1e-6) & (s > 0)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = np.where(cells, np.log(np.where(cells, s, 1.0) / np.where(cells, r, 1.0)), 0.0)
    w = cells.astype(np.float64)
    per_frame = np.zeros(r.shape[0])
    per_bin = np.zeros(r.shape[1])
    frame_w = np.maximum(w.sum(axis=1), 1.0)
    bin_w = np.maximum(w.sum(axis=0), 1.0)
    for _ in range(_RESPONSE_ITERATIONS):
        per_frame = ((diff - per_bin) * w).sum(axis=1) / frame_w
        per_bin = ((diff - per_frame[:, None]) * w).sum(axis=0) / bin_w
    per_bin -= per_bin.max()  # the overall level cancels in the shares; keep exp() in range
    after = mean * np.exp(per_bin)
    return float((after[low].sum() / after.sum()) / (mean[low].sum() / mean.sum()))


def _masking_check(solo_spec: dict[str, Spectrum]) -> list[Check]:
    if "bass" not in solo_spec or "drums" not in solo_spec:
        return []
    drums, bass = solo_spec["drums"], solo_spec["bass"]
    sel = drums.between(*MASKING_RANGE_HZ)
    d, b = drums.power[:, sel], bass.power[:, sel]
    weaker = min(float(d.sum()), float(b.sum()))
    total = float(d.sum() + b.sum())
    if total <= 0 or weaker < 1e-3 * total:
        return []  # one of them has no low end: nothing to fight over
    overlap = float(np.minimum(d, b).sum()) / weaker
    lo, hi = MASKING_RANGE_HZ
    return [
        _make(
            "kick_bass_masking",
            overlap <= MASKING_MAX,
            overlap,
            MASKING_MAX,
            overlap - MASKING_MAX,
            stem="bass",
            band=f"{lo:.0f}-{hi:.0f} Hz",
            message=(
                f"drums and bass fight in {lo:.0f}-{hi:.0f} Hz: {overlap:.0%} of the quieter "
                f"one's low end sits under the other at the same time (at most "
                f"{MASKING_MAX:.0%}); duck the bass under the kick or give each its own low band"
            ),
        )
    ]


def _reverb_checks(
    raw_spec: dict[str, Spectrum], solo_spec: dict[str, Spectrum], chains: dict[str, list]
) -> list[Check]:
    checks = []
    for role in ("bass", "drums"):
        if role not in solo_spec:
            continue
        send = _low_end_send(role, chains.get(role, []))
        tail = _tail_db(raw_spec.get(role), solo_spec[role])
        measured_bad = tail is not None and tail > TAIL_MAX_DB
        if send is None and not measured_bad:
            if tail is not None or role in chains:
                checks.append(
                    _make("low_end_reverb", True, tail, TAIL_MAX_DB, stem=role, message="")
                )
            continue
        parts = []
        if send is not None:
            parts.append(send)
        if tail is not None:
            parts.append(
                f"its low end rings on {-tail:.0f} dB under the notes where the stem rests "
                f"(at most {TAIL_MAX_DB:.0f} dB)"
            )
        excess = max(tail - TAIL_MAX_DB, 0.0) if tail is not None else 0.0
        if send is not None:
            excess = max(excess, _SCALE["low_end_reverb"])  # a send alone is one unit out
        checks.append(
            _make(
                "low_end_reverb",
                False,
                tail,
                TAIL_MAX_DB,
                excess,
                stem=role,
                band=f"below {MONO_BELOW_HZ:.0f} Hz",
                message=f"{role}: " + "; ".join(parts) + ": the low end smears",
            )
        )
    return checks


def _tail_db(raw: Spectrum | None, solo: Spectrum) -> float | None:
    """How loud the solo's low band (< 150 Hz) rings on where the raw stem's low band rests.

    dB of the solo's mean low-band power over the frames where the raw stem's is
    TAIL_SILENT_DB under its loudest frame (rests), against its mean over the frames within
    20 dB of it (notes). A dry chain follows the raw stem into its rests (-40 dB and under,
    measured with filters and heavy compression); a reverb or echo send keeps the low end
    sounding (-25 dB at a 0.05 send, -10 dB at 0.2). None when the stem never rests.
    """
    if raw is None:
        return None
    sel = solo.between(20.0, MONO_BELOW_HZ)
    r = raw.power[:, sel].sum(axis=1)
    s = solo.power[:, sel].sum(axis=1)
    if r.max() <= 0 or s.sum() <= 0:
        return None
    rests = r < r.max() * 10 ** (-TAIL_SILENT_DB / 10)
    notes = r >= r.max() * 10 ** (-_NOTE_DB / 10)
    if rests.mean() < TAIL_MIN_GAP_SHARE or not notes.any():
        return None  # the stem never rests: a tail cannot be told from the notes
    return db(float(s[rests].mean()) / float(s[notes].mean()))


def _tonal(
    master: Spectrum,
    solo_spec: dict[str, Spectrum],
    targets: MixTargets,
    label: str,
    sample_rate: int,
) -> tuple[dict[str, dict[str, float | None]], list[Check]]:
    nyquist = sample_rate / 2.0
    present = [(n, lo, min(hi, nyquist)) for n, lo, hi in BANDS if lo < nyquist]
    energy = {n: float(master.mean[master.between(lo, hi)].sum()) for n, lo, hi in present}
    total = sum(energy.values())
    if total <= 0:
        return {}, [_make("tonal_balance", False, None, None, 1.0, message="master is silent")]
    target = targets.tonal_target_db()
    share = {n: db(e / total) if e > 0 else -120.0 for n, e in energy.items()}
    median = float(np.median([share[n] - target[n] for n in share]))
    deviation = {n: share[n] - target[n] - median for n in share}
    tol = targets.tonal_tolerance_db
    bands: dict[str, dict[str, float | None]] = {}
    checks = []
    for name, lo, hi in present:
        bands[name] = {
            "low_hz": lo,
            "high_hz": hi,
            "share_db": share[name],
            "target_db": target[name],
            "deviation_db": deviation[name],
            "side_share": side_share(master, lo, hi),
            "correlation": correlation(master, lo, hi),
        }
        dev = deviation[name]
        side = "above" if dev > 0 else "below"
        source = _main_source(solo_spec, lo, hi) if dev > 0 else ""
        checks.append(
            _make(
                "tonal_balance",
                abs(dev) <= tol,
                dev,
                (-tol, tol),
                abs(dev) - tol,
                band=name,
                stem=source or None,
                message=(
                    f"master: {_BAND_LABEL[name]} {abs(dev):.1f} dB {side} {label} "
                    f"(±{tol:g} dB)" + (f", mostly from {source}" if source else "")
                ),
            )
        )
    for name, (lo, hi), limit, what in (
        ("harshness", HARSH_RANGE_HZ, HARSH_DB, "harsh"),
        ("mud", MUD_RANGE_HZ, MUD_DB, "muddy"),
    ):
        if lo >= nyquist:
            continue
        measured = db(float(master.mean[master.between(lo, hi)].sum()) / total)
        expected = range_share_db(lo, hi, targets.style, targets.tonal_offset_db)
        dev = measured - expected - median
        source = _main_source(solo_spec, lo, hi)
        share_txt = ""
        if source:
            share_txt = f", mostly from {source} ({_source_share(solo_spec, source, lo, hi):.0%})"
        checks.append(
            _make(
                name,
                dev <= limit,
                dev,
                limit,
                dev - limit,
                band=f"{lo:.0f}-{hi:.0f} Hz",
                stem=source or None,
                message=(
                    f"{what}: {_hz(lo)}-{_hz(hi)} sits {dev:+.1f} dB against {label} "
                    f"(at most {limit:+.0f} dB){share_txt}"
                ),
            )
        )
    return bands, checks


def _presence_check(raw_spec: dict[str, Spectrum], solo_spec: dict[str, Spectrum]) -> list[Check]:
    """`presence_boost`: the 2-5 kHz energy of the solos over what the raw stems would give at
    each solo's broadband gain, summed over the stems (a stem's own level change cancels)."""
    lo, hi = HARSH_RANGE_HZ
    lifted, kept, added = 0.0, 0.0, {}
    for role, solo in solo_spec.items():
        raw = raw_spec.get(role)
        if raw is None or lo >= solo.freqs[-1]:
            continue
        raw_total = float(raw.mean.sum())
        if raw_total <= 0:
            continue
        gain = float(solo.mean.sum()) / raw_total
        out = float(solo.mean[solo.between(lo, hi)].sum())
        went_in = gain * float(raw.mean[raw.between(lo, hi)].sum())
        lifted += out
        kept += went_in
        added[role] = out - went_in
    if kept <= 0 or lifted <= 0:
        return []
    value = db(lifted / kept)
    stem = max(added, key=added.get) if added and max(added.values()) > 0 else None
    by = f", mostly on {stem}" if stem else ""
    return [
        _make(
            "presence_boost",
            value <= PRESENCE_BOOST_DB,
            value,
            PRESENCE_BOOST_DB,
            value - PRESENCE_BOOST_DB,
            band=f"{lo:.0f}-{hi:.0f} Hz",
            stem=stem,
            message=(
                f"harsh boost: the chains lift {_hz(lo)}-{_hz(hi)} {value:+.1f} dB over the stems"
                f"{by} (at most {PRESENCE_BOOST_DB:+.0f} dB)"
            ),
        )
    ]


def _stereo_checks(
    master: Spectrum, solo_spec: dict[str, Spectrum], targets: MixTargets
) -> list[Check]:
    checks = []
    corr = correlation(master, 20.0, MONO_BELOW_HZ)
    limit = targets.low_end_min_correlation
    if corr is not None:
        widest = ""
        if corr < limit:
            # The stem that puts the most side (L-R) energy into the low end.
            side = {r: side_power(s, 20.0, MONO_BELOW_HZ) for r, s in solo_spec.items()}
            if side and max(side.values()) > 0:
                role = max(side, key=side.get)
                share = side_share(solo_spec[role], 20.0, MONO_BELOW_HZ) or 0.0
                widest = f"; widest: {role} (side share {share:.2f}); centre the kick and bass"
        checks.append(
            _make(
                "low_end_mono",
                corr >= limit,
                corr,
                limit,
                limit - corr,
                band=f"below {MONO_BELOW_HZ:.0f} Hz",
                message=(
                    f"low end is wide: L/R correlation {corr:.2f} below {MONO_BELOW_HZ:.0f} Hz "
                    f"(at least {limit:.2f}){widest}"
                ),
            )
        )
    side = side_share(master, WIDTH_FROM_HZ, 20000.0)
    if side is not None:
        lo, hi = targets.width
        which = "narrow" if side < lo else "wide"
        checks.append(
            _make(
                "width",
                lo <= side <= hi,
                side,
                (lo, hi),
                lo - side if side < lo else side - hi,
                band=f"above {WIDTH_FROM_HZ:.0f} Hz",
                message=(
                    f"master is too {which} above {WIDTH_FROM_HZ:.0f} Hz: side share {side:.2f} "
                    f"(range {lo:.2f}-{hi:.2f})"
                ),
            )
        )
    return checks


def _asked_checks(
    targets: MixTargets,
    balance: dict[str, float],
    bands: dict[str, dict[str, float | None]],
    side: float | None,
) -> list[Check]:
    """One `asked_for` check per thing the prompt's words asked for (`targets.asked`): the mix
    must have gone at least ASKED_SHARE of the way, i.e. sit no further than that share of the
    asked move short of the moved target (towards the side the words asked). The targets' own
    ranges are wide (a band ±4.5 dB, a balance range 6-10 LU), wider than a word's 2-3 dB move,
    so without this a mix that ignores "bright" passes as well as one that heeds it."""
    checks = []
    for key, amount in targets.asked.items():
        kind, _, what = key.partition(":")
        sign = 1.0 if amount > 0 else -1.0
        need = -ASKED_SHARE * abs(amount)  # the signed distance past the target's centre
        if kind == "band":
            dev = (bands.get(what) or {}).get("deviation_db")
            value = None if dev is None else sign * dev
            unit, label, stem, band = "dB", f"the {_BAND_LABEL.get(what, what)} band", None, what
        elif kind == "balance":
            lo, hi = targets.balance_lu.get(what, (math.nan, math.nan))
            bal = balance.get(what, -math.inf)
            ok = math.isfinite(bal) and math.isfinite(lo)
            value = sign * (bal - (lo + hi) / 2.0) if ok else None
            unit, label, stem, band = "LU", what, what, None
        elif kind == "width":
            if side is None:
                continue
            lo, hi = targets.width
            aim = (side_level_db(lo) + side_level_db(hi)) / 2.0
            value = sign * (side_level_db(max(side, 1e-6)) - aim)
            unit, label, stem = "dB", "the width (side level)", None
            band = f"above {WIDTH_FROM_HZ:.0f} Hz"
        else:
            continue
        if value is None:
            continue
        way = "up" if amount > 0 else "down"
        checks.append(
            _make(
                "asked_for",
                value >= need,
                value,
                need,
                need - value,
                stem=stem,
                band=band,
                message=(
                    f"the prompt asked for {label} {way} {abs(amount):g} {unit}: it sits "
                    f"{-value:.1f} {unit} short of that target (at most {-need:g})"
                ),
                asked=amount,
            )
        )
    return checks


def _level_checks(
    out: np.ndarray, plr: float | None, solo: dict[str, np.ndarray], targets: MixTargets
) -> list[Check]:
    checks = []
    if plr is not None:
        lo, hi = targets.plr_db
        why = "over-limited, the transients are gone" if plr < lo else "peaks far above the body"
        checks.append(
            _make(
                "plr",
                lo <= plr <= hi,
                plr,
                (lo, hi),
                lo - plr if plr < lo else plr - hi,
                message=f"master peak-to-loudness ratio {plr:.1f} dB (range {lo:g}-{hi:g}): {why}",
            )
        )
    dc = float(np.abs(out.mean(axis=1, dtype=np.float64)).max())
    source = ""
    if dc > DC_MAX and solo:
        means = {r: float(np.abs(a.mean(axis=1, dtype=np.float64)).max()) for r, a in solo.items()}
        source = max(means, key=means.get)
    checks.append(
        _make(
            "dc_offset",
            dc <= DC_MAX,
            dc,
            DC_MAX,
            dc - DC_MAX,
            stem=source or None,
            message=f"DC offset {dc:.3f} on the master (at most {DC_MAX:.3f})"
            + (f", from {source}: high-pass it" if source else ""),
        )
    )
    return checks


# --- helpers ----------------------------------------------------------------------------------


def _fit(x: np.ndarray, length: int) -> np.ndarray:
    if x.shape[1] == length:
        return x
    if x.shape[1] > length:
        return x[:, :length]
    return np.pad(x, ((0, 0), (0, length - x.shape[1])))


def _hz(f: float) -> str:
    return f"{f / 1000:g} kHz" if f >= 1000 else f"{f:g} Hz"


def _main_source(solo_spec: dict[str, Spectrum], lo: float, hi: float) -> str:
    energy = {r: float(s.mean[s.between(lo, hi)].sum()) for r, s in solo_spec.items()}
    if not energy or max(energy.values()) <= 0:
        return ""
    return max(energy, key=energy.get)


def _source_share(solo_spec: dict[str, Spectrum], role: str, lo: float, hi: float) -> float:
    energy = {r: float(s.mean[s.between(lo, hi)].sum()) for r, s in solo_spec.items()}
    total = sum(energy.values())
    return energy[role] / total if total > 0 else 0.0


def _chains(script: str | None) -> dict[str, list]:
    """role → its chain's allowlisted calls in signal order (empty when no script is given).

    The script is parsed, not regex-matched, so any formatting reads the same.
    """
    if not script:
        return {}
    from producer.faust.ast import Call, walk
    from producer.faust.parser import parse

    parsed = parse(script)
    return {
        d.role: [node for node in walk(d.expr) if isinstance(node, Call)]
        for d in parsed.definitions
        if d.role != "master"
    }


def _low_cut_cause(calls: list) -> str:
    """What in a chain cuts the low end, in words ("its high-pass at 400 Hz")."""
    for call in calls:
        if call.name == "fi.highpass" and call.args[1] > 60:
            return f"its high-pass at {call.args[1]:g} Hz"
    for call in calls:
        if call.name == "fi.low_shelf" and call.args[0] < 0:
            return f"its low shelf ({call.args[0]:g} dB under {call.args[1]:g} Hz)"
    for call in calls:
        if call.name in ("fi.peak_eq", "fi.peak_eq_cq") and call.args[0] < 0 and call.args[1] < 150:
            return f"its {call.args[0]:g} dB cut at {call.args[1]:g} Hz"
    return "its chain"


def _low_end_send(role: str, calls: list) -> str | None:
    """A sentence when the chain sends its low end into a reverb or echo, else None.

    The bass's low end is the 808: any reverb or echo on it smears it. Drums may have a send
    after a high-pass (the send then carries no kick fundamental).
    """
    highpassed = False
    for call in calls:
        if call.name == "fi.highpass":
            highpassed = True
        if call.name in _SEND_CALLS:
            if role == "bass":
                return f"{call.name} on the bass chain puts the 808 in the reverb"
            if not highpassed:
                return f"{call.name} on the drums chain with no high-pass before it"
    return None
