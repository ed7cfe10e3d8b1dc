"""Honcho's printer, also appending each process's lines to ``<logs>/<name>.log``."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from honcho.printer import Printer


class TeePrinter(Printer):
    def __init__(self, output: TextIO, logs_dir: Path) -> None:
        super().__init__(output)
        self._logs_dir = logs_dir
        self._files: dict[str, TextIO] = {}

    def write(self, message) -> None:
        super().write(message)
        name = (message.name or "stack").strip()
        log = self._files.get(name)
        if log is None:
            log = self._files[name] = (self._logs_dir / f"{name}.log").open("a", buffering=1)
        data = message.data
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        log.write(text if text.endswith("\n") else text + "\n")
