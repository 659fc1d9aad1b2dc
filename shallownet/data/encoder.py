"""Encoding user data (DataFrame or array) into the [0, 1] matrix a network sees.

Policies (each raises a clear error or reports what it did; nothing is silently changed):

* missing values: ``missing="error"`` (default) raises, naming the columns and counts;
  ``missing="drop"`` drops those rows at fit time and reports how many (``n_dropped_rows_``
  and a :class:`DataWarning`). At transform time a missing value is always an error.
* categories not seen in training: an error naming the column and the values.
* real values outside the training range at transform time: kept as they are (the encoded
  value falls outside [0, 1]), counted per variable and reported with an
  :class:`OutOfRangeWarning`; :meth:`Encoder.out_of_range` returns the counts.
* constant columns: ``constant="error"`` (default) raises; ``constant="drop"`` drops the
  column and reports it (``dropped_columns_`` and a :class:`DataWarning`); when such a column
  takes other values at transform time, a :class:`DataWarning` says the model ignores them.
* columns overflowing float64 when scaled (``max - min`` infinite), dates, durations, ISO
  date strings (unless declared categorical) and complex numbers: an error naming the
  column and the remedy.
* non-numeric values in a real column: an error naming the column and one bad value.
"""

from __future__ import annotations

import re
import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .._validation import check_one_of
from .variables import Variable


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
    """Convert a real column to float, or raise naming the column and one bad value."""
    if series.dtype.kind in "biuf":
        return series.to_numpy(dtype=float)
    converted = pd.to_numeric(series, errors="coerce")
    bad = series[converted.isna() & series.notna()]
    if len(bad):
        raise ValueError(
            f"Column {name!r} is a real variable but contains non-numeric values, "
            f"e.g. {bad.iloc[0]!r} (row {bad.index[0]!r}). Clean the column, or declare it "
            "categorical."
        )
    return converted.to_numpy(dtype=float)


def _looks_numeric_with_garbage(series: pd.Series) -> Any:
    """For an object column that is mostly numbers, return one non-numeric value, else None."""
    present = series.dropna()
    if len(present) == 0:
        return None
    converted = pd.to_numeric(present, errors="coerce")
    n_numeric = int(converted.notna().sum())
    if 0 < len(present) - n_numeric and n_numeric >= 0.9 * len(present):
        return present[converted.isna()].iloc[0]
    return None


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
        boolean columns of a DataFrame are inferred as enumerated (booleans as ``binary``).
    real : list of column names (or positions), optional
        Columns to treat as real even if inference would say otherwise; non-numeric values in
        them are an error.
    missing : {"error", "drop"}
        What to do with rows that have missing values at fit time.
    constant : {"error", "drop"}
        What to do with columns that take a single value in the training data.

    Attributes
    ----------
    variables_ : tuple of Variable
        The variables, in encoded-column order.
    feature_names_in_ : ndarray of str
        Column names of the training data (``x0, x1, ...`` for arrays).
    n_dropped_rows_ : int
        Rows dropped for missing values (``missing="drop"``).
    dropped_columns_ : list of str
        Constant columns dropped (``constant="drop"``).
    """

    def __init__(self, categorical=None, real=None, missing="error", constant="error"):
        self.categorical = categorical
        self.real = real
        self.missing = missing
        self.constant = constant

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, X: Any) -> "Encoder":
        """Learn the variables, ranges and categories of ``X``. Returns ``self``."""
        self.fit_transform(X)
        return self

    def fit_transform(self, X: Any) -> np.ndarray:
        """Fit and return the encoded matrix of the rows kept (see :attr:`kept_rows_`)."""
        check_one_of("missing", self.missing, ("error", "drop"))
        check_one_of("constant", self.constant, ("error", "drop"))
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

        na = frame.isna()
        if na.to_numpy().any():
            counts = {str(c): int(n) for c, n in na.sum().items() if n}
            if self.missing == "error":
                raise ValueError(
                    f"`X` has missing values (NaN): {counts} (column: count). Clean them, or pass "
                    "missing='drop' to drop those rows (the number dropped is reported)."
                )
            keep = ~na.any(axis=1).to_numpy()
            self.n_dropped_rows_ = int((~keep).sum())
            warnings.warn(
                f"Dropped {self.n_dropped_rows_} of {len(frame)} rows with missing values "
                f"{counts}.",
                DataWarning,
                stacklevel=2,
            )
            frame = frame.loc[keep]
            if len(frame) == 0:
                raise ValueError("Every row of `X` has a missing value; nothing is left to fit.")
        else:
            keep = np.ones(len(frame), dtype=bool)
            self.n_dropped_rows_ = 0
        self.kept_rows_ = keep

        variables: list[Variable] = []
        dropped: list[str] = []
        constants: dict[str, Any] = {}
        col = 0
        for name in frame.columns:
            series = frame[name]
            kind = self._infer_kind(series, name, declared_cat, declared_real, is_frame)
            if kind == "real":
                values = _numeric_or_raise(series, str(name))
                lo, hi = float(values.min()), float(values.max())
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
                    if self._drop_constant(name, f"the value {lo!r}"):
                        dropped.append(str(name))
                        constants[str(name)] = lo
                        continue
                variables.append(Variable(str(name), "real", (col,), lo, hi))
                col += 1
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
                if isinstance(series.dtype, pd.CategoricalDtype):
                    cats = [c for c in series.cat.categories if (series == c).any()]
                else:
                    cats = sorted(pd.unique(series), key=lambda v: (str(type(v)), v))
                if len(cats) < 2:
                    if self._drop_constant(name, f"the single category {cats[0]!r}"):
                        dropped.append(str(name))
                        constants[str(name)] = cats[0]
                        continue
                cats = tuple(c.item() if isinstance(c, np.generic) else c for c in cats)
                variables.append(
                    Variable(str(name), "enumerated", tuple(range(col, col + len(cats))), categories=cats)
                )
                col += len(cats)
        if not variables:
            raise ValueError(f"No variable is left after dropping the constant columns {dropped}.")
        self.variables_ = tuple(variables)
        self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
        self.dropped_columns_ = dropped
        self.dropped_constants_ = constants
        self.n_features_out_ = col
        self._is_frame = is_frame
        return self._encode(frame, report=False)

    def _infer_kind(self, series, name, declared_cat, declared_real, is_frame) -> str:
        _refuse_dates_and_complex(series, name, declared=name in declared_cat or name in declared_real)
        if name in declared_real:
            return "real"
        if name in declared_cat:
            return "enumerated"
        dtype = series.dtype
        if dtype.kind == "b" or (dtype == object and series.map(type).eq(bool).all()):
            return "binary"
        if dtype.kind in "iuf":
            return "real"
        if not is_frame:
            # A plain array is real unless declared; a non-numeric one is a user error.
            _numeric_or_raise(series, str(name))
            return "real"
        garbage = _looks_numeric_with_garbage(series)
        if garbage is not None:
            raise ValueError(
                f"Column {name!r} looks numeric but contains the non-numeric value {garbage!r}. "
                "Clean it, or declare the column categorical (categorical=[...]) or real "
                "(real=[...])."
            )
        return "enumerated"

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

    def _frame_for_transform(self, X: Any) -> pd.DataFrame:
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
        return frame[needed]

    def _check_dropped_constants(self, frame: pd.DataFrame) -> None:
        """Warn when a column dropped as constant in training takes other values now: the
        model ignores it, whatever it holds."""
        varying = {}
        for name, value in getattr(self, "dropped_constants_", {}).items():
            if name in frame.columns:
                column = frame[name]
                other = column.notna() & (column != value)
                if other.any():
                    varying[name] = (value, int(other.sum()), column[other].iloc[0])
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

        Missing values and unseen categories raise; real values outside the training range
        are kept and, with ``report=True``, reported with an :class:`OutOfRangeWarning`.
        """
        frame = self._frame_for_transform(X)
        if frame.isna().to_numpy().any():
            counts = {c: int(n) for c, n in frame.isna().sum().items() if n}
            raise ValueError(f"`X` has missing values (NaN): {counts} (column: count).")
        return self._encode(frame, report=report)

    def _encode(self, frame: pd.DataFrame, report: bool) -> np.ndarray:
        out = np.zeros((len(frame), self.n_features_out_), dtype=np.float64)
        outside = {}
        for v in self.variables_:
            series = frame[v.name]
            if v.kind == "real":
                values = _numeric_or_raise(series, v.name)
                if not np.all(np.isfinite(values)):
                    raise ValueError(f"Column {v.name!r} contains infinite values (inf).")
                out[:, v.columns[0]] = v.to_scaled(values)
                n_out = int(((values < v.minimum) | (values > v.maximum)).sum())
                if n_out:
                    outside[v.name] = n_out
            elif v.kind == "binary":
                values = series.to_numpy()
                ok = np.isin(values, [True, False, 0, 1])
                if not ok.all():
                    raise ValueError(
                        f"Column {v.name!r} is binary but contains {values[~ok][0]!r}; "
                        "expected True/False or 0/1."
                    )
                out[:, v.columns[0]] = values.astype(bool).astype(float)
            else:
                index = {c: j for j, c in enumerate(v.categories)}
                codes = series.map(lambda c: index.get(c.item() if isinstance(c, np.generic) else c, -1))
                codes = codes.to_numpy(dtype=int)
                if (codes < 0).any():
                    unseen = sorted({str(c) for c in series[codes < 0]})
                    raise ValueError(
                        f"Column {v.name!r} has categories not seen in training: {unseen}. "
                        f"Known categories: {list(v.categories)}."
                    )
                out[np.arange(len(frame)), np.asarray(v.columns)[codes]] = 1.0
        if report and outside:
            warnings.warn(
                "Values outside the training range were kept unclipped (variable: count): "
                f"{outside}.",
                OutOfRangeWarning,
                stacklevel=3,
            )
        return out

    def out_of_range(self, X: Any) -> dict[str, int]:
        """Count, per real variable, the values of ``X`` outside the training range."""
        frame = self._frame_for_transform(X)
        counts = {}
        for v in self.variables_:
            if v.kind == "real":
                values = _numeric_or_raise(frame[v.name], v.name)
                counts[v.name] = int(((values < v.minimum) | (values > v.maximum)).sum())
        return counts

    def inverse_transform(self, Z: np.ndarray) -> pd.DataFrame:
        """Decode an encoded matrix back to raw values (argmax within one-hot groups)."""
        self._check_fitted()
        Z = np.asarray(Z, dtype=float)
        if Z.ndim != 2 or Z.shape[1] != self.n_features_out_:
            raise ValueError(
                f"`Z` must have shape (n, {self.n_features_out_}). Got {Z.shape} instead."
            )
        data = {}
        for v in self.variables_:
            block = Z[:, list(v.columns)]
            if v.kind == "real":
                data[v.name] = v.to_raw(block[:, 0])
            elif v.kind == "binary":
                data[v.name] = block[:, 0] >= 0.5
            else:
                data[v.name] = np.asarray(v.categories, dtype=object)[block.argmax(axis=1)]
        return pd.DataFrame(data)

    @property
    def column_names_(self) -> list[str]:
        """Names of the encoded columns (``variable=category`` for one-hot columns)."""
        self._check_fitted()
        return [n for v in self.variables_ for n in v.column_names]

    def describe(self) -> pd.DataFrame:
        """One row per variable: kind, encoded columns, raw range or categories."""
        self._check_fitted()
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
                }
            )
        return pd.DataFrame(rows)

    @classmethod
    def from_variables(cls, variables: Sequence[Variable], feature_names: Sequence[str] | None = None) -> "Encoder":
        """A fitted encoder from known variables (used when loading a model file)."""
        enc = cls()
        enc.variables_ = tuple(variables)
        enc.feature_names_in_ = np.asarray(
            list(feature_names) if feature_names is not None else [v.name for v in variables], dtype=object
        )
        enc.dropped_columns_ = []
        enc.dropped_constants_ = {}
        enc.n_dropped_rows_ = 0
        enc.n_features_out_ = sum(v.width for v in variables)
        # Arrays get the names x0, x1, ...; any other names came from a DataFrame.
        enc._is_frame = list(enc.feature_names_in_) != [f"x{i}" for i in range(len(enc.feature_names_in_))]
        return enc
