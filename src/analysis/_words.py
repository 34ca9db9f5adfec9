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
from functools import cache
from pathlib import Path

import pandas as pd

from ._redact import PLACEHOLDER

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


def _segment(text: str) -> list[str]:
    return _tokenizer().lcut(text, HMM=False)


def content_words(text: str) -> list[str]:
    """Content words of a redacted text, in order, with ``None`` where a stopword,
    a number or punctuation breaks the run (two-word phrases never span a break).
    Placeholders are cut out first, so 〔姓名〕 never becomes a phrase."""
    stop = _stopwords()
    out: list[str | None] = []
    for token in _segment(PLACEHOLDER.sub("。", text)):
        keep = _WORD.fullmatch(token) is not None and token not in stop
        out.append(token if keep else None)
    return out


def _phrases_of(words: list[str | None]) -> set[str]:
    found = {w for w in words if w}
    found.update(a + b for a, b in itertools.pairwise(words) if a and b)
    return found


def top_phrases(words, u, u_weight, u_count, k: int) -> list[tuple[str, float, int]]:
    if k == 0:
        return []
    weight: Counter = Counter()
    count: Counter = Counter()
    for code, wt, n in zip(u, u_weight, u_count, strict=True):
        for phrase in _phrases_of(words[code]):
            weight[phrase] += float(wt)
            count[phrase] += int(n)
    kept = [p for p in weight if count[p] >= MIN_PHRASE_ANSWERS]
    kept.sort(key=lambda p: (-round(weight[p], 9), -count[p], p))
    return [(p, weight[p], count[p]) for p in kept[:k]]


def quotes_of(clean: pd.Series, words, u, u_count, mixed, k: int) -> list[str]:
    """Up to ``k`` answers nearest the centroid of the category's word vectors.

    Answers without placeholders, of a readable length and about this category alone
    (``mixed`` marks those also coded elsewhere) come first; equal scores
    are ordered by a hash of the text, so the choice never depends on row order. An
    answer that says what a chosen one says (most content words shared) is skipped.
    """
    if k == 0:
        return []
    vectors = {code: _unit(Counter(w for w in words[code] if w)) for code in u}
    centroid: Counter = Counter()
    for code, n in zip(u, u_count, strict=True):
        for word, x in vectors[code].items():
            centroid[word] += x * int(n)
    centroid = _unit(centroid)
    ranked = []
    for code, other_topics in zip(u, mixed, strict=True):
        text = clean.iloc[code]
        score = sum(x * centroid.get(word, 0.0) for word, x in vectors[code].items())
        flawed = PLACEHOLDER.search(text) is not None or len(text) > _LONG_QUOTE
        ranked.append((flawed, bool(other_topics), -round(score, 9), _stable_hash(text), code))
    ranked.sort()
    chosen: list[tuple[str, set[str]]] = []
    for *_, code in ranked:
        bag = set(vectors[code])
        if all(_jaccard(bag, other) < _SAME_QUOTE for _, other in chosen):
            chosen.append((clean.iloc[code], bag))
            if len(chosen) == k:
                break
    return [text for text, _ in chosen]


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def _unit(counter: Counter) -> dict[str, float]:
    norm = math.sqrt(sum(x * x for x in counter.values()))
    return {w: x / norm for w, x in sorted(counter.items())} if norm else {}


def _stable_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()
