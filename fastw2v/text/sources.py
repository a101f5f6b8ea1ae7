"""Which files a corpus is: one file, several, or folders of them.

A big corpus usually comes as many files (shards of a crawl, one file per day). Every
mode of `train` takes one or more paths; a folder stands for the files directly in it,
sorted by name (hidden files, whose names start with a dot, are left out: they are
editor backups and sync state, not text). The files are read one after the other as
one text, with a sentence end between two files, so a file's last line never runs into
the next file's first.

Decisions a user should know:
- A folder is not searched recursively: a corpus laid out in sub-folders is named by
  its sub-folders. (Recursing would silently take in whatever else lies below.)
- An empty folder, or a path that does not exist, is an error naming it; a file named
  twice is read twice, as asked.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import List, Sequence, Tuple, Union

from ..errors import CorpusError
from ..formats.files import read_failure

CorpusArgument = Union[str, "os.PathLike[str]", Sequence[Union[str, "os.PathLike[str]"]],
                       "CorpusFiles"]


@dataclass(frozen=True)
class CorpusFiles:
    """The corpus's files in reading order, and the paths the user gave (for messages)."""

    paths: Tuple[str, ...]
    given: Tuple[str, ...]

    @classmethod
    def of(cls, corpus: CorpusArgument) -> CorpusFiles:
        """The files of a path, a folder, or a sequence of them; CorpusError naming the
        path that does not exist, cannot be opened, or is an empty folder."""
        if isinstance(corpus, CorpusFiles):
            return corpus
        if isinstance(corpus, (str, os.PathLike)):
            given: Tuple[str, ...] = (os.fspath(corpus),)
        else:
            given = tuple(os.fspath(path) for path in corpus)
        if not given:
            raise CorpusError("no corpus given: name one or more files or folders")
        paths: List[str] = []
        for path in given:
            paths.extend(_files_of(path))
        return cls(tuple(paths), given)

    def __str__(self) -> str:
        """How messages name the corpus: the path given, or the first and how many more."""
        if len(self.given) == 1:
            return self.given[0]
        return f"{self.given[0]} (and {len(self.given) - 1:,} more)"

    def __len__(self) -> int:
        return len(self.paths)


def _files_of(path: str) -> Tuple[str, ...]:
    if os.path.isdir(path):
        try:
            names = sorted(os.listdir(path))
        except OSError as exc:
            raise read_failure(CorpusError, path, exc, "a folder of text files") from None
        files = tuple(os.path.join(path, name) for name in names
                      if not name.startswith(".") and os.path.isfile(os.path.join(path, name)))
        if not files:
            raise CorpusError(f"{path}: the folder holds no corpus file")
        for file in files:
            check_readable(file)
        return files
    check_readable(path)
    return (path,)


def check_readable(path: str) -> None:
    """Fail early, naming the file, when `path` cannot be a readable corpus file."""
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise read_failure(CorpusError, path, exc, "a text file") from None
