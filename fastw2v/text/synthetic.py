"""A synthetic corpus with planted structure, for the demo and the tests.

Nouns fall into topic clusters (fruit, animals, tools, ...), and each topic has its own
verbs. Each noun also has a private adjective that accompanies it, so nouns of one topic
are related but distinguishable. Every noun has a singular and a plural form: singular
forms follow singular quantifiers ("one", "a", "each"), plural forms plural ones
("two", "many", "several"). So the vectors should show
- clusters: a noun's nearest neighbours are nouns and verbs of its own topic;
- a consistent relation: plural(x) - x is about the same for every noun, so the analogy
  apple : apples :: dog : ? answers "dogs".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List

import numpy as np

TOPICS: Dict[str, Dict[str, List[str]]] = {
    "fruit": {
        "nouns": ["apple", "banana", "cherry", "grape", "lemon", "mango", "peach", "plum"],
        "verbs": ["eat", "peel", "slice", "ripen", "pick"],
    },
    "animals": {
        "nouns": ["dog", "cat", "horse", "cow", "goat", "rabbit", "pig", "duck"],
        "verbs": ["feed", "pet", "chase", "groom", "herd"],
    },
    "tools": {
        "nouns": ["hammer", "saw", "drill", "wrench", "chisel", "file", "spanner", "axe"],
        "verbs": ["grip", "sharpen", "swing", "borrow", "repair"],
    },
    "vehicles": {
        "nouns": ["car", "truck", "bus", "bike", "train", "boat", "plane", "van"],
        "verbs": ["drive", "park", "fuel", "steer", "ride"],
    },
    "music": {
        "nouns": ["guitar", "piano", "drum", "flute", "violin", "harp", "trumpet", "cello"],
        "verbs": ["play", "tune", "strum", "practise", "perform"],
    },
    "clothes": {
        "nouns": ["shirt", "coat", "sock", "hat", "scarf", "glove", "boot", "dress"],
        "verbs": ["wear", "wash", "fold", "iron", "button"],
    },
}
SINGULAR_QUANTIFIERS = ["one", "a", "each", "every", "this"]
PLURAL_QUANTIFIERS = ["two", "many", "several", "these", "some"]
FILLER = ["the", "and", "then", "with", "we", "they", "often", "today"]


def plural(noun: str) -> str:
    """The planted plural form."""
    return noun + ("es" if noun.endswith(("ch", "sh", "s", "x")) else "s")


def adjective(noun: str) -> str:
    """The noun's private adjective: it occurs with this noun only, in either number."""
    return noun + "ish"


@dataclass
class PlantedStructure:
    """What the synthetic corpus was built to contain, for checking the vectors."""

    topic_of: Dict[str, str]  # every noun form and verb -> its topic

    def same_topic(self, a: str, b: str) -> bool:
        return a in self.topic_of and self.topic_of.get(a) == self.topic_of.get(b)


def planted_structure() -> PlantedStructure:
    topic_of = {}
    for topic, parts in TOPICS.items():
        for noun in parts["nouns"]:
            topic_of[noun] = topic
            topic_of[plural(noun)] = topic
        for verb in parts["verbs"]:
            topic_of[verb] = topic
    return PlantedStructure(topic_of)


def generate_sentences(n_sentences: int, seed: int = 0) -> List[str]:
    """Sentences of 8 to 20 tokens, each about one topic."""
    rng = np.random.default_rng(seed)
    topics = list(TOPICS.values())
    sentences = []
    for _ in range(n_sentences):
        topic = topics[rng.integers(len(topics))]
        tokens: List[str] = []
        target = int(rng.integers(8, 21))
        while len(tokens) < target:
            r = rng.random()
            if r < 0.3:
                tokens.append(topic["verbs"][rng.integers(len(topic["verbs"]))])
            elif r < 0.4:
                tokens.append(FILLER[rng.integers(len(FILLER))])
            else:
                noun = topic["nouns"][rng.integers(len(topic["nouns"]))]
                if rng.random() < 0.5:
                    quantifier = SINGULAR_QUANTIFIERS[rng.integers(len(SINGULAR_QUANTIFIERS))]
                    form = noun
                else:
                    quantifier = PLURAL_QUANTIFIERS[rng.integers(len(PLURAL_QUANTIFIERS))]
                    form = plural(noun)
                tokens.extend([quantifier, adjective(noun), form])
        sentences.append(" ".join(tokens))
    return sentences


def write_corpus(path: str, n_sentences: int = 20_000, seed: int = 0) -> PlantedStructure:
    """Write the synthetic corpus to `path`, one sentence per line."""
    with open(path, "w", encoding="utf-8") as out:
        for sentence in generate_sentences(n_sentences, seed):
            out.write(sentence + "\n")
    return planted_structure()
