"""Shared fixtures: small corpora made on the fly (tests never read ../shared/data)."""

import pytest

from fastw2v.text import synthetic


@pytest.fixture(scope="session")
def synthetic_corpus(tmp_path_factory):
    """A planted-structure corpus (about 300,000 tokens) and what was planted in it."""
    path = tmp_path_factory.mktemp("corpus") / "synthetic.txt"
    planted = synthetic.write_corpus(str(path), n_sentences=20_000, seed=0)
    return str(path), planted


@pytest.fixture
def small_corpus(tmp_path):
    """A tiny corpus whose every word passes --min-count 1, for CLI plumbing tests."""
    path = tmp_path / "small.txt"
    path.write_text(("the cat sat on the mat\nthe dog sat on the log\n") * 50, encoding="utf-8")
    return str(path)
