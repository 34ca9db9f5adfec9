"""Results: what became of the office's work in a period, counted once, traced to rows.

The one object the results brief, ``tables.xlsx`` and the 工作总结 read, saved as
``results.json``; its JSON schema is committed at
``src/analysis/tracking/results.schema.json`` (a test keeps it in step).

Counting conventions (the annual review checks exactly these):

- An **item** (篇/件) is one row of the submissions ledger; an **instance** (次) is one
  event. One item adopted by 全国工商联 and by 省政协 is one adopted item, and one item
  in each of the two channels' counts: the channels' counts may add up to more than the
  items, and no text adds them up.
- ``adoption.items`` counts items with an adoption (采用 or 转送采用) dated in the period,
  whenever they were submitted (``adoption.carried_over`` of them before it);
  ``adoption.rate`` is the share of the period's submissions adopted by its end.
- Services add up the rows of a kind dated in the period. Firms are counted once per
  kind by their firm key where the ledger has one; rows without a key add their count
  of firms, which cannot be deduplicated, and ``deduplicated`` says so.

Every figure carries ``refs``: the ledger rows (as numbered in the file) it counts.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from analysis.findings.model import Text

SCHEMA_VERSION = "1.0"
SCHEMA_PATH = Path(__file__).parent / "results.schema.json"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Ref(_Model):
    """Rows of one ledger, as numbered in its file (the header is row 1)."""

    ledger: Literal["submissions", "events", "services"]
    rows: list[int]


class Figure(_Model):
    """A counted figure and the ledger rows it counts."""

    value: float
    refs: list[Ref] = []


class PeriodInfo(_Model):
    start: date
    end: date
    key: str
    label: Text


class Source(_Model):
    """A ledger file as read: its name (not its path), SHA-256 and rows."""

    ledger: Literal["submissions", "events", "services"]
    file: str
    sha256: str
    rows: int


class KindCount(_Model):
    """Items of one kind of submission: sent in the period, and adopted in it."""

    code: str
    label: Text
    unit: Text
    submitted: Figure
    adopted: Figure


class Channel(_Model):
    """A body that adopted items (全国工商联, 省政协 …): its items and its instances."""

    body: str
    level: str | None
    level_label: Text | None
    items: Figure
    instances: Figure


class LevelCount(_Model):
    code: str
    label: Text
    items: Figure
    instances: Figure


class Publication(_Model):
    """Items carried by one publication (《每日情况》 …)."""

    name: str
    items: Figure


class Instruction(_Model):
    """Items instructed (批示) by leaders of one level and rank."""

    level: str
    leader: str
    label: Text
    items: Figure


class Days(_Model):
    """Days from submission to the first adoption, for items first adopted in the period."""

    n: int
    median: float
    minimum: int
    maximum: int
    bins: list[tuple[str, int]]  # (label, items), e.g. ("≤15", 4)
    by_kind: list[tuple[str, float]]  # (kind code, median days)
    refs: list[Ref] = []


class Adoption(_Model):
    items: Figure  # items adopted in the period (篇/件)
    instances: Figure  # adoption events in the period (次)
    carried_over: Figure  # of the items, those submitted before the period
    submitted_adopted: Figure  # the period's submissions adopted by its end
    rate: float | None  # submitted_adopted / submitted
    by_channel: list[Channel]
    by_level: list[LevelCount]
    publications: list[Publication]
    instructed: Figure  # items instructed (批示) in the period
    instructed_instances: Figure
    instructions: list[Instruction]
    days: Days | None


class Tally(_Model):
    code: str
    label: Text
    items: Figure


class Proposals(_Model):
    """政协提案: sent, filed (立案), replied (答复) and closed (办结) in the period."""

    submitted: Figure
    filed: Figure
    replied: Figure
    closed: Figure
    replies: list[Tally]
    satisfaction: list[Tally]
    handlers: list[tuple[str, int]]


class Topic(_Model):
    """A topic: items sent in the period, and items adopted in it."""

    label: str
    submitted: Figure
    adopted: Figure


class Measure(_Model):
    """One measure of a kind of service in the period."""

    name: str
    label: Text
    unit: Text | None  # counting word; None for money (yuan)
    money: bool
    value: Figure
    # firms only: rows that name a firm, rows that only count them, distinct firm keys,
    # firm-instances (家次), and whether every firm could be counted once
    keyed_rows: int | None = None
    unkeyed_rows: int | None = None
    distinct_keys: int | None = None
    instances: float | None = None
    deduplicated: bool | None = None


class Breakdown(_Model):
    """The measures of one kind of service within a region or a part of the period."""

    key: str
    label: Text
    values: dict[str, float]


class ServiceKind(_Model):
    code: str
    label: Text
    line: str
    rows: Figure  # activities (rows) in the period
    measures: list[Measure]
    by_region: list[Breakdown]
    by_part: list[Breakdown]


class Line(_Model):
    """A line of work (工作条线) and the kinds of service in it."""

    name: str
    label: Text
    kinds: list[str]


class LoopSubmission(_Model):
    """A submission that carried a suggestion, and what became of it."""

    submission_id: str
    kind: str
    kind_label: Text
    title: str
    submitted: date
    outcome: Text
    refs: list[Ref] = []


class Indicator(_Model):
    """A suggestion's indicator in the next wave of the survey, against the wave its
    submission drew on: values, change with interval and adjusted test."""

    path: str
    kind: Literal["share", "score"]
    label: Text
    run: str
    scope: Text
    wave: int
    next_wave: int | None
    before: float | None = None
    after: float | None = None
    change: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_adjusted: float | None = None
    significant: bool | None = None
    n_before: int = 0
    n_after: int = 0
    suppressed: bool = False
    confidence: float = 0.95


class LoopTopic(_Model):
    """One suggestion topic: the submissions that carried it and its indicator."""

    rule: str
    topic: Text
    submissions: list[LoopSubmission]
    indicators: list[Indicator]


class Results(_Model):
    """What became of the office's work in a period; saved as results.json.

    Examples
    --------
    Results.load("briefs/results-2025/results.json").adoption.items.value
    """

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    title: Text
    unit: Text
    period: PeriodInfo
    sources: list[Source]
    submitted: Figure
    by_kind: list[KindCount]
    adoption: Adoption
    proposals: Proposals
    topics: list[Topic]
    lines: list[Line]
    services: list[ServiceKind]
    loop: list[LoopTopic]
    notes: list[Text]

    def to_json(self) -> str:
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
    def load(cls, path: str | Path) -> Results:
        """Read ``results.json``; a file of another schema version is refused."""
        from analysis.errors import QifangError

        path = Path(path)
        if not path.is_file():
            raise QifangError(
                f"results file not found: {path}",
                "run notebooks/4-office-results.ipynb (or `qifang results`) first",
            )
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("schema_version") != SCHEMA_VERSION:
            raise QifangError(
                f"{path}: results schema {data.get('schema_version')!r}, this Qifang reads "
                f"{SCHEMA_VERSION!r}",
                "run `qifang results` again",
            )
        return cls.model_validate(data)

    def service(self, code: str) -> ServiceKind | None:
        return next((s for s in self.services if s.code == code), None)

    def kind(self, code: str) -> KindCount:
        return next(k for k in self.by_kind if k.code == code)


def _round(value):
    if isinstance(value, float):
        return float(f"{value:.10g}")
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_round(v) for v in value]
    return value


def json_schema() -> dict:
    """The JSON schema of ``results.json``."""
    schema = Results.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://qifang.example/results-{SCHEMA_VERSION}.schema.json"
    return schema
