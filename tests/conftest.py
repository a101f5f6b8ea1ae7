"""Shared fixtures: every build of the compiled kernel, and small corpora made on the fly
(tests never read ../shared/data)."""

import pytest

from fastw2v.text import synthetic
from fastw2v.training.kernel import available_builds

KERNEL_BUILDS = available_builds()


@pytest.fixture(params=list(KERNEL_BUILDS.values()), ids=list(KERNEL_BUILDS))
def kernel(request):
    """Each build of the compiled kernel this machine can run, by name ("baseline", and
    "avx2" on an x86-64 CPU with AVX2 and FMA): a test that takes it runs once per build.
    Every build is compiled from the same source with different instructions, so each can
    be wrong on its own, and training uses whichever the CPU allows. Which builds must be
    present is checked by tests/unit/kernel/test_builds.py."""
    return request.param


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
