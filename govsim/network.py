"""The consumer social network.

Generated directly as a sparse adjacency matrix with numpy: networkx builds a 10^6-node graph
in minutes and gigabytes, while these vectorised generators take about a second. The same
generator runs at every scale, so changing ``consumers.count`` never changes the kind of
network. :func:`to_networkx` turns a sample of it into a networkx graph for drawing and
analysis.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
from scipy import sparse


def build(kind: str, n: int, degree: int, rewiring: float,
          rng: np.random.Generator) -> sparse.csr_array:
    """Build an undirected network as a symmetric CSR adjacency matrix.

    Args:
        kind: "small_world" (Watts-Strogatz), "scale_free" (Chung-Lu with power-law degrees)
            or "random" (Erdos-Renyi with the same mean degree).
        n: number of nodes.
        degree: mean degree.
        rewiring: small-world rewiring probability.
        rng: the model's generator.
    """
    degree = min(degree, n - 1)
    if kind == "small_world":
        src, dst = _ring(n, degree)
        rewire = rng.random(len(dst)) < rewiring
        dst[rewire] = rng.integers(0, n, int(rewire.sum()))
    elif kind == "random":
        m = n * degree // 2
        src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    elif kind == "scale_free":
        # Expected degrees from a power law (exponent ~2.5), mean scaled to `degree`.
        w = (1.0 - rng.random(n)) ** (-1.0 / 1.5)
        w *= degree / w.mean()
        m = int(w.sum() / 2)
        p = w / w.sum()
        src, dst = rng.choice(n, m, p=p), rng.choice(n, m, p=p)
    else:
        raise ValueError(f"unknown network kind {kind!r}")
    keep = src != dst
    src, dst = src[keep], dst[keep]
    # 32-bit ids where they fit: scipy then keeps 32-bit indices, half the memory to read
    # each month when word of mouth gathers the neighbours of the ill
    ids = np.int32 if n < 2**31 else np.int64
    rows = np.concatenate([src, dst]).astype(ids)
    cols = np.concatenate([dst, src]).astype(ids)
    data = np.ones(len(rows), dtype=np.float32)
    adj = sparse.csr_array((data, (rows, cols)), shape=(n, n))
    adj.sum_duplicates()
    adj.data[:] = 1.0  # duplicates collapse to one tie
    return adj


def _ring(n: int, degree: int) -> tuple[np.ndarray, np.ndarray]:
    half = max(degree // 2, 1)
    src = np.repeat(np.arange(n), half)
    dst = (src + np.tile(np.arange(1, half + 1), n)) % n
    return src, dst


def to_networkx(adj: sparse.csr_array, nodes: np.ndarray) -> nx.Graph:
    """The subgraph induced by ``nodes`` (ids kept), for drawing a readable sample."""
    nodes = np.asarray(nodes)
    sub = adj[nodes][:, nodes].tocoo()
    graph = nx.Graph()
    graph.add_nodes_from(int(v) for v in nodes)
    pairs = zip(sub.row, sub.col, strict=True)
    graph.add_edges_from((int(nodes[i]), int(nodes[j])) for i, j in pairs if i < j)
    return graph
