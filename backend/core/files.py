"""File helpers shared by the store, the data catalog and background jobs (no torch import here).

write-then-rename for every file a crash could leave half-written; checksums.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files; cards and checkpoints are meant to be read
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def sha256_file(path: str | os.PathLike, decompress: bool = False) -> str:
    """sha256 of a file's bytes, or of its gzip-decompressed content."""
    h = hashlib.sha256()
    opener = gzip.open if decompress else open
    with opener(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def emit_json(result: dict, output: str | os.PathLike | None = None) -> str:
    """Print ``result`` as indented JSON (what the benchmark scripts report) and, with ``output``, write it there."""
    import json

    text = json.dumps(result, indent=1)
    print(text)
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
    return text
