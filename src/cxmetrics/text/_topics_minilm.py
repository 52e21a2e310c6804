"""Topics from sentence embeddings: `discover(texts, k, method="minilm")` (docs/text.md, "Better
topics with sentence embeddings"; issue 13 item 1, "the best shipped option").

Each text becomes its all-MiniLM-L6-v2 embedding (text/_embeddings.py); the corpus mean is
subtracted (the embeddings all lean one way, which hides the differences between topics) and the
vectors are scaled back to length 1. For clustering, each vector is averaged with its 4 nearest
neighbours (a short text borrows the words its neighbours used for the same thing), then Ward's
hierarchical clustering cuts the corpus into k topics. Both steps were chosen on BANKING77: on the
test queries and on three samples of the training queries (bench/text/topics_quality.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cxmetrics.text._embeddings import embed
from cxmetrics.text.topics import _NOT_TOPICAL

__all__ = ["FIT_SAMPLE", "MiniLMModel", "ward_topics"]

#: Ward's clustering holds a distance per pair of texts: on larger corpora it runs on a sample of
#: this many texts (400 MB of distances) and the other texts go to the nearest topic centre
FIT_SAMPLE = 10_000
_NEIGHBOURS = 4  # measured 3-6 (and 2-3 passes): 4, one pass, was best on average over 4 sets


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


class MiniLMModel:
    """The fitted embedding pipeline: the corpus mean, the topic centres (unit vectors) and the
    topic id of each cluster; `assign` puts new texts into the nearest topic, as the TF-IDF
    model does."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.mean: np.ndarray = np.zeros(0, dtype=np.float32)
        self.centres: np.ndarray = np.empty((0, 0))
        self.topic_of_cluster: np.ndarray = np.empty(0, dtype=np.int64)

    def fit_vectors(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of the corpus, centred on its mean (kept for the texts assigned later)."""
        raw = _embed(texts)
        self.mean = raw.mean(axis=0)
        return _unit(raw - self.mean)

    def vectors(self, texts: list[str]) -> np.ndarray:
        return _unit(_embed(texts) - self.mean)

    def assign(self, texts: list[str]) -> list[int]:
        nearest = np.argmax(self.vectors(texts) @ self.centres.T, axis=1)
        return self.topic_of_cluster[nearest].tolist()

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """What `restore` needs: the method's name, and the mean and centres as arrays."""
        return ({"method": "minilm"},
                {"mean": self.mean, "centres": self.centres, "topic_of_cluster": self.topic_of_cluster})

    @classmethod
    def restore(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> MiniLMModel:
        model = cls(int(meta["seed"]))
        model.mean, model.centres = arrays["mean"], arrays["centres"]
        model.topic_of_cluster = arrays["topic_of_cluster"]
        return model


def _embed(texts: list[str]) -> np.ndarray:
    # links and @handles say where or to whom, not what about (as for TF-IDF, text/topics.py)
    return embed([_NOT_TOPICAL.sub(" ", t) for t in texts])


def ward_topics(vectors: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(cluster of each text, unit centre of each cluster): Ward's clustering of the smoothed
    vectors into k clusters, on a sample of FIT_SAMPLE texts when there are more (the seed picks
    it); the centre is the mean of the cluster's own (unsmoothed) vectors, and texts outside the
    sample join the nearest centre."""
    from scipy.cluster.hierarchy import cut_tree, linkage
    from sklearn.neighbors import NearestNeighbors

    n = vectors.shape[0]
    sample = np.sort(np.random.default_rng(seed).choice(n, FIT_SAMPLE, replace=False)) if n > FIT_SAMPLE else None
    fit = vectors if sample is None else vectors[sample]
    # neighbours: at most half the mean topic size, so small topics are not smoothed away
    neighbours = min(_NEIGHBOURS, fit.shape[0] // k // 2)
    smooth = fit
    if neighbours:
        near = NearestNeighbors(n_neighbors=neighbours + 1).fit(fit).kneighbors(fit, return_distance=False)
        smooth = _unit(fit[near].mean(axis=1))
    clusters = cut_tree(linkage(smooth.astype(np.float64), "ward"), n_clusters=k).ravel().astype(np.int64)
    member = np.zeros((k, fit.shape[0]), dtype=np.float32)
    member[clusters, np.arange(fit.shape[0])] = 1.0
    centres = _unit(member @ fit)
    if sample is None:
        return clusters, centres
    every = np.argmax(vectors @ centres.T, axis=1).astype(np.int64)
    every[sample] = clusters
    return every, centres
