"""Redaction of personal and firm-identifying data in open answers.

One compiled pattern finds, in a single left-to-right pass over a text, every phone
number, ID number, credit code, e-mail address, and every contact name and firm name
of the whole survey (names enter the pattern as a trie, so a pass costs one step per
character however many names there are). Placeholders replace what it finds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ._coding import trie_pattern

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
_SUFFIX = re.compile("(?:" + "|".join(sorted(_SUFFIXES, key=len, reverse=True)) + ")$")
_BRACKETS = re.compile(r"[(（][^()（）]*[)）]")
# A brand followed by one of these is a place (祁连县, 三江源, 雪域高原), not the firm.
_NOT_AFTER_BRAND = "县|市|区|州|镇|乡|村|山|湖|河|源|盆地|高原|草原|地区|流域|片区|路|街|机场|站"
_HAN = re.compile(r"^[\u4e00-\u9fff]{2,4}$")


class Redactor:
    """Replaces identifying data in texts with placeholders such as 〔电话〕.

    Build it once from every contact name, firm name and phone number of the survey,
    then call :meth:`sub` per distinct text.
    """

    def __init__(
        self,
        people: Iterable[object] = (),
        firms: Iterable[object] = (),
        phones: Iterable[object] = (),
        places: Iterable[str] = (),
    ) -> None:
        names, surnames = _names(people)
        # Group names g0, g1, … in order of preference: where two alternatives match
        # at the same place, the first wins (an all-digit 18-character string is an
        # ID number, not a credit code).
        groups = [(kind, p) for kind, p in _PATTERNS]
        literal_phones = {str(p).strip() for p in phones if _present(p)}
        literal_phones = {p for p in literal_phones if len(re.sub(r"\D", "", p)) >= 5}
        if literal_phones:
            groups.append(("phone", trie_pattern(literal_phones)))
        full, brands = _firms(firms, _place_pattern(places))
        if full:
            groups.append(("firm", trie_pattern(full)))
        if brands:
            groups.append(("firm", f"(?:{trie_pattern(brands)})(?!{_NOT_AFTER_BRAND})"))
        if surnames:
            s = trie_pattern(surnames)
            groups.append(("name", f"{s}(?:{trie_pattern(_TITLES)})"))
            groups.append(("name", f"{s}总(?![{_NOT_AFTER_ZONG}])"))
        if names:
            groups.append(("name", trie_pattern(names)))
        self._kinds = {f"g{i}": PLACEHOLDERS[kind] for i, (kind, _) in enumerate(groups)}
        parts = [f"(?P<g{i}>{p})" for i, (_, p) in enumerate(groups)]
        self._pattern = re.compile(
            "|".join([*parts[: len(_PATTERNS)], _LABELLED, *parts[len(_PATTERNS) :]])
        )

    def sub(self, text: str) -> str:
        """``text`` with every identifying string replaced by its placeholder."""
        # Match on a copy with full-width digits and letters made half-width (１３８…);
        # the mapping keeps every character's position, so the spans found there are
        # cut from the original, which keeps its own characters elsewhere.
        out, last = [], 0
        for m in self._pattern.finditer(text.translate(_HALF_WIDTH)):
            out += [text[last : m.start()], self._replace(m, text)]
            last = m.end()
        return "".join([*out, text[last:]])

    def _replace(self, m: re.Match, text: str) -> str:
        if m.group("contact") is not None:
            label = text[m.start("label") : m.end("label")]
            im = label.lstrip().lower().startswith(("微信", "qq", "ｑｑ"))
            return label + PLACEHOLDERS["contact" if im else "phone"]
        return self._kinds[m.lastgroup or ""]


def _present(x: object) -> bool:
    return x is not None and x == x and str(x).strip() != ""  # x == x is False for NaN


def _names(people: Iterable[object]) -> tuple[set[str], set[str]]:
    """Distinct contact names (two characters or more) and the surnames of Han names."""
    names, surnames = set(), set()
    for raw in people:
        if not _present(raw):
            continue
        name = re.sub(r"\s+", "", str(raw))
        if len(name) < 2 or name in _NOT_NAMES:
            continue
        names.add(name)
        if _HAN.match(name):
            if name[:2] in _COMPOUND_SURNAMES and len(name) >= 3:
                surnames.add(name[:2])
            elif len(name) <= 3:
                surnames.add(name[0])
    return names, surnames


def _place_pattern(places: Iterable[str]) -> re.Pattern[str]:
    """Leading province, then a leading prefecture or county (西宁市, 海东, 格尔木市)."""
    local = sorted({re.sub(r"(?:市|州|县|区|地区)$", "", p) for p in places if len(p) >= 2})
    local_part = f"(?:(?:{'|'.join(map(re.escape, local))})(?:市|州|县|区|地区)?)?" if local else ""
    return re.compile(f"^(?:(?:{'|'.join(_PROVINCES)}){_PROVINCE_SUFFIX})?{local_part}")


def _firms(firms: Iterable[object], place: re.Pattern[str]) -> tuple[set[str], set[str]]:
    """Distinct full firm names, and the shorter forms firms use for themselves:
    without the province, the legal form and the line of business (青海顺达矿业有限公司
    → 顺达矿业, 顺达)."""
    full, short = set(), set()
    for raw in firms:
        if not _present(raw):
            continue
        name = re.sub(r"\s+", "", str(raw))
        if len(name) < 2:
            continue
        full.add(name)
        stages = [_BRACKETS.sub("", place.sub("", name))]
        while (m := _SUFFIX.search(stages[-1])) and m.start() >= 2:
            stages.append(stages[-1][: m.start()])
        if _SUFFIX.fullmatch(stages[-1]) or len(stages[-1]) < 2:
            # 青海省农业发展有限公司 has no brand: 农业 alone would redact every 农业.
            stages = stages[:1]
        short.update(s for s in stages if len(s) >= 2)
    return full, short - full
