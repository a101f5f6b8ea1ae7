"""The files of tests/integration/test_files_of_earlier_versions.py, as fastw2v at
commit 94821e7 (before the model state had one owner) wrote them: with that version
installed, `python make_files.py` in this folder makes them again."""
import numpy as np

import fastw2v

rng = np.random.default_rng(0)
words = [f"w{i}" for i in range(30)]
weights = np.arange(30, 0, -1) / 465
lines = [" ".join(rng.choice(words, size=12, p=weights)) for _ in range(300)]
open("corpus.txt", "w").write("\n".join(lines) + "\n")
common = dict(dim=6, epochs=2, min_count=1, threads=1, seed=3)
models = {"ns": {}, "nce-per-word": dict(loss="nce", nce_gamma="per-word"),
          "hs": dict(loss="hs"), "cbow-nce": dict(architecture="cbow", loss="nce")}


def arrays(model):
    return np.concatenate([model.vectors.ravel(), model.context_vectors.ravel(),
                           model.gamma.ravel()])


for name, opts in models.items():
    m = fastw2v.train("corpus.txt", **common, **opts)
    m.save(f"{name}.fw2v")
    np.save(f"{name}-arrays.npy", arrays(m))
# Checkpoints every epoch (the last: the start of epoch 3 of 3), and the arrays of the
# uninterrupted run.
opts = dict(common, epochs=3, loss="nce")
whole = fastw2v.train("corpus.txt", **opts)
np.save("resumed-whole.npy", arrays(whole))
fastw2v.train("corpus.txt", checkpoint="run.ckpt", checkpoint_every="1e", **opts)
