"""The training progress line on stderr.

On a terminal one line is redrawn in place about twice a second; when stderr is a
file or a pipe, a full line is written every 10% so logs stay readable.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Optional


def format_duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class ProgressPrinter:
    def __init__(self, total_words: int, stream: Optional[IO] = None, words_before: int = 0):
        self.total_words = max(1, total_words)
        # Words a resumed run had trained before it started: they count towards the
        # fraction done but not towards this run's speed.
        self.words_before = words_before
        self.stream = stream if stream is not None else sys.stderr
        self.is_tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.started = time.perf_counter()
        self._last_decile = -1
        self._drawn = False

    def update(self, words_done: int, epoch: int, alpha: float, loss: float) -> None:
        fraction = min(1.0, words_done / self.total_words)
        elapsed = time.perf_counter() - self.started
        speed = (words_done - self.words_before) / elapsed if elapsed > 0 else 0.0
        eta = (self.total_words - words_done) / speed if speed > 0 else 0.0
        line = (f"training {100 * fraction:5.1f}% | epoch {epoch} | {speed:,.0f} words/s"
                f" | alpha {alpha:.5f} | loss {loss:.4f} | ETA {format_duration(eta)}")
        if self.is_tty:
            self.stream.write("\r" + line + "\x1b[K")
            self._drawn = True
        else:
            decile = int(fraction * 10)
            if decile == self._last_decile:
                return
            self._last_decile = decile
            self.stream.write(line + "\n")
        self.stream.flush()

    def announce(self, message: str) -> None:
        """A line of its own before the progress line (e.g. where a resumed run starts)."""
        self.stream.write(message + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
