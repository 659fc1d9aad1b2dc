"""``shallownet compare``: the network against logistic regression on held-out rows."""

from __future__ import annotations

import argparse
import json
import warnings

from . import devices_option
from .analyze import add_table_arguments, check_model_options, load_table


def add_parser(sub) -> None:
    p = sub.add_parser(
        "compare", help="compare a network with logistic regression on a CSV",
        description="Train an ensemble and a logistic regression on the same variables and print "
                    "held-out metrics with paired bootstrap intervals, McNemar's and DeLong's tests.",
    )
    p.add_argument("data", help="CSV file (delimiter inferred)")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON instead of a table")
    add_table_arguments(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..analysis import check_baseline_rows, fit_baseline, split_table, usable_rows
    from ..baselines import compare
    from ..training import ShallowNetClassifier

    hidden = check_model_options(args)
    X, y, source, notes = load_table(args)
    keep = y.notna().to_numpy()
    X, y = X[keep], y[keep]
    X_train, X_test, y_train, y_test = split_table(X, y, args.test_size, args.seed)
    check_baseline_rows(X_train, y_train, args.cv, y.unique())  # before training, not after it
    model = ShallowNetClassifier(
        hidden_layer_sizes=hidden, activation=args.activation, n_members=args.members, max_iter=args.epochs,
        categorical=args.categorical, missing="drop", constant="drop", random_state=args.seed,
        verbose=not args.quiet, devices=devices_option(args),
    ).fit(X_train, y_train)
    tr = usable_rows(model, X_train)
    te = usable_rows(model, X_test)
    logistic, note = fit_baseline(X_train[tr], y_train[tr], model, args.seed, args.cv)
    notes += [note] if note else []
    result = compare(model, X_test[te], y_test[te], baseline=logistic, n_bootstrap=args.bootstrap,
                     random_state=args.seed)
    if args.json:
        print(json.dumps({"source": source, "notes": notes, **result.to_dict()}, indent=2))
    else:
        for n in notes:
            warnings.warn(n)
        print(result.summary())
    return 0
