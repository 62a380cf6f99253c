"""Per-recording speaker-count rules tried against the fixed threshold (issue 26).

None of them is shipped: on the development conversations (``diarization_devset.py``)
each scored a worse mean DER and speaker count than ``emochat.voice.diarize``'s
fixed average-linkage threshold (BENCHMARKS.md, "Diarisation"). Kept so that the
comparison can be re-run (``bench_diarization.py --choose``) on other development data.

* NME-SC (Park et al. 2019, as NeMo uses it): min-max scaled cosine affinity, each row
  pruned to its p nearest others (binary, symmetrised), p up to 25 % of the points; the p
  whose largest eigengap of the graph Laplacian (over the first 8 eigenvalues, divided by
  the largest) is widest relative to p / n is kept; the count is where that gap lies.
* Silhouette-gated counts: partitions into k = 2 ... 8 (spectral on the NME affinity,
  NME's own k only, or average linkage), each refined by nearest centroid; the k with the
  highest mean silhouette (cosine distance) wins if that silhouette reaches a gate, else
  one speaker. The silhouette is a ratio of distances, so it adapts to how alike the
  recording's voices are overall.
* A relative threshold: the average-linkage cut at alpha times the recording's local
  scale (median over embeddings of the mean distance to their 3 nearest others), or the
  smaller of that and the fixed threshold.
* Within-recording centring: beta times the recording's duration-weighted mean embedding
  subtracted from every embedding (what a shared room, microphone and language put into
  all voices of one recording), renormalised, then the average-linkage cut at t. With one
  speaker the centred windows are all noise, with two they point apart, so the cut that
  keeps one speaker whole splits two only where beta is small.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from emochat.voice import diarize as dz

MAX_SPEAKERS = 8
MIN_POINTS = 6  # fewer embeddings: the fixed threshold decides
P_MAX_FRACTION = 0.25


def _laplacian_spectrum(affinity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = affinity.copy()
    np.fill_diagonal(a, 0.0)
    return np.linalg.eigh(np.diag(a.sum(1)) - a)


def _pruned(scaled: np.ndarray, p: int) -> np.ndarray:
    others = scaled.copy()
    np.fill_diagonal(others, -np.inf)  # a point's own affinity is not a neighbour
    p = min(p, len(scaled) - 1)
    top = np.argpartition(-others, p - 1, axis=1)[:, :p]
    binary = np.zeros_like(scaled)
    np.put_along_axis(binary, top, 1.0, axis=1)
    return 0.5 * (binary + binary.T)


def _p_values(n: int) -> list[int]:
    top = max(1, int(P_MAX_FRACTION * n))
    return sorted({int(round(v)) for v in np.linspace(1, top, min(top, 16))})


def nme_spectral(sim: np.ndarray, max_speakers: int = MAX_SPEAKERS) -> tuple[int, np.ndarray]:
    """(speaker count, pruned affinity) by the normalised maximum eigengap."""
    n = len(sim)
    lo, hi = float(sim.min()), float(sim.max())
    scaled = (sim - lo) / max(hi - lo, 1e-9)
    best = None
    for p in _p_values(n):
        aff = _pruned(scaled, p)
        lam = _laplacian_spectrum(aff)[0]
        gaps = np.diff(lam)[: max(1, min(max_speakers, n - 1))]
        k = int(np.argmax(gaps)) + 1
        ratio = (p / n) / (gaps[k - 1] / (lam[-1] + 1e-10) + 1e-10)
        if best is None or ratio < best[0]:
            best = (ratio, k, aff)
    return best[1], best[2]


def spectral_labels(affinity: np.ndarray, k: int) -> np.ndarray:
    if k <= 1:
        return np.zeros(len(affinity), np.int64)
    return _kmeans(_laplacian_spectrum(affinity)[1][:, :k], k)


def _kmeans(x: np.ndarray, k: int, n_init: int = 10, iters: int = 100) -> np.ndarray:
    """k-means++ with 10 seeded starts; the lowest inertia wins."""
    rng = np.random.default_rng(0)
    n = len(x)
    best = None
    for _ in range(n_init):
        cents = [x[rng.integers(n)]]
        for _ in range(1, k):
            d = np.min(((x[:, None, :] - np.asarray(cents)[None]) ** 2).sum(-1), axis=1)
            cents.append(x[rng.choice(n, p=d / d.sum())] if d.sum() > 0 else x[rng.integers(n)])
        c = np.asarray(cents)
        for _ in range(iters):
            lab = np.argmin(((x[:, None, :] - c[None]) ** 2).sum(-1), axis=1)
            new = np.array([x[lab == j].mean(0) if (lab == j).any() else c[j] for j in range(k)])
            if np.allclose(new, c):
                break
            c = new
        lab = np.argmin(((x[:, None, :] - c[None]) ** 2).sum(-1), axis=1)
        inertia = float(((x - c[lab]) ** 2).sum())
        if best is None or inertia < best[0] - 1e-12:
            best = (inertia, lab)
    return best[1]


def silhouette(sim: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette on cosine distance (a singleton scores 0; 0 for one cluster)."""
    labels = np.asarray(labels)
    ks = np.unique(labels)
    if len(ks) < 2:
        return 0.0
    dist = 1.0 - sim
    mean_to = np.stack([dist[:, labels == c].sum(1) for c in ks], axis=1)
    size = np.array([(labels == c).sum() for c in ks], np.float64)
    own = np.searchsorted(ks, labels)
    s = np.zeros(len(sim))
    for i in range(len(sim)):
        m = size[own[i]]
        if m <= 1:
            continue
        a = mean_to[i, own[i]] / (m - 1)
        b = min(mean_to[i, j] / size[j] for j in range(len(ks)) if j != own[i])
        s[i] = (b - a) / max(a, b, 1e-12)
    return float(s.mean())


def _finish(x: np.ndarray, w: np.ndarray, labels: np.ndarray) -> list[int]:
    labels = dz._absorb_small(x, w, labels)
    for _ in range(2):
        labels = np.argmax(x @ dz._centroids(x, w, labels).T, axis=1)
        labels = dz._absorb_small(x, w, labels)
    return dz._in_order(labels)


def nme_only(emb: np.ndarray, durations) -> list[int]:
    """NME-SC's own count (the eigengap, which may say 1), no further test."""
    if len(emb) < MIN_POINTS:
        return dz.cluster_speakers(emb, durations)
    x = dz._normalise(np.asarray(emb, np.float32))
    k, affinity = nme_spectral((x @ x.T).astype(np.float64))
    return dz._in_order(spectral_labels(affinity, k))


def silhouette_gated(emb: np.ndarray, durations, partition: str, gate: float) -> list[int]:
    """See the module's docstring; ``partition``: spectral, nme or ahc."""
    if len(emb) < MIN_POINTS:
        return dz.cluster_speakers(emb, durations)
    x = dz._normalise(np.asarray(emb, np.float32))
    w = np.asarray(durations, np.float64)
    sim = (x @ x.T).astype(np.float64)
    k_nme, affinity = nme_spectral(sim)
    tree = linkage(x.astype(np.float64), method="average", metric="cosine")

    def split(k: int) -> np.ndarray:
        if partition in ("spectral", "nme"):
            lab = spectral_labels(affinity, k)
        else:
            lab = fcluster(tree, t=k, criterion="maxclust") - 1
        for _ in range(2):
            refined = np.argmax(x @ dz._centroids(x, w, lab).T, axis=1)
            if len(np.unique(refined)) < k:
                break
            lab = refined
        return lab

    top = min(MAX_SPEAKERS, len(x) - 1)
    ks = range(2, top + 1) if partition != "nme" else [min(max(k_nme, 2), top)]
    best = (-np.inf, None)
    for k in ks:
        lab = split(k)
        score = silhouette(sim, lab)
        if score > best[0]:
            best = (score, lab)
    labels = best[1] if best[0] >= gate else np.zeros(len(x), np.int64)
    return _finish(x, w, labels)


def local_scale(emb: np.ndarray, m: int = 3) -> float:
    """Median over embeddings of the mean cosine distance to their m nearest others."""
    x = dz._normalise(np.asarray(emb, np.float32))
    d = 1.0 - x @ x.T
    np.fill_diagonal(d, np.inf)
    return float(np.median(np.sort(d, 1)[:, : min(m, len(x) - 1)].mean(1)))


def relative_threshold(emb: np.ndarray, durations, alpha: float, capped: bool) -> list[int]:
    if len(emb) < 2:
        return dz.cluster_speakers(emb, durations)
    t = alpha * local_scale(emb)
    return dz.cluster_speakers(emb, durations, threshold=min(t, dz.THRESHOLD) if capped else t)


def centred_threshold(emb: np.ndarray, durations, beta: float, t: float) -> list[int]:
    x = dz._normalise(np.asarray(emb, np.float32))
    w = np.asarray(durations, np.float64)
    centred = x - beta * (x * w[:, None]).sum(0) / w.sum()
    return dz.cluster_speakers(dz._normalise(centred.astype(np.float32)), durations, threshold=t)
