"""LSA's decomposition: the exact leading singular subspace, whichever side is smaller."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from digest.ranking.features import leading_svd


@pytest.mark.parametrize("shape", [(40, 120), (120, 40)])
def test_leading_singular_values_and_vectors_match_a_full_svd(shape):
    matrix = sp.random(*shape, density=0.2, random_state=5, format="csr", dtype=np.float64)
    values, components = leading_svd(matrix, 10)
    _, full_values, full_vt = np.linalg.svd(matrix.toarray(), full_matrices=False)
    assert np.allclose(values, full_values[:10])
    # each vector equals the reference one up to its sign
    agreement = np.abs(np.sum(components * full_vt[:10], axis=1))
    assert np.allclose(agreement, 1.0)
