"""QuantityBatch: products of many candidate books with a per-instrument matrix, checked against
the dense (candidates × instruments) computation."""

import numpy as np
import pytest
from scipy import sparse

from pmargin.margin.batch import QuantityBatch, long_contracts, short_contracts


@pytest.fixture
def batch():
    rng = np.random.default_rng(3)
    base = rng.normal(0, 5, (3, 7))
    base[:, 2] = 0.0  # an instrument no base holds
    rows = np.array([0, 1, 1, 4, 5, 5, 5])
    cols = np.array([2, 0, 3, 3, 1, 1, 6])  # (5, 1) twice: the changes add up
    data = rng.normal(0, 8, len(rows))
    change = sparse.csr_array((data, (rows, cols)), shape=(6, 7))
    return QuantityBatch(base, np.array([0, 0, 2, 1, 1, 2]), change)


def dense(batch):
    return batch.base[batch.book_of] + batch.change.toarray()


@pytest.mark.parametrize("shape", [(7,), (7, 4), (7, 2, 5)])
def test_products_equal_the_dense_ones(batch, shape):
    matrix = np.random.default_rng(5).normal(size=shape)
    q = dense(batch)
    flat = matrix.reshape(7, -1)
    for got, part in (
        (batch.dot(matrix), q),
        (batch.dot(matrix, long_contracts), np.maximum(q, 0)),
        (batch.dot(matrix, short_contracts), np.maximum(-q, 0)),
    ):
        expected = (part @ flat).reshape((6, *shape[1:]))
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_take_changed_instruments_and_other_bases(batch):
    part = batch.take(slice(1, 3))
    np.testing.assert_allclose(dense(part), dense(batch)[1:3])
    np.testing.assert_array_equal(batch.changed_instruments(), [0, 1, 2, 3, 6])
    moved = batch.with_base(batch.base - 1.0)
    np.testing.assert_allclose(dense(moved), dense(batch) - 1.0)


def test_grouped_products_equal_the_dense_ones(batch):
    rng = np.random.default_rng(7)
    matrix = rng.normal(size=(7, 3))
    group = np.array([2, 0, 2, 1, 0, 2, 1])
    q = dense(batch)
    for part in (lambda x: x, np.abs, short_contracts):
        got = batch.grouped_dot(matrix, group, 4, part)
        expected = np.zeros((6, 4, 3))
        for g in range(4):
            expected[:, g] = (part(q) * (group == g)) @ matrix
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_instrument_sums_of_a_nonlinear_amount(batch):
    scale = np.arange(1.0, 8.0)

    def amount(instrument, quantity):  # grows with size, 0 at 0
        return scale[instrument] * quantity**2

    expected = (dense(batch) ** 2 * scale).sum(axis=1)
    np.testing.assert_allclose(batch.instrument_sum(amount), expected, rtol=1e-12)


def test_a_batch_of_books_as_they_are():
    books = np.arange(6.0).reshape(2, 3)
    batch = QuantityBatch.of(books)
    np.testing.assert_array_equal(dense(batch), books)
    np.testing.assert_array_equal(dense(QuantityBatch.of(books[0])), books[:1])
