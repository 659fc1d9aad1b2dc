"""The 12-bit task: the closed-form rule reproduces the published labels bit for bit."""

import hashlib
import os

import numpy as np
import pytest

from shallownet.datasets import TwelveBitTask, twelve_bit_task
from shallownet.datasets.twelve_bit import VERTICES, twelve_bit_labels, twelve_bit_patterns

SHA256 = "8adbd792d6400d00410815b5a1f01b05b59f15fd41ace0db85c7772aa5cf4566"


def test_labels_match_the_published_file_bit_for_bit(shared_dir):
    with open(os.path.join(shared_dir, "data", "var_u_labels.txt")) as f:
        line = f.read().strip()
    assert hashlib.sha256(line.encode()).hexdigest() == SHA256
    task = twelve_bit_task()
    assert "".join(map(str, task.y.to_numpy())) == line


def test_patterns_are_binary_expansions_most_significant_bit_first():
    x = twelve_bit_patterns()
    assert x.shape == (4096, 12)
    assert x[1].tolist() == [0] * 11 + [1] and x[4095].tolist() == [1] * 12
    assert np.array_equal(x @ (2 ** np.arange(11, -1, -1)), np.arange(4096))


def test_vertices_form_a_regular_icosahedron():
    assert np.allclose(np.linalg.norm(VERTICES, axis=1), 1)
    dots = np.round(VERTICES @ VERTICES.T, 6)
    s = round(1 / np.sqrt(5), 6)
    assert set(np.unique(dots)) == {-1.0, -s, s, 1.0}
    assert np.all((dots == s).sum(axis=1) == 5)  # every vertex has 5 neighbours


def _rotation(axis, angle):
    axis = axis / np.linalg.norm(axis)
    K = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * K + (1 - np.cos(angle)) * K @ K


@pytest.mark.parametrize("vertex, turns", [(0, 1), (3, 2), (7, 1)])
def test_labels_are_invariant_under_the_icosahedron_rotations(vertex, turns):
    # A rotation by 72 degrees about a vertex axis maps vertices onto vertices: it permutes the
    # bits, and the rule must give every pattern the label of its permuted pattern.
    R = _rotation(VERTICES[vertex], turns * 2 * np.pi / 5)
    moved = VERTICES @ R.T
    perm = np.argmin(np.linalg.norm(moved[:, None, :] - VERTICES[None, :, :], axis=2), axis=1)
    assert sorted(perm) == list(range(12)) and not np.array_equal(perm, np.arange(12))
    x = twelve_bit_patterns()
    permuted = np.zeros_like(x)
    permuted[:, perm] = x
    assert np.array_equal(twelve_bit_labels(permuted), twelve_bit_labels(x))


def test_original_split_is_the_first_80_percent_unshuffled():
    task = twelve_bit_task()
    assert isinstance(task, TwelveBitTask)
    assert np.array_equal(task.train_index, np.arange(3276))
    assert np.array_equal(task.test_index, np.arange(3276, 4096))
    assert (task.X.iloc[task.test_index][["b0", "b1"]] == 1).all().all()
    assert task.ground_truth["H_Y_bits"] == pytest.approx(0.99916, abs=1e-5)
    assert task.y.sum() == 2118 and len(task.X_train) == 3276 and len(task.y_train) == 3276
    X, y = task
    assert X.shape == (4096, 12) and y.shape == (4096,)


def test_shuffled_split_is_seeded_and_a_partition():
    a = twelve_bit_task("shuffled", random_state=1)
    b = twelve_bit_task("shuffled", random_state=1)
    c = twelve_bit_task("shuffled", random_state=2)
    assert np.array_equal(a.train_index, b.train_index)
    assert not np.array_equal(a.train_index, c.train_index)
    both = np.concatenate([a.train_index, a.test_index])
    assert len(a.train_index) == 3276 and np.array_equal(np.sort(both), np.arange(4096))


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="`split` must be one of"):
        twelve_bit_task("random")
    with pytest.raises(ValueError, match="0/1 values"):
        twelve_bit_labels(np.full((2, 12), 2))
