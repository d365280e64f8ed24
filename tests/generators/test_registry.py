"""The generator registry: one explicit name → factory(settings) table, no import side effects."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from producer.errors import ModelNotFoundError, ProducerError
from producer.generators import (
    GENERATORS,
    Generator,
    GeneratorSettings,
    UnknownGeneratorError,
    generate_stem,
    generate_stems,
    generator_names,
    get_generator,
    make_generator,
)
from producer.generators.musicgen import MusicGenConfig, MusicGenGenerator
from producer.plan import ProductionPlan, StemSpec

BUILTINS = ["808", "bass", "chords", "drums", "melody"]
ENV = {
    "PRODUCER_MUSICGEN_MODEL": "/env/model/that/is/not/there",
    "PRODUCER_MUSICGEN_DEVICE": "cuda:3",
    "PRODUCER_MUSICGEN_DTYPE": "bfloat16",
}


@pytest.fixture
def musicgen_env(monkeypatch):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def no_musicgen_env(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def _plan(**kw) -> ProductionPlan:
    base = dict(style="trap", bpm=140.0, key="F", mode="minor", duration=1.0)
    return ProductionPlan(**{**base, **kw})


def test_the_table_names_every_generator_and_each_builds_under_its_name():
    assert generator_names() == sorted([*BUILTINS, "musicgen"])
    settings = GeneratorSettings()
    for name in generator_names():
        gen = make_generator(name, settings)
        assert isinstance(gen, Generator) and gen.name == name


def test_the_table_is_read_only():
    with pytest.raises(TypeError):
        GENERATORS["mine"] = lambda settings: None  # type: ignore[index]


def test_unknown_name_is_one_line_listing_the_known_names():
    with pytest.raises(UnknownGeneratorError) as err:
        get_generator("tuba")
    msg = str(err.value)
    assert isinstance(err.value, ProducerError) and "\n" not in msg
    assert msg == f"unknown generator 'tuba' (known: {', '.join(generator_names())})"


def test_the_factory_receives_the_settings():
    seen = []

    def factory(settings):
        seen.append(settings)
        return make_generator("drums", settings)

    settings = GeneratorSettings(musicgen=MusicGenConfig(model="/somewhere"))
    gen = make_generator("mine", settings, {"mine": factory})
    assert seen == [settings] and seen[0] is settings and gen.name == "drums"
    with pytest.raises(UnknownGeneratorError, match=r"known: mine\)"):
        make_generator("drums", settings, {"mine": factory})


def test_instances_are_cached_per_name_and_settings():
    a = GeneratorSettings(musicgen=MusicGenConfig(model="/a"))
    same = GeneratorSettings(musicgen=MusicGenConfig(model="/a"))
    other = GeneratorSettings(musicgen=MusicGenConfig(model="/b"))
    assert get_generator("musicgen", a) is get_generator("musicgen", same)
    assert get_generator("musicgen", a) is not get_generator("musicgen", other)
    assert get_generator("808", a) is get_generator("808", same)


def test_musicgen_takes_its_settings_from_the_object_not_the_environment(musicgen_env):
    config = MusicGenConfig(model="/object/model", device="cpu", dtype="float32")
    gen = get_generator("musicgen", GeneratorSettings(musicgen=config))
    assert isinstance(gen, MusicGenGenerator) and gen.config == config
    # The generator itself never reads the environment: no config means plain defaults.
    assert MusicGenGenerator().config == MusicGenConfig()


def test_no_settings_falls_back_to_the_environment(musicgen_env):
    expected = MusicGenConfig(
        model=ENV["PRODUCER_MUSICGEN_MODEL"], device="cuda:3", dtype="bfloat16"
    )
    assert GeneratorSettings.from_env() == GeneratorSettings(musicgen=expected)
    assert get_generator("musicgen").config == expected


def test_no_environment_gives_todays_defaults(no_musicgen_env):
    config = get_generator("musicgen").config
    assert (config.model, config.device, config.dtype) == (
        "facebook/musicgen-small",
        "cpu",
        "float32",
    )
    assert GeneratorSettings.from_env() == GeneratorSettings()


def test_generate_stem_and_stems_thread_the_settings_to_musicgen(musicgen_env, tmp_path):
    # A missing local path fails before torch is touched; the message names the model the
    # settings gave, not the one in the environment.
    missing = str(tmp_path / "from_settings")
    settings = GeneratorSettings(musicgen=MusicGenConfig(model=missing))
    plan = _plan(stems=[{"role": "bass", "generator": "musicgen"}])
    with pytest.raises(ModelNotFoundError, match="from_settings") as err:
        generate_stem(plan.stems[0], plan, 1.0, seed=0, settings=settings)
    assert "/env/model" not in str(err.value)
    with pytest.raises(ModelNotFoundError, match="from_settings"):
        generate_stems(plan, settings=settings)
    with pytest.raises(ModelNotFoundError, match="/env/model/that/is/not/there"):
        generate_stem(StemSpec(role="bass", generator="musicgen"), plan, 1.0, seed=0)


def test_settings_do_not_change_the_pattern_generators():
    plan = _plan(stems=[{"role": "drums"}, {"role": "bass"}])
    plain = generate_stems(plan, seed=3, sample_rate=44100)
    other = GeneratorSettings(musicgen=MusicGenConfig(model="/x", device="cuda"))
    again = generate_stems(plan, seed=3, sample_rate=44100, settings=other)
    assert plain.keys() == again.keys() == {"drums", "bass"}
    for role in plain:
        np.testing.assert_array_equal(plain[role].audio, again[role].audio)


def test_the_registry_works_in_a_fresh_process_with_no_other_import():
    code = (
        "import sys\n"
        "from producer.generators.registry import get_generator\n"
        "gen = get_generator('808')\n"
        "assert gen.name == '808', gen\n"
        "heavy = [n for n in ('torch', 'transformers') if n in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
