"""Two ways to turn co-occurrence in sequences into one vector per song.

Both return a (len(vocab), dims) float32 matrix of unit rows, NaN for a song that shares no
window with another one (nothing was learned about it).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import svds

from spotify_assets.lib.colistening.contexts import Contexts

DIMS = 64
WINDOW = 5
SMOOTHING = 0.75  # context-distribution smoothing of PPMI (Levy, Goldberg & Dagan 2015)


def cooccurrence(contexts: Contexts, window: int = WINDOW) -> sparse.csr_matrix:
    """Symmetric counts of two songs within `window` positions of each other, each pair
    weighted by its sequence's weight / distance."""
    rows, cols, vals = [], [], []
    for seq, weight in zip(contexts.sequences, contexts.weights, strict=True):
        n = len(seq)
        for d in range(1, min(window, n - 1) + 1):
            a, b = seq[:-d], seq[d:]
            rows += [a, b]
            cols += [b, a]
            vals.append(np.full(2 * (n - d), weight / d))
    size = len(contexts.vocab)
    if not rows:
        return sparse.csr_matrix((size, size))
    matrix = sparse.coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(size, size)
    ).tocsr()
    matrix.setdiag(0)
    matrix.eliminate_zeros()
    return matrix


def _unit_rows(vectors: np.ndarray, seen: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    out = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    out[~seen | (norms[:, 0] == 0)] = np.nan
    return out.astype(np.float32)


def ppmi_svd(contexts: Contexts, dims: int = DIMS, window: int = WINDOW, seed: int = 0) -> np.ndarray:
    """Positive pointwise mutual information of the windowed counts, reduced to `dims` by a
    truncated SVD; a song's vector is its row of U·√Σ."""
    counts = cooccurrence(contexts, window)
    size = counts.shape[0]
    seen = np.asarray(counts.sum(axis=1)).ravel() > 0
    if seen.sum() < 3:
        return np.full((size, dims), np.nan, dtype=np.float32)
    total = counts.sum()
    row = np.asarray(counts.sum(axis=1)).ravel()
    col = np.asarray(counts.sum(axis=0)).ravel() ** SMOOTHING
    col = col / col.sum()
    coo = counts.tocoo()
    pmi = np.log(coo.data * 1.0 / (row[coo.row] / total) / col[coo.col] / total)
    keep = pmi > 0
    ppmi = sparse.csr_matrix((pmi[keep], (coo.row[keep], coo.col[keep])), shape=counts.shape)
    k = max(1, min(dims, min(ppmi.shape) - 1))
    u, s, _ = svds(ppmi, k=k, random_state=seed)
    vectors = u * np.sqrt(s)[None, :]
    if k < dims:
        vectors = np.pad(vectors, ((0, 0), (0, dims - k)))
    return _unit_rows(vectors, seen)


def skipgram(
    contexts: Contexts, dims: int = DIMS, window: int = WINDOW, seed: int = 0, epochs: int = 15
) -> np.ndarray:
    """Skip-gram word2vec (gensim) over the sequences, a sequence repeated in proportion to its
    weight (rounded, at least once)."""
    from gensim.models import Word2Vec

    sentences = []
    for seq, weight in zip(contexts.sequences, contexts.weights, strict=True):
        words = [str(i) for i in seq.tolist()]
        sentences += [words] * max(1, round(2 * weight))
    size = len(contexts.vocab)
    if not sentences:
        return np.full((size, dims), np.nan, dtype=np.float32)
    model = Word2Vec(
        sentences, vector_size=dims, window=window, min_count=1, sg=1, negative=10,
        sample=1e-3, epochs=epochs, seed=seed, workers=1,
    )  # fmt: skip
    vectors = np.zeros((size, dims), dtype=np.float64)
    seen = np.zeros(size, dtype=bool)
    for word, index in model.wv.key_to_index.items():
        vectors[int(word)] = model.wv.vectors[index]
        seen[int(word)] = True
    return _unit_rows(vectors, seen)


METHODS = {"ppmi_svd": ppmi_svd, "skipgram": skipgram}
