"""Shared fixtures of the model tests: the mix-language tokenizer and a tiny Mistral over it."""

from __future__ import annotations

import pytest

from producer.models.faust_tokenizer import build_faust_tokenizer
from tests.tiny_models import tiny_mistral


@pytest.fixture(scope="module")
def tok():
    return build_faust_tokenizer()


@pytest.fixture(scope="module")
def model(tok):
    """A tiny random Mistral sized to the tokenizer (test_unified.py overrides `model`)."""
    return tiny_mistral(tok)
