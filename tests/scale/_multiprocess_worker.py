"""One process of the two-process run of ``test_multiprocess.py`` (also the recipe's example).

Usage: ``python _multiprocess_worker.py PROCESS_ID COORDINATOR_PORT OUT_DIR``. Each process
exposes two CPU devices, so the global mesh has four. Every process holds the whole table
for the library calls (they place rows and members on the global mesh themselves), and
additionally builds a global row-sharded array from ONLY its own half of the rows with
``jax.make_array_from_process_local_data``; a checkpointed fit is interrupted and resumed
through a file in ``OUT_DIR``. Results go to ``OUT_DIR/process_<id>.npz``.
"""

import os
import sys

os.environ["JAX_PLATFORMS"] = "cpu"
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
process_id, port, out_dir = int(sys.argv[1]), sys.argv[2], sys.argv[3]
jax.distributed.initialize(
    f"localhost:{port}", num_processes=2, process_id=process_id, initialization_timeout=60
)

import numpy as np  # noqa: E402
from jax.sharding import NamedSharding, PartitionSpec  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "interpret"))
from _mixed_data import frame  # noqa: E402

from shallownet.devices import replicate, row_mesh, to_host  # noqa: E402
from shallownet.interpret.influence import expected_influence  # noqa: E402
from shallownet.interpret.sensitivity import sensitivity  # noqa: E402
from shallownet.models.network import member_probabilities  # noqa: E402
from shallownet.training import lbfgs, loop  # noqa: E402
from shallownet.training.estimator import ShallowNetClassifier  # noqa: E402


def problem():
    """The table and labels every process (and the single-process reference) uses."""
    X = frame(120, 0)
    y = (X["a"] + (X["g"] == "w") - X["flag"] > 1).to_numpy()
    return X, y


def fit(X, y, devices, max_iter=15, checkpoint=None):
    return ShallowNetClassifier(
        hidden_layer_sizes=(5, 4), n_members=4, max_iter=max_iter, n_iter_no_change=None,
        dtype="float64", random_state=0, devices=devices, checkpoint=checkpoint,
    ).fit(X, y)


def main():
    X, y = problem()
    clf = fit(X, y, "auto")
    W = clf.network_.params[0].W
    ei = expected_influence(clf, X, y, n_grid=11, chunk_size=50, devices="auto")
    sens = sensitivity(clf, X, chunk_size=50, devices="auto")

    # a checkpointed fit of 50 iterations (one chunk; process 0 writes the file in the shared
    # folder), then the same fit called again with 60: it resumes from the file and must end
    # as a 60-iteration fit in one process
    ckpt = os.path.join(out_dir, "fit.npz")
    fit(X, y, "auto", max_iter=50, checkpoint=ckpt)
    # (the default optimiser here is L-BFGS; either loop's resume is counted)
    resumes = []
    originals = {module: module._resume for module in (loop, lbfgs)}
    for module, original in originals.items():
        module._resume = lambda *args, _original=original: resumes.append(args[0]) or _original(*args)
    resumed = fit(X, y, "auto", max_iter=60, checkpoint=ckpt)
    for module, original in originals.items():
        module._resume = original
    uninterrupted = fit(X, y, "auto", max_iter=60)

    # per-process data: this process holds only its half of the encoded rows
    Z = clf.network_.encode(X)
    half = Z.shape[0] // 2
    mine = Z[process_id * half:(process_id + 1) * half]
    mesh = row_mesh("auto")
    x_global = jax.make_array_from_process_local_data(
        NamedSharding(mesh, PartitionSpec("rows")), mine
    )
    net = clf.network_
    local_proba = member_probabilities(
        replicate(net.params, mesh), x_global, net.activation, net.output
    )

    np.savez(
        os.path.join(out_dir, f"process_{process_id}.npz"),
        process_count=jax.process_count(),
        global_devices=len(jax.devices()),
        local_devices=len(jax.local_devices()),
        member_devices=len(W.sharding.device_set),
        member_split=not W.sharding.is_fully_replicated,
        x_global_shape=np.array(x_global.shape),
        x_global_addressable=x_global.is_fully_addressable,
        weights=np.concatenate([w.ravel() for w in net.weights()]),
        resumed_weights=np.concatenate([w.ravel() for w in resumed.network_.weights()]),
        uninterrupted_weights=np.concatenate([w.ravel() for w in uninterrupted.network_.weights()]),
        resumes=len(resumes),
        predict_proba=clf.predict_proba(X),
        expected=ei.expected,
        marginal=ei.marginal,
        soft=ei.soft,
        member_expected=ei.member_expected,
        predicted=ei.predicted,
        effects=sens.effects,
        local_proba=to_host(local_proba),
    )


if __name__ == "__main__":
    main()
