"""A one-line progress display on stderr: rewritten in place on a terminal, a line every few seconds otherwise."""

import sys
import time
from typing import TextIO

BAR_WIDTH = 24
# Without a terminal (CI, a log file) a carriage return only makes noise: print a full line this often.
PLAIN_EVERY_SECONDS = 5.0


class Progress:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.width = 0
        self.last_plain = 0.0

    def update(self, label: str, fraction: float | None, detail: str) -> None:
        """Show ``label [bar] detail``; ``fraction`` None draws no bar (e.g. waiting on workers)."""
        bar = ""
        if fraction is not None:
            filled = round(BAR_WIDTH * min(max(fraction, 0.0), 1.0))
            bar = "[" + "#" * filled + " " * (BAR_WIDTH - filled) + "] "
        line = f"{label:<15} {bar}{detail}"
        if self.tty:
            self.stream.write("\r" + line.ljust(self.width))
            self.width = len(line)
        elif time.monotonic() - self.last_plain >= PLAIN_EVERY_SECONDS:
            self.stream.write(line + "\n")
            self.last_plain = time.monotonic()
        self.stream.flush()

    def done(self, label: str, detail: str) -> None:
        """End the current line with a final message that stays on screen."""
        line = f"{label:<15} {detail}"
        prefix = "\r" if self.tty else ""
        self.stream.write(prefix + line.ljust(self.width if self.tty else 0) + "\n")
        self.stream.flush()
        self.width = 0
        self.last_plain = 0.0
