"""Findings as named facts, the vocabulary of suggestion rules and draft templates.

A fact is one figure of the findings under a dotted name::

    difficulty.financing.share          share of firms citing financing (with CI, n)
    difficulty.financing.change         change since the previous wave (p, significant)
    difficulty.financing.gap            micro minus large firms
    difficulty.financing.size.micro     share among micro firms
    index.overall.score                 the index, 0–100; index.government.score …
    index.government.change             change since the previous wave
    item.r_service.score                an item's score; driver.r_service.rank …
    policy.p_finance.reach_gap          aware firms that did not benefit
    region.haidong.government_change    a region's change of the government dimension
    open.financing.share                share of urgent-needs answers about financing
    requests.rate / requests.median_days / requests.dept.natres.median_days
    requests.cat.financing.total        requests of a category; open.answered …
    outlook.invest_plan.increase        share of firms planning to invest more
    n / population                      firms visited / firms represented

Facts compare like their value (``difficulty.financing.share >= 0.3``) and carry
``lo``, ``hi``, ``n``, ``p`` and ``significant``. A fact whose value is missing or
suppressed raises :class:`MissingEvidence` when used, so a rule that needs it does not
fire. :func:`catalog` lists every fact name the instrument allows, so rules are checked
when they are loaded, before any data is seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analysis.findings.model import Change, Findings, Stat, Text
from analysis.ingest.instrument import Instrument

KINDS = (
    "share",
    "score",
    "points",
    "gap",
    "score_points",
    "count",
    "rank",
    "days",
    "flag",
    "number",
)
ATTRIBUTES = ("value", "lo", "hi", "n", "p", "significant", "label")


class MissingEvidence(Exception):
    """A fact a rule needs is missing or suppressed."""

    def __init__(self, path: str):
        super().__init__(path)
        self.path = path


@dataclass(frozen=True, eq=False)
class Fact:
    """One figure: value and uncertainty, how to print it, and what it is."""

    path: str
    kind: str
    value: float | int | bool | None
    label: Text
    lo: float | None = None
    hi: float | None = None
    n: int | None = None
    p: float | None = None
    significant: bool | None = None
    # for a difference between two groups: each side's value, firms and label
    a: float | None = None
    b: float | None = None
    n_a: int | None = None
    n_b: int | None = None
    label_a: Text | None = None
    label_b: Text | None = None

    @property
    def missing(self) -> bool:
        return self.value is None

    def _v(self):
        if self.value is None:
            raise MissingEvidence(self.path)
        return self.value

    def __lt__(self, other):
        return self._v() < _value(other)

    def __le__(self, other):
        return self._v() <= _value(other)

    def __gt__(self, other):
        return self._v() > _value(other)

    def __ge__(self, other):
        return self._v() >= _value(other)

    def __bool__(self):
        return bool(self._v())

    def __float__(self):
        return float(self._v())

    def __add__(self, other):
        return self._v() + _value(other)

    def __sub__(self, other):
        return self._v() - _value(other)

    def __rsub__(self, other):
        return _value(other) - self._v()

    def __mul__(self, other):
        return self._v() * _value(other)

    def __truediv__(self, other):
        return self._v() / _value(other)

    def __neg__(self):
        return -self._v()

    def __abs__(self):
        return abs(self._v())


def _value(x):
    return x._v() if isinstance(x, Fact) else x


def _stat(path: str, kind: str, stat: Stat | None, label: Text) -> Fact:
    if stat is None or stat.suppressed:
        return Fact(path, kind, None, label, n=stat.n if stat else None)
    return Fact(path, kind, stat.estimate, label, stat.ci_low, stat.ci_high, stat.n)


def _change(path: str, kind: str, change: Change | None, label: Text) -> Fact:
    if change is None or change.suppressed or change.estimate is None:
        return Fact(path, kind, None, label)
    return Fact(
        path,
        kind,
        change.estimate,
        label,
        change.ci_low,
        change.ci_high,
        min(change.n_a, change.n_b),
        change.p_adjusted,
        change.significant,
        change.a,
        change.b,
        change.n_a,
        change.n_b,
        change.label_a,
        change.label_b,
    )


def _number(path: str, kind: str, value, label: Text) -> Fact:
    return Fact(path, kind, value, label)


def facts(f: Findings) -> dict[str, Fact]:
    """Every fact of a findings object, by dotted name."""
    out: dict[str, Fact] = {}

    def put(fact: Fact) -> None:
        out[fact.path] = fact

    scope = f.scope.label
    put(_number("n", "count", f.method.n_visits, Text(zh="走访企业数", en="firms visited")))
    put(
        _number(
            "population",
            "count",
            f.method.n_population,
            Text(zh="代表的市场主体数", en="registered firms represented"),
        )
    )
    put(
        _stat(
            "index.overall.score",
            "score",
            f.index.overall,
            Text(zh=f"{scope.zh}营商环境指数", en=f"business-environment index, {scope.en}"),
        )
    )
    put(
        _change(
            "index.overall.change",
            "score_points",
            f.index.change,
            Text(zh="营商环境指数较上年变化", en="change of the index since the previous wave"),
        )
    )
    for d in f.index.dimensions:
        put(_stat(f"index.{d.code}.score", "score", d.score, d.label))
        put(
            _change(
                f"index.{d.code}.change",
                "score_points",
                d.change,
                Text(zh=f"{d.label.zh}得分较上年变化", en=f"change of {d.label.en}"),
            )
        )
        for item in d.items:
            put(_stat(f"item.{item.code}.score", "score", item.score, item.label))
    for r in f.index.regions:
        put(_stat(f"region.{r.code}.score", "score", r.score, r.label))
        put(_number(f"region.{r.code}.rank", "rank", r.rank, r.label))
        put(_number(f"region.{r.code}.below", "flag", r.vs_province == "below", r.label))
        put(_change(f"region.{r.code}.change", "score_points", r.change, r.label))
        put(
            _change(
                f"region.{r.code}.government_change",
                "score_points",
                r.government_change,
                Text(
                    zh=f"{r.label.zh}政务环境得分变化",
                    en=f"change of government services, {r.label.en}",
                ),
            )
        )
    for d in f.difficulties:
        base = f"difficulty.{d.code}"
        put(_stat(f"{base}.share", "share", d.share, d.label))
        put(_number(f"{base}.rank", "rank", d.rank, d.label))
        put(
            _change(
                f"{base}.change",
                "points",
                d.change,
                Text(zh=f"反映{d.label.zh}的企业占比较上年变化", en=f"change, {d.label.en}"),
            )
        )
        put(
            _change(
                f"{base}.gap",
                "gap",
                d.size_gap,
                Text(
                    zh=f"微型企业与大型企业反映{d.label.zh}的占比之差",
                    en=f"micro minus large firms, {d.label.en}",
                ),
            )
        )
        for level in d.by_size:
            put(_stat(f"{base}.size.{level.code}", "share", level.stat, level.label))
    for p in f.policies:
        for part in ("aware", "benefited", "reach_gap"):
            put(_stat(f"policy.{p.code}.{part}", "share", getattr(p, part), p.label))
    for dist in f.outlook:
        for level in dist.levels:
            put(_stat(f"outlook.{dist.code}.{level.code}", "share", level.stat, level.label))
    if f.drivers is not None:
        for drv in f.drivers.items:
            put(_number(f"driver.{drv.code}.rank", "rank", drv.rank, drv.label))
            put(
                Fact(
                    f"driver.{drv.code}.importance",
                    "share",
                    drv.importance,
                    drv.label,
                    drv.importance_ci_low,
                    drv.importance_ci_high,
                )
            )
            put(
                _number(
                    f"driver.{drv.code}.priority", "flag", drv.quadrant == "priority", drv.label
                )
            )
    for block in f.open_answers:
        if block.field != "urgent_needs":
            continue
        put(
            _number(
                "open.answered",
                "count",
                block.answered,
                Text(zh="填写急难愁盼问题的企业数", en="firms stating urgent needs"),
            )
        )
        for c in block.categories:
            put(_stat(f"open.{c.code}.share", "share", c.share, c.label))
            put(_number(f"open.{c.code}.count", "count", c.count, c.label))
    if f.requests is not None:
        r = f.requests
        put(_number("requests.total", "count", r.overall.total, Text(zh="诉求件数", en="requests")))
        put(
            _number(
                "requests.rate",
                "share",
                r.overall.rate,
                Text(zh="诉求办结率", en="share of requests resolved"),
            )
        )
        put(
            _number(
                "requests.median_days",
                "days",
                r.overall.median_days,
                Text(zh="诉求办结天数中位数", en="median days to resolve"),
            )
        )
        put(
            _number(
                "requests.open",
                "count",
                r.overall.open,
                Text(zh="未办结诉求件数", en="requests not yet resolved"),
            )
        )
        put(
            _number(
                "requests.overdue_days",
                "days",
                r.overdue_days,
                Text(zh="超期认定天数", en="days after which a request is overdue"),
            )
        )
        put(
            _number(
                "requests.overdue",
                "count",
                r.overall.overdue,
                Text(
                    zh=f"超过{r.overdue_days}天未办结的诉求件数",
                    en=f"requests open longer than {r.overdue_days} days",
                ),
            )
        )
        for cat in r.by_category:
            put(_number(f"requests.cat.{cat.code}.total", "count", cat.total, cat.label))
            put(_number(f"requests.cat.{cat.code}.rate", "share", cat.rate, cat.label))
            put(_number(f"requests.cat.{cat.code}.median_days", "days", cat.median_days, cat.label))
        for dep in r.by_department:
            put(_number(f"requests.dept.{dep.code}.rate", "share", dep.rate, dep.label))
            put(
                _number(f"requests.dept.{dep.code}.median_days", "days", dep.median_days, dep.label)
            )
            put(_number(f"requests.dept.{dep.code}.overdue", "count", dep.overdue, dep.label))
    # Facts of optional parts (no ledger, no open question) exist as missing facts, so a
    # text can ask `requests.rate is available` whatever the inputs.
    for name, kind in _OPTIONAL.items():
        out.setdefault(name, Fact(name, kind, None, Text(zh=name, en=name)))
    return out


_OPTIONAL = {
    "open.answered": "count",
    "requests.total": "count",
    "requests.rate": "share",
    "requests.median_days": "days",
    "requests.open": "count",
    "requests.overdue": "count",
    "requests.overdue_days": "days",
}


def complete(f: Findings, inst: Instrument) -> dict[str, Fact]:
    """The facts of ``f``, plus every other name of the catalog as a missing fact, so
    a rule about a figure these findings lack (no previous wave, no model) simply
    does not fire."""
    out = {name: Fact(name, "number", None, Text(zh=name, en=name)) for name in catalog(inst)}
    out.update(facts(f))
    return out


def catalog(inst: Instrument) -> set[str]:
    """Every fact name the instrument allows, whatever the data."""
    names = {
        "n",
        "population",
        "index.overall.score",
        "index.overall.change",
        "requests.total",
        "requests.rate",
        "requests.median_days",
        "requests.open",
        "requests.overdue",
        "requests.overdue_days",
        "open.answered",
    }
    for d in inst.dimensions:
        names |= {f"index.{d.name}.score", f"index.{d.name}.change"}
    names |= {f"item.{q.name}.score" for q in inst.items()}
    names |= {
        f"driver.{q.name}.{a}" for q in inst.items() for a in ("rank", "importance", "priority")
    }
    for c in inst.question("region").choices:
        names |= {
            f"region.{c.value}.{a}"
            for a in ("score", "rank", "below", "change", "government_change")
        }
    sizes = [c.value for c in inst.question("size").choices]
    difficulties = inst.question("difficulties").choices if inst.has("difficulties") else ()
    for c in difficulties:
        base = f"difficulty.{c.value}"
        names |= {f"{base}.share", f"{base}.rank", f"{base}.change", f"{base}.gap"}
        names |= {f"{base}.size.{s}" for s in sizes}
        names.add(f"open.{c.value}.share")
        names.add(f"open.{c.value}.count")
    for q in inst.visits.fields:
        if q.name.startswith("p_") and q.type == "single":
            names |= {f"policy.{q.name}.{a}" for a in ("aware", "benefited", "reach_gap")}
    for name in ("overall_satisfaction", "invest_plan", "hiring_plan"):
        if inst.has(name):
            names |= {f"outlook.{name}.{c.value}" for c in inst.question(name).choices}
    for c in inst.requests["category"].choices:
        names |= {f"requests.cat.{c.value}.{a}" for a in ("total", "rate", "median_days")}
    for c in inst.requests["department"].choices:
        names |= {f"requests.dept.{c.value}.{a}" for a in ("rate", "median_days", "overdue")}
    return names


def tree(flat: dict[str, Any]) -> dict[str, Any]:
    """Dotted names to nested dicts, for rule expressions and templates (no fact name
    is a prefix of another, so every leaf is a fact)."""
    root: dict[str, Any] = {}
    for path, value in flat.items():
        node = root
        *parents, last = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return root
