"""Redaction of personal and firm-identifying data in open answers.

Patterns find phone numbers, ID numbers, credit codes and e-mail addresses. A survey
also has about as many contact names and firm names as firms, a million in a large
one, and a pattern of them all would take a minute to build. So the names that occur
in the texts at hand are found first (:func:`_occurring`: rolling hashes of the
texts, checked against the names' hashes, then an exact look-up), and only those
enter the pattern, as a trie. A name that occurs in none of the texts could not
match in them, so the texts come out exactly as with every name in the pattern. One
left-to-right pass of the pattern over a text replaces what it finds.

Contact values are prepared as Arrow strings, with RE2 patterns that mean what
Python's would (white space as ``str.isspace``, digits as ``\\d``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.measures._coding import trie_pattern

PLACEHOLDERS = {
    "email": "〔邮箱〕",
    "id_number": "〔证件号〕",
    "credit_code": "〔信用代码〕",
    "account": "〔账号〕",
    "phone": "〔电话〕",
    "contact": "〔联系方式〕",
    "firm": "〔企业〕",
    "name": "〔姓名〕",
}
PLACEHOLDER = re.compile("|".join(map(re.escape, PLACEHOLDERS.values())))

_HALF_WIDTH = {0xFF01 + i: 0x21 + i for i in range(94)}  # ！…～ to !…~
_NOT_ALNUM_BEFORE = r"(?<![0-9A-Za-z])"
_NOT_ALNUM_AFTER = r"(?![0-9A-Za-z])"
# Characters of a unified social credit code (GB 32100-2015): digits and capitals
# without I, O, S, V, Z.
_CREDIT_CHAR = "[0-9A-HJ-NP-RTUWXY]"
_PATTERNS = (
    ("email", r"[A-Za-z0-9._%+\-]+[@＠][A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"),
    # An 18-character ID; the date is not checked, as IDs are often mistyped.
    ("id_number", _NOT_ALNUM_BEFORE + r"[1-9]\d{16}[\dXx]" + _NOT_ALNUM_AFTER),
    (
        "credit_code",
        _NOT_ALNUM_BEFORE
        + rf"(?=[0-9A-Z]{{0,17}}[A-Z]){_CREDIT_CHAR}{{2}}\d{{6}}{_CREDIT_CHAR}{{10}}"
        + _NOT_ALNUM_AFTER,
    ),
    ("account", r"(?<!\d)\d{16,19}(?!\d)"),  # bank cards and accounts
    ("id_number", _NOT_ALNUM_BEFORE + r"[1-9]\d{14}" + _NOT_ALNUM_AFTER),  # old 15-digit IDs
    ("phone", r"(?<![\d+])(?:(?:\+|00)?86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d)"),
    (
        "phone",  # landlines with the area code: 0971-8123456, (0971)8123456
        r"(?<!\d)(?:[(（]0\d{2,3}[)）]|0\d{2,3})[\s-]?[2-9]\d{6,7}(?:(?:-|转)\d{1,5})?(?!\d)",
    ),
)
# A number written after a contact label: a local number without area code, a WeChat
# or QQ account. 热线 is left out on purpose: hotlines such as 12345 are public.
_LABELLED = (
    r"(?P<label>(?:联系电话|电话|手机号?|座机|联系方式|tel|TEL|Tel|微信号?|QQ号?|qq号?)"
    r"\s*[:：]?\s*)(?P<contact>[A-Za-z0-9][A-Za-z0-9_\-]{4,})"
)
# Forms of address built on a surname. 总 alone starts many ordinary words (总体,
# 总量 …), so 王总 is only a name when no such word follows.
_TITLES = (
    "总经理", "董事长", "总裁", "总监", "经理", "厂长", "主任", "老板", "老总", "先生", "女士",
    "师傅", "会长", "书记", "局长", "处长", "科长", "部长", "站长", "所长", "行长", "董",
)  # fmt: skip
_NOT_AFTER_ZONG = "体量额计部共是结之值数和成价包工经裁监督局站队算书账"
_COMPOUND_SURNAMES = (
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文",
    "司徒", "夏侯", "轩辕", "令狐", "钟离", "端木", "南宫", "独孤", "万俟",
)  # fmt: skip
# Values people write into a contact field that are roles, not names.
_NOT_NAMES = frozenset(
    ("经理", "财务", "会计", "出纳", "办公室", "负责人", "法人", "老板", "本人", "无", "暂无")
)
# Leading places that firm names carry and firms leave out when they name themselves.
_PROVINCES = (
    "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江",
    "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州",
    "云南", "陕西", "甘肃", "青海", "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港",
    "澳门",
)  # fmt: skip
_PROVINCE_SUFFIX = "(?:省|市|自治区|壮族自治区|回族自治区|维吾尔自治区)?"
# Trailing parts of a firm name: the legal form, then the line of business.
_SUFFIXES = (
    "股份有限公司", "有限责任公司", "有限公司", "分公司", "公司", "集团", "专业合作社", "合作社",
    "经营部", "门市部", "商行", "工作室", "中心", "厂", "店",
    "新能源科技", "信息科技", "生物科技", "科技", "信息技术", "技术", "建筑工程", "工程",
    "农牧业开发", "开发", "农牧业", "农业", "牧业", "畜牧", "餐饮管理", "餐饮", "管理", "物流",
    "矿业", "文化旅游", "旅游", "文化", "机械制造", "制造", "建材", "商贸", "贸易", "实业",
    "投资", "发展", "食品", "商务", "服务", "咨询", "置业", "房地产", "能源", "新能源", "化工",
    "电子", "网络", "传媒", "医药", "药业", "环保", "酒业", "乳业", "种植", "养殖", "汽车",
    "运输", "物业", "建设", "装饰", "设计", "安装", "劳务", "电力", "光伏", "新材料", "材料",
    "生态", "健康", "教育", "酒店", "超市",
)  # fmt: skip
# The longest of these endings at the start of a reversed name (RE2).
_ENDING_REVERSED = (
    "^(?:" + "|".join(x[::-1] for x in sorted(_SUFFIXES, key=len, reverse=True)) + ")"
)
_BRACKETS = r"[(（][^()（）]*[)）]"
# A brand followed by one of these is a place (祁连县, 三江源, 雪域高原), not the firm.
_NOT_AFTER_BRAND = "县|市|区|州|镇|乡|村|山|湖|河|源|盆地|高原|草原|地区|流域|片区|路|街|机场|站"
_HAN = "^[\u4e00-\u9fff]{2,4}$"
# What str.isspace, and so \\s in Python's re, means (checked in the tests).
_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_SPACES = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in _WHITESPACE) + "]+"  # RE2


class Redactor:
    """Replaces identifying data in texts with placeholders such as 〔电话〕.

    Build it once from every contact name, firm name and phone number of the survey,
    then call :meth:`sub` with the distinct texts.
    """

    def __init__(
        self,
        people: Sequence[Iterable[object]] = (),
        firms: Sequence[Iterable[object]] = (),
        phones: Sequence[Iterable[object]] = (),
        places: Iterable[str] = (),
    ) -> None:
        """``people``, ``firms`` and ``phones`` each hold one or more collections of
        values (a column of the data, a list of further names), taken together."""
        names, self._surnames = _names(people)
        full, brands = _firms(firms, _place_pattern(places))
        # Phones as written in the contact field, with five digits or more.
        self._literals = {"phone": _phones(phones), "firm": full, "brand": brands, "name": names}

    def sub(self, texts: Sequence[str]) -> list[str]:
        """``texts`` with every identifying string replaced by its placeholder."""
        # Match on copies with full-width digits and letters made half-width (１３８…);
        # the mapping keeps every character's position, so the spans found there are
        # cut from the original, which keeps its own characters elsewhere.
        half = [t.translate(_HALF_WIDTH) for t in texts]
        seen = _occurring(list(self._literals.values()), half)
        found = {
            kind: values.filter(pc.is_in(values, value_set=seen)).to_pylist()
            for kind, values in self._literals.items()
        }
        pattern, kinds = self._pattern(found)
        return [self._sub(pattern, kinds, t, h) for t, h in zip(texts, half, strict=True)]

    def _pattern(self, found: dict[str, list[str]]) -> tuple[re.Pattern[str], dict[str, str]]:
        # Group names g0, g1, … in order of preference: where two alternatives match
        # at the same place, the first wins (an all-digit 18-character string is an
        # ID number, not a credit code).
        groups = list(_PATTERNS)
        if found["phone"]:
            groups.append(("phone", trie_pattern(found["phone"])))
        if found["firm"]:
            groups.append(("firm", trie_pattern(found["firm"])))
        if found["brand"]:
            groups.append(("firm", f"(?:{trie_pattern(found['brand'])})(?!{_NOT_AFTER_BRAND})"))
        if self._surnames:
            s = trie_pattern(self._surnames)
            groups.append(("name", f"{s}(?:{trie_pattern(_TITLES)})"))
            groups.append(("name", f"{s}总(?![{_NOT_AFTER_ZONG}])"))
        if found["name"]:
            groups.append(("name", trie_pattern(found["name"])))
        kinds = {f"g{i}": PLACEHOLDERS[kind] for i, (kind, _) in enumerate(groups)}
        parts = [f"(?P<g{i}>{p})" for i, (_, p) in enumerate(groups)]
        n = len(_PATTERNS)
        return re.compile("|".join([*parts[:n], _LABELLED, *parts[n:]])), kinds

    @staticmethod
    def _sub(pattern: re.Pattern[str], kinds: dict[str, str], text: str, half: str) -> str:
        out, last = [], 0
        for m in pattern.finditer(half):
            if m.group("contact") is not None:
                label = text[m.start("label") : m.end("label")]
                im = label.lstrip().lower().startswith(("微信", "qq", "ｑｑ"))
                found = label + PLACEHOLDERS["contact" if im else "phone"]
            else:
                found = kinds[m.lastgroup or ""]
            out += [text[last : m.start()], found]
            last = m.end()
        return "".join([*out, text[last:]])


# -- contact values ------------------------------------------------------------------


def _distinct(values: Iterable[object]) -> pd.Series:
    """The distinct values that are not missing, as text (``str`` of each)."""
    if not isinstance(values, (pd.Series, pd.Index, np.ndarray, pd.api.extensions.ExtensionArray)):
        values = list(values)
    unique = pd.Series(pd.unique(pd.Series(values).dropna()))
    if not isinstance(unique.dtype, pd.StringDtype):
        unique = pd.Series([x if isinstance(x, str) else str(x) for x in unique], dtype=object)
    return unique.astype(pd.StringDtype("pyarrow"))


def _arrow(sources: Sequence[Iterable[object]]) -> pa.Array:
    """The distinct values of all ``sources``, as text, in an Arrow array."""
    parts = [p for p in map(_distinct, sources) if len(p)]
    if len(parts) > 1:
        parts = [pd.Series(pd.unique(pd.concat(parts, ignore_index=True)))]
    return pa.array(parts[0].array if parts else [], type=pa.large_string())


# The literal names below may repeat: a repeat is found, and enters the pattern, with
# its twin, so taking out repeats would cost time and change nothing.


def _squeezed(values: Sequence[Iterable[object]]) -> pa.Array:
    """Values without white space, of two characters or more."""
    s = _arrow(values)
    if pc.any(pc.match_substring_regex(s, _SPACES)).as_py():
        s = pc.replace_substring_regex(s, _SPACES, "")
    return s.filter(pc.greater_equal(pc.utf8_length(s), 2))


def _isin(values: pa.Array, words: Iterable[str]) -> pa.Array:
    return pc.is_in(values, value_set=pa.array(list(words), type=values.type))


def _names(people: Sequence[Iterable[object]]) -> tuple[pa.Array, set[str]]:
    """Contact names (two characters or more) and the surnames of Han names."""
    names = _squeezed(people)
    names = names.filter(pc.invert(_isin(names, _NOT_NAMES)))
    han = names.filter(pc.match_substring_regex(names, _HAN))
    length = pc.utf8_length(han)
    two = pc.utf8_slice_codeunits(han, 0, 2)
    compound = pc.and_(_isin(two, _COMPOUND_SURNAMES), pc.greater_equal(length, 3))
    single = pc.and_(pc.invert(compound), pc.less_equal(length, 3))
    surnames = set(pc.unique(two.filter(compound)).to_pylist())
    surnames.update(pc.unique(pc.utf8_slice_codeunits(han.filter(single), 0, 1)).to_pylist())
    return names, surnames


def _place_pattern(places: Iterable[str]) -> str:
    """Leading province, then a leading prefecture or county (西宁市, 海东, 格尔木市)."""
    local = sorted({re.sub(r"(?:市|州|县|区|地区)$", "", p) for p in places if len(p) >= 2})
    local_part = f"(?:(?:{'|'.join(map(re.escape, local))})(?:市|州|县|区|地区)?)?" if local else ""
    return f"^(?:(?:{'|'.join(_PROVINCES)}){_PROVINCE_SUFFIX})?{local_part}"


def _firms(firms: Sequence[Iterable[object]], place: str) -> tuple[pa.Array, pa.Array]:
    """Full firm names, and the shorter forms firms use for themselves: without the
    province, the legal form and the line of business (青海顺达矿业有限公司 → 顺达矿业,
    顺达). A short form that is also a full name changes nothing: full names come
    first in the pattern."""
    full = _squeezed(firms)
    first = pc.replace_substring_regex(full, place, "")
    if pc.any(pc.match_substring_regex(first, "[(（]")).as_py():
        first = pc.replace_substring_regex(first, _BRACKETS, "")
    # Take off the longest ending, again and again, while two characters or more stay
    # before it. RE2 finds an ending fast at the start of the reversed name.
    heads, rows, current = [], np.arange(len(first)), pc.utf8_reverse(first)
    last, ends = current, pa.array(sorted({x[-1] for x in _SUFFIXES}), type=current.type)
    while len(current):
        maybe = np.array(pc.is_in(pc.utf8_slice_codeunits(current, 0, 1), value_set=ends))
        current, rows = current.filter(maybe), rows[maybe]
        head = pc.replace_substring_regex(current, _ENDING_REVERSED, "")
        length = np.array(pc.utf8_length(head))
        keep = (length < np.array(pc.utf8_length(current))) & (length >= 2)
        current, rows = head.filter(keep), rows[keep]
        if len(rows):
            heads.append((rows, current))
            mask = np.zeros(len(first), dtype=bool)
            mask[rows] = True
            last = pc.replace_with_mask(last, pa.array(mask), current)
    # 青海省农业发展有限公司 has no brand: 农业 alone would redact every 农业.
    last = pc.utf8_reverse(last)
    no_brand = np.array(pc.or_(_isin(last, _SUFFIXES), pc.less(pc.utf8_length(last), 2)))
    later = [pc.utf8_reverse(h.filter(~no_brand[r])) for r, h in heads]
    short = pa.concat_arrays([first.filter(pc.not_equal(first, full)), *later])
    return full, short.filter(pc.greater_equal(pc.utf8_length(short), 2))


def _phones(phones: Sequence[Iterable[object]]) -> pa.Array:
    """Phone numbers as written (without surrounding space) with five digits or more."""
    s = pc.utf8_trim(_arrow(phones), characters=_WHITESPACE)
    five = np.array(pc.match_substring_regex(s, "(?:[0-9][^0-9]*){5}"), dtype=bool)
    other = ~np.array(pc.string_is_ascii(s), dtype=bool)  # where \d is more than 0-9
    five[other] = [len(re.sub(r"\D", "", x)) >= 5 for x in s.filter(other).to_pylist()]
    return s.filter(five)


# -- finding the names that occur ----------------------------------------------------

_BATCH = 1 << 22  # characters hashed at a time, to bound memory


def _occurring(literals: Sequence[pa.Array], texts: Sequence[str]) -> pa.Array:
    """Stretches of ``texts`` among which is every literal that occurs in a text, so
    that ``pc.is_in(literals, value_set=…)`` tells exactly which occur.

    Every literal gets a polynomial hash, and a bit filter holds them all. Every
    window of the texts that starts with the first character of some literal and is
    as long as some literal gets the same hash; those the filter lets through (the
    literals that occur, and about 2 % of the others) are kept.
    """
    lengths = [np.array(pc.utf8_length(a), dtype=np.intp) for a in literals]
    wanted = np.unique(np.concatenate([[0], *lengths]))[1:].tolist()
    if not wanted or not any(texts):
        return pa.array([], pa.large_string())
    text_lengths = np.fromiter(map(len, texts), dtype=np.intp, count=len(texts)) + 1
    hasher = _Hasher(_BATCH + max(wanted[-1], int(text_lengths.max())))
    keys, first = [], np.zeros(0x110000, dtype=bool)
    for strings, n in zip(literals, lengths, strict=True):
        for rows in _batches(n):
            codes = _code_points(_joined(strings[rows]))
            starts = np.cumsum(n[rows]) - n[rows]
            keys.append(hasher.of(hasher.prefix(codes), starts, n[rows]))
            first[codes[starts[n[rows] > 0]]] = True
    passes = _BitFilter(np.concatenate(keys))
    found = set()
    for rows in _batches(text_lengths):
        joined = "\x00".join(texts[rows])
        codes = _code_points(joined)
        prefix, starts = hasher.prefix(codes), np.flatnonzero(first[codes])
        for n in wanted:
            at = starts[starts <= len(codes) - n]
            at = at[passes(hasher.of(prefix, at, n))]
            found.update(joined[p : p + n] for p in at.tolist())
    return pa.array(list(found), pa.large_string())


def _batches(lengths: np.ndarray) -> list[slice]:
    """Runs of rows of about ``_BATCH`` characters (more if one row is longer)."""
    ends = np.searchsorted(np.cumsum(lengths), np.arange(_BATCH, lengths.sum(), _BATCH))
    bounds = [0, *np.unique(ends + 1).tolist(), len(lengths)]
    return [slice(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def _joined(strings: pa.Array) -> str:
    one = pa.LargeListArray.from_arrays(pa.array([0, len(strings)], pa.int64()), strings)
    return pc.binary_join(one, pa.scalar("", pa.large_string()))[0].as_py()


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


class _Hasher:
    """Polynomial hashes (mod 2**64) of stretches of texts of up to ``size`` characters:
    the same wherever the same characters stand."""

    _BASE = 0x100000001B3  # odd, so it has an inverse mod 2**64

    def __init__(self, size: int) -> None:
        # Rounded up and kept: the same tables serve every call of a process (a batch's
        # warm kernel redacts brief after brief); entry i does not depend on the size.
        self.power, self.inverse = _powers(-(-size // _ROUND) * _ROUND)

    def prefix(self, codes: np.ndarray) -> np.ndarray:
        """Entry i: the sum of codes[j] * _BASE**j over j < i."""
        out = np.zeros(len(codes) + 1, dtype=np.uint64)
        np.cumsum(codes * self.power[: len(codes)], out=out[1:])
        return out

    def of(self, prefix: np.ndarray, starts: np.ndarray, lengths: np.ndarray | int) -> np.ndarray:
        """The hashes of the stretches, with their lengths in, bits spread (splitmix64)."""
        x = (prefix[starts + lengths] - prefix[starts]) * self.inverse[starts]
        x ^= np.atleast_1d(lengths).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> 30)) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> 27)) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> 31)


_ROUND = 1 << 16


@lru_cache(maxsize=1)
def _powers(size: int) -> tuple[np.ndarray, np.ndarray]:
    """_BASE**i and its inverse**i mod 2**64 for i < size (read only)."""
    out = []
    for b in (_Hasher._BASE, pow(_Hasher._BASE, -1, 1 << 64)):
        a = np.cumprod(np.r_[1, np.full(size - 1, b, dtype=np.uint64)].astype(np.uint64))
        a.flags.writeable = False
        out.append(a)
    return out[0], out[1]


class _BitFilter:
    """Says whether a hash may be one of ``keys``: never no when it is, and yes for
    about 2 % of the others (a one-hash Bloom filter of 64 bits a key)."""

    def __init__(self, keys: np.ndarray) -> None:
        self.bits = int(np.clip(np.log2(max(len(keys), 1)) + 6, 16, 30))
        slot = keys >> (64 - self.bits)
        self.table = np.zeros(1 << (self.bits - 3), dtype=np.uint8)
        bit = np.left_shift(1, slot & 7).astype(np.uint8)
        np.bitwise_or.at(self.table, (slot >> 3).astype(np.intp), bit)

    def __call__(self, keys: np.ndarray) -> np.ndarray:
        slot = keys >> (64 - self.bits)
        return ((self.table[(slot >> 3).astype(np.intp)] >> (slot & 7)) & 1).astype(bool)
