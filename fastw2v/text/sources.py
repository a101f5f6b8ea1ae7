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

A part of a corpus (`CorpusShare`: what one Ray worker reads, fastw2v/distributed/
reading.py) is a sequence of `FilePart`s: whole files, or byte ranges of uncompressed
ones that begin and end at line starts, read as the whole corpus is read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple, Union

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


COMPRESSED = (".gz", ".bz2", ".xz")


def is_compressed(path: str) -> bool:
    """Whether `path` is read through a decompressor (by its name, as the reader opens
    it), so that a byte of the file is not a byte of the text and it cannot be cut."""
    return path.lower().endswith(COMPRESSED)


@dataclass(frozen=True)
class FilePart:
    """Bytes [start, end) of a corpus file; `end` None: to the end of the file. A part
    that does not start at 0 starts at a line start (so a byte-order mark, which only
    the first line of a file can have, is never in it)."""

    path: str
    start: int = 0
    end: Optional[int] = None

    @property
    def whole(self) -> bool:
        return self.start == 0 and self.end is None

    def __str__(self) -> str:
        if self.whole:
            return self.path
        # Line numbers in messages about a part count from the part's first line.
        end = "its end" if self.end is None else f"byte {self.end:,}"
        return f"{self.path} (the part from byte {self.start:,} to {end})"


@dataclass(frozen=True)
class CorpusShare:
    """Some of a corpus's files and byte ranges, in reading order: read as one text, with
    a line end after each part, as `CorpusFiles` is."""

    parts: Tuple[FilePart, ...]

    def __str__(self) -> str:
        if len(self.parts) == 1:
            return str(self.parts[0])
        return f"{self.parts[0]} (and {len(self.parts) - 1:,} more parts)"


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
