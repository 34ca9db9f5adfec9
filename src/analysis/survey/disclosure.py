"""Disclosure control: estimates resting on too few firms are blanked before anyone sees them.

A cell (a region, a size class, an industry within a region …) answered by fewer
than ``min_cell`` firms can identify them, and its estimate is too noisy to print
anyway. :func:`suppress` blanks every value of such a row: the estimate, its SE and
interval, the p-value, rank or any other figure derived from it become missing, and
a ``suppressed`` column says so. A comparison (a difference, a change) is suppressed
when either side rests on too few firms. Every table function of
:mod:`analysis.measures.index`, :mod:`analysis.measures.indicators` and
:mod:`analysis.measures.models` takes ``min_cell`` and applies this before returning, and
before any multiple-testing adjustment, so a blanked comparison never counts as a test.

The respondent counts (``n``, ``n_a``, ``n_b``) stay: they tell the reader why a cell
is empty, and the number of firms sampled in a cell is not confidential.

That is primary suppression. A blanked value can still be recomputed from what is
published beside it: a group's total with one hidden member, shares that sum to 100%,
a count of resolved requests next to a resolution rate. :func:`complementary` finds
further cells to blank so that none can: it audits the published figures as an
attacker would, by linear programming (the smallest and largest value each blanked
cell can take given every published total, share and bound), and blanks the cheapest
published neighbour of any cell that comes out determined, until none does.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.errors import DesignError

MIN_CELL = 10
# every figure our tables can carry about a cell; codes, counts and df are kept
VALUES = (
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "estimate_a",
    "estimate_b",
    "p_value",
    "q_value",
    "average",
    "difference",
    "difference_se",
    "rank",
    "rank_low",
    "rank_high",
    "weight",
    "share",
    "share_se",
    "share_ci_low",
    "share_ci_high",
    "performance",
    "performance_se",
    "performance_ci_low",
    "performance_ci_high",
)
FLAGS = ("significant", "differs")
COUNTS = ("n", "n_a", "n_b")


def suppress(table: pd.DataFrame, min_cell: int = MIN_CELL, counts=None) -> pd.DataFrame:
    """Blank the rows of an estimate table whose cells have fewer than ``min_cell`` firms.

    Parameters
    ----------
    table : an estimate table (``estimate, se, ci_low, ci_high, …, n``) or a
        comparison table (``…, n_a, n_b``).
    min_cell : the smallest number of responding firms a published cell may rest
        on; 0 or 1 turns suppression off (a cell with no respondents has no
        estimate anyway).
    counts : the count columns to check; default those of ``n, n_a, n_b`` present.
        A row is suppressed when any of them is below ``min_cell``.

    Returns
    -------
    A copy with the figures of suppressed rows (estimate, SE, interval, p- and
    q-values, ranks, … as listed in ``VALUES``) set to NaN, significance flags
    (``FLAGS``) set to missing, and a boolean column ``suppressed``.

    Raises
    ------
    DesignError
        ``min_cell`` is not a non-negative integer; the table has no count column.

    Examples
    --------
    >>> t = pd.DataFrame({"estimate": [0.4, 0.7], "se": [0.05, 0.2], "n": [120, 6]})
    >>> suppress(t).to_dict("list")
    {'estimate': [0.4, nan], 'se': [0.05, nan], 'n': [120, 6], 'suppressed': [False, True]}
    """
    check_min_cell(min_cell)
    names = [c for c in (COUNTS if counts is None else counts) if c in table.columns]
    if not names:
        raise DesignError(
            "the table has no respondent count column (n, n_a or n_b)",
            "suppress tables straight from the estimating functions, which carry n",
        )
    small = np.zeros(len(table), bool)
    for col in names:
        small |= table[col].to_numpy(dtype=float, na_value=0) < min_cell
    out = table.copy()
    for col in VALUES:
        if col in out.columns:
            out[col] = out[col].astype(float).mask(small)
    for col in FLAGS:
        if col in out.columns:
            out[col] = out[col].astype("boolean").mask(small)
    out["suppressed"] = small
    return out


def check_min_cell(min_cell) -> None:
    if isinstance(min_cell, bool) or not isinstance(min_cell, (int, np.integer)) or min_cell < 0:
        raise DesignError(
            f"min_cell={min_cell!r} is not a number of firms",
            "give a whole number >= 0 (default 10; 0 turns suppression off)",
        )


@dataclass(frozen=True)
class Cell:
    """A published figure for :func:`complementary`.

    value : the figure (any number for a primary-suppressed cell: it is never read).
    low, high : what anyone knows it lies within (a share in [0, 1], a count in
        [0, total]).
    primary : blanked because it rests on too few firms.
    cost : complementary suppression blanks the cheapest cell first (e.g. its n).
    step : the figure is a multiple of ``step`` (a count: 1; a share of n firms that
        weigh the same: 1 / n); 0 for a continuous figure. A cell is determined when
        its feasible range holds a single multiple, or is narrower than ``tol``.
    tol : the printed precision: a feasible range narrower than this recovers it.
    audit : whether the cell's own value must stay unrecoverable once blanked; False
        for a figure blanked only because it would give another away.
    """

    value: float
    low: float
    high: float
    primary: bool = False
    cost: float = 0.0
    step: float = 0.0
    tol: float = 1e-3
    audit: bool = True  # False: blanked only to protect others (an overdue count)


def complementary(
    cells: Mapping[Hashable, Cell],
    groups: Iterable[tuple[Mapping[Hashable, float], float]] = (),
    ties: Iterable[tuple[Iterable[Hashable], Iterable[Hashable]]] = (),
    limits: Iterable[tuple[Mapping[Hashable, float], float]] = (),
    max_rounds: int = 1000,
) -> dict[Hashable, str]:
    """Cells to blank so that no blanked value can be recomputed from the rest.

    Parameters
    ----------
    cells : every figure that takes part, by key.
    groups : linear identities anyone can form: ``({key: coefficient}, constant)``,
        the weighted sum of the cells equals the constant (a total as a member with
        coefficient -1 and constant 0; shares that sum to 1). The published values
        satisfy them; the value of a primary-suppressed cell is never read.
    ties : ``(sources, targets)``: when any source is blanked, every target is (a gap
        follows its two sides; a rate and its count of resolved requests are each
        other's source and target).
    limits : ``({key: coefficient}, bound)``: weighted sums known to be <= bound.
    max_rounds : a safeguard on the loop.

    Returns
    -------
    ``{key: "primary" | "complementary"}`` for every cell to blank.

    Examples
    --------
    >>> cells = {"a": Cell(3, 0, 10, primary=True, step=1), "b": Cell(5, 0, 10, step=1),
    ...          "c": Cell(9, 0, 10, step=1), "total": Cell(17, 0, 30, step=1)}
    >>> complementary(cells, [({"a": 1, "b": 1, "c": 1, "total": -1}, 0)])
    {'a': 'primary', 'b': 'complementary'}
    """
    groups = [(dict(g), float(b)) for g, b in groups]
    ties = [(list(a), list(b)) for a, b in ties]
    limits = [(dict(c), float(b)) for c, b in limits]
    out = {k: "primary" for k, c in cells.items() if c.primary}
    audited: dict = {}  # component (frozenset of blanked cells) -> its exposed cells
    for _ in range(max_rounds):
        _close_ties(out, ties)
        exposed = []
        for part in _components(out, cells, groups, limits):
            if part not in audited:
                audited[part] = _audit(cells, groups, limits, {k: out[k] for k in part})
            exposed += audited[part]
        if not exposed:
            return out
        key = exposed[0]
        near = {k for g, _ in groups if key in g for k in g if k not in out}
        if not near:  # every neighbour is blank and still the bounds pin it: the group's
            # other members are blanked too, from the widest group outwards
            near = {k for g, _ in groups for k in g if k not in out and set(g) & set(out)}
        if not near:
            raise DesignError(
                f"cell {key!r} can be recomputed and no published cell can protect it",
                "raise min_cell, or leave the figure out of the publication",
            )
        # the cheapest neighbour that protects the cell, else the cheapest
        order = sorted(near, key=lambda k: (cells[k].cost, str(k)))
        out[
            next(
                (k for k in order if _protects(k, key, out, cells, groups, ties, limits)), order[0]
            )
        ] = "complementary"
    raise DesignError("complementary suppression did not settle", "report this as a bug")


def _protects(pick, key, out, cells, groups, ties, limits) -> bool:
    """Whether blanking ``pick`` (and what follows it) makes ``key`` unrecoverable."""
    trial = {**out, pick: "complementary"}
    _close_ties(trial, ties)
    return key not in _audit(cells, groups, limits, trial, key)


def _close_ties(out: dict, ties: list) -> None:
    changed = True
    while changed:
        changed = False
        for sources, targets in ties:
            if any(k in out for k in sources):
                for k in targets:
                    if k not in out:
                        out[k] = "complementary"
                        changed = True


def _components(blank, cells, groups, limits) -> list[frozenset]:
    """The blanked cells in sets that share no identity: each is audited on its own."""
    parent = {k: k for k in blank if k in cells}

    def find(k):
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for terms in [g for g, _ in groups] + [c for c, _ in limits]:
        inside = [k for k in terms if k in parent]
        for k in inside[1:]:
            parent[find(k)] = find(inside[0])
    parts: dict = {}
    for k in parent:
        parts.setdefault(find(k), set()).add(k)
    return [frozenset(p) for p in parts.values()]


def _audit(cells, groups, limits, blank, only=None) -> list:
    """Blanked cells whose value the published ones determine (by linear programming);
    ``only``: audit that one cell."""
    from scipy.optimize import linprog

    keys = sorted((k for k in blank if k in cells), key=str)  # ties alone: nothing to audit
    index = {k: i for i, k in enumerate(keys)}
    A_eq, b_eq, A_ub, b_ub = [], [], [], []
    for terms, bound, rows, rhs in (
        *((g, b, A_eq, b_eq) for g, b in groups),
        *((c, b, A_ub, b_ub) for c, b in limits),
    ):
        if not any(k in index for k in terms):
            continue
        row = np.zeros(len(keys))
        known = 0.0
        for k, coef in terms.items():
            if k in index:
                row[index[k]] += coef
            else:
                known += coef * cells[k].value
        rows.append(row)
        rhs.append(bound - known)
    bounds = [(cells[k].low, cells[k].high) for k in keys]
    exposed = []
    for k in keys if only is None else [only]:
        c = cells[k]
        if not c.audit:
            continue
        if not (A_eq or A_ub):
            low, high = c.low, c.high
        else:
            ends = []
            for sign in (1.0, -1.0):
                goal = np.zeros(len(keys))
                goal[index[k]] = sign
                res = linprog(
                    goal,
                    A_ub=np.array(A_ub) if A_ub else None,
                    b_ub=b_ub or None,
                    A_eq=np.array(A_eq) if A_eq else None,
                    b_eq=b_eq or None,
                    bounds=bounds,
                    method="highs",
                )
                if res.status == 2:  # the identities contradict the published values
                    raise DesignError(
                        f"the published figures around {k!r} do not satisfy their identities",
                        "report this as a bug: a group's coefficients are wrong",
                    )
                ends.append(sign * res.fun if res.status == 0 else (c.low if sign > 0 else c.high))
            low, high = ends
        if _determined(low, high, c):
            exposed.append(k)
    return exposed


def _determined(low: float, high: float, c: Cell) -> bool:
    if high - low < c.tol:
        return True
    if c.step > 0:
        eps = 1e-7 * max(1.0, abs(high))
        return np.floor((high + eps) / c.step) - np.ceil((low - eps) / c.step) < 1
    return False
