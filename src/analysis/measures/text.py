"""Open answers: the firms' own words, coded, counted and quoted without identifying anyone.

The questionnaire's two open questions, ``urgent_needs`` (急难愁盼) and
``suggestions``, are coded into the difficulty categories of the instrument with a
keyword dictionary that staff edit as YAML (``resources/coding.yaml``; see
:func:`load_coding`). For each category this module reports how many firms wrote
about it, their weighted share, the words they used most, and two or three
representative quotes; it returns the 0/1 indicator columns so that
``Design.proportion`` can put design-based standard errors on the shares.

Every text that leaves the module is redacted first: phone numbers, ID numbers,
credit codes, e-mail addresses, every contact name of the survey (and 王总, 王经理 …)
and every firm name (and its brand, 顺达 for 青海顺达矿业有限公司) become
placeholders such as 〔电话〕 or 〔企业〕. Quotes and phrases come only from
categories (and domains) with at least ``min_cell`` answers.

Chinese text is segmented by a private jieba tokenizer with a domain dictionary
(``resources/jieba_domain.txt``), built on first use: importing this module reads no
file. Results are deterministic: no random choice anywhere.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from analysis.errors import ParameterError
from analysis.measures._coding import RESIDUAL, Category, CodingScheme, agreement, hits, load_coding
from analysis.measures._redact import PLACEHOLDERS, Redactor
from analysis.measures._words import bags_of, quotes_of, top_phrases

__all__ = [
    "PLACEHOLDERS",
    "Category",
    "CodingScheme",
    "OpenAnswers",
    "agreement",
    "code_answers",
    "load_coding",
    "open_answers",
    "redact",
]

# Contact fields of the visits form whose values are redacted wherever they appear.
PERSON_COLUMN, FIRM_COLUMN, PHONE_COLUMN = "contact_person", "firm_name", "phone"


@dataclass(frozen=True)
class OpenAnswers:
    """Open answers of one question, coded.

    Attributes
    ----------
    column : the question (``urgent_needs`` or ``suggestions``).
    answers : non-empty answers (无, 暂无 … count as empty).
    coded : answers coded into at least one category other than ``other``.
    coverage : coded / answers (NaN without answers).
    indicators : one 0/1 column per category, named ``<column>__<category>``, on the
        data's index; missing where the firm gave no answer, so that
        ``Design.proportion(list(indicators.columns))`` gives the share of answering
        firms with design-based SE and CI.
    categories : per category (and ``by`` domain): ``answers``, ``base`` (answers in
        the domain), weighted ``share`` of answering firms, zh/en labels, and
        ``quotable`` (at least ``min_cell`` answers, so phrases and quotes are shown).
    phrases : the top words and two-word phrases per category: ``rank``, ``phrase``,
        ``weight`` (weighted number of firms using it), ``answers``.
    quotes : representative redacted quotes per category: ``rank``, ``quote``.
    """

    column: str
    answers: int
    coded: int
    coverage: float
    indicators: pd.DataFrame
    categories: pd.DataFrame
    phrases: pd.DataFrame
    quotes: pd.DataFrame


def code_answers(
    texts: Sequence[object] | pd.Series, scheme: CodingScheme | None = None
) -> pd.DataFrame:
    """Code open answers into categories.

    Parameters
    ----------
    texts : the answers; missing, blank and "nothing to report" answers (无, 暂无 …)
        count as not answered.
    scheme : the coding dictionary; default :func:`load_coding` ``()``.

    Returns
    -------
    DataFrame
        One float column per category (``other`` last) on the index of ``texts``:
        1 if the answer is about the category, 0 if not, missing if not answered.
        An answer may have several 1s; an answer matching no keyword is ``other``.

    Examples
    --------
    >>> code_answers(["希望银行不要抽贷断贷", "暂无"]).loc[:, ["financing", "other"]]
       financing  other
    0        1.0    0.0
    1        NaN    NaN
    """
    scheme = scheme or _default_scheme()
    series = _as_series(texts)
    codes, uniques = _factorize(series)
    counts, answered = hits(uniques, scheme)
    table = np.where(answered[:, None], (counts > 0).astype(float), np.nan)
    rows = np.where(codes[:, None] >= 0, table[np.maximum(codes, 0)], np.nan)
    return pd.DataFrame(rows, index=series.index, columns=list(scheme.names))


def redact(
    texts: Sequence[object] | pd.Series,
    people: Iterable[object] = (),
    firms: Iterable[object] = (),
    phones: Iterable[object] = (),
) -> pd.Series:
    """Replace identifying data in texts with placeholders.

    Parameters
    ----------
    texts : the texts; missing values stay missing.
    people : every contact name of the survey (not only the row's own): each, and
        forms of address built on its surname (王总, 王经理, 王女士 …), become 〔姓名〕.
    firms : every firm name: the full name, and the names firms use for themselves
        (without the province, legal form and line of business: 顺达矿业, 顺达),
        become 〔企业〕; a brand followed by 县, 山, 源 … is a place and stays.
    phones : phone numbers of the contact field, redacted as written.

    Returns
    -------
    Series of redacted strings on the index of ``texts``. Mobile and landline
    numbers become 〔电话〕, 18- and 15-digit ID numbers 〔证件号〕, unified social
    credit codes 〔信用代码〕, e-mail addresses 〔邮箱〕, bank account numbers 〔账号〕,
    WeChat and QQ accounts 〔联系方式〕. Amounts, years and hotlines (12345) stay.

    Examples
    --------
    >>> redact(["请王总回电13912345678"], people=["王建国"]).iloc[0]
    '请〔姓名〕回电〔电话〕'
    """
    series = _as_series(texts)
    redactor = Redactor([people], [firms], [phones], _places())
    return _redact_series(series, redactor)


def open_answers(
    data: pd.DataFrame,
    column: str = "urgent_needs",
    *,
    weights: str | Sequence[float] | np.ndarray | pd.Series | None = None,
    by: str | Sequence[str] | None = None,
    scheme: CodingScheme | None = None,
    min_cell: int = 10,
    quotes: int = 3,
    phrases: int = 10,
    people: Iterable[object] = (),
    firms: Iterable[object] = (),
) -> OpenAnswers:
    """Code, count and quote the open answers of one question.

    Parameters
    ----------
    data : the visits, one row per firm, with ``column`` and, when present, the
        contact fields ``contact_person``, ``firm_name`` and ``phone``, whose values
        (of every row) are redacted from every quote and phrase.
    column : the open question: ``urgent_needs`` (default) or ``suggestions``.
    weights : sampling weights, as a column name or an array aligned with ``data``;
        None weighs every firm 1.
    by : domain column(s): counts, shares, phrases and quotes per domain.
    scheme : the coding dictionary; default :func:`load_coding` ``()``.
    min_cell : phrases and quotes only for a category (in a domain) with at least
        this many answers.
    quotes : quotes per category (representative: closest to the category's
        centroid of words; ties by a stable hash of the text).
    phrases : top phrases per category.
    people, firms : further names to redact besides the contact fields.

    Returns
    -------
    OpenAnswers

    Raises
    ------
    ParameterError
        ``column``, ``by`` or a weights column is not in ``data``; weights of the
        wrong length, negative or missing; ``min_cell``, ``quotes`` or ``phrases``
        below their minimum.

    Examples
    --------
    >>> result = open_answers(visits, "urgent_needs", weights="weight")  # doctest: +SKIP
    >>> result.categories[["category", "answers", "share"]].head(3)  # doctest: +SKIP
    """
    _check_ints(min_cell=(min_cell, 1), quotes=(quotes, 0), phrases=(phrases, 0))
    if column not in data.columns:
        raise ParameterError(
            f"no column {column!r} in the data", "name an open question, e.g. urgent_needs"
        )
    by_cols = [by] if isinstance(by, str) else list(by or [])
    for b in by_cols:
        if b not in data.columns:
            raise ParameterError(f"no domain column {b!r} in the data", "check the name in by")
    w = _weights(data, weights)
    scheme = scheme or _default_scheme()

    codes, uniques = _factorize(data[column])
    counts, answered_u = hits(uniques, scheme)
    if len(uniques):
        answered = (codes >= 0) & answered_u[np.maximum(codes, 0)]
        onehot = (counts > 0)[np.maximum(codes, 0)] & answered[:, None]
    else:  # nobody answered: a blank column, or a domain without answers
        answered = np.zeros(len(codes), dtype=bool)
        onehot = np.zeros((len(codes), len(scheme.names)), dtype=bool)
    indicators = pd.DataFrame(
        np.where(answered[:, None], onehot.astype(float), np.nan),
        index=data.index,
        columns=[f"{column}__{c}" for c in scheme.names],
    )
    n_answers = int(answered.sum())
    residual = scheme.names.index(RESIDUAL)
    n_coded = int((onehot & (np.arange(len(scheme.names)) != residual)).any(axis=1).sum())

    redactor = Redactor(
        _contact(data, PERSON_COLUMN, people),
        _contact(data, FIRM_COLUMN, firms),
        _contact(data, PHONE_COLUMN, ()),
        _places(),
    )
    clean = _redact_series(uniques, redactor).fillna("")
    bags = bags_of(clean.tolist())
    n_categories = (counts > 0).sum(axis=1)

    domains = _domains(data, by_cols)
    cat_rows, phrase_rows, quote_rows = [], [], []
    for key, rows in domains:
        rows = rows[answered[rows]]
        base_w = float(w[rows].sum())
        for j, cat in enumerate(scheme.categories):
            mine = rows[onehot[rows, j]]
            share = float(w[mine].sum()) / base_w if base_w > 0 else math.nan
            quotable = len(mine) >= min_cell
            cat_rows.append(
                {
                    **key,
                    "category": cat.name,
                    "label_zh": cat.label_zh,
                    "label_en": cat.label_en,
                    "answers": len(mine),
                    "base": len(rows),
                    "share": share,
                    "quotable": quotable,
                }
            )
            if not quotable:
                continue
            # the distinct answers, their numbers of firms and weights (in row order)
            u_count = np.bincount(codes[mine], minlength=len(uniques))
            u = np.flatnonzero(u_count)
            u_weight = np.bincount(codes[mine], weights=w[mine], minlength=len(uniques))[u]
            u_count = u_count[u]
            for rank, (phrase, weight, n) in enumerate(
                top_phrases(bags, u, u_weight, u_count, phrases), 1
            ):
                phrase_rows.append(
                    {
                        **key,
                        "category": cat.name,
                        "rank": rank,
                        "phrase": phrase,
                        "weight": weight,
                        "answers": n,
                    }
                )
            mixed = n_categories[u] > 1
            for rank, quote in enumerate(quotes_of(bags, u, u_count, mixed, quotes), 1):
                quote_rows.append({**key, "category": cat.name, "rank": rank, "quote": quote})

    lead = [*by_cols, "category"]
    return OpenAnswers(
        column=column,
        answers=n_answers,
        coded=n_coded,
        coverage=n_coded / n_answers if n_answers else math.nan,
        indicators=indicators,
        categories=_table(
            cat_rows, [*lead, "label_zh", "label_en", "answers", "base", "share", "quotable"]
        ),
        phrases=_table(phrase_rows, [*lead, "rank", "phrase", "weight", "answers"]),
        quotes=_table(quote_rows, [*lead, "rank", "quote"]),
    )


# -- helpers -------------------------------------------------------------------------


@cache
def _default_scheme() -> CodingScheme:
    return load_coding()


@cache
def _places() -> tuple[str, ...]:
    """Region names of the instrument, which firm names carry before their brand."""
    from analysis.ingest.instrument import load_instrument

    regions = load_instrument().choice_lists.get("region", ())
    return tuple(x for c in regions for x in (c.label.zh, c.short.zh))


def _as_series(texts) -> pd.Series:
    return texts if isinstance(texts, pd.Series) else pd.Series(list(texts), dtype=object)


def _factorize(series: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Codes of the texts (-1 where missing), and the distinct texts as strings."""
    if isinstance(series.dtype, pd.CategoricalDtype) and pd.api.types.is_string_dtype(
        series.cat.categories
    ):  # as they are: categories are distinct, and unused ones cost little
        return series.cat.codes.to_numpy(np.intp), pd.Series(series.cat.categories, dtype="string")
    codes, uniques = pd.factorize(series.astype("string"), use_na_sentinel=True)
    return codes, pd.Series(uniques, dtype="string")


def _redact_series(series: pd.Series, redactor: Redactor) -> pd.Series:
    """Redact each distinct text once."""
    codes, uniques = _factorize(series)
    clean = np.array([*redactor.sub([str(t) for t in uniques]), None], dtype=object)
    return pd.Series(clean[codes], index=series.index, dtype="string")


def _contact(data: pd.DataFrame, column: str, extra: Iterable[object]) -> list[Iterable[object]]:
    """A contact field of the data (if there) and further values."""
    return [data[column], extra] if column in data.columns else [extra]


def _check_ints(**checks: tuple[int, int]) -> None:
    for name, (value, low) in checks.items():
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
            raise ParameterError(
                f"{name} must be a whole number >= {low}, got {value!r}",
                f"pass {name}={max(low, 1)} or more",
            )


def _weights(data: pd.DataFrame, weights) -> np.ndarray:
    if weights is None:
        return np.ones(len(data))
    if isinstance(weights, str):
        if weights not in data.columns:
            raise ParameterError(
                f"no weights column {weights!r} in the data",
                "name the column holding the sampling weights",
            )
        weights = data[weights]
    w = pd.to_numeric(pd.Series(np.asarray(weights).ravel()), errors="coerce").to_numpy(float)
    if len(w) != len(data):
        raise ParameterError(
            f"{len(w)} weights for {len(data)} rows", "pass one weight per row of the data"
        )
    if np.isnan(w).any() or (w < 0).any():
        raise ParameterError(
            "weights must be non-negative numbers without gaps",
            "fill in or correct the missing or negative weights",
        )
    return w


def _domains(data: pd.DataFrame, by: list[str]) -> list[tuple[dict, np.ndarray]]:
    if not by:
        return [({}, np.arange(len(data)))]
    groups = data.reset_index(drop=True).groupby(by, observed=True, sort=True, dropna=True)
    out = []
    for key, idx in groups.indices.items():
        key = key if isinstance(key, tuple) else (key,)
        out.append((dict(zip(by, [_plain(k) for k in key], strict=True)), np.asarray(idx)))
    return out


def _plain(x: object) -> object:
    return x.item() if isinstance(x, np.generic) else x


def _table(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)
