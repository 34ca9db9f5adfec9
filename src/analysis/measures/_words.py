"""Words of open answers: jieba segmentation, top phrases and representative quotes.

The jieba tokenizer is private to Qifang (``jieba.Tokenizer()``, not jieba's global
one) and is built on first use with the domain dictionary
(``resources/jieba_domain.txt``): importing this module reads no file.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from analysis.measures._redact import PLACEHOLDER

_RESOURCES = Path(__file__).parent / "resources"
DOMAIN_DICTIONARY = _RESOURCES / "jieba_domain.txt"
STOPWORDS = _RESOURCES / "stopwords.txt"
# A phrase is shown only if this many answers use it: a word one firm wrote (a street,
# a product) can identify it even when no name is in it.
MIN_PHRASE_ANSWERS = 3
_LONG_QUOTE = 120
_SAME_QUOTE = 0.6  # Jaccard similarity of content words above which two quotes repeat
_WORD = re.compile(r"[\u4e00-\u9fff]{2,}")

_lock = threading.Lock()
_tokenizer_instance = None


def _tokenizer():
    """The private jieba tokenizer with the domain dictionary, built on first use.

    jieba announces its start-up on stderr at DEBUG level through its own logger;
    the level is raised while the dictionary loads and restored afterwards.
    """
    global _tokenizer_instance
    with _lock:
        if _tokenizer_instance is None:
            import jieba

            logger = logging.getLogger("jieba")
            level = logger.level
            logger.setLevel(logging.WARNING)
            try:
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                for word, freq in _domain_words():
                    tokenizer.add_word(word, freq)
            finally:
                logger.setLevel(level)
            _tokenizer_instance = tokenizer
        return _tokenizer_instance


def _lines(path: Path) -> list[str]:
    lines = (ln.strip() for ln in path.read_text(encoding="utf-8").splitlines())
    return [ln for ln in lines if ln and not ln.startswith("#")]


def _domain_words() -> list[tuple[str, int | None]]:
    out = []
    for line in _lines(DOMAIN_DICTIONARY):
        parts = line.split()
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        out.append((parts[0], freq))
    return out


@cache
def _stopwords() -> frozenset[str]:
    return frozenset(_lines(STOPWORDS))


def content_words(text: str) -> list[str | None]:
    """Content words of a redacted text, in order, with ``None`` where a stopword,
    a number or punctuation breaks the run (two-word phrases never span a break).
    Placeholders are cut out first, so 〔姓名〕 never becomes a phrase."""
    return words_of([text])[0]


def words_of(texts: Iterable[str]) -> list[list[str | None]]:
    """:func:`content_words` of each text. jieba segments a text block by block (a
    block is a run of characters of its ``re_han_default``, or a run of others), so
    each distinct block is segmented once: answers share many clauses."""
    import jieba

    tokenizer, stop, blocks = _tokenizer(), _stopwords(), {}
    out = []
    for text in texts:
        words: list[str | None] = []
        for block in jieba.re_han_default.split(PLACEHOLDER.sub("。", text)):
            if not block:
                continue
            found = blocks.get(block)
            if found is None:
                found = blocks[block] = [
                    token if _WORD.fullmatch(token) is not None and token not in stop else None
                    for token in tokenizer.lcut(block, HMM=False)
                ]
            words += found
        out.append(words)
    return out


@dataclass(frozen=True)
class Bags:
    """The words of each distinct (redacted) answer, for phrases and quotes.

    ``vector_*`` hold each answer's unit vector of word counts, ``phrase_*`` its set
    of words and two-word phrases, as sparse rows: entries by answer, columns
    numbered in the order of the sorted ``vocabulary`` and ``phrase_list``. ``words``
    holds each answer's content words; ``flawed`` marks answers that make poor
    quotes (with a placeholder, or long).
    """

    texts: list[str]
    words: list[frozenset[str]]
    flawed: np.ndarray
    vocabulary: list[str]
    vector_row: np.ndarray
    vector_col: np.ndarray
    vector_value: np.ndarray
    phrase_list: list[str]
    phrase_row: np.ndarray
    phrase_col: np.ndarray


def bags_of(texts: list[str]) -> Bags:
    """The :class:`Bags` of redacted answers."""
    # Answers that differ in numbers, punctuation or placeholders share their words.
    distinct: dict[tuple, int] = {}
    index = np.fromiter(
        (distinct.setdefault(tuple(w), len(distinct)) for w in words_of(texts)), dtype=np.intp
    )
    vectors = [_unit(Counter(w for w in words if w)) for words in distinct]
    phrases = [sorted(_phrases_of(list(words))) for words in distinct]
    vocabulary = sorted(set().union(*vectors))
    phrase_list = sorted(set().union(*phrases))
    vector_row, at = _spread(vectors, index)
    phrase_row, at_phrase = _spread(phrases, index)
    values = np.fromiter((x for v in vectors for x in v.values()), dtype=float)
    words = [frozenset(v) for v in vectors]
    return Bags(
        texts=texts,
        words=[words[i] for i in index.tolist()],
        flawed=np.array(
            [PLACEHOLDER.search(t) is not None or len(t) > _LONG_QUOTE for t in texts], dtype=bool
        ),
        vocabulary=vocabulary,
        vector_row=vector_row,
        vector_col=_cols(vectors, vocabulary)[at],
        vector_value=values[at],
        phrase_list=phrase_list,
        phrase_row=phrase_row,
        phrase_col=_cols(phrases, phrase_list)[at_phrase],
    )


def _spread(items: list, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Answer i has the items ``items[index[i]]``: the answer of each of its entries,
    and where the entry stands in all ``items`` laid end to end."""
    sizes = np.array([len(x) for x in items], dtype=np.intp)
    n = sizes[index]
    rows = np.repeat(np.arange(len(index)), n)
    at = np.arange(n.sum()) + np.repeat(
        np.cumsum(sizes)[index] - sizes[index] - np.cumsum(n) + n, n
    )
    return rows, at


def _cols(items: list, names: list[str]) -> np.ndarray:
    number = {name: i for i, name in enumerate(names)}
    return np.fromiter((number[x] for item in items for x in item), dtype=np.intp)


def _phrases_of(words: list[str | None]) -> set[str]:
    found = {w for w in words if w}
    found.update(a + b for a, b in itertools.pairwise(words) if a and b)
    return found


def _per_answer(bags: Bags, u: np.ndarray, values) -> np.ndarray:
    out = np.zeros(len(bags.texts))
    out[u] = values
    return out


def top_phrases(bags: Bags, u, u_weight, u_count, k: int) -> list[tuple[str, float, int]]:
    """The ``k`` phrases used by the most weight among answers ``u`` (with their
    weights and numbers of firms), each used by at least ``MIN_PHRASE_ANSWERS``."""
    if k == 0:
        return []
    mine = np.zeros(len(bags.texts), dtype=bool)
    mine[u] = True
    keep = mine[bags.phrase_row]
    rows, cols = bags.phrase_row[keep], bags.phrase_col[keep]
    # bincount adds in row order, as a loop over u (sorted) would
    weight = np.bincount(cols, _per_answer(bags, u, u_weight)[rows], len(bags.phrase_list))
    count = np.bincount(cols, _per_answer(bags, u, u_count)[rows], len(bags.phrase_list))
    kept = np.flatnonzero(count >= MIN_PHRASE_ANSWERS).tolist()
    kept.sort(key=lambda p: (-round(weight[p], 9), -count[p], p))  # p: alphabetical
    return [(bags.phrase_list[p], float(weight[p]), int(count[p])) for p in kept[:k]]


def quotes_of(bags: Bags, u, u_count, mixed, k: int) -> list[str]:
    """Up to ``k`` answers nearest the centroid of the category's word vectors.

    Answers without placeholders, of a readable length and about this category alone
    (``mixed`` marks those also coded elsewhere) come first; equal scores
    are ordered by a hash of the text, so the choice never depends on row order. An
    answer that says what a chosen one says (most content words shared) is skipped.
    """
    if k == 0:
        return []
    mine = np.zeros(len(bags.texts), dtype=bool)
    mine[u] = True
    keep = mine[bags.vector_row]
    rows, cols, values = bags.vector_row[keep], bags.vector_col[keep], bags.vector_value[keep]
    centroid = np.bincount(cols, values * _per_answer(bags, u, u_count)[rows], len(bags.vocabulary))
    # the norm summed in the order words first appear, as a dict of them would be
    _, first = np.unique(cols, return_index=True)
    norm = math.sqrt(sum((centroid[cols[np.sort(first)]] ** 2).tolist()))
    centroid = centroid / norm if norm else np.zeros_like(centroid)
    score = np.bincount(rows, values * centroid[cols], len(bags.texts))[u]
    rounded = np.array([-round(x, 9) for x in score.tolist()])
    flawed, mixed = bags.flawed[u], np.asarray(mixed, dtype=bool)
    order = np.lexsort((rounded, mixed, flawed))
    chosen: list[tuple[str, frozenset[str]]] = []
    for code in _ties_by_hash(bags, u, order, (flawed, mixed, rounded)):
        bag = bags.words[code]
        if all(_jaccard(bag, other) < _SAME_QUOTE for _, other in chosen):
            chosen.append((bags.texts[code], bag))
            if len(chosen) == k:
                break
    return [text for text, _ in chosen]


def _ties_by_hash(bags: Bags, u, order: np.ndarray, keys: tuple) -> Iterable[int]:
    """Answers ``u[order]``, those with equal ``keys`` ordered by the hash of their text
    (computed only for the groups reached)."""
    key = np.stack([np.asarray(x, dtype=float) for x in keys], axis=1)[order]
    starts = np.flatnonzero(np.r_[True, (key[1:] != key[:-1]).any(axis=1)])
    for a, b in itertools.pairwise([*starts.tolist(), len(order)]):
        group = u[order[a:b]].tolist()
        if len(group) > 1:
            group.sort(key=lambda code: (_stable_hash(bags.texts[code]), code))
        yield from group


def _jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def _unit(counter: Counter) -> dict[str, float]:
    norm = math.sqrt(sum(x * x for x in counter.values()))
    return {w: x / norm for w, x in sorted(counter.items())} if norm else {}


def _stable_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()
