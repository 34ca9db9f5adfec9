"""The words of the synthetic sample: names, firm names, phones, open answers with
planted identifiers, built from the phrase pools of ``sample_phrases.yaml``.

Strings are made once per distinct combination of pool entries (a few thousand), not
once per row, which keeps a million-firm sample fast. Used by :mod:`analysis.sample.generate`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.ingest import yamlfile
from analysis.ingest.instrument import Instrument

PII_SHARE = {"urgent_needs": 0.06, "suggestions": 0.03}


@cache
def phrases() -> dict:
    path = Path(__file__).parent / "sample_phrases.yaml"
    return yamlfile.loads(path.read_text(encoding="utf-8"))


def _digits(rng, n: int, width: int) -> np.ndarray:
    """n random strings of ``width`` decimal digits."""
    return np.char.zfill(rng.integers(0, 10**width, n).astype(f"U{width}"), width)


def compose(*parts: tuple[np.ndarray, list[str]]) -> pd.Categorical:
    """Concatenate, row by row, strings picked from pools: part k contributes
    ``pool_k[codes_k]``. Strings are built once per distinct combination (a few
    thousand), not once per row, which keeps a million-row sample fast."""
    key = np.zeros(len(parts[0][0]), dtype=np.int64)
    for codes, pool in parts:
        key = key * len(pool) + codes
    uniq, inverse = np.unique(key, return_inverse=True)
    strings = []
    for u in uniq.tolist():  # a loop over distinct combinations, not rows
        pieces = []
        for _codes, pool in reversed(parts):
            u, k = divmod(u, len(pool))
            pieces.append(pool[k])
        strings.append("".join(reversed(pieces)))
    categories, remap = np.unique(np.array(strings, dtype=object), return_inverse=True)
    return pd.Categorical.from_codes(remap[inverse], categories=categories)


def _pick(rng, pool: list, n: int) -> tuple[np.ndarray, list]:
    return rng.integers(0, len(pool), n), pool


def people(rng, n: int, r: np.ndarray, regions: list[str]) -> dict:
    ph = phrases()
    names = ph["names"]
    han = [s + g for s in names["surnames"] for g in names["given"]]
    tibetan_area = np.isin(r, [regions.index(x) for x in ("yushu", "guoluo", "huangnan", "hainan")])
    code = np.where(
        tibetan_area & (rng.random(n) < 0.5),
        len(han) + rng.integers(0, len(names["tibetan"]), n),
        rng.integers(0, len(han), n),
    )
    person = pd.Categorical.from_codes(code, categories=han + names["tibetan"])
    prefixes = np.array(["138", "139", "158", "159", "188", "189", "135", "137", "150", "177"])
    phone = np.char.add(prefixes[rng.integers(0, len(prefixes), n)], _digits(rng, n, 8))
    firm = compose(
        ([0] * n, ["青海"]),
        _pick(rng, ph["firm"]["brands"], n),
        _pick(rng, ph["firm"]["kinds"], n),
        ([0] * n, ["有限公司"]),
    )
    return {"firm_name": firm, "contact_person": person, "phone": phone}


def flat_phrases(
    pool: dict, options: list[str], lead: str = ""
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """All phrases of the categories in one list after a leading "" (index 0 = none),
    with each category's offset and count, so rows can pick by arithmetic."""
    flat = [""] + [lead + p for o in options for p in pool[o]]
    counts = np.array([len(pool[o]) for o in options])
    offsets = 1 + np.concatenate([[0], np.cumsum(counts)[:-1]])
    return flat, offsets, counts


def _top_categories(rng, n: int, diff: dict, options: list[str], k: np.ndarray) -> np.ndarray:
    """For each row, up to k (1 or 2) of the ticked difficulties in random order (-1 = none)."""
    ticked = np.column_stack([diff[o] for o in options])
    keys = np.where(ticked, rng.random((n, len(options))), -1.0)
    rows = np.arange(n)
    first = keys.argmax(axis=1)
    has_first = keys[rows, first] >= 0
    keys[rows, first] = -1.0
    second = keys.argmax(axis=1)
    has_second = (keys[rows, second] >= 0) & (k >= 2)
    return np.column_stack([np.where(has_first, first, -1), np.where(has_second, second, -1)])


def _phrase_codes(rng, cats: np.ndarray, offsets: np.ndarray, counts: np.ndarray) -> np.ndarray:
    c = np.maximum(cats, 0)
    return np.where(cats >= 0, offsets[c] + (rng.random(len(cats)) * counts[c]).astype(int), 0)


def urgent_needs(rng, n: int, diff: dict, inst: Instrument) -> tuple[pd.Categorical, pd.DataFrame]:
    ph = phrases()
    options = list(inst.question("difficulties").values)
    cats = _top_categories(rng, n, diff, options, np.where(rng.random(n) < 0.4, 2, 1))
    cats[:, 0] = np.where(cats[:, 0] < 0, options.index("other"), cats[:, 0])
    answered = rng.random(n) < 0.75
    first, offsets, counts = flat_phrases(ph["urgent_needs"], options)
    second, _, _ = flat_phrases(ph["urgent_needs"], options, lead="；")
    prefixes = ["", *ph["prefixes"]]
    text = compose(
        (np.where(answered, 1 + rng.integers(0, len(ph["prefixes"]), n), 0), prefixes),
        (np.where(answered, _phrase_codes(rng, cats[:, 0], offsets, counts), 0), first),
        (np.where(answered, _phrase_codes(rng, cats[:, 1], offsets, counts), 0), second),
        (answered.astype(int), ["", "。"]),
    )
    truth = pd.DataFrame(
        {o: (((cats == i).any(axis=1)) & answered).astype(int) for i, o in enumerate(options)}
    )
    return text, truth


def suggestions(rng, n: int, diff: dict, inst: Instrument) -> pd.Categorical:
    options = list(inst.question("difficulties").values)
    flat, offsets, counts = flat_phrases(phrases()["suggestions"], options)
    cats = _top_categories(rng, n, diff, options, np.ones(n, dtype=int))[:, 0]
    cats = np.where(cats < 0, options.index("other"), cats)
    answered = rng.random(n) < 0.5
    return compose(
        (np.where(answered, _phrase_codes(rng, cats, offsets, counts), 0), flat),
        (answered.astype(int), ["", "。"]),
    )


_IDENTIFIER_TEMPLATES = {
    "phone": ("有事请打电话", "。"),
    "name": ("联系人", "。"),
    "firm": ("我们", "的情况请领导关注。"),
    "id_number": ("法人身份证号", "。"),
    "credit_code": ("统一社会信用代码", "。"),
    "email": ("材料已发邮箱", "。"),
}


def plant_identifiers(rng, text: pd.Categorical, people: dict, field: str):
    """Append an identifying string to a share of the non-empty answers, as happens
    when firms write contact details into free text."""
    codes = np.asarray(text.codes)
    filled = np.asarray(text.categories, dtype=object) != ""
    rows = np.flatnonzero(filled[codes] & (rng.random(len(codes)) < PII_SHARE[field]))
    m = len(rows)
    kinds = list(_IDENTIFIER_TEMPLATES)
    kind = rng.integers(0, len(kinds), m)
    obj = lambda a: np.asarray(a).astype(object)  # noqa: E731
    birth = (
        obj(rng.integers(1960, 2000, m).astype("U4"))
        + obj(_digits(rng, m, 2))
        + obj(_digits(rng, m, 2))
    )
    check = np.array(list("0123456789X"), dtype=object)[rng.integers(0, 11, m)]
    id_number = "6301" + obj(_digits(rng, m, 2)) + birth + obj(_digits(rng, m, 3)) + check
    alnum = np.array(list("0123456789ABCDEFGHJKLMNPQRTUWXY"), dtype=object)
    credit = "91630100" + alnum[rng.integers(0, len(alnum), (m, 10))].sum(axis=1)
    email = "qh" + obj(_digits(rng, m, 7)) + "@163.com"
    values = np.column_stack(
        [
            obj(people["phone"][rows]),
            obj(people["contact_person"][rows]),
            obj(people["firm_name"][rows]),
            id_number,
            credit,
            email,
        ]
    )
    value = values[np.arange(m), kind]
    before = np.array([t[0] for t in _IDENTIFIER_TEMPLATES.values()], dtype=object)[kind]
    after = np.array([t[1] for t in _IDENTIFIER_TEMPLATES.values()], dtype=object)[kind]
    old = np.asarray(text.categories, dtype=object)
    planted_text = old[codes[rows]] + before + value + after
    categories, remap = np.unique(np.concatenate([old, planted_text]), return_inverse=True)
    new_codes = remap[codes]
    new_codes[rows] = remap[len(old) :]
    out = pd.Categorical.from_codes(new_codes, categories=categories)
    planted = pd.DataFrame(
        {"row": rows, "field": field, "kind": np.array(kinds, dtype=object)[kind], "value": value}
    )
    return out, planted
