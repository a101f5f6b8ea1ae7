"""Files on disk: safe (atomic) writes, early checks of output paths, and one wording
for every input file that cannot be read."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from typing import IO, Iterator, Type

from ..errors import FastW2VError, OutputError

# Some Windows editors start a text file with a UTF-8 byte-order mark. It marks the file,
# it is not text: every reader of a text file skips it (bom_length) before reading on.
UTF8_BOM = b"\xef\xbb\xbf"


def bom_length(data: bytes) -> int:
    """How many bytes a leading UTF-8 byte-order mark takes at the start of `data` (0 or
    3). An offset rather than a sliced copy: the data may be a whole gigabyte file."""
    return len(UTF8_BOM) if data.startswith(UTF8_BOM) else 0


def read_failure(error: Type[FastW2VError], path: str, exc: OSError,
                 wanted: str = "a file") -> FastW2VError:
    """The one-line error, of class `error`, for an input file `open` or `read` failed on:
    missing, a folder, or unreadable for another reason (permissions, I/O)."""
    if isinstance(exc, FileNotFoundError):
        return error(f"{path}: no such file")
    if isinstance(exc, IsADirectoryError):
        return error(f"{path}: is a folder, not {wanted}")
    if isinstance(exc, PermissionError):
        return error(f"{path}: permission denied")
    return error(f"{path}: cannot read: {exc.strerror or exc}")


def check_writable_path(path: str, option: str) -> None:
    """Fail before any work if `path` cannot be written: a missing folder, a folder, or a
    folder where no file can be created.

    The last is tried for real, by creating and removing the kind of temporary file
    atomic_write will make there: os.access answers yes for root on /proc or a
    read-only mount, and the failure would otherwise come after the whole training run.
    """
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise OutputError(f"{option} {path}: folder {parent} does not exist")
    if os.path.isdir(path):
        raise OutputError(f"{option} {path}: is a folder, not a file")
    try:
        fd, probe = tempfile.mkstemp(prefix=_temporary_prefix(path), suffix=".tmp",
                                     dir=parent)
    except OSError as exc:
        raise OutputError(f"{option} {path}: {_cannot_create(parent, exc)}") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)


def _temporary_prefix(path: str) -> str:
    """atomic_write's temporary files: hidden, named after their destination."""
    return "." + os.path.basename(path) + "."


def _cannot_create(folder: str, exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"folder {folder} is not writable"
    if exc.errno == errno.EROFS:
        return f"folder {folder} is on a read-only file system"
    if exc.errno == errno.ENOENT:  # the folder exists: /proc and the like say this
        return f"folder {folder} does not accept new files"
    return f"cannot create a file in {folder}: {exc.strerror or exc}"


@contextlib.contextmanager
def atomic_write(path: str, mode: str = "wb") -> Iterator[IO]:
    """Write to a temporary file beside `path`, then rename it over `path`.

    Readers see the old file or the complete new one, never a half-written one; if
    writing fails the temporary file is removed and the old file is untouched.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=_temporary_prefix(path), suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(f"{path}: cannot create a file in {folder}: {exc.strerror}") from None
    try:
        # mkstemp makes the file private (0600); give the result the permissions the
        # user would get from a plain open(): the old file's, or 0666 less the umask.
        os.chmod(tmp, _permissions_for(path))
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            # Say what the user most needs to know after a full disk: nothing is lost.
            raise OutputError(f"{path}: write failed: {exc.strerror or exc}; the file was "
                              f"left as it was") from None
        raise


def _permissions_for(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
