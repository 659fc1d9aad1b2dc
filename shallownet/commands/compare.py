"""``shallownet compare``: the network against logistic regression on held-out rows."""

from __future__ import annotations

import argparse
import json
import textwrap
import warnings

from ..results import to_jsonable
from . import devices_option
from .analyze import add_table_arguments, check_model_options, choose_task, encoding_options, load_table


def add_parser(sub) -> None:
    p = sub.add_parser(
        "compare", help="compare a network with logistic regression (or OLS for a numeric target) on a CSV",
        description="Train an ensemble and a logistic regression on the same variables and print "
                    "held-out metrics with paired bootstrap intervals, McNemar's and DeLong's tests; "
                    "for a numeric target (see --task) OLS instead, with RMSE, MAE and R^2, paired "
                    "bootstrap intervals and a paired t test of squared errors.",
    )
    p.add_argument("data", help="CSV file (delimiter inferred)")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON instead of a table")
    p.epilog = ("The text output opens with the conclusion in plain words (the report's first-screen wording), "
                "then the table; --json carries the same sentences as 'conclusion' and, for classes, the "
                "majority-class rate as 'majority_class' / 'majority_accuracy'.")
    add_table_arguments(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..analysis import check_baseline_rows, drop_identifiers, fit_baseline, split_table, unseen_rows, usable_rows
    from ..baselines import compare
    from ..report.conclusions import classification_conclusion, majority_rate
    from ..training import ShallowNetClassifier

    hidden = check_model_options(args)
    X, y, source, notes = load_table(args)
    task, reason = choose_task(y, args)
    notes += [reason] if reason else []
    if task == "regression":
        return run_regression(args, X, y, source, notes, hidden)
    keep = y.notna().to_numpy()
    X, y = X[keep], y[keep]
    options = encoding_options(args)
    X, id_notes = drop_identifiers(X, options.pop("keep"), [*(args.categorical or []), *(args.real or [])],
                                   options["na_values"])
    notes += id_notes
    X_train, X_test, y_train, y_test = split_table(X, y, args.test_size, args.seed)
    check_baseline_rows(X_train, y_train, args.cv, y.unique(), args.missing)  # before training, not after it
    model = ShallowNetClassifier(
        hidden_layer_sizes=hidden, activation=args.activation, n_members=args.members, max_iter=args.max_iter,
        optimizer=args.optimizer, categorical=args.categorical, constant="drop", random_state=args.seed,
        verbose=not args.quiet, devices=devices_option(args), **options,
    ).fit(X_train, y_train)
    tr = usable_rows(model, X_train)
    te = usable_rows(model, X_test)
    if (~te).any():
        notes.append(f"{int((~te).sum())} test rows the missing-value policy ({args.missing!r}, "
                     f"unknown={args.unknown!r}) cannot encode were left out of every held-out figure.")
    if (unseen_rows(model, X_test) & te).any():
        notes.append(f"{int((unseen_rows(model, X_test) & te).sum())} test rows with a category not seen in "
                     "training were scored with that variable as an all-zero one-hot row.")
    logistic, note = fit_baseline(X_train[tr], y_train[tr], model, args.seed, args.cv)
    notes += [note] if note else []
    result = compare(model, X_test[te], y_test[te], baseline=logistic, n_bootstrap=args.bootstrap,
                     random_state=args.seed)
    majority, majority_accuracy = majority_rate(model, X_train, y_train, X_test, y_test)
    conclusion = classification_conclusion(result, majority, majority_accuracy)
    if args.json:
        print(json.dumps({"source": source, "notes": notes, **result.to_dict(), "conclusion": conclusion,
                          "majority_class": to_jsonable(majority), "majority_accuracy": to_jsonable(majority_accuracy)},
                         indent=2))
    else:
        for n in notes:
            warnings.warn(n)
        print(_lead(conclusion, result.summary()))
    return 0


def _lead(conclusion: str, summary: str) -> str:
    """The conclusion (wrapped), a blank line, then the table."""
    return f"{textwrap.fill(conclusion, width=100)}\n\n{summary}"


def run_regression(args: argparse.Namespace, X, y, source: str, notes: list, hidden) -> int:
    """A numeric target: the network against OLS (RMSE, MAE, R^2, paired t test)."""
    from ..analysis_regression import compare_regression_split
    from ..report.conclusions import mean_prediction_rmse, regression_conclusion

    result, more, training_mean = compare_regression_split(
        X, y, test_size=args.test_size, n_bootstrap=args.bootstrap, random_state=args.seed,
        hidden_layer_sizes=hidden, activation=args.activation, n_members=args.members, max_iter=args.max_iter,
        optimizer=args.optimizer, categorical=args.categorical, verbose=not args.quiet,
        devices=devices_option(args), keep_columns=args.keep,
        **{k: v for k, v in encoding_options(args).items() if k != "keep"},
    )
    notes = notes + more
    conclusion = regression_conclusion(result, str(y.name), training_mean)
    if args.json:
        print(json.dumps({"source": source, "task": "regression", "notes": notes, **result.to_dict(),
                          "names": list(result.names), "n": len(result.y), "test": to_jsonable(result.test),
                          "conclusion": conclusion, "training_mean": training_mean,
                          "mean_prediction_rmse": mean_prediction_rmse(result, training_mean)}, indent=2))
    else:
        for n in notes:
            warnings.warn(n)
        print(_lead(conclusion, result.summary()))
    return 0
