"""Which question a column of an export holds, read from its header.

A header is recognised by the question's variable name, label, short label or one of
its ``aliases`` (compared without the question number ``12、`` and trailing ``：``),
and in the shapes survey tools give headers:

* an option of a multi-select as its own 0/1 column: ``5、(融资难融资贵)``;
* a row of a matrix question (问卷星 writes one column per row) in either style:
  ``15、(政务服务便利度)`` or ``15、请对以下方面评价—政务服务便利度``; the row title
  is matched like a header, so a rating matrix's rows find their rating questions
  and a policy matrix's rows their policy questions;
* the metadata 问卷星 and similar tools write before the questions (:data:`METADATA`):
  序号, 提交答卷时间, 所用时间, 来源, 来源详情, 来自IP … These are known, not
  questions: 序号 stands in for the visit id and 提交答卷时间 for the visit date when
  the questionnaire has no such question, and the rest are left out without a warning.

:func:`closest` names, for a column that matches nothing, the question label it is
nearest to: the hint an error about an unread column gives.
"""

from __future__ import annotations

import difflib
import re
import unicodedata

from analysis.ingest._cells import normalize
from analysis.ingest.instrument import Form, Question

_LEADING_NUMBER = re.compile(r"^\s*(?:Q|第)?\s*\d+(?:[.\-_]\d+)*\s*(?:[.、:：)）]|题)?\s*")
_TRAILING = re.compile(r"[\s:：?？。*＊]+$")
_OPTION = re.compile(r"^(?P<prefix>.*?)[(（](?P<option>[^()（）]+)[)）]$")
# a matrix row written after its stem: 15、请对以下方面评价—政务服务便利度
_STEM_ROW = re.compile(r"^(?P<stem>.+?)\s*(?:—+|－|--|:|：)\s*(?P<row>[^—－:：]+)$")
# a header that reads like a question of the questionnaire: 12、… / 12. … / Q12 …
QUESTION_LIKE = re.compile(r"^\s*(?:Q|第)?\s*\d+\s*(?:[.、:：)）]|题)")

# What tools write besides the questions. The role says what a column can stand in
# for: "id" the visit id, "submitted" the visit date (and the wave); None: nothing.
METADATA: dict[str, str | None] = {
    "序号": "id",
    "答卷编号": "id",
    "编号": "id",
    "提交答卷时间": "submitted",
    "提交时间": "submitted",
    "结束答题时间": "submitted",
    "开始答题时间": None,
    "开始时间": None,
    "结束时间": None,
    "所用时间": None,
    "答题时长": None,
    "来源": None,
    "来源详情": None,
    "来自ip": None,
    "ip": None,
    "ip地址": None,
    "填写设备": None,
    "操作系统": None,
    "浏览器": None,
    "总分": None,
    "地理位置": None,
    "微信昵称": None,
    "用户id": None,
}


def header_key(text: str) -> str:
    """A header without its question number and trailing punctuation, normalised."""
    s = unicodedata.normalize("NFKC", str(text)).strip()
    s = _LEADING_NUMBER.sub("", s)
    s = _TRAILING.sub("", s)
    return normalize(s)


def question_number(header: str) -> str | None:
    """The question number a header starts with (``15`` of ``15、(政务服务便利度)``)."""
    m = re.match(r"^\s*(?:Q|第)?\s*(\d+)", unicodedata.normalize("NFKC", str(header)))
    return m.group(1) if m else None


def metadata_role(header: str) -> tuple[bool, str | None]:
    """Whether a header is tool metadata, and what it can stand in for."""
    key = header_key(header)
    return (key in METADATA, METADATA.get(key))


def _keys(q: Question) -> tuple[str, ...]:
    return (q.name, q.label.zh, q.label.en, q.short.zh, q.short.en, *q.aliases)


class HeaderIndex:
    """Recognises a form's columns by variable name, label, short label or alias."""

    def __init__(self, form: Form):
        self.form = form
        self.whole: dict[str, tuple[Question, object]] = {}
        self.option_by_label: dict[str, list[tuple[Question, object]]] = {}
        self.multi_prefix: dict[str, Question] = {}
        for q in form.fields:
            for key in _keys(q):
                self.whole.setdefault(header_key(key), (q, None))
            if q.type == "multi":
                for key in _keys(q):
                    self.multi_prefix[header_key(key)] = q
                for c in q.choices:
                    self.whole[normalize(f"{q.name}__{c.value}")] = (q, c.value)
                    self.whole[normalize(f"{q.name}/{c.value}")] = (q, c.value)
                    for key in {*c.names, c.label.zh, c.label.en}:
                        self.option_by_label.setdefault(normalize(key), []).append((q, c.value))

    def match(self, header: str) -> tuple[Question, object] | None:
        if not header.strip():
            return None
        key = header_key(header)
        if key in self.whole:
            return self.whole[key]
        text = unicodedata.normalize("NFKC", header).strip()
        m = _OPTION.match(text)
        if m:
            hit = self._part(m.group("prefix"), m.group("option"))
            if hit is not None:
                return hit
        m = _STEM_ROW.match(_LEADING_NUMBER.sub("", text))
        if m:
            return self._part(m.group("stem"), m.group("row"))
        return None

    def _part(self, prefix: str, part: str) -> tuple[Question, object] | None:
        """``prefix(part)`` or ``stem—part``: an option of a multi-select, or a row of a
        matrix (a question of its own)."""
        stem = header_key(prefix)
        option = normalize(_TRAILING.sub("", part.strip()))
        candidates = self.option_by_label.get(option, [])
        if stem in self.multi_prefix:
            candidates = [c for c in candidates if c[0] is self.multi_prefix[stem]]
        if len(candidates) == 1:
            return candidates[0]
        row = self.whole.get(header_key(part))
        if row is not None and row[0].type != "multi" and row[1] is None:
            return row
        return None

    def match_in_group(self, header: str, group: str) -> tuple[Question, object] | None:
        """A header cell read with the group header above it: an option (融资难融资贵)
        under its question (您企业目前面临的主要困难), as two-row Excel headers have it."""
        hit = self.match(header)
        if hit is None and group.strip() and header.strip():
            hit = self.match(f"{group}({header})")
        return hit

    def score(self, header: list[str], group: list[str] = ()) -> int:
        group = list(group) + [""] * (len(header) - len(group))
        pairs = zip(header, group[: len(header)], strict=True)
        return sum(self.match_in_group(h, g) is not None for h, g in pairs)


def title_of(header: str) -> str:
    """The distinctive part of a header as written: a matrix row's or an option's title
    (``金融服务`` of ``12、(金融服务)``), else the header without its number."""
    text = unicodedata.normalize("NFKC", header).strip()
    m = _OPTION.match(text)
    if m and not header_key(m.group("prefix")):
        return m.group("option").strip()
    m = _STEM_ROW.match(_LEADING_NUMBER.sub("", text))
    if m:
        return m.group("row").strip()
    return _TRAILING.sub("", _LEADING_NUMBER.sub("", text))


def _part_of(header: str) -> str:
    return normalize(title_of(header))


def closest(header: str, questions: list[Question]) -> tuple[Question, float] | None:
    """The question whose label (or short label, or alias) is nearest to a header, and
    how near (0–1), or None when nothing is even half alike."""
    part = _part_of(header)
    best: tuple[Question, float] | None = None
    for q in questions:
        for key in {header_key(k) for k in _keys(q)}:
            ratio = difflib.SequenceMatcher(None, part, key).ratio()
            if best is None or ratio > best[1]:
                best = (q, ratio)
    return best if best is not None and best[1] >= 0.5 else None


def closest_header(q: Question, headers: list[str]) -> tuple[str, float] | None:
    """The header nearest to a question's labels, or None when none is half alike."""
    keys = {header_key(k) for k in _keys(q)}
    best: tuple[str, float] | None = None
    for h in headers:
        part = _part_of(h)
        ratio = max(difflib.SequenceMatcher(None, part, k).ratio() for k in keys)
        if best is None or ratio > best[1]:
            best = (h, ratio)
    return best if best is not None and best[1] >= 0.5 else None
