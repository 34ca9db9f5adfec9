"""The coding dictionary for open answers: loading and checking it, and matching it.

The dictionary is YAML that staff edit without code (``resources/coding.yaml`` is the
default and documents the format). Matching works on the distinct answers only and
runs one pattern per category over all of them (RE2, through Arrow), so its cost
grows with the text, not with text times keywords.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.errors import CodingError
from analysis.ingest.instrument import Instrument, load_instrument
from analysis.ingest.yamlfile import read_yaml

DEFAULT_CODING = Path(__file__).parent / "resources" / "coding.yaml"
RESIDUAL = "other"
_KEYS = {"keywords", "phrases", "exclude", "label", "replace", "remove"}
_LISTS = ("keywords", "phrases", "exclude")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# Phrase parts may be this many characters apart, but never across a sentence end.
_GAP = r"[^。.;!?\n]{0,8}?"
_GAP_MARK = re.compile(r"…+|\.{3,}")
_PUNCT = re.compile(r"[\s\W_]+")


@dataclass(frozen=True)
class Category:
    """One category of the coding dictionary.

    ``keywords`` and ``phrases`` code an answer into the category; ``exclude`` holds
    text removed before they are matched. All are normalised (NFKC, case-folded);
    a phrase keeps ``…`` where its parts may be apart.
    """

    name: str
    label_zh: str
    label_en: str
    keywords: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class CodingScheme:
    """A validated coding dictionary: its categories (the residual ``other`` last),
    the answers that mean "nothing to report", and the files it was read from."""

    categories: tuple[Category, ...]
    none_answers: tuple[str, ...]
    sources: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.categories)

    def category(self, name: str) -> Category:
        for c in self.categories:
            if c.name == name:
                return c
        raise KeyError(f"the coding dictionary has no category {name!r}")


def load_coding(
    path: str | Path | None = None, instrument: Instrument | None = None
) -> CodingScheme:
    """Read the coding dictionary for open answers, with a user file on top.

    Parameters
    ----------
    path : a user YAML file in the layout of ``resources/coding.yaml``. Its lists are
        added to the default's; a category with ``replace: true`` replaces the
        default's lists, ``remove: [...]`` drops single entries, and a category the
        instrument does not have may be added with ``label: {zh: …, en: …}``.
        None: the default dictionary alone.
    instrument : gives the categories (the ``difficulty`` choice list) and their
        zh/en labels; default the bundled instrument.

    Returns
    -------
    CodingScheme

    Raises
    ------
    CodingError
        The file is missing or not YAML; an unknown key or category; a keyword
        that is not a string of two or more characters.

    Examples
    --------
    >>> scheme = load_coding()
    >>> scheme.category("financing").label_zh
    '融资难融资贵'
    """
    inst = instrument or load_instrument()
    try:
        choices = inst.choice_lists["difficulty"]
    except KeyError:
        raise CodingError(
            f"the instrument {inst.source} has no 'difficulty' choice list",
            "use an instrument that defines the difficulty categories",
        ) from None
    labels = {str(c.value): (c.label.zh, c.label.en) for c in choices}
    if RESIDUAL not in labels:
        labels[RESIDUAL] = ("其他", "Other")
    merged: dict[str, dict[str, Any]] = {
        name: {"label": labels[name], **{k: [] for k in _LISTS}} for name in labels
    }
    base = _read(DEFAULT_CODING)
    none_answers = _merge(base, merged, DEFAULT_CODING, user=False)
    sources = [str(DEFAULT_CODING)]
    if path is not None:
        user_path = Path(path)
        none_answers += _merge(_read(user_path), merged, user_path, user=True)
        sources.append(str(user_path))
    order = [n for n in merged if n != RESIDUAL] + [RESIDUAL]
    categories = tuple(
        Category(
            name,
            merged[name]["label"][0],
            merged[name]["label"][1],
            *(tuple(dict.fromkeys(merged[name][k])) for k in _LISTS),
        )
        for name in order
    )
    return CodingScheme(categories, tuple(dict.fromkeys(none_answers)), tuple(sources))


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise CodingError(
            f"coding dictionary not found: {path}",
            "give the path of a YAML file laid out like "
            "src/analysis/measures/resources/coding.yaml",
        )
    spec = read_yaml(path, CodingError, "fix the YAML syntax at the line shown")
    if not isinstance(spec, dict) or not isinstance(spec.get("categories", {}), dict):
        raise CodingError(
            f"{path}: expected a mapping with a 'categories' mapping",
            "see src/analysis/measures/resources/coding.yaml for the layout",
        )
    unknown = set(spec) - {"version", "categories", "none_answers"}
    if unknown:
        raise CodingError(
            f"{path}: unknown top-level key(s) {', '.join(sorted(map(str, unknown)))}",
            "use only version, none_answers and categories",
        )
    return spec


def _merge(spec: dict, merged: dict, path: Path, user: bool) -> list[str]:
    """Fold one file's categories into ``merged``; return its none-answers."""
    for name, raw in (spec.get("categories") or {}).items():
        where = f"{path.name}: category {name!r}"
        if not isinstance(name, str) or not _NAME.match(name):
            raise CodingError(
                f"{where}: invalid category name",
                "use lower-case letters, digits and underscores, as in the instrument",
            )
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise CodingError(f"{where}: expected a mapping", "write keywords: [...] under it")
        unknown = set(raw) - _KEYS
        if unknown:
            raise CodingError(
                f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}",
                f"use only {', '.join(sorted(_KEYS))}",
            )
        if name not in merged:
            label = raw.get("label")
            if not isinstance(label, dict) or not label.get("zh") or not label.get("en"):
                raise CodingError(
                    f"{where}: not a difficulty category of the instrument",
                    "correct the name, or add a new category with label: {zh: …, en: …}",
                )
            merged[name] = {
                "label": (str(label["zh"]), str(label["en"])),
                **{k: [] for k in _LISTS},
            }
        elif "label" in raw:
            label = raw["label"]
            if not isinstance(label, dict) or not label.get("zh") or not label.get("en"):
                raise CodingError(f"{where}: a label needs zh and en", "write {zh: …, en: …}")
            merged[name]["label"] = (str(label["zh"]), str(label["en"]))
        if raw.get("replace") and not user:
            raise CodingError(f"{where}: replace is for user files", "remove it")
        entries = {k: _entries(raw.get(k), f"{where}, {k}", phrase=k != "keywords") for k in _LISTS}
        target = merged[name]
        for k in _LISTS:
            target[k] = entries[k] if raw.get("replace") else target[k] + entries[k]
        drop = set(_entries(raw.get("remove"), f"{where}, remove", phrase=True))
        for k in _LISTS:
            target[k] = [x for x in target[k] if x not in drop]
    return _entries(
        spec.get("none_answers"), f"{path.name}: none_answers", phrase=False, short=True
    )


def _entries(raw: Any, where: str, phrase: bool, short: bool = False) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise CodingError(f"{where}: expected a list", "write it as [词语, 词语, …]")
    out = []
    for item in raw:
        if not isinstance(item, str) or not item.strip():
            raise CodingError(
                f"{where}: {item!r} is not a word", "quote numbers and remove empty entries"
            )
        parts = [_norm(p) for p in _GAP_MARK.split(item)] if phrase else [_norm(item)]
        if phrase and any(not p for p in parts):
            raise CodingError(
                f"{where}: {item!r} has an empty part", "put words on both sides of …"
            )
        if not short and len("".join(parts)) < 2:
            raise CodingError(
                f"{where}: {item!r} is a single character and would code far too much",
                "use a word of two or more characters",
            )
        out.append("…".join(parts))
    return out


def _norm(text: str) -> str:
    """Normalise for matching: full-width to half-width, case-folded, no spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).casefold())


def _none_key(text: str) -> str:
    return _PUNCT.sub("", _norm(text))


def trie_pattern(words: Iterable[str]) -> str:
    """A regular expression matching any of ``words``, built as a trie so matching
    costs one step per character whatever the number of words (longest match first).

    >>> trie_pattern(["王总", "王建国", "李"])
    '(?:李|王(?:建国|总))'
    """
    root: dict = {}
    for word in words:
        if not word:
            continue
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _node(root) if root else r"(?!x)x"


def _node(node: dict) -> str:
    branches = []
    for ch in sorted(k for k in node if k):
        branches.append(re.escape(ch) + _node(node[ch]))
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body


def _category_pattern(words: Iterable[str]) -> str | None:
    """One pattern for the words, in the syntax both Python's re and RE2 read."""
    words = list(words)
    if not words:
        return None
    literal = [w for w in words if "…" not in w]
    gapped = [_GAP.join(re.escape(p) for p in w.split("…")) for w in words if "…" in w]
    alternatives = ([trie_pattern(literal)] if literal else []) + gapped
    return "|".join(alternatives)


@cache
def _compiled(scheme: CodingScheme) -> tuple:
    return tuple(
        (c.name, _category_pattern(c.exclude), _category_pattern(c.keywords + c.phrases))
        for c in scheme.categories
    )


def hits(texts: pd.Series, scheme: CodingScheme) -> tuple[np.ndarray, np.ndarray]:
    """Keyword hits of each text per category, and which texts count as answered.

    ``texts`` holds distinct strings (missing as NaN/None). Returns ``(counts, answered)``:
    counts is texts x categories (the residual ``other`` also counts 1 for an answered
    text that matches no category), answered a boolean vector. The patterns run as
    RE2 over Arrow strings, which counts as Python's re does for these patterns.
    """
    norm = _norm_all(texts.astype("string").fillna("").tolist())
    nones = {_none_key(x) for x in scheme.none_answers}
    keys = (_PUNCT.sub("", k) for k in _norm_all(norm))  # as _none_key, in one call
    answered = np.array([bool(k) and k not in nones for k in keys], dtype=bool)
    counts = np.zeros((len(texts), len(scheme.categories)), dtype=np.int64)
    norm_arrow = pa.array(norm, type=pa.large_string())
    for j, (_, exclude, pattern) in enumerate(_compiled(scheme)):
        if pattern is None:
            continue
        target = norm_arrow
        if exclude is not None:
            target = pc.replace_substring_regex(norm_arrow, exclude, "|")
        counts[:, j] = np.asarray(pc.count_substring_regex(target, pattern), dtype=np.int64)
    counts[~answered] = 0
    residual = scheme.names.index(RESIDUAL)
    counts[:, residual] += answered & (counts.sum(axis=1) == 0)
    return counts, answered


def _norm_all(texts: list[str]) -> list[str]:
    """:func:`_norm` of each text, in one call where NUL separates texts safely (a NUL
    is a character of its own for NFKC, case folding and white space)."""
    if any("\x00" in t for t in texts):
        return [_norm(t) for t in texts]
    out = _norm("\x00".join(texts)).split("\x00")
    return out if len(out) == len(texts) else [_norm(t) for t in texts]


def agreement(coded: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Agreement of automatic codes with reference codes (hand-coded, or a known truth).

    Parameters
    ----------
    coded, reference : 0/1 columns per category, on the same index; rows where
        either is missing are left out. Only the columns both have are compared.

    Returns
    -------
    DataFrame with one row per category (and a last row ``all``, pooled over
    categories): ``support`` (reference positives), ``predicted``, ``tp``,
    ``precision``, ``recall``, ``f1`` and Cohen's ``kappa``; NaN where undefined.

    Examples
    --------
    >>> a = pd.DataFrame({"tax": [1, 0, 1, 0]})
    >>> agreement(a, a).loc[0, ["f1", "kappa"]].tolist()
    [1.0, 1.0]
    """
    columns = [c for c in coded.columns if c in reference.columns]
    rows = []
    keep = coded[columns].notna().all(axis=1) & reference[columns].notna().all(axis=1)
    pred = coded.loc[keep, columns].to_numpy(dtype=float) == 1
    true = reference.loc[keep, columns].to_numpy(dtype=float) == 1
    for j, name in enumerate([*columns, "all"]):
        p, t = (pred[:, j], true[:, j]) if name != "all" else (pred.ravel(), true.ravel())
        rows.append({"category": name, **_scores(p, t)})
    return pd.DataFrame(rows)


def _scores(p: np.ndarray, t: np.ndarray) -> dict:
    n, tp = len(p), int(np.sum(p & t))
    npred, ntrue = int(p.sum()), int(t.sum())
    precision = tp / npred if npred else float("nan")
    recall = tp / ntrue if ntrue else float("nan")
    f1 = 2 * tp / (npred + ntrue) if npred + ntrue else float("nan")
    observed = float(np.mean(p == t)) if n else float("nan")
    chance = (npred * ntrue + (n - npred) * (n - ntrue)) / n**2 if n else float("nan")
    kappa = (observed - chance) / (1 - chance) if n and chance < 1 else float("nan")
    return {
        "support": ntrue,
        "predicted": npred,
        "tp": tp,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "kappa": kappa,
    }
