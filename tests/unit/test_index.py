"""The approximate-neighbour index (fastw2v/queries/index.py): its recall against brute
force, that its answers are scored and filtered as brute force's are, and that it is
refused whenever it was not built from the model as it is now."""

import hashlib
import os
import struct

import numpy as np
import pytest

import fastw2v
from fastw2v.errors import OutputError
from fastw2v.queries import index as index_module
from fastw2v.queries.index import (
    AnnIndex,
    HnswSettings,
    IndexFileError,
    IndexMismatchError,
    index_path_for,
)
from fastw2v.queries.vectors import save_vectors

N_WORDS, DIM = 5000, 32
# Smaller than the defaults (which are sized for a million words of dim 300), so that
# the build takes about a second; efSearch stays at its default.
FAST = HnswSettings(m=16, ef_construction=100)


def clustered_vectors(n, dim, seed, n_clusters=100):
    """Rows around random centres, as trained vectors group by topic, with enough noise
    that the neighbours within a cluster are not obvious."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_clusters, dim))
    rows = centres[rng.integers(0, n_clusters, n)] + 0.8 * rng.standard_normal((n, dim))
    return rows.astype(np.float32)


def write_model(path, n=N_WORDS, dim=DIM, seed=0):
    words = [f"w{i}" for i in range(n)]
    save_vectors(str(path), words, clustered_vectors(n, dim, seed))
    return str(path)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A 5,000 x 32 model on disk, its vectors and its saved index."""
    folder = tmp_path_factory.mktemp("index")
    model = write_model(folder / "model.fw2v")
    vectors = fastw2v.load(model)
    index = AnnIndex.build(vectors, FAST)
    index.save()
    return model, vectors, index


def test_recall_at_10_against_brute_force(built):
    _, vectors, index = built
    queries = vectors.words[::25]  # 200 words
    found = 0
    for word in queries:
        exact = {w for w, _ in vectors.most_similar(word, n=10)}
        found += len(exact & {w for w, _ in index.most_similar(word, n=10)})
    recall = found / (10 * len(queries))
    assert recall >= 0.95, recall


def test_answers_are_scored_and_filtered_as_brute_force_does(built):
    _, vectors, index = built
    query = (["w3", "w10"], ["w7"])
    exact = dict(vectors.most_similar(*query, n=200))
    approximate = index.most_similar(*query, n=10)
    assert len(approximate) == 10
    assert not {"w3", "w10", "w7"} & {w for w, _ in approximate}
    for word, cosine in approximate:  # the cosine brute force gives the same word
        assert cosine == exact[word]
    cosines = [c for _, c in approximate]
    assert cosines == sorted(cosines, reverse=True)


def test_batch_and_analogy_agree_with_single_queries(built):
    _, vectors, index = built
    queries = [["w1"], ["w2", "w3"], ["w40"]]
    assert index.most_similar_batch(queries, n=5) == [index.most_similar(q, n=5)
                                                      for q in queries]
    assert index.analogy("w1", "w2", "w3", n=5) == index.most_similar(["w2", "w3"], ["w1"],
                                                                      n=5)


def test_a_query_left_short_asks_again_for_more(built):
    """If the query's own words take places in the graph's answer (here: a graph that
    finds only k - n words the first time), the search is repeated with twice k."""
    _, vectors, index = built

    class ShortFirstAnswer:
        def __init__(self, graph):
            self.graph, self.asked = graph, []

        def search(self, queries, k):
            scores, rows = self.graph.search(queries, k)
            if not self.asked:
                rows[:, len(rows[0]) // 2:] = -1  # faiss's "nothing found"
            self.asked.append(k)
            return scores, rows

    stub = ShortFirstAnswer(index._graph)
    short = AnnIndex(stub, vectors, index.settings, index.metadata)
    answer = short.most_similar(["w5", "w6", "w7", "w8"], n=10)
    assert stub.asked == [14, 28]
    assert len(answer) == 10
    assert answer == index.most_similar(["w5", "w6", "w7", "w8"], n=10)


def test_a_tiny_model_returns_every_other_word(tmp_path):
    model = write_model(tmp_path / "tiny.fw2v", n=12, dim=8)
    vectors = fastw2v.load(model)
    index = AnnIndex.build(vectors, FAST)
    answer = index.most_similar(["w0", "w1", "w2"], n=20)
    assert answer == vectors.most_similar(["w0", "w1", "w2"], n=20)  # all 9 others


def test_saved_index_loads_and_answers_the_same(built):
    model, vectors, index = built
    loaded = AnnIndex.load(index_path_for(model), vectors)
    assert loaded.settings == FAST
    assert loaded.metadata["model"]["words"] == N_WORDS
    assert loaded.metadata["library"] == "faiss-cpu"
    assert loaded.most_similar("w9", n=10) == index.most_similar("w9", n=10)
    loaded.ef_search = 400
    assert loaded.ef_search == 400


def copy_index(built, folder):
    """A model and its index copied into `folder` (the index unchanged), to modify."""
    model, _, _ = built
    copy = folder / "model.fw2v"
    copy.write_bytes(open(model, "rb").read())
    stat = os.stat(model)
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as cp -p copies
    index_copy = folder / "model.fw2v.hnsw"
    index_copy.write_bytes(open(index_path_for(model), "rb").read())
    return str(copy), str(index_copy)


def test_a_copy_with_the_modification_time_kept_is_accepted(built, tmp_path):
    model, index_file = copy_index(built, tmp_path)
    AnnIndex.load(index_file, fastw2v.load(model))


def test_a_copy_with_a_new_modification_time_is_accepted_by_its_hash(built, tmp_path):
    model, index_file = copy_index(built, tmp_path)
    os.utime(model, ns=(1, 1))
    AnnIndex.load(index_file, fastw2v.load(model))


def test_a_model_rewritten_after_the_index_is_refused(built, tmp_path):
    model, index_file = copy_index(built, tmp_path)
    write_model(model, seed=1)  # the same words and size, other vectors
    with pytest.raises(IndexMismatchError, match="rebuild it with 'fastw2v index -m") as exc:
        AnnIndex.load(index_file, fastw2v.load(model))
    assert "--exact" in str(exc.value)


def test_a_rewrite_that_keeps_size_and_modification_time_is_refused(built, tmp_path):
    """A byte changed and the old modification time put back (as a tool copying
    times would): size and time agree, the fingerprint does not."""
    model, index_file = copy_index(built, tmp_path)
    stat = os.stat(model)
    data = bytearray(open(model, "rb").read())
    data[-100] ^= 0xFF  # the norms at the end of the file: inside the sampled last MiB
    open(model, "wb").write(bytes(data))
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with pytest.raises(IndexMismatchError, match="contents differ"):
        AnnIndex.load(index_file, fastw2v.load(model))


def test_the_fingerprint_samples_a_large_file(tmp_path, monkeypatch):
    """On a file larger than its samples, the fingerprint reads the first and last
    block and evenly spread ones: a change inside them is seen, one between them is
    not (for that case, the whole file's hash is compared when the time differs)."""
    monkeypatch.setattr(index_module, "_EDGE_BYTES", 1024)
    monkeypatch.setattr(index_module, "_SAMPLE_BYTES", 64)
    monkeypatch.setattr(index_module, "_SAMPLES", 4)
    path = tmp_path / "large"
    data = bytearray(np.random.default_rng(0).integers(0, 256, 100_000, dtype=np.uint8))
    path.write_bytes(bytes(data))
    original = index_module.sampled_fingerprint(str(path))
    for place, seen in ((10, True), (100_000 - 10, True), (1024 + 5, True), (30_000, False)):
        changed = bytearray(data)
        changed[place] ^= 1
        path.write_bytes(bytes(changed))
        assert (index_module.sampled_fingerprint(str(path)) != original) == seen, place
        assert index_module.full_hash(str(path)) != hashlib.sha256(bytes(data)).hexdigest()


def test_a_change_between_the_samples_is_found_by_the_whole_hash(tmp_path, monkeypatch):
    """A model larger than the fingerprint's samples, one bit of a vector between them
    changed, and a new modification time: the whole file's hash refuses the index."""
    monkeypatch.setattr(index_module, "_EDGE_BYTES", 1024)
    monkeypatch.setattr(index_module, "_SAMPLE_BYTES", 64)
    monkeypatch.setattr(index_module, "_SAMPLES", 4)
    model = write_model(tmp_path / "model.fw2v", n=1000)
    AnnIndex.build(fastw2v.load(model), FAST).save()
    data = bytearray(open(model, "rb").read())
    data[30_000] ^= 0x01  # inside the matrix (1,000 x 32 x 4 bytes), between samples
    open(model, "wb").write(bytes(data))
    os.utime(model, ns=(1, 1))
    with pytest.raises(IndexMismatchError, match="modified after the index was built"):
        AnnIndex.load(index_path_for(model), fastw2v.load(model))


def test_an_index_of_another_model_is_refused(built, tmp_path):
    _, _, index = built
    other = write_model(tmp_path / "other.fw2v", n=N_WORDS + 1)
    with pytest.raises(IndexMismatchError, match="built from another model"):
        AnnIndex.load(index.path, fastw2v.load(other))
    same_shape = write_model(tmp_path / "same-shape.fw2v", seed=2)
    with pytest.raises(IndexMismatchError, match=r"does not match .*same-shape\.fw2v"):
        AnnIndex.load(index.path, fastw2v.load(same_shape))


def trailer(graph_size, meta_size, version=1):
    return struct.pack("<QQII8s", graph_size, meta_size, version, 0, b"FW2VHNSW")


@pytest.mark.parametrize("content", [
    b"", b"FW2VHNSW", b"not an index at all, not an index at all, no",
    b"{}" + trailer(0, 2, version=2),  # a later format
    b"{}" + trailer(1, 2),  # the sizes do not add up
    b"[]" + trailer(0, 2),  # metadata that is no JSON object
    b"\xff\xfe" + trailer(0, 2)])
def test_a_file_that_is_no_index_is_refused(built, tmp_path, content):
    model, vectors, _ = built
    path = tmp_path / "bad.hnsw"
    path.write_bytes(content)
    with pytest.raises(IndexFileError, match="bad.hnsw"):
        AnnIndex.load(str(path), vectors, model)


def test_a_truncated_index_is_refused(built, tmp_path):
    _, vectors, index = built
    data = open(index.path, "rb").read()
    path = tmp_path / "cut.hnsw"
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(IndexFileError, match=r"cut.hnsw: not an index .*\(or a truncated one\)"):
        AnnIndex.load(str(path), vectors, index.metadata["model"]["path"])


def test_a_damaged_graph_is_refused(built, tmp_path):
    """faiss's part cut short, the metadata and trailer kept and made to add up: faiss
    itself finds the graph incomplete."""
    _, vectors, index = built
    data = open(index.path, "rb").read()
    graph_size, meta_size, *_ = struct.unpack("<QQII8s", data[-32:])
    meta = data[graph_size:graph_size + meta_size]
    path = tmp_path / "damaged.hnsw"
    path.write_bytes(data[:1000] + meta + trailer(1000, meta_size))
    with pytest.raises(IndexFileError, match="damaged.hnsw: damaged index"):
        AnnIndex.load(str(path), vectors, index.metadata["model"]["path"])


def test_a_failed_write_leaves_nothing_at_the_destination(built, tmp_path, monkeypatch):
    _, _, index = built
    faiss = index_module.require_faiss()

    real_writer = faiss.PyCallbackIOWriter

    def disk_full_after_1000_bytes(write):
        written = []

        def write_some(data):
            if sum(written) > 1000:
                raise OSError(28, "No space left on device")
            written.append(len(data))
            return write(data)

        return real_writer(write_some)

    monkeypatch.setattr(faiss, "PyCallbackIOWriter", disk_full_after_1000_bytes)
    destination = tmp_path / "model.fw2v.hnsw"
    with pytest.raises(OutputError, match="write failed"):
        index.save(str(destination))
    assert os.listdir(tmp_path) == []
    destination.write_bytes(b"the previous index")
    with pytest.raises(OutputError):
        index.save(str(destination))
    assert destination.read_bytes() == b"the previous index"
    assert os.listdir(tmp_path) == ["model.fw2v.hnsw"]


def test_without_faiss_the_error_says_how_to_install_it(monkeypatch):
    def no_faiss(name, *args):
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(index_module.importlib, "import_module", no_faiss)
    with pytest.raises(fastw2v.FastW2VError, match=r'pip install "fastw2v\[index\]"'):
        index_module.require_faiss()


def test_vectors_held_in_memory_only_are_not_indexed():
    vectors = fastw2v.Vectors(["a", "b"], np.eye(2, dtype=np.float32))
    with pytest.raises(fastw2v.FastW2VError, match="from a model file"):
        AnnIndex.build(vectors, FAST)


def test_a_float16_model_is_indexed_from_its_float32_values(built, tmp_path):
    model, vectors, _ = built
    half = str(tmp_path / "half.fw2v")
    vectors.save(half, dtype="float16")
    half_vectors = fastw2v.load(half)
    index = AnnIndex.build(half_vectors, FAST)
    exact = half_vectors.most_similar("w1", n=10)
    assert len({w for w, _ in exact} & {w for w, _ in index.most_similar("w1", n=10)}) >= 9
