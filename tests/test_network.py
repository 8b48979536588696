"""The consumer network and word of mouth."""

from __future__ import annotations

import numpy as np
import pytest

from govsim import network
from govsim.model import GovernanceModel
from govsim.phases import consumers


@pytest.mark.parametrize("kind", ["small_world", "scale_free", "random"])
def test_networks_are_symmetric_without_self_ties_with_the_mean_degree(kind):
    adj = network.build(kind, 5_000, 8, 0.1, np.random.default_rng(1))
    assert (adj != adj.T).nnz == 0
    assert adj.diagonal().sum() == 0
    assert 6.5 <= adj.sum() / 5_000 <= 8.5


def test_word_of_mouth_reaches_exactly_the_neighbours_of_the_ill(small):
    model = GovernanceModel(small, seed=1)
    c = model.consumers
    ill = np.sort(model.rng.choice(c.count, 40, replace=False))
    trust_before = c.trust.copy()
    consumers._word_of_mouth(model, ill)
    expected = c.neighbours @ np.isin(np.arange(c.count), ill).astype(np.float32)
    lowered = np.flatnonzero(c.trust < trust_before)
    assert set(lowered) == set(np.flatnonzero(expected > 0)) | set(ill)


def test_sampled_subgraph_keeps_ids_and_ties(small):
    model = GovernanceModel(small, seed=1)
    nodes = np.arange(0, 300)
    graph = network.to_networkx(model.consumers.neighbours, nodes)
    assert set(graph.nodes) == set(range(300))
    for u, v in list(graph.edges)[:50]:
        assert model.consumers.neighbours[u, v] == 1
