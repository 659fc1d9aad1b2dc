"""Variables: the unit every result speaks of.

A *variable* is what the user thinks of as one input. It occupies one or more columns of the
encoded matrix the network sees:

* ``real``: one column, scaled linearly to [0, 1] with the training minimum and maximum,
  ``x' = (x - min) / (max - min)``; the inverse map gives raw units back.
* ``enumerated``: K one-hot columns, exactly one of which is 1. The group is ONE variable
  everywhere downstream (ranking, perturbation, influence).
* ``binary``: a boolean, encoded as one 0/1 column (a documented choice, see
  ``theory/encoding.md``); it takes the two values 0 and 1 and nothing in between.
* ``real`` with a missingness indicator (``fill`` set; ``missing="indicator"`` of the
  encoder, see ``theory/missing-data.md``): TWO columns, the scaled value (the training
  ``fill``, e.g. the median, where the value is missing) and the indicator ``1[missing]``.
  The pair is ONE variable: substituting it sets both columns together, to ``(v, 0)`` for a
  known value v or to ``(fill, 1)`` for "missing".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Kind = Literal["real", "enumerated", "binary"]


@dataclass(frozen=True)
class Variable:
    """One input variable and where it lives in the encoded matrix.

    Attributes
    ----------
    name : str
        The column name in the user's data.
    kind : {"real", "enumerated", "binary"}
        How the variable is encoded (module docstring).
    columns : tuple of int
        Positions of its encoded columns (one for real and binary, K for enumerated).
    minimum, maximum : float or None
        Training range of a real variable, in raw units (None otherwise).
    categories : tuple
        Category labels of an enumerated variable, in column order; ``(False, True)`` for a
        binary one; empty for a real one.
    fill : float or None
        For a real variable with a missingness indicator: the raw value written into the
        value column where the value is missing (the training median or mean). None for every
        other variable.
    """

    name: str
    kind: Kind
    columns: tuple[int, ...]
    minimum: float | None = None
    maximum: float | None = None
    categories: tuple[Any, ...] = ()
    fill: float | None = None

    def __post_init__(self) -> None:
        expected = 2 if self.fill is not None else (len(self.categories) if self.kind == "enumerated" else 1)
        if self.fill is not None and self.kind != "real":
            raise ValueError(f"Variable {self.name!r}: only a real variable can have a fill value.")
        if len(self.columns) != expected:
            raise ValueError(
                f"Variable {self.name!r} ({self.kind}{', with indicator' if self.fill is not None else ''}) "
                f"must have {expected} column(s). Got {len(self.columns)}."
            )

    @property
    def has_indicator(self) -> bool:
        """Whether this is a real variable with a missingness indicator (two columns)."""
        return self.fill is not None

    @property
    def ordered(self) -> bool:
        """Whether the candidate values are ordered (a plain real grid; "missing" is not)."""
        return self.kind == "real" and self.fill is None

    @property
    def width(self) -> int:
        """Number of encoded columns."""
        return len(self.columns)

    @property
    def scale(self) -> float:
        """Raw units per unit of encoded input (``max - min`` for real variables, else 1)."""
        if self.kind == "real":
            return float(self.maximum - self.minimum)
        return 1.0

    @property
    def column_names(self) -> tuple[str, ...]:
        """Readable names of the encoded columns (``name=category`` for one-hot columns)."""
        if self.kind == "enumerated":
            return tuple(f"{self.name}={c}" for c in self.categories)
        if self.has_indicator:
            return (self.name, f"{self.name}=missing")
        return (self.name,)

    def to_scaled(self, raw: np.ndarray) -> np.ndarray:
        """Map raw values of a real variable to the encoded [0, 1] scale."""
        self._require_real("to_scaled")
        return (np.asarray(raw, dtype=float) - self.minimum) / self.scale

    def to_raw(self, scaled: np.ndarray) -> np.ndarray:
        """Map encoded values of a real variable back to raw units."""
        self._require_real("to_raw")
        return np.asarray(scaled, dtype=float) * self.scale + self.minimum

    def candidates(self, n_grid: int = 51) -> np.ndarray:
        """Encoded values the variable can be set to, shape ``(G, width)``.

        Real: ``n_grid`` equally spaced points on [0, 1] (the training range). Enumerated: the
        K one-hot rows (identity matrix). Binary: the rows ``[0]`` and ``[1]``. Real with a
        missingness indicator: the grid rows ``[g, 0]`` and, last, the row ``[fill', 1]``
        ("missing", ``fill'`` the scaled fill value): ``n_grid + 1`` rows of width 2.
        """
        if self.has_indicator:
            grid = np.column_stack([np.linspace(0.0, 1.0, n_grid), np.zeros(n_grid)])
            return np.vstack([grid, [[self.fill_scaled, 1.0]]])
        if self.kind == "real":
            return np.linspace(0.0, 1.0, n_grid)[:, None]
        if self.kind == "enumerated":
            return np.eye(self.width)
        return np.array([[0.0], [1.0]])

    @property
    def fill_scaled(self) -> float:
        """The fill value on the encoded scale (a real variable with an indicator only)."""
        if self.fill is None:
            raise ValueError(f"Variable {self.name!r} has no missingness indicator.")
        return float(self.to_scaled(self.fill))

    def vertices(self) -> np.ndarray:
        """The extreme points of the variable's encoded values, shape ``(P, width)``.

        Every encoded value of the variable is a convex combination of these rows, so a
        linear function ``x_block @ w`` reaches its largest and smallest values over the
        variable's range at them: ``[0], [1]`` (real on its training range, binary), the K
        one-hot rows (enumerated), ``[0, 0], [1, 0], [fill', 1]`` (real with an indicator).
        """
        if self.has_indicator:
            return np.array([[0.0, 0.0], [1.0, 0.0], [self.fill_scaled, 1.0]])
        if self.kind == "enumerated":
            return np.eye(self.width)
        return np.array([[0.0], [1.0]])

    def _require_real(self, what: str) -> None:
        if self.kind != "real":
            raise ValueError(f"`{what}` applies to real variables; {self.name!r} is {self.kind}.")

    def to_dict(self) -> dict:
        """JSON-ready description (used by model files and reports)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "columns": list(self.columns),
            "minimum": self.minimum,
            "maximum": self.maximum,
            "categories": [_json_scalar(c) for c in self.categories],
            "fill": self.fill,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Variable":
        """Inverse of :meth:`to_dict`."""
        return cls(
            name=str(d["name"]),
            kind=d["kind"],
            columns=tuple(int(c) for c in d["columns"]),
            minimum=None if d["minimum"] is None else float(d["minimum"]),
            maximum=None if d["maximum"] is None else float(d["maximum"]),
            categories=tuple(d["categories"]),
            fill=None if d.get("fill") is None else float(d["fill"]),
        )


def _json_scalar(value: Any) -> Any:
    """Turn a NumPy scalar into the Python scalar JSON can hold."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    raise TypeError(
        f"Category labels must be strings, numbers or booleans to be saved; got {value!r} "
        f"of type {type(value).__name__}."
    )


def default_variables(n_features: int) -> tuple[Variable, ...]:
    """Real variables ``x0 .. x{D-1}`` on [0, 1]: the view of inputs given already scaled."""
    return tuple(
        Variable(name=f"x{i}", kind="real", columns=(i,), minimum=0.0, maximum=1.0)
        for i in range(n_features)
    )
