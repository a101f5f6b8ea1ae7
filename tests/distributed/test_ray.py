"""Training on real Ray clusters (issue 12): a local one started by the run, a two-node
one on this machine (ray.cluster_utils.Cluster), and the ways a run can fail.

Each test that trains starts and stops its own cluster, so no Ray process outlives it;
they use 2 workers of 1 thread, the most CI's 2 cores host.
"""

import gzip
import logging
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner

import fastw2v
from fastw2v.cli import main
from fastw2v.errors import ClusterError, ConfigError, FastW2VWarning
from fastw2v.text import synthetic
from fastw2v.training.checkpoint import load_checkpoint

from cli_helpers import assert_one_line_error

ray = pytest.importorskip("ray")  # the test extra installs it: CI always runs these

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from test_training import plural_analogy_accuracy, topic_precision  # noqa: E402

SMALL = dict(threads=1, dim=32, epochs=3, seed=3)


@pytest.fixture(autouse=True)
def run_from_an_empty_folder(tmp_path, monkeypatch):
    """Ray puts the driver's working folder first on its workers' import path. Run from
    the repository root (as CI runs pytest), the workers would import the source tree's
    fastw2v/, which has no compiled code, instead of the installed package; a user's
    folder holds no fastw2v/, and neither does this one."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("ray") / "synthetic.txt"
    planted = synthetic.write_corpus(str(path), n_sentences=20_000, seed=0)
    return str(path), planted


def test_local_cluster_trains_the_planted_structure(corpus):
    path, planted = corpus
    model = fastw2v.train(path, ray="local", ray_workers=2, sync_every=40_000, **SMALL)
    alone = fastw2v.train(path, **SMALL)
    assert not ray.is_initialized()  # the run stopped the Ray it started
    run = model.state.provenance["distributed"]
    assert run["workers"] == 2 and run["threads_per_worker"] == 1
    # 300k words x 3 epochs / 2 workers / 40k words per round.
    assert run["rounds"] == int(np.ceil(alone.stats.n_words_trained / 2 / 40_000))
    assert 0 < run["bytes_to_driver_per_word"] and 0 < run["bytes_from_driver_per_word"]
    assert model.stats.n_words_trained == alone.stats.n_words_trained
    # The SGD alone is timed in both, for the overhead benchmark: on Ray the rounds.
    for run_stats in (model.stats, alone.stats):
        assert 0 < run_stats.seconds["sgd"] < run_stats.seconds["train"]
    assert model.loss_history[-1] < model.loss_history[0]
    # As good as one process on the planted structure.
    assert topic_precision(model, planted) >= topic_precision(alone, planted) - 0.05
    assert plural_analogy_accuracy(model) >= 0.8


def test_cbow_on_four_workers_takes_its_own_block_rate(corpus):
    """CBOW's rule: B up to 3 (its workers at the largest rate, 0.0667, x 1.33; B = 3
    split over two rounds) trains the planted structure as well as one process."""
    path, planted = corpus
    options = dict(SMALL, architecture="cbow")
    ray.init(num_cpus=4, include_dashboard=False, logging_level=logging.ERROR,
             log_to_driver=False)
    try:
        model = fastw2v.train(path, ray="auto", ray_workers=4, sync_every=20_000, **options)
    finally:
        ray.shutdown()
    alone = fastw2v.train(path, **options)
    run = model.state.provenance["distributed"]
    assert (run["worker_rate_factor"], run["block_learning_rate"]) == (1.334, 2.9985)
    assert run["max_block_rate"] == 3 and run["block_split"] == [2.4632, 0.5353]
    assert topic_precision(model, planted) >= topic_precision(alone, planted) - 0.05
    assert plural_analogy_accuracy(model) >= plural_analogy_accuracy(alone) - 0.1


def test_workers_share_the_clusters_cpus_when_no_thread_count_is_given(tmp_path):
    """Without --threads a run on this machine uses all its cores; on Ray each worker
    takes its share of the cluster's CPUs instead (all cores each would need workers x
    cores CPUs, more than the cluster has)."""
    path = str(tmp_path / "small.txt")
    synthetic.write_corpus(path, n_sentences=2_000, seed=1)
    # A cluster that declares 7 CPUs (not this machine's core count): 3 threads a worker.
    ray.init(num_cpus=7, include_dashboard=False, logging_level=logging.ERROR,
             log_to_driver=False)
    try:
        model = fastw2v.train(path, ray="auto", ray_workers=2, dim=16, epochs=1, seed=3)
    finally:
        ray.shutdown()
    run = model.state.provenance["distributed"]
    assert run["workers"] == 2 and run["threads_per_worker"] == 3
    assert model.state.config.threads == 3


def test_a_checkpoint_at_a_synchronisation_resumes_on_ray(corpus, tmp_path):
    """A run with checkpoints every epoch leaves the one written at the start of its last
    epoch; resuming it on Ray trains only that epoch and ends where the whole run did,
    up to the rounding the workers had not sent yet. The run's largest worker rate is
    half skip-gram's rate, so its workers train at the ordinary rate and the driver
    moves the model by twice their mean delta: the checkpoint keeps that too."""
    path, planted = corpus
    checkpoint = str(tmp_path / "run.ckpt")
    whole = fastw2v.train(path, ray="local", ray_workers=2, sync_every=40_000,
                          checkpoint=checkpoint, checkpoint_every="1e",
                          ray_max_worker_rate=0.0125, **SMALL)
    saved = load_checkpoint(checkpoint)
    run = whole.state.provenance["distributed"]
    n_rounds = run["rounds"]
    assert (run["worker_rate_factor"], run["block_learning_rate"]) == (1, 2)
    assert run["block_split"] == [1.8284, 0.1716]
    assert ("x 2 (1.83 at once, 0.172 with the row's next update), learning rate x 1 (the "
            "rate asked for, above the largest worker rate, 0.0125)") in run["sync_rule"]
    assert saved.ray["workers"] == 2 and saved.ray["sync_every"] == 40_000
    assert saved.ray["max_worker_rate"] == 0.0125 and saved.ray["max_block_rate"] == 2
    assert saved.ray["split_block"] is True
    # Written after the round that reached two thirds of the run (the third epoch).
    assert saved.ray["rounds_done"] == int(np.ceil(n_rounds * 2 / 3))
    total = whole.stats.n_words_trained
    assert sum(s["words_done"] for s in saved.ray["shards"]) == saved.at.words_done
    assert 0.6 * total < saved.at.words_done < 0.75 * total
    assert saved.at.epoch == 2 and not ray.is_initialized()

    # A resumed run reads on the driver (it cuts the stream where the shards ended).
    with pytest.warns(FastW2VWarning, match="on the driver: --resume reads it there"):
        resumed = fastw2v.train(path, ray="local", resume=checkpoint, threads=1)
    assert resumed.stats.resumed_epoch == 3
    again = resumed.state.provenance["distributed"]
    assert (again["worker_rate_factor"], again["block_learning_rate"]) == (1, 2)
    assert again["block_split"] == run["block_split"]
    assert resumed.stats.n_words_trained == total
    assert resumed.state.provenance["distributed"]["rounds"] == n_rounds
    assert topic_precision(resumed, planted) >= topic_precision(whole, planted) - 0.05
    # One deterministic thread per worker and every random stream restored: the resumed
    # model is the whole run's but for the rounding its last messages left on the workers.
    a, b = whole.vectors, resumed.vectors
    cosines = np.sum(a * b, axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert np.median(cosines) > 0.999 and not np.array_equal(a, b)
    # Only on Ray, with the same workers.
    with pytest.raises(fastw2v.FastW2VError, match="written by a run on Ray"):
        fastw2v.train(path, resume=checkpoint)
    with pytest.raises(fastw2v.FastW2VError, match=r"keeps its ray_workers \(2; got 3\)"):
        fastw2v.train(path, ray="local", ray_workers=3, resume=checkpoint)
    with pytest.raises(fastw2v.FastW2VError, match=r"keeps its ray_max_worker_rate"):
        fastw2v.train(path, ray="local", ray_max_worker_rate=0.1, resume=checkpoint)
    assert not ray.is_initialized()


def test_a_saved_model_continues_on_ray_with_its_vocabulary(corpus, tmp_path):
    """--init-from with --ray: the workers start from the saved model's matrices (its
    first epoch on Ray already has a lower loss than a fresh run's first), the
    vocabulary stays the model's, and the run is recorded as distributed."""
    path, planted = corpus
    base = fastw2v.train(path, **SMALL)
    saved = str(tmp_path / "base.fw2v")
    base.save(saved)
    out = tmp_path / "continued.fw2v"
    result = CliRunner().invoke(main, [
        "train", path, "-o", str(out), "--init-from", saved, "--ray", "local",
        "--ray-workers", "2", "--threads", "1", "--epochs", "1", "--sync-every", "60000"])
    assert result.exit_code == 0, result.output
    assert "reading the corpus on the driver: --init-from reads it there" in result.output
    assert not ray.is_initialized()
    continued = fastw2v.load(str(out))
    assert continued.words == base.vocab.words
    assert continued.metadata["distributed"]["workers"] == 2
    first_epoch_loss = continued.metadata["loss_history"][0]
    assert first_epoch_loss < base.loss_history[0] - 0.1, (first_epoch_loss,
                                                           base.loss_history)
    assert topic_precision(continued, planted) >= topic_precision(base, planted) - 0.05
    # --grow-vocab too: the new text's new words join the model's.
    grown_text = tmp_path / "more.txt"
    grown_text.write_text(open(path).read() + "brandnewword and more text\n" * 20)
    with pytest.warns(FastW2VWarning, match="on the driver: --init-from reads it there"):
        grown = fastw2v.train(str(grown_text), init_from=saved, grow_vocab=True,
                              ray="local", ray_workers=2, threads=1, epochs=1,
                              sync_every=60_000)
    assert set(base.vocab.words) < set(grown.vocab.words)
    assert {"brandnewword", "more", "text"} <= set(grown.vocab.words) - set(base.vocab.words)


@pytest.fixture
def shared_ray():
    """One local Ray for several runs, cheaper than a Ray per run: a run joins the Ray
    already open in its process, and leaves it open."""
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.ERROR,
             log_to_driver=False)
    try:
        yield ray.util.get_node_ip_address()
    finally:
        ray.shutdown()


def test_workers_read_their_shares_as_one_process_reads_the_corpus(corpus, tmp_path,
                                                                     shared_ray):
    """--ray-read workers over one file (cut in two at a line start) and over a folder
    of four files (one compressed): the vocabulary, its counts and the reading's figures
    are one process's, exactly, and the model is as good."""
    path, planted = corpus
    with open(path) as f:
        lines = f.readlines()
    folder = tmp_path / "parts"
    folder.mkdir()
    quarter = len(lines) // 4 + 1
    for i in range(4):
        text = "".join(lines[i * quarter:(i + 1) * quarter]).encode()
        if i == 2:
            (folder / f"{i}.txt.gz").write_bytes(gzip.compress(text))
        else:
            (folder / f"{i}.txt").write_bytes(text)
    notes: list = []
    for source in (path, str(folder)):
        alone = fastw2v.train(source, **SMALL)
        model = fastw2v.train(source, ray="local", ray_workers=2, ray_read="workers",
                              sync_every=40_000, warn=notes.append, **SMALL)
        assert model.state.provenance["distributed"]["corpus_read_on"] == "workers"
        assert model.vocab.words == alone.vocab.words
        assert np.array_equal(model.vocab.counts, alone.vocab.counts)
        for name in ("n_tokens_read", "n_words", "n_skipped", "n_sentences",
                     "n_words_trained"):
            assert getattr(model.stats, name) == getattr(alone.stats, name), name
        assert np.all(np.isfinite(model.vectors))
        assert model.loss_history[-1] < model.loss_history[0]
        assert topic_precision(model, planted) >= topic_precision(alone, planted) - 0.05
        assert plural_analogy_accuracy(model) >= 0.8
    assert notes == []


def test_where_the_workers_cannot_read_the_corpus(corpus, tmp_path, shared_ray):
    """A corpus path that only the driver can open (its own open file as /proc/self/fd/N,
    what a shell's <(...) gives): --ray-read workers stops in one line naming the node
    and the path; auto reads on the driver and says why in one line. So does auto for one
    compressed file and two workers, which cannot be shared."""
    path, planted = corpus
    node = shared_ray
    out = tmp_path / "v.fw2v"
    with open(path, "rb") as f:
        fd = os.dup2(f.fileno(), 900)  # a number no Ray worker process has open
    try:
        driver_only = f"/proc/self/fd/{fd}"
        why = f"the Ray worker on node {node} cannot open {driver_only}: No such file"
        result = CliRunner().invoke(main, [
            "train", driver_only, "-o", str(out), "--ray", "local", "--ray-workers", "2",
            "--threads", "1", "--ray-read", "workers"])
        assert_one_line_error(result, why, "--ray-read driver")
        assert not out.exists()
        notes: list = []
        model = fastw2v.train(driver_only, ray="local", ray_workers=2, warn=notes.append,
                              sync_every=60_000, **dict(SMALL, epochs=1))
        assert len(notes) == 1 and notes[0].startswith(f"reading the corpus on the driver: "
                                                       f"{why}"), notes
        assert model.state.provenance["distributed"]["corpus_read_on"] == "driver"
    finally:
        os.close(fd)
    compressed = tmp_path / "synthetic.txt.gz"
    with open(path, "rb") as f:
        compressed.write_bytes(gzip.compress(f.read()))
    notes = []
    model = fastw2v.train(str(compressed), ray="local", ray_workers=2, warn=notes.append,
                          sync_every=60_000, **dict(SMALL, epochs=1))
    assert notes == [f"reading the corpus on the driver: the corpus cannot be shared among "
                     f"2 workers: {compressed} is compressed and cannot be cut"]
    assert model.state.provenance["distributed"]["corpus_read_on"] == "driver"
    assert topic_precision(model, planted) >= 0.8
    with pytest.raises(ConfigError, match="compressed and cannot be cut.*ray_read='driver'"):
        fastw2v.train(str(compressed), ray="local", ray_workers=2, ray_read="workers",
                      **SMALL)
    # A file every worker opens but one cannot read through: the worker's error, in
    # one line naming it, its node and the part of the file it read.
    binary = tmp_path / "binary.txt"
    with open(path, "rb") as f:
        binary.write_bytes(f.read() + b"a b\0c\n")
    result = CliRunner().invoke(main, [
        "train", str(binary), "-o", str(out), "--ray", "local", "--ray-workers", "2",
        "--threads", "1", "--ray-read", "workers"])
    assert_one_line_error(result, f"Ray worker 2 (on node {node}): {binary} (the part from "
                                  f"byte ", "NUL byte")
    # A start that reads on the driver is refused with reading on the workers.
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("apple 10\n")
    with pytest.raises(ConfigError, match="ray_read='workers' cannot be combined with "
                                          "read_vocab"):
        fastw2v.train(path, read_vocab=str(vocab), ray="local", ray_read="workers", **SMALL)


def test_two_node_cluster_through_the_cli(corpus, tmp_path):
    from ray.cluster_utils import Cluster

    path, planted = corpus
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        out = tmp_path / "v.fw2v"
        result = CliRunner().invoke(main, [
            "train", path, "-o", str(out), "--ray", cluster.address, "--ray-workers", "2",
            "--threads", "1", "--dim", "32", "--epochs", "2", "--sync-every", "60000"])
        assert result.exit_code == 0, result.output
        # One progress line for the whole run (off a terminal, one a tenth of the way):
        # both workers' words, so it reaches 100%, their words/s and the time left.
        progress = [line for line in result.output.splitlines()
                    if re.match(r"training +[0-9.]+% \| epoch ", line)]
        done = [float(line.split()[1].rstrip("%")) for line in progress]
        assert len(done) >= 3 and done == sorted(set(done)) and done[-1] == 100, progress
        assert all(re.search(r"\| [0-9,]+ words/s \|.*\| ETA ", line) for line in progress)
        model = fastw2v.load(str(out))
        assert topic_precision(model, planted) >= 0.85
        # The workers recorded in the model's metadata, shown by `info`.
        info = CliRunner().invoke(main, ["info", str(out)])
        assert "ray: 2 workers x 1 threads" in info.output, info.output
        # Both nodes open the corpus (one machine's files): each worker read its share.
        assert "corpus read on the workers" in info.output, info.output
        # Two workers of one CPU each filled both nodes: three cannot be placed.
        result = CliRunner().invoke(main, [
            "train", path, "-o", str(tmp_path / "w.fw2v"), "--ray", cluster.address,
            "--ray-workers", "3", "--threads", "1"])
        assert_one_line_error(result, "3 workers x 1 threads need 3 CPUs", "has 2")
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()


def test_unreachable_address_fails_in_one_line_within_30_seconds(small_corpus, tmp_path):
    began = time.monotonic()
    result = CliRunner().invoke(main, ["train", small_corpus, "-o", str(tmp_path / "v.bin"),
                                       "--ray", "127.0.0.1:9", "--min-count", "1"])
    assert_one_line_error(result, "cannot reach the Ray head node at 127.0.0.1:9")
    assert time.monotonic() - began < 30
    assert not (tmp_path / "v.bin").exists()


def test_without_ray_installed_the_error_says_what_to_install(small_corpus, tmp_path,
                                                              monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails
    result = CliRunner().invoke(main, ["train", small_corpus, "-o", str(tmp_path / "v.bin"),
                                       "--ray", "local", "--min-count", "1"])
    assert_one_line_error(result, "--ray needs Ray", 'pip install "fastw2v[ray]"')
    with pytest.raises(fastw2v.FastW2VError, match="ray= needs Ray"):
        fastw2v.train(small_corpus, ray="local", min_count=1)


def test_worker_options_need_ray(small_corpus, tmp_path):
    result = CliRunner().invoke(main, ["train", small_corpus, "-o", str(tmp_path / "v.bin"),
                                       "--ray-workers", "2"])
    assert_one_line_error(result, "--ray-workers needs --ray")
    result = CliRunner().invoke(main, ["train", small_corpus, "-o", str(tmp_path / "v.bin"),
                                       "--ray-read", "workers"])
    assert_one_line_error(result, "--ray-read needs --ray")
    with pytest.raises(ConfigError, match=r"ray_read must be one of auto, workers, driver"):
        fastw2v.train(small_corpus, ray="local", ray_read="everywhere")


def _shard_workers(under=None):
    """Process ids of this machine's Ray shard workers (Ray names an actor's process
    after its class); with `under`, only those descended from that process, so that a
    test never shoots the workers of another Ray run on the same machine."""
    found, parent = [], {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                # The field after the command name, which may itself hold ") ".
                parent[int(pid)] = int(f.read().rsplit(b")", 1)[1].split()[1])
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"ShardWorker" in f.read():
                    found.append(int(pid))
        except (OSError, IndexError, ValueError):
            pass
    if under is None:
        return found

    def descends(pid):
        while pid > 1:
            pid = parent.get(pid, 0)
            if pid == under:
                return True
        return False

    return [pid for pid in found if descends(pid)]


def _start_cli(args, cwd):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(fastw2v.__file__)))
    return subprocess.Popen(
        [sys.executable, "-c", "from fastw2v.cli import main; main()", "train",
         *[str(a) for a in args]], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=cwd, env=env)


def _wait_for_training(process):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if "training" in line or not line:
            return
    raise AssertionError("training did not start")


def _with_epochs(args, epochs):
    """The command line `args` with --epochs set to `epochs`."""
    at = args.index("--epochs")
    return [*args[:at + 1], str(epochs), *args[at + 2:]]


@pytest.fixture
def long_run_args(corpus, tmp_path):
    path, _ = corpus
    return [path, "--ray", "local", "--ray-workers", "2", "--threads", "1", "--dim", "64",
            "--epochs", "12", "--sync-every", "20000"]


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds the workers through /proc")
@pytest.mark.parametrize("read", ["workers", "driver"])
def test_a_killed_worker_is_replaced_and_the_run_finishes_from_the_last_sync(
        long_run_args, corpus, tmp_path, read):
    """Its replacement reads its share of the corpus again (workers), or takes the
    driver's ids again (driver)."""
    out = tmp_path / "v.fw2v"
    others = set(_shard_workers())  # another Ray run's, if any: not this test's business
    process = _start_cli([*long_run_args, "-o", out, "--ray-read", read], tmp_path)
    try:
        _wait_for_training(process)
        workers = _shard_workers(under=process.pid)
        assert workers, "no Ray shard worker found"
        os.kill(workers[0], signal.SIGKILL)
        _, stderr = process.communicate(timeout=300)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    warnings = [line for line in stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, stderr
    assert "died in synchronisation round" in warnings[0]
    assert "restarts from the last synchronisation" in warnings[0]
    # Not a damaged model: every word of every epoch trained once, the structure found.
    model = fastw2v.load(str(out))
    run = model.metadata["distributed"]
    assert run["restarts"] == 1 and run["corpus_read_on"] == read
    n_words = fastw2v.train(corpus[0], threads=1, dim=8, epochs=1, seed=3).stats.n_words
    assert model.metadata["words_trained"] == n_words * 12
    assert all(np.isfinite(model.metadata["loss_history"]))
    assert topic_precision(model, corpus[1]) >= 0.85
    assert set(_shard_workers()) <= others


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds the workers through /proc")
def test_a_lost_node_is_replaced_and_the_run_finishes_from_the_last_sync(corpus):
    """A node of a three-node cluster taken out mid-run, its raylet and the worker on it
    gone as when a machine dies: the worker starts again on the node with room, and
    the run ends with every word trained."""
    import threading

    from ray.cluster_utils import Cluster

    path, planted = corpus
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    try:
        nodes = [cluster.add_node(num_cpus=1) for _ in range(3)]
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, logging_level=logging.ERROR, log_to_driver=False)
        warnings, result = [], {}

        def train():
            try:
                result["model"] = fastw2v.train(
                    path, ray="auto", ray_workers=2, sync_every=20_000, warn=warnings.append,
                    **dict(SMALL, epochs=40))
            except BaseException as error:  # for the test's thread to report
                result["error"] = error

        def raylet(node):
            return node.all_processes["raylet"][0].process.pid

        thread = threading.Thread(target=train)
        thread.start()
        # A node whose raylet started a worker (Ray's workers are its children).
        deadline, lost = time.monotonic() + 120, None
        while lost is None and time.monotonic() < deadline and thread.is_alive():
            lost = next((n for n in nodes if _shard_workers(under=raylet(n))), None)
            time.sleep(0.2)
        assert lost is not None, result
        time.sleep(3)  # the shares read and a few synchronisations in (training ~10 s)
        cluster.remove_node(lost)
        thread.join(timeout=300)
        assert not thread.is_alive() and "error" not in result, result
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()
    model = result["model"]
    assert model.state.provenance["distributed"]["restarts"] == 1, warnings
    assert any("died in synchronisation round" in w for w in warnings), warnings
    alone = fastw2v.train(path, **dict(SMALL, epochs=1))
    assert model.stats.n_words_trained == alone.stats.n_words_trained * 40
    assert topic_precision(model, planted) >= 0.85


def test_interrupted_run_on_ray_saves_its_last_synchronisation_and_resumes(
        long_run_args, corpus, tmp_path):
    out, checkpoint = tmp_path / "v.fw2v", tmp_path / "run.ckpt"
    # Longer than the other runs (12 epochs take a few seconds): still training when
    # the signal comes, after the rounds of 20,000 words per worker that the progress
    # line shows.
    args = _with_epochs(long_run_args, 60)
    process = _start_cli([*args, "-o", out, "--checkpoint", checkpoint], tmp_path)
    try:
        _wait_for_training(process)
        time.sleep(1)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "training state saved in" in stderr and "Traceback" not in stderr
    command = stderr.split("to finish the run: ")[1].split()
    assert command[command.index("--ray") + 1] == "local"  # where it trained, repeated
    saved = load_checkpoint(str(checkpoint))
    assert saved.ray["rounds_done"] >= 1 and saved.ray["workers"] == 2
    assert not out.exists()
    result = CliRunner().invoke(main, ["train", corpus[0], "-o", str(out), "--ray", "local",
                                       "--resume", str(checkpoint)])
    assert result.exit_code == 0, result.output
    assert "resum" in result.output
    model = fastw2v.load(str(out))
    n_words = fastw2v.train(corpus[0], threads=1, dim=8, epochs=1, seed=3).stats.n_words
    assert model.metadata["words_trained"] == n_words * 60
    assert topic_precision(model, corpus[1]) >= 0.85
    assert not checkpoint.exists()  # a finished run removes its checkpoint


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds the workers through /proc")
@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_interrupting_the_driver_stops_every_worker(long_run_args, tmp_path, signal_name):
    """Ctrl-C or SIGTERM: the checkpoint asked for is written, the previous output is
    untouched, and no worker is left behind."""
    out, checkpoint = tmp_path / "v.fw2v", tmp_path / "run.ckpt"
    out.write_bytes(b"the previous output")
    others = set(_shard_workers())  # another Ray run's, if any: not this test's business
    args = _with_epochs(long_run_args, 60)  # still training when the signal comes
    process = _start_cli([*args, "-o", out, "--checkpoint", checkpoint], tmp_path)
    try:
        _wait_for_training(process)
        time.sleep(1)  # past the first synchronisation, so that there is a state to save
        process.send_signal(getattr(signal, signal_name))
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "training state saved in" in stderr and "Traceback" not in stderr
    assert load_checkpoint(str(checkpoint)).ray["rounds_done"] >= 1
    assert out.read_bytes() == b"the previous output"
    deadline = time.monotonic() + 20  # Ray's own shutdown reaps its workers
    while set(_shard_workers()) - others and time.monotonic() < deadline:
        time.sleep(0.2)
    assert set(_shard_workers()) <= others


def test_cluster_error_is_a_fastw2v_error():
    assert issubclass(ClusterError, fastw2v.FastW2VError)
