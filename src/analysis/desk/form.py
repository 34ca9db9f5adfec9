"""The brief form, generated from the parameter contract (:class:`analysis.ingest.params.Params`).

Each field of the contract becomes one form field, with the contract's default and its
comment as the help text: a parameter added to the contract appears in the form with no
change here. How a field is shown follows from its name and type: the population filters
and waves are drop-downs of the values found in the dataset; the dataset's own files
are not shown (the dataset supplies them); other file parameters (rules, coding, an
office profile) are file uploads; numbers and text are inputs.
"""

from __future__ import annotations

import inspect
import io
import tokenize
from dataclasses import MISSING, dataclass, fields
from typing import Any

from analysis.ingest.params import Params

DATASET_FILES = ("visits", "requests", "frame", "instrument")
CHOICES = ("region", "industry", "size")
WAVES = ("wave", "compare_wave")
LANGS = (("zh", "中文", "Chinese"), ("en", "英文", "English"))

# Chinese labels and help for the contract's fields; a field missing here shows its name
# and the contract's (English) comment.
ZH = {
    "region": ("市州", "简报覆盖的地区；留空为全部"),
    "wave": ("调查轮次", "调查年份；留空为数据中最近一轮"),
    "compare_wave": ("对比轮次", "与哪一轮比较；留空为上一轮"),
    "industry": ("行业", "国民经济行业门类；留空为全部"),
    "size": ("企业规模", "大型、中型、小型、微型；留空为全部"),
    "lang": ("简报语言", "简报用中文或英文（公文草稿两种语言都生成）"),
    "min_cell": ("最小公布样本量", "少于此数的分组不予公布"),
    "confidence": ("置信水平", "所有置信区间的水平，如0.95"),
    "overdue_days": ("超期天数", "诉求办理超过此天数视为超期"),
    "unit": ("报送单位", "公文草稿署名的单位"),
    "rules": ("建议规则文件", "自定义建议规则（YAML），与默认规则合并"),
    "coding": ("编码词典", "自定义开放题编码词典（YAML），与默认词典合并"),
    "office": ("单位档案", "报送单位档案（YAML）：单位、界别、期号、部门名称、政策文件"),
    "as_of": ("数据截止日期", "诉求数据截至日期，如2025-12-31；留空为本轮最后日期"),
}
EN = {
    "region": "Region",
    "wave": "Wave",
    "compare_wave": "Compare with wave",
    "industry": "Industry",
    "size": "Size class",
    "lang": "Language of the brief",
    "min_cell": "Smallest cell shown",
    "confidence": "Confidence level",
    "overdue_days": "Overdue after (days)",
    "unit": "Issuing unit",
    "rules": "Suggestion rules",
    "coding": "Coding dictionary",
    "office": "Office profile",
    "as_of": "Cut-off date",
}


@dataclass(frozen=True)
class Field:
    """One field of the brief form."""

    name: str
    widget: str  # select, number, text, file
    default: Any
    help: str  # the contract's comment
    step: str = ""  # for numbers: "1" or "any"

    def label(self, lang: str) -> str:
        if lang == "zh" and self.name in ZH:
            return ZH[self.name][0]
        return EN.get(self.name, self.name)

    def hint(self, lang: str) -> str:
        if lang == "zh" and self.name in ZH:
            return ZH[self.name][1]
        return self.help

    def options(self, choices: dict[str, list], lang: str) -> list[tuple[str, str]]:
        """(value, label) pairs of a drop-down; the first is the default ("all")."""
        if self.name == "lang":
            return [(code, zh if lang == "zh" else en) for code, zh, en in LANGS]
        empty = ("", "全部" if lang == "zh" else "all")
        if self.name in WAVES:
            auto = "自动" if lang == "zh" else "automatic"
            return [("", auto), *[(w, w) for w in reversed(choices.get("wave", []))]]
        values = choices.get(self.name, [])
        return [empty, *[(v, zh if lang == "zh" else en) for v, zh, en in values]]


def contract() -> list[Field]:
    """The brief form's fields, in the contract's order (the dataset's files left out)."""
    comments = _comments(Params)
    out = []
    for f in fields(Params):
        if f.name in DATASET_FILES:
            continue
        default = None if f.default is MISSING else f.default
        kind = str(f.type)
        if f.name in CHOICES or f.name in WAVES or f.name == "lang":
            widget, step = "select", ""
        elif "int" in kind:
            widget, step = "number", "1"
        elif "float" in kind:
            widget, step = "number", "any"
        elif _is_file(f.name, comments.get(f.name, "")):
            widget, step = "file", ""
        else:
            widget, step = "text", ""
        out.append(Field(f.name, widget, default, comments.get(f.name, ""), step))
    return out


def _is_file(name: str, comment: str) -> bool:
    from analysis.ingest import params

    return name in params.PATHS or "(YAML)" in comment


def _comments(cls) -> dict[str, str]:
    """Each field's end-of-line comment in the class's source: the contract's help."""
    out: dict[str, str] = {}
    source = inspect.getsource(cls)
    last_name = None
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.NAME and tok.start[1] == 4 and last_name is None:
            last_name = (tok.string, tok.start[0])
        elif tok.type == tokenize.COMMENT and last_name and tok.start[0] == last_name[1]:
            out[last_name[0]] = tok.string.lstrip("# ").strip()
        if tok.type in (tokenize.NEWLINE, tokenize.NL):
            last_name = None
    return out


def parse(form: dict[str, str], fields_: list[Field], choices: dict[str, list]) -> dict[str, str]:
    """The submitted values of a brief form as raw run parameters (text, checked later by
    the contract). A drop-down value must be one it offered; empty means the default."""
    from analysis.errors import ParameterError

    raw: dict[str, str] = {}
    for f in fields_:
        if f.widget == "file" or f.name not in form:
            continue  # not sent: the contract's default
        value = str(form.get(f.name, "") or "").strip()
        if f.widget == "select":
            offered = {v for v, _ in f.options(choices, "en")}
            if value not in offered:
                raise ParameterError(
                    f"{f.name}={value[:40]!r} is not one of the offered values",
                    "choose a value from the list",
                )
        if value == "":
            continue
        if len(value) > 200:
            raise ParameterError(f"{f.name} is longer than 200 characters", "shorten it")
        raw[f.name] = value
    return raw


def initial(fields_: list[Field], previous: dict[str, Any] | None) -> dict[str, str]:
    """The values a form opens with: a past run's (for "rerun with changes") or the
    contract's defaults."""
    out = {}
    for f in fields_:
        if f.widget == "file":
            continue
        value = (previous or {}).get(f.name, f.default)
        out[f.name] = "" if value is None else str(value)
    return out
