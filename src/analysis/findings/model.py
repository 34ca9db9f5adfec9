"""Findings: the one object the writing stages read.

Everything a brief, a suggestion rule or a draft needs is here, already computed and
already labelled in Chinese and English, with small cells already suppressed: the
writing stages format, they never compute. The object is typed and versioned
(``schema_version``), serialises to ``findings.json``, and its JSON schema is committed
at ``src/analysis/findings/findings.schema.json`` (a test keeps it in step with these
models). :func:`analysis.findings.build.build_findings` makes one from the survey.

Conventions: shares are fractions (0.423, printed 42.3%); index scores are 0–100;
``n`` is always the unweighted number of respondents behind a figure; a suppressed
figure has ``suppressed = True`` and no estimate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

SCHEMA_VERSION = "1.1"
SCHEMA_PATH = Path(__file__).parent / "findings.schema.json"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Text(_Model):
    """A label or sentence in Chinese and English."""

    zh: str
    en: str

    def get(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh


class Stat(_Model):
    """One design-based estimate with its uncertainty."""

    estimate: float | None
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int = 0
    suppressed: bool = False


class Change(_Model):
    """A difference a − b (between waves, or between two groups), tested.

    ``p_adjusted`` is Benjamini–Hochberg adjusted over all comparisons of the brief;
    ``significant`` uses it at 1 − confidence. ``test`` is how interval and p-value
    were made: ``"t"`` (the design-based t test) or ``"mover"`` (a difference of
    shares one of which is exactly 0 or 1, whose zero SE no t test may use; see
    :func:`analysis.survey.compare.difference`).
    """

    a: float | None
    b: float | None
    estimate: float | None
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    significant: bool | None = None
    n_a: int = 0
    n_b: int = 0
    suppressed: bool = False
    label_a: Text | None = None
    label_b: Text | None = None
    test: Literal["t", "mover"] | None = None


class Level(_Model):
    """A labelled estimate, e.g. one size class's share citing a difficulty."""

    code: str
    label: Text
    stat: Stat


class Scope(_Model):
    """Whom the figures describe."""

    wave: int
    compare_wave: int | None
    region: str | None
    industry: str | None
    size: str | None
    label: Text  # e.g. 全省 / 海东市 / 海东市制造业
    fieldwork: Text  # e.g. 2025年4月至9月
    area: Text = Text(zh="全省", en="Qinghai")  # a brief about every region: 全省 / 全市
    whole: Text = Text(zh="全省", en="the province")  # what a region is compared with
    region_word: Text = Text(zh="市州", en="region")  # the regions' word: 市州 / 区县
    # the wave's cut-off date (YYYY-MM-DD), the same in every brief of the wave: the
    # as_of parameter, or the latest date of the whole wave's ledger (or visits)
    as_of: str | None = None


class Method(_Model):
    """How the figures were made, for the methods note."""

    n_visits: int  # firms visited in the scope and wave
    n_population: int  # registered firms the scope represents (sum of weights)
    n_strata: int
    df: float
    confidence: float
    min_cell: int
    lonely_psu: str
    design: Text
    intervals: Text
    comparisons: Text
    scale: Text = Text(zh="1—5分", en="1–5")  # the range of the index's ratings
    items: int = 15  # rating items of the index


class Item(_Model):
    code: str
    label: Text
    score: Stat


class Dimension(_Model):
    code: str
    label: Text
    weight: float
    score: Stat
    change: Change | None = None
    items: list[Item]


class RegionScore(_Model):
    code: str
    label: Text
    score: Stat
    rank: int | None
    vs_province: Literal["above", "below", "not_different", "suppressed"]
    change: Change | None = None
    government_change: Change | None = None


class IndexFindings(_Model):
    overall: Stat
    change: Change | None = None
    dimensions: list[Dimension]
    regions: list[RegionScore]


class Difficulty(_Model):
    code: str
    label: Text
    share: Stat
    rank: int
    change: Change | None = None
    by_size: list[Level]
    by_industry: list[Level]
    size_gap: Change | None = None  # micro − large


class Policy(_Model):
    code: str
    label: Text
    aware: Stat  # share of firms aware of the policy (aware or benefited)
    benefited: Stat  # share of firms that benefited
    reach_gap: Stat  # share of aware firms that did not benefit


class Distribution(_Model):
    code: str
    label: Text
    levels: list[Level]


class Driver(_Model):
    code: str
    label: Text
    dimension: str
    importance: float  # share of the explained variance (relative weights); shares sum to 1
    importance_se: float | None = None  # from JKn replicate weights
    importance_ci_low: float | None = None
    importance_ci_high: float | None = None
    rank: int
    performance: Stat  # the item's 0–100 score
    coefficient: float | None = None
    p_value: float | None = None
    quadrant: Literal["priority", "strength", "maintain", "secondary"]


class Drivers(_Model):
    model: Text
    r2: float | None
    n: int
    items: list[Driver]


class Category(_Model):
    code: str
    label: Text
    count: int | None  # answers in the category; None where the share is suppressed
    share: Stat  # weighted share of answering firms
    phrases: list[str]
    quotes: list[str]  # redacted


class OpenAnswers(_Model):
    field: str
    label: Text
    answered: int
    coverage: float | None  # share of answers coded into a named category
    categories: list[Category]


class Rate(_Model):
    """Requests of a department, category or wave. ``total`` is always published; a
    suppressed row (too few requests, or hiding another's) has no rate, no counts of
    resolved, open or overdue requests and no median: any of them would give the rate
    away."""

    code: str
    label: Text
    total: int
    resolved: int | None
    rate: float | None
    median_days: float | None = None
    median_ci: tuple[float | None, float | None] | None = None
    open: int | None = 0
    overdue: int | None = 0
    suppressed: bool = False


class Requests(_Model):
    as_of: str
    overdue_days: int
    overall: Rate
    by_department: list[Rate]
    by_category: list[Rate]
    by_wave: list[Rate]
    wave_p_value: float | None = None


class Suppressed(_Model):
    """A figure left out: ``small`` (fewer than ``min_cell`` firms or requests) or
    ``complementary`` (it would let a small one be recomputed from what is published)."""

    table: str
    key: str
    n: int
    reason: Literal["small", "complementary"] = "small"


class Omission(_Model):
    """A section of the brief left out, and why, in one plain sentence.

    ``kind`` is ``"data"`` when the data cannot support it here (too few firms for a
    model, no answers): the brief keeps the heading and says why; or ``"design"`` when
    the inputs do not have it (no ledger given, no policy question asked): the section
    is dropped and the methods note says so.
    """

    section: str
    kind: Literal["data", "design"]
    reason: Text


class Headline(_Model):
    """The few figures an index page or a cover note shows."""

    n: int
    index: Stat
    top_difficulty: Level | None


class Findings(_Model):
    """Everything the brief and the drafts say, computed once; saved as findings.json.

    Examples
    --------
    Findings.load("briefs/2025-all/findings.json").index.overall.estimate
    """

    schema_version: Literal["1.1"] = SCHEMA_VERSION
    title: Text
    unit: Text
    scope: Scope
    method: Method
    headline: Headline
    profile: list[Distribution]
    index: IndexFindings
    difficulties: list[Difficulty]
    policies: list[Policy]
    outlook: list[Distribution]
    drivers: Drivers | None
    open_answers: list[OpenAnswers]
    requests: Requests | None
    suppressed: list[Suppressed]
    omitted: list[Omission] = []

    def to_json(self) -> str:
        """Deterministic JSON: sorted keys, and floats to 10 significant digits, so that
        last-bit differences of multithreaded arithmetic never change the file."""
        data = _round(self.model_dump(mode="json"))
        return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Findings:
        """Read ``findings.json``; a file of another schema version is refused."""
        from analysis.errors import QifangError

        path = Path(path)
        if not path.is_file():
            raise QifangError(
                f"findings file not found: {path}",
                "run notebooks/1-survey-analysis.ipynb (or `qifang run`) first",
            )
        data = json.loads(path.read_text(encoding="utf-8"))
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise QifangError(
                f"{path}: findings schema {version!r}, this Qifang reads {SCHEMA_VERSION!r}",
                "run the analysis notebook again",
            )
        return cls.model_validate(data)

    def difficulty(self, code: str) -> Difficulty:
        return next(d for d in self.difficulties if d.code == code)

    def policy(self, code: str) -> Policy:
        return next(p for p in self.policies if p.code == code)

    def dimension(self, code: str) -> Dimension:
        return next(d for d in self.index.dimensions if d.code == code)

    def omission(self, section: str) -> Omission | None:
        """Why a section is left out, or None when it is in the brief."""
        return next((o for o in self.omitted if o.section == section), None)


def _round(value):
    if isinstance(value, float):
        return float(f"{value:.10g}")
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_round(v) for v in value]
    return value


def json_schema() -> dict:
    """The JSON schema of ``findings.json``."""
    schema = Findings.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://qifang.example/findings-{SCHEMA_VERSION}.schema.json"
    return schema
