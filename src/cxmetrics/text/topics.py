"""What customers write about: `discover(texts, k)` clusters short texts into topics, names each
by its distinctive words and one representative example, and `Topics.assign(new_texts)` puts
new texts into those topics (docs/text.md, issue 13 items 1 and 6).

The light default needs only scikit-learn (`pip install 'cxmetrics[text]'`): word (1-2 gram)
and character (2-5 gram) TF-IDF with sublinear term frequency and English stop words, reduced
by SVD to 100 dimensions (LSA) and L2-normalised, then k-means (10 starts, fixed seed).
Measured on BANKING77 (3,080 queries, 77 intents, k=77): NMI 0.67, ARI 0.31, against 0.57-0.61 / 0.23
for plain word TF-IDF + SVD + k-means (bench/text_topics_eval.py). `method="minilm"` clusters
sentence embeddings instead (text/_topics_minilm.py; `pip install 'cxmetrics[embeddings]'`):
NMI 0.830, ARI 0.564, and slower (bench/text/topics_quality.py).

>>> found = discover(["I lost my card", "my card was stolen", "lost card, please block it",
...                   "I want a refund", "refund my payment please", "when will the refund arrive"], k=2)
>>> found.labels
[0, 0, 0, 1, 1, 1]
>>> [topic.words[0] for topic in found.topics]
['card', 'refund']
>>> found.assign(["my card is lost", "a refund please"])
[0, 1]
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cxmetrics.errors import MissingDependencyError, UserError

__all__ = ["AUTO_K_MAX", "METHODS", "Topic", "Topics", "discover"]

#: how texts become vectors: "tfidf" (the light default, scikit-learn only) or "minilm" (sentence
#: embeddings, `pip install 'cxmetrics[embeddings]'`, text/_topics_minilm.py)
METHODS = ("tfidf", "minilm")

#: --auto tries k up to this many topics (fewer for small corpora: a third of the texts)
AUTO_K_MAX = 200
#: --auto takes the smallest k whose silhouette is within this share of the best one
AUTO_TOLERANCE = 0.02
_DIMENSIONS = 100  # SVD size: measured 50-300 on BANKING77, 100 was best (NMI 0.67 vs 0.66 at 200/300)
_AUTO_FIT_SAMPLE = 10_000  # --auto fits its candidate k on at most this many texts ...
_AUTO_SCORE_SAMPLE = 4_000  # ... and scores the silhouette on at most this many
# links and @handles say where or to whom, not what about: on the airline tweets they made
# topics of airlines instead of complaints (NMI 0.13 -> 0.19 against the complaint reasons)
_NOT_TOPICAL = re.compile(r"https?://\S+|www\.\S+|@\w+")
# what the word pattern leaves of English contractions ("I've" -> "ve"): no topic in them
_CONTRACTIONS = ("ve", "ll", "re", "don", "didn", "doesn", "isn", "wasn", "aren", "haven", "hasn", "won", "wouldn",
                 "couldn", "shouldn", "im", "ive", "dont", "cant")
_WORDS = 5  # distinctive words kept per topic (the name shows the first three)
# each vectoriser keeps at most this many terms, the most frequent: this bounds a model kept in a
# workspace (SVD components 100 x 80,000 float32: 32 MB at most) and the memory at 100k texts;
# cutting BANKING77's and the airline tweets' terms by half moved NMI by under 0.006
_MAX_WORDS = 40_000
_MAX_CHARS = 40_000
_FORMAT = "cxmetrics-topics/1"  # the layout of Topics.to_bytes(); from_bytes() refuses any other


@dataclass(frozen=True)
class Topic:
    """One discovered topic: `id` (0 is the largest), a `name` made of its most distinctive
    `words`, its `size` (texts in it) and the text nearest its centre as `example`."""

    id: int
    name: str
    words: tuple[str, ...]
    size: int
    example: str


@dataclass(frozen=True)
class Topics:
    """The result of `discover`: the `topics`, one topic id per input text in `labels` (input
    order), the `k` used, the `seed`, and for --auto the silhouette of each k tried."""

    topics: tuple[Topic, ...]
    labels: list[int]
    k: int
    seed: int
    silhouettes: dict[int, float] = field(default_factory=dict)
    _model: Any = field(default=None, repr=False, compare=False)

    def assign(self, texts: Sequence[str | None]) -> list[int]:
        """The topic id of each new text (its nearest topic centre), in input order; the topics
        themselves do not change (re-run `discover` to re-cluster)."""
        clean = _texts(texts, allow_empty=True)
        if not clean:
            return []
        return self._model.assign(clean)

    def to_bytes(self) -> bytes:
        """The topics and the fitted model as bytes (numpy's .npz: one JSON document and
        number arrays, never a pickle, so loading bytes from elsewhere cannot run code).
        `Topics.from_bytes` gives back topics that `assign` texts exactly as these do; the
        `labels` of the texts clustered are not kept."""
        meta, arrays = self._model.state()
        meta.update(format=_FORMAT, k=self.k, seed=self.seed, silhouettes=self.silhouettes,
                    topics=[{"id": t.id, "name": t.name, "words": list(t.words), "size": t.size,
                             "example": t.example} for t in self.topics])
        buffer = io.BytesIO()
        np.savez_compressed(buffer, meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8), **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Topics:
        """Topics saved by `to_bytes` (labels empty). Needs scikit-learn, as `assign` does."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as saved:
                arrays = {name: saved[name] for name in saved.files}
            meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
        except (OSError, ValueError, KeyError) as exc:
            raise UserError(f"these bytes are not a saved topic model ({exc}).") from exc
        if meta.get("format") != _FORMAT:
            raise UserError(f"a topic model saved as {meta.get('format')!r} cannot be read by this cxmetrics, which "
                            f"reads {_FORMAT!r}: discover the topics again (cxmetrics topics discover --refit).")
        topics = tuple(Topic(t["id"], t["name"], tuple(t["words"]), t["size"], t["example"]) for t in meta["topics"])
        silhouettes = {int(k): v for k, v in meta["silhouettes"].items()}
        if meta.get("method") == "minilm":
            from cxmetrics.text._topics_minilm import MiniLMModel

            return cls(topics, [], meta["k"], meta["seed"], silhouettes, MiniLMModel.restore(meta, arrays))
        return cls(topics, [], meta["k"], meta["seed"], silhouettes, _Model.restore(meta, arrays))


def _sklearn() -> Any:
    try:
        import sklearn
    except ImportError as exc:
        raise MissingDependencyError("topic discovery needs scikit-learn, which the base install leaves out: "
                                     "pip install 'cxmetrics[text]'") from exc
    return sklearn


def _texts(texts: Sequence[str | None], *, allow_empty: bool = False) -> list[str]:
    if isinstance(texts, str):  # a lone string would be read as one text per character
        raise UserError("topics take a list of texts; wrap a single text in a list: [text].")
    clean = ["" if t is None else str(t).strip() for t in texts]
    if not clean and not allow_empty:
        raise UserError("no texts to cluster: discover() needs at least two texts.")
    return clean


class _Model:
    """The fitted pipeline: vectorisers, SVD, and the topic centres (unit vectors)."""

    def __init__(self, n: int, seed: int) -> None:
        _sklearn()
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        # a term must appear twice to count on real corpora; tiny ones keep every term
        min_df = 2 if n >= 200 else 1
        self.words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words=_stop_words(), min_df=min_df,
                                     max_features=_MAX_WORDS)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=min_df,
                                     max_features=_MAX_CHARS)
        self.svd: TruncatedSVD | None = None
        # the SVD's components, transposed, in float32: new texts are projected with these, in
        # memory as after a save and load, so a kept model assigns exactly as the fitted one
        self.projection: np.ndarray | None = None
        self.seed = seed
        self.centres: np.ndarray = np.empty((0, 0))
        self.topic_of_cluster: np.ndarray = np.empty(0, dtype=np.int64)

    def fit_vectors(self, texts: list[str]) -> tuple[Any, np.ndarray]:
        """(word TF-IDF matrix, unit LSA vectors) of the corpus."""
        from scipy.sparse import hstack
        from sklearn.decomposition import TruncatedSVD

        texts = [_NOT_TOPICAL.sub(" ", t) for t in texts]
        try:
            words = self.words.fit_transform(texts)
        except ValueError:  # only stop words or no words at all: the characters still say something
            self.words = None
            words = None
        try:
            chars = self.chars.fit_transform(texts)
        except ValueError as exc:
            raise UserError("the texts hold no words to cluster (all empty).") from exc
        joined = hstack([m for m in (words, chars) if m is not None]).tocsr()
        dims = min(_DIMENSIONS, joined.shape[0] - 1, joined.shape[1] - 1)
        if dims >= 2:
            self.svd = TruncatedSVD(dims, random_state=self.seed)
            reduced = self.svd.fit_transform(joined)
            self.projection = np.ascontiguousarray(self.svd.components_.T, dtype=np.float32)
        else:
            reduced = joined.toarray()
        return words, _unit(reduced)

    def vectors(self, texts: list[str]) -> np.ndarray:
        from scipy.sparse import hstack

        texts = [_NOT_TOPICAL.sub(" ", t) for t in texts]
        parts = [v.transform(texts) for v in (self.words, self.chars) if v is not None]
        joined = hstack(parts).tocsr()
        return _unit(joined @ self.projection if self.projection is not None else joined.toarray())

    def assign(self, texts: list[str]) -> list[int]:
        # nearest centre by cosine (the vectors and centres are unit length)
        nearest = np.argmax(self.vectors(texts) @ self.centres.T, axis=1)
        return self.topic_of_cluster[nearest].tolist()

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """What `restore` needs, as JSON (the vectorisers' settings and vocabularies) and arrays."""
        meta: dict[str, Any] = {"method": "tfidf", "not_topical": _NOT_TOPICAL.pattern}
        arrays = {"centres": self.centres, "topic_of_cluster": self.topic_of_cluster}
        for name in ("words", "chars"):
            vectoriser = getattr(self, name)
            if vectoriser is None:
                meta[name] = None
                continue
            params = vectoriser.get_params()
            # fitted: vocabulary_; read back and not used yet: the fixed vocabulary it was given
            terms = getattr(vectoriser, "vocabulary_", None) or params["vocabulary"]
            vocabulary = sorted(terms, key=terms.__getitem__)
            meta[name] = {"vocabulary": vocabulary, "analyzer": params["analyzer"],
                          "ngram_range": list(params["ngram_range"]), "sublinear_tf": params["sublinear_tf"],
                          "stop_words": params["stop_words"], "lowercase": params["lowercase"],
                          "token_pattern": params["token_pattern"]}
            arrays[f"{name}_idf"] = vectoriser.idf_
        if self.projection is not None:
            arrays["projection"] = self.projection
        return meta, arrays

    @classmethod
    def restore(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> _Model:
        """The model `state` described: vectorisers with their fixed vocabularies and weights."""
        _sklearn()
        from sklearn.feature_extraction.text import TfidfVectorizer

        if meta.get("method", "tfidf") != "tfidf" or meta.get("not_topical") != _NOT_TOPICAL.pattern:
            raise UserError("this topic model was made by another version of cxmetrics: discover the topics again "
                            "(cxmetrics topics discover --refit).")
        model = cls.__new__(cls)
        for name in ("words", "chars"):
            saved = meta[name]
            if saved is None:
                setattr(model, name, None)
                continue
            vectoriser = TfidfVectorizer(
                analyzer=saved["analyzer"], ngram_range=tuple(saved["ngram_range"]),
                sublinear_tf=saved["sublinear_tf"], stop_words=saved["stop_words"], lowercase=saved["lowercase"],
                token_pattern=saved["token_pattern"], vocabulary={t: i for i, t in enumerate(saved["vocabulary"])})
            vectoriser.idf_ = arrays[f"{name}_idf"]
            setattr(model, name, vectoriser)
        model.svd = None
        model.projection = arrays.get("projection")
        model.seed = int(meta["seed"])
        model.centres = arrays["centres"]
        model.topic_of_cluster = arrays["topic_of_cluster"]
        return model


def _stop_words() -> list[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return sorted(ENGLISH_STOP_WORDS | set(_CONTRACTIONS))


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


def _kmeans(vectors: np.ndarray, k: int, seed: int, starts: int = 10) -> Any:
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, n_init=starts, random_state=seed).fit(vectors)


def _auto_k(vectors: np.ndarray, seed: int) -> tuple[int, dict[int, float]]:
    """The number of topics: k-means for k on a geometric grid from 2 to AUTO_K_MAX (a third
    of the texts for small corpora), each scored by its cosine silhouette; the smallest k
    within AUTO_TOLERANCE of the best silhouette wins (past the best k the silhouette is flat
    and larger k only splits topics)."""
    from sklearn.metrics import silhouette_score

    n = vectors.shape[0]
    rng = np.random.default_rng(seed)
    fit = vectors[np.sort(rng.choice(n, _AUTO_FIT_SAMPLE, replace=False))] if n > _AUTO_FIT_SAMPLE else vectors
    k_max = max(2, min(AUTO_K_MAX, fit.shape[0] // 3))
    grid = sorted({int(round(k)) for k in np.geomspace(2, k_max, 20)} & set(range(2, fit.shape[0])))
    if not grid:
        return 1, {}
    scores: dict[int, float] = {}
    for k in grid:
        labels = _kmeans(fit, k, seed, starts=3).labels_
        if len(set(labels.tolist())) < 2:
            continue
        sample = min(_AUTO_SCORE_SAMPLE, fit.shape[0])
        scores[k] = float(silhouette_score(fit, labels, metric="cosine", sample_size=sample, random_state=seed))
    if not scores:
        return 1, {}
    best = max(scores.values())
    return min(k for k, s in scores.items() if s >= best - AUTO_TOLERANCE * abs(best)), scores


def _distinctive_words(words: Any, vocabulary: np.ndarray, clusters: np.ndarray, k: int) -> list[tuple[str, ...]]:
    """Per cluster, the terms whose mean TF-IDF in the cluster most exceeds their mean in the
    rest of the corpus; a term is skipped when the terms already chosen hold all its words."""
    from scipy.sparse import csr_matrix

    n = words.shape[0]
    member = csr_matrix((np.ones(n), (clusters, np.arange(n))), shape=(k, n))
    sums = np.asarray((member @ words).todense())
    sizes = np.bincount(clusters, minlength=k).astype(float)[:, None]
    inside = sums / np.maximum(sizes, 1)
    outside = (sums.sum(axis=0, keepdims=True) - sums) / np.maximum(n - sizes, 1)
    lift = inside - outside
    named: list[tuple[str, ...]] = []
    for c in range(k):
        chosen: list[str] = []
        seen: set[str] = set()
        for term in np.argsort(-lift[c], kind="stable")[: _WORDS * 4]:
            if lift[c, term] <= 0 or len(chosen) == _WORDS:
                break
            parts = set(vocabulary[term].split())
            if parts <= seen:
                continue
            chosen.append(str(vocabulary[term]))
            seen |= parts
        named.append(tuple(chosen))
    return named


def discover(texts: Sequence[str | None], k: int | None = None, seed: int = 0, method: str = "tfidf") -> Topics:
    """Cluster `texts` into `k` topics (k=None picks k itself, see `_auto_k`); the same texts
    and seed give the same topics. Needs `pip install 'cxmetrics[text]'`; `method="minilm"`
    clusters sentence embeddings instead of TF-IDF (better, slower; `cxmetrics[embeddings]`)."""
    if method not in METHODS:
        raise UserError(f"method={method!r} is not a topic method: give one of {', '.join(map(repr, METHODS))}.")
    clean = _texts(texts)
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
        raise UserError(f"k={k!r} is not a number of topics: give a whole number of at least 1, or k=None to pick it.")
    if k is not None and k > len(clean):
        raise UserError(f"k={k} topics asked for {len(clean)} texts: give k at most {len(clean)}.")
    model: Any = _Model(len(clean), seed)
    embedded = None
    if method == "minilm":  # embeddings first: a missing extra fails before any other work
        from cxmetrics.text._topics_minilm import MiniLMModel

        embedder = MiniLMModel(seed)
        embedded = embedder.fit_vectors(clean)
    # TF-IDF also for minilm: its words name the topics, and --auto picks k on its vectors (the
    # embeddings' silhouette is flat from 60 to 200 topics on BANKING77, see docs/text.md)
    words, vectors = model.fit_vectors(clean)
    distinct = np.unique(vectors.round(8), axis=0).shape[0]
    if k is not None and k > distinct:
        raise UserError(f"k={k} topics asked for {distinct} distinct texts: give k at most {distinct}.")
    silhouettes: dict[int, float] = {}
    if k is None:
        k, silhouettes = _auto_k(vectors, seed)
    words_model = model
    if embedded is not None:
        from cxmetrics.text._topics_minilm import ward_topics

        clusters, centres = ward_topics(embedded, k, seed)
        vectors, model = embedded, embedder
    else:
        fitted = _kmeans(vectors, k, seed)
        clusters = fitted.labels_.astype(np.int64)
        centres = _unit(fitted.cluster_centers_)
    sizes = np.bincount(clusters, minlength=k)
    # topic ids by size, largest first (ties: the topic whose first text comes first)
    first = np.array([np.flatnonzero(clusters == c)[0] if sizes[c] else len(clean) for c in range(k)])
    order = np.lexsort((first, -sizes))
    topic_of_cluster = np.empty(k, dtype=np.int64)
    topic_of_cluster[order] = np.arange(k)
    model.centres, model.topic_of_cluster = centres, topic_of_cluster
    if words is not None:
        terms = _distinctive_words(words, words_model.words.get_feature_names_out(), clusters, k)
    else:
        terms = [()] * k
    similarity = np.einsum("ij,ij->i", vectors, centres[clusters])
    topics = []
    for c in order:
        members = np.flatnonzero(clusters == c)
        example = clean[members[np.argmax(similarity[members])]] if len(members) else ""
        name = " / ".join(terms[c][:3]) or example[:40]
        topics.append(Topic(int(topic_of_cluster[c]), name, terms[c], int(sizes[c]), example))
    labels = topic_of_cluster[clusters].tolist()
    return Topics(tuple(topics), labels, k, seed, silhouettes, model)
