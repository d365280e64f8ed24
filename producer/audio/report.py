"""The quality report of a master, as it goes into `result.json`, HTTP and the CLI (pydantic).

`audio.quality.assess` makes it; `producer.schemas` re-exports it with the other edge models.
Numbers that can be minus infinity inside the library (the level of digital silence) are
floored here, so every report is valid strict JSON: see each field's description.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["BandEnergy", "QualityReport"]


# ----------------------------------------------------------------------------- quality


class BandEnergy(BaseModel):
    """Energy of one frequency band, compared with the hip-hop reference balance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Band name: sub, bass, low_mid, mid, high_mid or high.")
    low_hz: float = Field(description="Lower band edge in Hz.")
    high_hz: float = Field(
        description="Upper band edge in Hz (clipped to the Nyquist frequency of the audio)."
    )
    energy_db: float = Field(
        description="Band energy in dB relative to the total energy of all bands "
        "(0 dB = all of it; floored at -120 dB for an empty band)."
    )
    reference_db: float = Field(
        description="The reference balance's energy for this band, in dB relative to its total."
    )
    deviation_db: float = Field(
        description="How far the band sits above (+) or below (-) the reference, in dB, after "
        "removing the median offset over all bands, so one dominant band does not make every "
        "other band read as quiet."
    )


class QualityReport(BaseModel):
    """Objective measurements of a mix or master, and the plain findings drawn from them."""

    model_config = ConfigDict(extra="forbid")

    duration_s: float = Field(description="Length of the audio in seconds.")
    sample_rate: int = Field(description="Sample rate of the measured audio in Hz.")
    integrated_lufs: float = Field(
        description="Integrated loudness, ITU-R BS.1770-4, in LUFS (floored at -70 LUFS, the "
        "absolute gate: silence reads -70)."
    )
    loudness_range_lu: float = Field(
        description="Loudness range, EBU Tech 3342, in LU (0 for silence)."
    )
    true_peak_dbtp: float = Field(
        description="True peak (4x oversampled) in dBTP (floored at -120 dBTP)."
    )
    sample_peak_dbfs: float = Field(
        description="Largest absolute sample value in dBFS (floored at -120 dBFS)."
    )
    crest_factor_db: float = Field(
        description="Sample peak over RMS level, in dB, both channels together (0 for silence). "
        "Low values mean heavy compression or limiting."
    )
    clipped_samples: int = Field(
        description="Samples at or above 0.999 full scale that sit in runs of two or more "
        "consecutive such samples on the same channel (flat-topped, i.e. clipped, waveforms)."
    )
    dc_offset: float = Field(
        description="Largest absolute mean sample value over the channels (linear, 1 = full scale)."
    )
    stereo_correlation: float = Field(
        description="Correlation of left and right over the whole file, -1..1: 1 is mono, "
        "around 0 is wide or decorrelated, negative means anti-phase content."
    )
    stereo_width: float = Field(
        description="Share of the side signal in the total, S²/(M²+S²) with M=(L+R)/2 and "
        "S=(L-R)/2, 0..1: 0 is mono, 0.5 is two uncorrelated channels of equal level, 1 is "
        "left = -right."
    )
    bands: list[BandEnergy] = Field(
        description="Energy per frequency band against the hip-hop reference balance; bands "
        "that start above the Nyquist frequency are left out."
    )
    findings: list[str] = Field(
        description="Plain-language problems found, one short line each (empty when none).",
        default_factory=list,
    )
    score: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="The unified model's learned quality score, 0 (poor) to 1 (release-ready); "
        "null when only the meters ran.",
    )
