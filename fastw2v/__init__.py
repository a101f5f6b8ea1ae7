"""fastw2v: fast word2vec training and querying on one CPU machine.

    import fastw2v
    model = fastw2v.train("corpus.txt", dim=100, epochs=5)
    model.most_similar("king")
    model.save("vectors.fw2v")

    vectors = fastw2v.load("vectors.fw2v")   # or word2vec .bin/.txt/.vec, gensim .kv/.model
    vectors.most_similar("king", n=10)
    vectors.analogy("man", "king", "woman")
"""

from .config import DEFAULT_MODEL_PATH, TrainConfig
from .errors import (
    ConfigError,
    CorpusError,
    FastW2VError,
    FastW2VWarning,
    FormatError,
    OutputError,
    TrainingDiverged,
    VocabularyError,
)
from .formats.word2vec import load_word2vec, save_word2vec
from .model import Model, TrainStats
from .queries.vectors import UnknownWordError, Vectors
from .text.phrases import phrases
from .text.vocab import Vocabulary
from .training.trainer import train
from .version import __version__


def load(path: str, fmt: str = "auto") -> Vectors:
    """Load word vectors for queries from a native (.fw2v), word2vec, or gensim (.kv,
    .model: pickles, load them only from a trusted source) file; see Vectors.load."""
    return Vectors.load(path, fmt)


__all__ = [
    "train", "load", "phrases", "Model", "Vectors", "TrainStats", "TrainConfig", "Vocabulary",
    "load_word2vec", "save_word2vec", "DEFAULT_MODEL_PATH", "FastW2VError", "ConfigError",
    "FastW2VWarning", "CorpusError", "FormatError", "OutputError", "TrainingDiverged",
    "VocabularyError", "UnknownWordError", "__version__",
]
