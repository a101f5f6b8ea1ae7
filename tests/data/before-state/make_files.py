"""The files of tests/integration/test_files_of_earlier_versions.py, as fastw2v at
commit 94821e7 (before the model state had one owner) wrote them: with that version
installed, `python make_files.py` in this folder makes them again."""
import numpy as np

import fastw2v

rng = np.random.default_rng(0)
words = [f"w{i}" for i in range(30)]
lines = [" ".join(rng.choice(words, size=12, p=np.arange(30, 0, -1) / 465)) for _ in range(300)]
open("corpus.txt", "w").write("\n".join(lines) + "\n")
common = dict(dim=6, epochs=2, min_count=1, threads=1, seed=3)
for name, opts in {"ns": {}, "nce-per-word": dict(loss="nce", nce_gamma="per-word"), "hs": dict(loss="hs"),
                   "cbow-nce": dict(architecture="cbow", loss="nce")}.items():
    m = fastw2v.train("corpus.txt", **common, **opts)
    m.save(f"{name}.fw2v")
    np.save(f"{name}-arrays.npy", np.concatenate([m.vectors.ravel(), m.context_vectors.ravel(), m.gamma.ravel()]))
# checkpoints every epoch (the last: the start of epoch 3 of 3), and the uninterrupted run's vectors
opts = dict(common, epochs=3, loss="nce")
whole = fastw2v.train("corpus.txt", **opts)
np.save("resumed-whole.npy", np.concatenate([whole.vectors.ravel(), whole.context_vectors.ravel(), whole.gamma.ravel()]))
fastw2v.train("corpus.txt", checkpoint="run.ckpt", checkpoint_every="1e", **opts)
