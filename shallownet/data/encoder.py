"""Encoding user data (DataFrame or array) into the [0, 1] matrix a network sees.

Policies (each raises a clear error or reports what it did; nothing is silently changed):

* missing values (NaN, None, and the text tokens of ``na_values``, see
  :mod:`shallownet.data.screening`): ``missing="error"`` (the library default) raises, naming
  the columns and counts; ``missing="drop"`` drops those rows at fit time and reports how many
  (``n_dropped_rows_`` and a :class:`DataWarning`); ``missing="indicator"`` keeps every row: a
  real variable with missing values is filled with its training median (``fill="mean"``: the
  mean) and gains a missingness-indicator column, the pair being ONE variable; an enumerated
  or binary variable with missing values gains the category ``"missing"``. The fill values
  and which columns may be missing are learned at fit time and applied identically at
  transform time (see :meth:`Encoder.transform` for a column missing only later, and
  ``theory/missing-data.md`` for why ``"error"`` stays the library default: imputing is a
  modelling choice the user should make, and state).
* categories not seen in training: an error naming the column and the values
  (``unknown="error"``), or an all-zero one-hot row, counted and reported
  (``unknown="ignore"``).
* real values outside the training range at transform time: kept as they are (the encoded
  value falls outside [0, 1]), counted per variable and reported with an
  :class:`OutOfRangeWarning`; :meth:`Encoder.out_of_range` returns the counts.
* constant columns: ``constant="error"`` (default) raises; ``constant="drop"`` drops the
  column and reports it (``dropped_columns_`` and a :class:`DataWarning`); when such a column
  takes other values at transform time, a :class:`DataWarning` says the model ignores them.
* non-numeric values in a real column, or a text column numeric apart from a few values: an
  error naming the column, the offending values with their counts, and the fixes.
* columns overflowing float64 when scaled (``max - min`` infinite), dates, durations, ISO
  date strings (unless declared categorical) and complex numbers: an error naming the
  column and the remedy.
* identifier-like columns (:func:`shallownet.data.screening.identifier_reason`): a
  :class:`DataWarning`; they are still encoded (the command line drops them).
"""

from __future__ import annotations

import re
import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .._validation import check_one_of
from .screening import (
    check_na_values,
    identifier_reason,
    numeric_text,
    offending_message,
    replace_tokens,
)
from .variables import Variable

MISSING_POLICIES = ("error", "drop", "indicator")
"""Values of ``missing=`` (module docstring)."""

MISSING_LABEL = "missing"
"""The category an enumerated variable gains for its missing values under ``"indicator"``."""


class DataWarning(UserWarning):
    """Rows or columns were dropped on the user's request; the message says which."""


class OutOfRangeWarning(UserWarning):
    """Real values fell outside the training range; they were kept unclipped."""


def _as_frame(X: Any) -> tuple[pd.DataFrame, bool]:
    """Return ``X`` as a DataFrame and whether it came as one (else columns are x0, x1, ...)."""
    if isinstance(X, pd.DataFrame):
        if not all(isinstance(c, str) for c in X.columns):
            X = X.rename(columns=str)
        return X, True
    if isinstance(X, pd.Series):
        raise ValueError("`X` must be 2-D. Got a pandas Series; use X.to_frame().")
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(
            f"`X` must be 2-D (n_samples, n_features). Got shape {arr.shape} instead. "
            "Reshape a single feature with X.reshape(-1, 1)."
        )
    return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])]), False


def _resolve_columns(names: Sequence[Any] | None, frame: pd.DataFrame, arg: str) -> list[str]:
    """Column names (or integer positions for arrays) declared by the user, as names."""
    if names is None:
        return []
    if isinstance(names, (str, int)):
        names = [names]
    out = []
    for n in names:
        if isinstance(n, (int, np.integer)) and n not in frame.columns:
            if not 0 <= n < frame.shape[1]:
                raise ValueError(
                    f"`{arg}` names column position {n}, but X has {frame.shape[1]} columns."
                )
            out.append(frame.columns[n])
        elif n in frame.columns:
            out.append(n)
        else:
            raise ValueError(
                f"`{arg}` names column {n!r}, which is not in X. Columns: {list(frame.columns)}."
            )
    return out


def _numeric_or_raise(series: pd.Series, name: str) -> np.ndarray:
    """Convert a real column to float (NaN where missing), or raise naming the column and the
    values that are not numbers, with their counts and the fixes."""
    if series.dtype.kind in "biuf":
        return series.to_numpy(dtype=float)
    converted = pd.to_numeric(series, errors="coerce")
    bad = series[converted.isna() & series.notna()]
    if len(bad):
        counts = bad.astype(str).value_counts()
        raise ValueError(offending_message(name, {str(k): int(n) for k, n in counts.items()}, True))
    return converted.to_numpy(dtype=float)


def _refuse_dates_and_complex(series: pd.Series, name, declared: bool) -> None:
    """Dates, durations and complex numbers have no encoding here (one-hot encoding them, as
    their dtype would otherwise lead to, makes one column per distinct value): refuse them,
    naming the column and the remedy. Date strings (ISO 8601) in a text column are refused
    unless the column is declared categorical."""
    dtype = series.dtype
    present = series.dropna()
    kind = dtype.kind
    if kind == "O" and len(present):
        kinds = set(present.map(type))
        if kinds <= {pd.Timestamp, np.datetime64} or all(hasattr(v, "isoformat") for v in present):
            kind = "M"
        elif kinds <= {complex, np.complex64, np.complex128}:
            kind = "c"
        elif not declared and kinds == {str}:
            iso = r"\d{4}-\d{2}-\d{2}"
            looks = re.match(iso, present.iloc[0]) is not None and present.str.match(iso).all()
            if looks and pd.to_datetime(present, errors="coerce", format="ISO8601").notna().all():
                raise ValueError(
                    f"Column {name!r} holds dates (e.g. {present.iloc[0]!r}), which would become "
                    "one enumerated category per distinct date. Convert it to a number (e.g. "
                    "days since the first date) or to coarser categories (month, weekday), drop "
                    "it, or declare it categorical=[...] to keep the dates as categories."
                )
    if kind in "Mm":
        what = "durations (timedelta)" if kind == "m" else "dates/times (datetime)"
        raise ValueError(
            f"Column {name!r} holds {what}, which shallownet does not encode. Convert it to a "
            "number first (e.g. (X[col] - X[col].min()).dt.days, or .dt.total_seconds() for "
            "durations) or to categories (month, weekday), or drop it."
        )
    if kind == "c":
        raise ValueError(
            f"Column {name!r} holds complex numbers, which shallownet does not encode. Split it "
            "into two real columns (np.real and np.imag, or abs and angle), or drop it."
        )


class Encoder:
    """Learn variables from training data and encode any data the same way.

    Parameters
    ----------
    categorical : list of column names (or positions for arrays), optional
        Columns to treat as enumerated even if numeric. Object, string, categorical and
        boolean columns of a DataFrame are inferred as enumerated (booleans as ``binary``);
        a text column whose every present cell is a number is read as real.
    real : list of column names (or positions), optional
        Columns to treat as real even if inference would say otherwise; missing-value tokens
        in them are missing values, any other non-numeric value is an error.
    missing : {"error", "drop", "indicator"}
        What to do with missing values (NaN, None, and the tokens of ``na_values``) at fit
        time: raise, drop the rows (reported), or keep every row: a real variable with missing
        values is filled with ``fill`` and gains a missingness-indicator column (the two form
        one variable), an enumerated or binary one gains the category ``"missing"``.
    constant : {"error", "drop"}
        What to do with columns that take a single value in the training data.
    fill : {"median", "mean"}
        Fill value of a real variable under ``missing="indicator"``, from its training values.
    unknown : {"error", "ignore"}
        Categories not seen in training at transform time: raise, or encode the variable as
        an all-zero one-hot row (counted and reported with a :class:`DataWarning`).
    na_values : list of str, optional
        Text cells read as missing (after stripping blanks); default
        :data:`shallownet.data.screening.NA_VALUES`. Pass ``[]`` to read none.

    Attributes
    ----------
    variables_ : tuple of Variable
        The variables, in encoded-column order.
    feature_names_in_ : ndarray of str
        Column names of the training data (``x0, x1, ...`` for arrays).
    n_dropped_rows_ : int
        Rows dropped for missing values (``missing="drop"``).
    kept_rows_ : ndarray of bool
        Training rows kept by the missing-value policy.
    dropped_columns_ : list of str
        Constant columns dropped (``constant="drop"``).
    missing_counts_ : dict
        ``{column: number of missing cells}`` in the training data (tokens included).
    missing_tokens_ : dict
        ``{column: {token: count}}`` of the missing-value tokens read as missing.
    fill_values_ : dict
        ``{column: raw fill value}`` of every real variable (``missing="indicator"``).
    missing_categories_ : dict
        ``{column: "missing"}`` for the enumerated variables that gained a missing category.
    identifier_columns_ : dict
        ``{column: reason}`` of the columns that look like identifiers (warned, still encoded).
    """

    def __init__(self, categorical=None, real=None, missing="error", constant="error", fill="median",
                 unknown="error", na_values=None):
        self.categorical = categorical
        self.real = real
        self.missing = missing
        self.constant = constant
        self.fill = fill
        self.unknown = unknown
        self.na_values = na_values

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, X: Any) -> "Encoder":
        """Learn the variables, ranges and categories of ``X``. Returns ``self``."""
        self.fit_transform(X)
        return self

    def fit_transform(self, X: Any) -> np.ndarray:
        """Fit and return the encoded matrix of the rows kept (see :attr:`kept_rows_`)."""
        check_one_of("missing", self.missing, MISSING_POLICIES)
        check_one_of("constant", self.constant, ("error", "drop"))
        check_one_of("fill", self.fill, ("median", "mean"))
        check_one_of("unknown", self.unknown, ("error", "ignore"))
        self._na_values = check_na_values(self.na_values)
        frame, is_frame = _as_frame(X)
        if frame.shape[0] == 0:
            raise ValueError("`X` has no rows.")
        if frame.shape[1] == 0:
            raise ValueError("`X` has no columns.")
        if frame.columns.duplicated().any():
            dup = list(frame.columns[frame.columns.duplicated()])
            raise ValueError(f"`X` has duplicated column names: {dup}.")
        declared_cat = _resolve_columns(self.categorical, frame, "categorical")
        declared_real = _resolve_columns(self.real, frame, "real")
        both = set(declared_cat) & set(declared_real)
        if both:
            raise ValueError(f"Columns {sorted(map(str, both))} are declared both real and categorical.")

        frame, self.missing_tokens_ = replace_tokens(frame, self._na_values)
        na = frame.isna()
        counts = {str(c): int(n) for c, n in na.sum().items() if n}
        self.missing_counts_ = counts
        keep = np.ones(len(frame), dtype=bool)
        if counts and self.missing == "error":
            tokens = f" Tokens read as missing: {self.missing_tokens_}." if self.missing_tokens_ else ""
            raise ValueError(
                f"`X` has missing values (NaN): {counts} (column: count).{tokens} Clean them, or pass "
                "missing='indicator' (fill plus a missingness indicator, every row kept) or "
                "missing='drop' (drop those rows; the number dropped is reported)."
            )
        if counts and self.missing == "drop":
            keep = ~na.any(axis=1).to_numpy()
            warnings.warn(
                f"Dropped {int((~keep).sum())} of {len(frame)} rows with missing values {counts}.",
                DataWarning,
                stacklevel=2,
            )
            frame = frame.loc[keep]
            if len(frame) == 0:
                raise ValueError("Every row of `X` has a missing value; nothing is left to fit.")
        self.n_dropped_rows_ = int((~keep).sum())
        self.kept_rows_ = keep

        variables: list[Variable] = []
        dropped: list[str] = []
        fills: dict[str, float] = {}
        missing_cats: dict[str, Any] = {}
        identifiers: dict[str, str] = {}
        constants: dict[str, Any] = {}
        col = 0
        for name in frame.columns:
            series = frame[name]
            n_missing = int(series.isna().sum())
            if n_missing == len(series):
                raise ValueError(f"Column {name!r} has no values: every cell is missing. Remove it.")
            kind, values = self._infer_kind(series, name, declared_cat, declared_real, is_frame)
            if name not in declared_cat and name not in declared_real:
                reason = identifier_reason(series, kind)
                if reason is not None:
                    identifiers[str(name)] = reason
                    warnings.warn(
                        f"Column {name!r} looks like an identifier ({reason}); a network can "
                        "memorise it and rank it first. Remove it unless it is a real variable.",
                        DataWarning,
                        stacklevel=2,
                    )
            absent = f" apart from {n_missing} missing cells" if n_missing else ""
            if kind == "real":
                present = values[~np.isnan(values)]
                lo, hi = float(present.min()), float(present.max())
                if not (np.isfinite(lo) and np.isfinite(hi)):
                    raise ValueError(f"Column {name!r} contains infinite values.")
                with np.errstate(over="ignore"):
                    width = hi - lo
                if not np.isfinite(width):
                    raise ValueError(
                        f"Column {name!r} spans [{lo:g}, {hi:g}]: its range max - min overflows "
                        "float64, so it cannot be scaled to [0, 1]. Rescale the column (e.g. "
                        "divide it by 1e300, or take a logarithm) before fitting."
                    )
                if hi == lo:
                    if self._drop_constant(name, f"the value {lo!r}{absent}"):
                        dropped.append(str(name))
                        constants[str(name)] = lo
                        continue
                fill = None
                if self.missing == "indicator":
                    fills[str(name)] = float(np.median(present) if self.fill == "median" else np.mean(present))
                    fill = fills[str(name)] if n_missing else None
                width = 2 if fill is not None else 1
                variables.append(Variable(str(name), "real", tuple(range(col, col + width)), lo, hi, fill=fill))
                col += width
            elif kind == "binary":
                uniq = pd.unique(series)
                if len(uniq) < 2:
                    if self._drop_constant(name, f"the value {uniq[0]!r}"):
                        dropped.append(str(name))
                        constants[str(name)] = uniq[0]
                        continue
                variables.append(Variable(str(name), "binary", (col,), categories=(False, True)))
                col += 1
            else:
                present = series.dropna()
                if isinstance(series.dtype, pd.CategoricalDtype):
                    cats = [c for c in series.cat.categories if (present == c).any()]
                else:
                    cats = sorted(pd.unique(present), key=lambda v: (str(type(v)), v))
                cats = [c.item() if isinstance(c, np.generic) else c for c in cats]
                if n_missing:
                    if any(isinstance(c, str) and c == MISSING_LABEL for c in cats):
                        raise ValueError(
                            f"Column {name!r} has missing values and already a category "
                            f"{MISSING_LABEL!r}, which missing='indicator' would use for them. "
                            "Rename that category, or add it to na_values if it means 'no value'."
                        )
                    cats.append(MISSING_LABEL)
                    missing_cats[str(name)] = MISSING_LABEL
                if len(cats) < 2:
                    if self._drop_constant(name, f"the single category {cats[0]!r}"):
                        dropped.append(str(name))
                        constants[str(name)] = cats[0]
                        continue
                variables.append(
                    Variable(str(name), "enumerated", tuple(range(col, col + len(cats))), categories=tuple(cats))
                )
                col += len(cats)
        if not variables:
            raise ValueError(f"No variable is left after dropping the constant columns {dropped}.")
        self.variables_ = tuple(variables)
        self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
        self.dropped_columns_ = dropped
        self.dropped_constants_ = constants
        self.n_features_out_ = col
        self.fill_values_ = fills
        self.missing_categories_ = missing_cats
        self.identifier_columns_ = identifiers
        self._is_frame = is_frame
        return self._encode(frame, report=False)

    def _infer_kind(self, series, name, declared_cat, declared_real, is_frame) -> tuple[str, Any]:
        """``(kind, values)``: the variable's kind and, for a real one, its float values."""
        _refuse_dates_and_complex(series, name, declared=name in declared_cat or name in declared_real)
        if name in declared_real:
            return "real", _numeric_or_raise(series, str(name))
        if name in declared_cat:
            return "enumerated", None
        dtype = series.dtype
        present = series.dropna()
        has_missing = len(present) < len(series)
        if dtype.kind == "b" or (dtype == object and len(present) and present.map(type).eq(bool).all()):
            # A boolean with missing values needs a third value: it becomes enumerated.
            return ("enumerated" if has_missing else "binary"), None
        if dtype.kind in "iuf":
            return "real", series.to_numpy(dtype=float)
        if isinstance(dtype, pd.CategoricalDtype):
            return "enumerated", None
        values, offending = numeric_text(series)
        if values is not None:
            return "real", values
        if not is_frame:
            # A plain array is real unless declared; a non-numeric one is a user error.
            return "real", _numeric_or_raise(series, str(name))
        if offending:
            raise ValueError(offending_message(str(name), offending, False))
        return "enumerated", None

    def _drop_constant(self, name, what: str) -> bool:
        if self.constant == "error":
            raise ValueError(
                f"Column {name!r} is constant in the training data ({what}); it carries no "
                "information. Remove it, or pass constant='drop' to drop it (reported)."
            )
        warnings.warn(f"Dropped constant column {name!r} ({what}).", DataWarning, stacklevel=3)
        return True

    # -- transforming ----------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "variables_"):
            raise RuntimeError("This Encoder is not fitted yet. Call `fit` first.")

    def _frame_for_transform(self, X: Any) -> tuple[pd.DataFrame, dict]:
        """The fitted variables' columns of ``X`` with tokens read as missing, and the tokens."""
        self._check_fitted()
        frame, is_frame = _as_frame(X)
        needed = [v.name for v in self.variables_]
        if is_frame:
            missing_cols = [n for n in needed if n not in frame.columns]
            if missing_cols:
                raise ValueError(f"`X` lacks columns seen in fit: {missing_cols}.")
            extra = [c for c in frame.columns if c not in set(self.feature_names_in_)]
            if extra:
                raise ValueError(
                    f"`X` has columns not seen in fit: {extra}. Pass the same columns as in fit."
                )
        else:
            n_in = len(self.feature_names_in_)
            if frame.shape[1] != n_in:
                raise ValueError(
                    f"`X` has {frame.shape[1]} columns, but the model was fitted on {n_in}."
                )
            if self._is_frame:
                warnings.warn(
                    "X does not have valid feature names, but the model was fitted with feature "
                    f"names; its columns are taken by position as {list(self.feature_names_in_)}. "
                    "Pass a DataFrame with these column names to match them by name.",
                    UserWarning,
                    stacklevel=4,
                )
            frame.columns = list(self.feature_names_in_)
        self._check_dropped_constants(frame)
        return replace_tokens(frame[needed], getattr(self, "_na_values", check_na_values(None)))

    def _check_dropped_constants(self, frame: pd.DataFrame) -> None:
        """Warn when a column dropped as constant in training takes other values now: the
        model ignores it, whatever it holds."""
        varying = {}
        for name, value in getattr(self, "dropped_constants_", {}).items():
            if name in frame.columns:
                column = frame[name]
                other = column.notna() & (column != value)
                if other.any():
                    varying[name] = (value, int(other.sum()), _json_scalar(column[other].iloc[0]))
        if varying:
            detail = "; ".join(f"{n!r} was {v!r} in every training row, here {k} row(s) differ "
                               f"(e.g. {e!r})" for n, (v, k, e) in varying.items())
            warnings.warn(
                f"Columns dropped as constant in training vary here, and the model ignores them: "
                f"{detail}. Refit on data where they vary (or with constant='error' to be told).",
                DataWarning,
                stacklevel=4,
            )

    def transform(self, X: Any, report: bool = True) -> np.ndarray:
        """Encode ``X`` with the fitted variables; shape ``(n_samples, n_features_out_)``.

        Missing values: with ``missing="indicator"`` they are encoded as in training (fill
        plus indicator, or the ``"missing"`` category); in a real column that had none in
        training they are filled with the training fill value (no indicator column exists for
        them) and reported with a :class:`DataWarning`; in an enumerated one they are treated
        as an unseen category; in a binary one they raise. With ``"error"`` or ``"drop"`` any
        missing value raises. Unseen categories raise (``unknown="error"``) or become all-zero
        rows, reported (``unknown="ignore"``). Real values outside the training range are kept
        and, with ``report=True``, reported with an :class:`OutOfRangeWarning`.
        """
        frame, _ = self._frame_for_transform(X)
        if self.missing != "indicator" and frame.isna().to_numpy().any():
            counts = {c: int(n) for c, n in frame.isna().sum().items() if n}
            raise ValueError(
                f"`X` has missing values (NaN): {counts} (column: count). This encoder was fitted with "
                f"missing={self.missing!r}; refit with missing='indicator' to encode them."
            )
        return self._encode(frame, report=report)

    def _encode(self, frame: pd.DataFrame, report: bool) -> np.ndarray:
        out = np.zeros((len(frame), self.n_features_out_), dtype=np.float64)
        outside, unknown, filled = {}, {}, {}
        for v in self.variables_:
            series = frame[v.name]
            miss = series.isna().to_numpy()
            if v.kind == "real":
                values = _numeric_or_raise(series, v.name)
                if np.isinf(values).any():
                    raise ValueError(f"Column {v.name!r} contains infinite values (inf).")
                if miss.any():
                    if v.has_indicator:
                        values = np.where(miss, v.fill, values)
                        out[:, v.columns[1]] = miss
                    elif v.name in getattr(self, "fill_values_", {}):
                        values = np.where(miss, self.fill_values_[v.name], values)
                        filled[v.name] = int(miss.sum())
                    else:
                        raise ValueError(f"Column {v.name!r} has {int(miss.sum())} missing values.")
                out[:, v.columns[0]] = v.to_scaled(values)
                n_out = int(((values < v.minimum) | (values > v.maximum))[~miss].sum())
                if n_out:
                    outside[v.name] = n_out
            elif v.kind == "binary":
                values = series.to_numpy()
                if miss.any():
                    raise ValueError(
                        f"Column {v.name!r} is binary and had no missing values in training, so "
                        f"the model has no code for the {int(miss.sum())} missing values it has "
                        "now. Fill them, or refit with missing values in this column present "
                        "in the training data under missing='indicator'."
                    )
                ok = np.isin(values, [True, False, 0, 1])
                if not ok.all():
                    raise ValueError(
                        f"Column {v.name!r} is binary but contains {values[~ok][0]!r}; "
                        "expected True/False or 0/1."
                    )
                out[:, v.columns[0]] = values.astype(bool).astype(float)
            else:
                index = {c: j for j, c in enumerate(v.categories)}
                label = getattr(self, "missing_categories_", {}).get(v.name)
                codes = series.map(lambda c: index.get(c.item() if isinstance(c, np.generic) else c, -1))
                codes = codes.to_numpy(dtype=int).copy()
                if label is not None:
                    codes[miss] = index[label]
                bad = codes < 0
                if bad.any():
                    unseen = sorted({"<missing>" if m else str(c) for c, m in zip(series[bad], miss[bad])})
                    if self.unknown == "error":
                        raise ValueError(
                            f"Column {v.name!r} has categories not seen in training: {unseen} "
                            f"({int(bad.sum())} rows). Known categories: {list(v.categories)}. "
                            "Pass unknown='ignore' to encode them as all-zero rows (reported)."
                        )
                    unknown[v.name] = int(bad.sum())
                rows = np.flatnonzero(~bad)
                out[rows, np.asarray(v.columns)[codes[rows]]] = 1.0
        if report and outside:
            warnings.warn(
                "Values outside the training range were kept unclipped (variable: count): "
                f"{outside}.",
                OutOfRangeWarning,
                stacklevel=3,
            )
        if report and unknown:
            warnings.warn(
                "Rows with categories not seen in training were encoded as all-zero one-hot "
                f"rows (unknown='ignore'; variable: rows): {unknown}.",
                DataWarning,
                stacklevel=3,
            )
        if report and filled:
            warnings.warn(
                "Columns without missing values in training have missing values now; they were "
                "filled with the training fill value, with no indicator (the model has no "
                f"indicator column for them; variable: count): {filled}.",
                DataWarning,
                stacklevel=3,
            )
        return out

    def audit(self, X: Any) -> dict:
        """What encoding ``X`` meets, without encoding it.

        Returns a dict of ``{column: count}`` dicts: ``missing`` (missing cells, tokens
        included), ``tokens`` (``{column: {token: count}}``), ``unknown`` (present values of an
        enumerated or binary variable not among its training categories) and ``unmodelled``
        (missing cells in a column that had none in training).
        """
        frame, tokens = self._frame_for_transform(X)
        missing = {str(c): int(n) for c, n in frame.isna().sum().items() if n}
        unknown = {}
        for v in self.variables_:
            present = frame[v.name].dropna()
            if v.kind == "enumerated":
                known = set(v.categories) - set(getattr(self, "missing_categories_", {}).values())
                n = int((~present.map(lambda c: (c.item() if isinstance(c, np.generic) else c) in known)).sum())
            elif v.kind == "binary":
                n = int((~np.isin(present.to_numpy(), [True, False, 0, 1])).sum())
            else:
                continue
            if n:
                unknown[v.name] = n
        modelled = {v.name for v in self.variables_ if v.has_indicator}
        modelled |= set(getattr(self, "missing_categories_", {}))
        unmodelled = {c: n for c, n in missing.items() if c not in modelled}
        return {"missing": missing, "tokens": tokens, "unknown": unknown, "unmodelled": unmodelled}

    def out_of_range(self, X: Any) -> dict[str, int]:
        """Count, per real variable, the (present) values of ``X`` outside the training range."""
        return {name: int(outside.sum()) for name, outside in self._outside_range(X).items()}

    def out_of_range_rows(self, X: Any) -> np.ndarray:
        """Boolean mask (n,): the rows of ``X`` with at least one real value outside the
        training range (on which the network extrapolates)."""
        masks = list(self._outside_range(X).values())
        return np.logical_or.reduce(masks) if masks else np.zeros(len(_as_frame(X)[0]), dtype=bool)

    def _outside_range(self, X: Any) -> dict[str, np.ndarray]:
        frame, _ = self._frame_for_transform(X)
        out = {}
        for v in self.variables_:
            if v.kind == "real":
                values = _numeric_or_raise(frame[v.name], v.name)
                out[v.name] = np.asarray((values < v.minimum) | (values > v.maximum), dtype=bool)
        return out

    def inverse_transform(self, Z: np.ndarray) -> pd.DataFrame:
        """Decode an encoded matrix back to raw values (argmax within one-hot groups; NaN for a
        set missingness indicator or the ``"missing"`` category)."""
        self._check_fitted()
        Z = np.asarray(Z, dtype=float)
        if Z.ndim != 2 or Z.shape[1] != self.n_features_out_:
            raise ValueError(
                f"`Z` must have shape (n, {self.n_features_out_}). Got {Z.shape} instead."
            )
        data = {}
        labels = getattr(self, "missing_categories_", {})
        for v in self.variables_:
            block = Z[:, list(v.columns)]
            if v.kind == "real":
                raw = v.to_raw(block[:, 0])
                data[v.name] = np.where(block[:, 1] >= 0.5, np.nan, raw) if v.has_indicator else raw
            elif v.kind == "binary":
                data[v.name] = block[:, 0] >= 0.5
            else:
                values = np.asarray(v.categories, dtype=object)[block.argmax(axis=1)]
                if v.name in labels:
                    values[block.argmax(axis=1) == v.categories.index(labels[v.name])] = np.nan
                data[v.name] = values
        return pd.DataFrame(data)

    @property
    def column_names_(self) -> list[str]:
        """Names of the encoded columns (``variable=category`` for one-hot columns,
        ``variable=missing`` for a missingness indicator)."""
        self._check_fitted()
        return [n for v in self.variables_ for n in v.column_names]

    def describe(self) -> pd.DataFrame:
        """One row per variable: kind, encoded columns, raw range or categories, training
        missing count and fill value."""
        self._check_fitted()
        counts = getattr(self, "missing_counts_", {})
        rows = []
        for v in self.variables_:
            rows.append(
                {
                    "variable": v.name,
                    "kind": v.kind,
                    "columns": v.width,
                    "min": v.minimum,
                    "max": v.maximum,
                    "categories": ", ".join(map(str, v.categories)) if v.kind == "enumerated" else "",
                    "missing": int(counts.get(v.name, 0)),
                    "fill": v.fill,
                }
            )
        return pd.DataFrame(rows)

    # -- model files -----------------------------------------------------------------------
    def state_dict(self) -> dict:
        """The fitted policy state beyond the variables, as JSON-ready data (model files)."""
        self._check_fitted()
        return {
            "missing": self.missing,
            "fill": self.fill,
            "unknown": self.unknown,
            "na_values": list(getattr(self, "_na_values", check_na_values(None))),
            "fill_values": {k: float(v) for k, v in getattr(self, "fill_values_", {}).items()},
            "missing_categories": dict(getattr(self, "missing_categories_", {})),
            "missing_counts": dict(getattr(self, "missing_counts_", {})),
            "dropped_constants": {k: _json_scalar(v) for k, v in getattr(self, "dropped_constants_", {}).items()},
            "identifier_columns": dict(getattr(self, "identifier_columns_", {})),
        }

    @classmethod
    def from_variables(cls, variables: Sequence[Variable], feature_names: Sequence[str] | None = None,
                       state: dict | None = None) -> "Encoder":
        """A fitted encoder from known variables and, optionally, the :meth:`state_dict` of
        the encoder that learned them (used when loading a model file; without a state, the
        policies of a file written before they existed: missing values and unseen categories
        raise)."""
        state = state or {}
        enc = cls(missing=str(state.get("missing", "error")), fill=str(state.get("fill", "median")),
                  unknown=str(state.get("unknown", "error")), na_values=state.get("na_values"))
        check_one_of("missing", enc.missing, MISSING_POLICIES)
        check_one_of("unknown", enc.unknown, ("error", "ignore"))
        enc._na_values = check_na_values(enc.na_values)
        enc.variables_ = tuple(variables)
        enc.feature_names_in_ = np.asarray(
            list(feature_names) if feature_names is not None else [v.name for v in variables], dtype=object
        )
        names = {v.name for v in variables}
        enc.fill_values_ = {str(k): float(v) for k, v in dict(state.get("fill_values", {})).items()}
        enc.missing_categories_ = {str(k): v for k, v in dict(state.get("missing_categories", {})).items()}
        enc.missing_counts_ = {str(k): int(v) for k, v in dict(state.get("missing_counts", {})).items()}
        for field_name in ("fill_values_", "missing_categories_"):
            stray = set(getattr(enc, field_name)) - names
            if stray:
                raise ValueError(f"Encoder state {field_name} names unknown variables {sorted(stray)}.")
        enc.missing_tokens_ = {}
        enc.identifier_columns_ = {str(k): str(v) for k, v in dict(state.get("identifier_columns", {})).items()}
        enc.dropped_constants_ = {str(k): v for k, v in dict(state.get("dropped_constants", {})).items()}
        enc.dropped_columns_ = list(enc.dropped_constants_)
        enc.n_dropped_rows_ = 0
        enc.n_features_out_ = sum(v.width for v in variables)
        # Arrays get the names x0, x1, ...; any other names came from a DataFrame.
        enc._is_frame = list(enc.feature_names_in_) != [f"x{i}" for i in range(len(enc.feature_names_in_))]
        return enc


def _json_scalar(value: Any) -> Any:
    """``value`` as a JSON scalar: numpy scalars become Python ones; anything else that JSON
    cannot hold (a date, say) becomes its text, which is how a CSV re-read shows it."""
    if isinstance(value, np.generic):
        value = value.item()
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)
