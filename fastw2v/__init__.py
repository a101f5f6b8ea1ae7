"""fastw2v: fast word2vec training and querying on one CPU machine.

    import fastw2v
    model = fastw2v.train("corpus.txt", dim=100, epochs=5)
    model.most_similar("king")
    model.save("vectors.bin")
"""

from .config import DEFAULT_MODEL_PATH, TrainConfig
from .errors import (ConfigError, CorpusError, FastW2VError, FormatError, OutputError,
                     TrainingDiverged, VocabularyError)
from .io import load_word2vec, save_word2vec
from .model import Model, TrainStats
from .training import train
from .vocab import Vocabulary

__version__ = "0.1.0"

__all__ = [
    "train", "Model", "TrainStats", "TrainConfig", "Vocabulary", "load_word2vec",
    "save_word2vec", "DEFAULT_MODEL_PATH", "FastW2VError", "ConfigError", "CorpusError",
    "FormatError", "OutputError", "TrainingDiverged", "VocabularyError",
]
