"""Build the findings of one brief from the survey: the analysis stage's last step.

:func:`open_survey` loads and checks the inputs of a parameter set and builds its
design; :func:`build_findings` computes every figure the writing stages need — all as
domain estimates of the one design, never by subsetting — attaches the instrument's
zh/en labels, adjusts the p-values of all the brief's comparisons together
(Benjamini–Hochberg), and returns a :class:`~analysis.findings.Findings`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .compare import adjust_pvalues, difference
from .errors import DesignError
from .findings import (
    Category,
    Change,
    Difficulty,
    Dimension,
    Distribution,
    Driver,
    Drivers,
    Findings,
    Headline,
    IndexFindings,
    Item,
    Level,
    Method,
    OpenAnswers,
    Policy,
    Rate,
    RegionScore,
    Requests,
    Scope,
    Stat,
    Suppressed,
    Text,
)
from .instrument import Instrument, load_instrument
from .params import Params, against_data, check

_REGION_ALL = Text(zh="全省", en="the province")
_METHOD_DESIGN = Text(
    zh="样本按调查年度、市州和企业规模分层，各层权重为该层登记在册企业数除以走访企业数，"
    "估计值代表全部登记在册企业。",
    en="The sample is stratified by wave, region and size class; each firm's weight is the "
    "registered firms of its stratum divided by the firms visited, so estimates represent all "
    "registered firms.",
)
_METHOD_INTERVALS = Text(
    zh="标准误采用泰勒线性化方法计算，置信区间按设计自由度的t分布构造，比例的置信区间在logit尺度上计算。",
    en="Standard errors use Taylor linearisation; intervals use the t distribution with the "
    "design's degrees of freedom, and shares' intervals are computed on the logit scale.",
)
_METHOD_COMPARISONS = Text(
    zh="年度间和组间比较的p值经Benjamini–Hochberg方法校正。",
    en="p-values of comparisons between waves and groups are adjusted with the "
    "Benjamini–Hochberg method.",
)
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class Survey:
    """The inputs of one brief, loaded and checked, and its design."""

    params: Params
    instrument: Instrument
    visits: pd.DataFrame
    requests: pd.DataFrame | None
    frame: pd.DataFrame
    design: object  # analysis.design.Design
    domain: np.ndarray  # the brief's population in its wave
    scope_all_waves: np.ndarray  # the same population in every wave


def open_survey(raw: dict | Params | None = None) -> Survey:
    """Load, validate and weight the survey for a parameter set.

    Raises
    ------
    ParameterError, ValidationError, InputFileError, DesignError
        Bad parameters, bad input files, or a frame that does not fit the visits.
    """
    from .load import load
    from .sampling import frame_design

    p = raw if isinstance(raw, Params) else check(raw)
    inst = load_instrument(p.instrument)
    visits = load(p.visits, "visits", inst).data
    p = against_data(p, visits, inst)
    frame = load(p.frame, "frame", inst).data
    requests = load(p.requests, "requests", inst).data if p.requests else None
    design = frame_design(visits, frame, confidence=p.confidence)
    filters = {k: getattr(p, k) for k in ("region", "industry", "size")}
    scope = _mask(design.data, **filters)
    domain = scope & (design.data["wave"].to_numpy() == p.wave)
    return Survey(p, inst, visits, requests, frame, design, domain, scope)


def _mask(data: pd.DataFrame, **filters) -> np.ndarray:
    m = np.ones(len(data), dtype=bool)
    for column, value in filters.items():
        if value is not None:
            m &= data[column].astype(object).to_numpy() == value
    return m


def _num(x) -> float | None:
    if x is None or (isinstance(x, float | np.floating) and math.isnan(x)) or x is pd.NA:
        return None
    return float(x)


def _stat(row, n_col: str = "n") -> Stat:
    suppressed = bool(row.get("suppressed", False))
    n = row.get(n_col, 0)
    return Stat(
        estimate=None if suppressed else _num(row.get("estimate")),
        se=None if suppressed else _num(row.get("se")),
        ci_low=None if suppressed else _num(row.get("ci_low")),
        ci_high=None if suppressed else _num(row.get("ci_high")),
        n=int(n) if _num(n) is not None else 0,
        suppressed=suppressed,
    )


def _change(row, label_a: Text | None = None, label_b: Text | None = None) -> Change:
    suppressed = bool(row.get("suppressed", False))

    def get(key):
        return None if suppressed else _num(row.get(key))

    return Change(
        a=get("estimate_a"),
        b=get("estimate_b"),
        estimate=get("estimate"),
        se=get("se"),
        ci_low=get("ci_low"),
        ci_high=get("ci_high"),
        p_value=get("p_value"),
        n_a=int(row.get("n_a", 0) or 0),
        n_b=int(row.get("n_b", 0) or 0),
        suppressed=suppressed,
        label_a=label_a,
        label_b=label_b,
    )


def _text(label) -> Text:
    return Text(zh=label.zh, en=label.en)


class _Tests:
    """Every comparison of the brief, so that p-values are adjusted together."""

    def __init__(self):
        self.items: list[tuple[object, str, Change]] = []

    def add(self, holder: dict, key: str, change: Change | None) -> None:
        holder[key] = change
        if change is not None and change.p_value is not None:
            self.items.append((holder, key, change))

    def adjust(self, confidence: float) -> None:
        if not self.items:
            return
        q = adjust_pvalues(np.array([c.p_value for _, _, c in self.items]))
        for (holder, key, change), qi in zip(self.items, q, strict=True):
            holder[key] = change.model_copy(
                update={"p_adjusted": float(qi), "significant": bool(qi < 1 - confidence)}
            )


def _scope_label(s: Survey) -> Text:
    p, inst = s.params, s.instrument
    zh = inst.question("region").choice(p.region).label.zh if p.region else _REGION_ALL.zh
    en = inst.question("region").choice(p.region).label.en if p.region else "Qinghai"
    if p.industry:
        c = inst.question("industry").choice(p.industry)
        zh, en = zh + c.label.zh, f"{en}, {c.label.en.lower()}"
    if p.size:
        c = inst.question("size").choice(p.size)
        zh, en = zh + c.label.zh + "企业", f"{en}, {c.label.en.lower()} firms"
    return Text(zh=zh, en=en)


def _fieldwork(dates: pd.Series) -> Text:
    dates = pd.to_datetime(dates.dropna())
    if dates.empty:
        return Text(zh="", en="")
    a, b = dates.min(), dates.max()
    if a.year == b.year:
        zh = (
            f"{a.year}年{a.month}月至{b.month}月"
            if a.month != b.month
            else f"{a.year}年{a.month}月"
        )
        en = f"{_MONTHS[a.month - 1]}–{_MONTHS[b.month - 1]} {a.year}"
    else:
        zh = f"{a.year}年{a.month}月至{b.year}年{b.month}月"
        en = f"{_MONTHS[a.month - 1]} {a.year} – {_MONTHS[b.month - 1]} {b.year}"
    return Text(zh=zh, en=en)


def build_findings(s: Survey) -> Findings:
    """Every figure of the brief, labelled, tested and with small cells suppressed."""
    from .index import environment_index, index_change, item_scores
    from .indicators import difficulties, difficulty_gaps, policies, shares

    p, inst, design = s.params, s.instrument, s.design
    mc, conf = p.min_cell, p.confidence
    tests = _Tests()
    suppressed: list[Suppressed] = []

    def note(table: str, df: pd.DataFrame, keys: list[str]) -> None:
        if "suppressed" in df:
            for _, r in df[df["suppressed"].astype(bool)].iterrows():
                key = "/".join(str(r[k]) for k in keys)
                suppressed.append(Suppressed(table=table, key=key, n=int(r.get("n", 0) or 0)))

    wave_scope = s.scope_all_waves & (design.data["wave"].to_numpy() == p.wave)
    province = _mask(design.data, industry=p.industry, size=p.size) & (
        design.data["wave"].to_numpy() == p.wave
    )
    idx = environment_index(design, domain=s.domain, instrument=inst, min_cell=mc)
    note("index", idx, ["dimension"])
    items = item_scores(design, domain=s.domain, instrument=inst, min_cell=mc)
    note("items", items, ["item"])
    changes = {}
    if p.compare_wave is not None:
        ch = index_change(
            design,
            current=p.wave,
            previous=p.compare_wave,
            by=None,
            domain=s.scope_all_waves,
            instrument=inst,
            min_cell=mc,
        )
        for _, r in ch.iterrows():
            tests.add(changes, r["dimension"], _change(r))
    overall = _stat(idx.set_index("dimension").loc["overall"])
    dims = []
    for d in inst.dimensions:
        row = idx.set_index("dimension").loc[d.name]
        its = [
            Item(
                code=q.name, label=_text(q.short), score=_stat(items.set_index("item").loc[q.name])
            )
            for q in inst.items(d.name)
        ]
        dims.append(
            {
                "code": d.name,
                "label": _text(d.label),
                "weight": d.weight,
                "score": _stat(row),
                "items": its,
            }
        )

    regions = _regions(s, province, tests, note)
    diffs = _difficulties(s, tests, note, difficulties, difficulty_gaps)
    pol = policies(design, domain=s.domain, instrument=inst, min_cell=mc)
    note("policies", pol, ["policy", "measure"])
    policy_list = []
    for q in inst.visits.fields:
        if q.name in set(pol["policy"]):
            rows = pol[pol["policy"] == q.name].set_index("measure")
            policy_list.append(
                Policy(
                    code=q.name,
                    label=_text(q.short),
                    aware=_stat(rows.loc["aware"]),
                    benefited=_stat(rows.loc["benefited"]),
                    reach_gap=_stat(rows.loc["reach_gap"]),
                )
            )
    out_tab = shares(design, domain=s.domain, min_cell=mc)
    outlook = []
    for name in ("overall_satisfaction", "invest_plan", "hiring_plan"):
        q = inst.question(name)
        rows = out_tab[out_tab["question"] == name]
        levels = [
            Level(
                code=str(c.value),
                label=_text(c.label),
                stat=_stat(rows[rows["level"].astype(str) == str(c.value)].iloc[0]),
            )
            for c in q.choices
            if (rows["level"].astype(str) == str(c.value)).any()
        ]
        outlook.append(Distribution(code=name, label=_text(q.short), levels=levels))

    tests.adjust(conf)
    index = IndexFindings(
        overall=overall,
        change=changes.get("overall"),
        dimensions=[Dimension(**d, change=changes.get(d["code"])) for d in dims],
        regions=[
            r.model_copy(
                update={
                    "change": regions["changes"].get((r.code, "overall")),
                    "government_change": regions["changes"].get((r.code, "government")),
                }
            )
            for r in regions["list"]
        ],
    )
    difficulty_list = [
        Difficulty(
            **d, change=diffs["changes"].get(d["code"]), size_gap=diffs["gaps"].get(d["code"])
        )
        for d in diffs["list"]
    ]
    n_visits = int(s.domain.sum())
    weights = design.weights[s.domain] if hasattr(design, "weights") else None
    top = difficulty_list[0] if difficulty_list else None
    scope = _scope_label(s)
    m = design.methods
    return Findings(
        title=Text(
            zh=f"{p.wave}年{scope.zh}民营企业大调研大走访调研简报",
            en=f"Private-enterprise visits {p.wave}: {scope.en} — survey brief",
        ),
        unit=Text(zh=p.unit, en=_unit_en(p.unit)),
        scope=Scope(
            wave=p.wave,
            compare_wave=p.compare_wave,
            region=p.region,
            industry=p.industry,
            size=p.size,
            label=scope,
            fieldwork=_fieldwork(s.visits.loc[s.domain, "visit_date"]),
        ),
        method=Method(
            n_visits=n_visits,
            n_population=round(float(np.sum(weights))) if weights is not None else 0,
            n_strata=int(
                pd.DataFrame(design.data.loc[wave_scope, ["region", "size"]])
                .drop_duplicates()
                .shape[0]
            ),
            df=float(m.get("df", 0)),
            confidence=conf,
            min_cell=mc,
            lonely_psu=str(m.get("lonely_psu")),
            design=_METHOD_DESIGN,
            intervals=_METHOD_INTERVALS,
            comparisons=_METHOD_COMPARISONS,
        ),
        headline=Headline(
            n=n_visits,
            index=overall,
            top_difficulty=Level(code=top.code, label=top.label, stat=top.share) if top else None,
        ),
        profile=_profile(s),
        index=index,
        difficulties=difficulty_list,
        policies=policy_list,
        outlook=outlook,
        drivers=_drivers(s),
        open_answers=_open_answers(s),
        requests=_requests(s),
        suppressed=suppressed,
    )


def _unit_en(unit: str) -> str:
    known = {
        "省工商联": "Provincial Federation of Industry and Commerce",
        "青海省工商联": "Qinghai Federation of Industry and Commerce",
    }
    return known.get(unit, unit)


def _regions(s: Survey, province: np.ndarray, tests: _Tests, note) -> dict:
    from .index import index_change, region_ranking

    p, inst, design = s.params, s.instrument, s.design
    rank = region_ranking(design, domain=province, instrument=inst, min_cell=p.min_cell)
    note("regions", rank, ["region", "dimension"])
    regions = []
    overall = rank[rank["dimension"] == "overall"].set_index("region")
    for c in inst.question("region").choices:
        if c.value not in overall.index:
            continue
        r = overall.loc[c.value]
        stat = _stat(r)
        vs = "suppressed" if stat.suppressed else str(r.get("vs_average", "not_different"))
        regions.append(
            RegionScore(
                code=c.value,
                label=_text(c.label),
                score=stat,
                rank=None if stat.suppressed or _num(r["rank"]) is None else int(r["rank"]),
                vs_province=vs
                if vs in ("above", "below", "not_different", "suppressed")
                else "not_different",
            )
        )
    changes: dict = {}
    if p.compare_wave is not None:
        scope = _mask(design.data, industry=p.industry, size=p.size)
        ch = index_change(
            design,
            current=p.wave,
            previous=p.compare_wave,
            by="region",
            domain=scope,
            instrument=inst,
            min_cell=p.min_cell,
        )
        for _, r in ch.iterrows():
            if r["region"] != "all" and r["dimension"] in ("overall", "government"):
                tests.add(changes, (r["region"], r["dimension"]), _change(r))
    return {"list": regions, "changes": changes}


def _difficulties(s: Survey, tests: _Tests, note, difficulties, difficulty_gaps) -> dict:
    p, inst, design = s.params, s.instrument, s.design
    q = inst.question("difficulties")
    table = difficulties(design, domain=s.domain, instrument=inst, min_cell=p.min_cell)
    note("difficulties", table, ["option"])
    by_size = difficulties(design, by="size", domain=s.domain, instrument=inst, min_cell=p.min_cell)
    by_ind = difficulties(
        design, by="industry", domain=s.domain, instrument=inst, min_cell=p.min_cell
    )
    changes: dict = {}
    if p.compare_wave is not None:
        columns = list(q.columns)
        flag = pd.Categorical.from_codes(np.where(s.scope_all_waves, 0, -1), categories=["in"])
        d = design.assign(_scope=flag)
        ch = difference(
            d, columns, "wave", p.wave, p.compare_wave, statistic="proportion", within="_scope"
        )
        ch = ch.assign(option=ch["level"].str.slice(len("difficulties__")))
        from .disclosure import suppress

        ch = suppress(ch, p.min_cell, counts=("n_a", "n_b"))
        for _, r in ch.iterrows():
            tests.add(changes, r["option"], _change(r))
    gaps: dict = {}
    if p.size is None:
        g = difficulty_gaps(design, domain=s.domain, instrument=inst, min_cell=p.min_cell)
        size = inst.question("size")
        for _, r in g.iterrows():
            tests.add(
                gaps,
                r["option"],
                _change(r, _text(size.choice("micro").label), _text(size.choice("large").label)),
            )
    items = []
    for _, r in table.iterrows():
        c = q.choice(r["option"])
        sizes = [
            Level(
                code=str(x["size"]),
                label=_text(inst.question("size").choice(str(x["size"])).label),
                stat=_stat(x),
            )
            for _, x in by_size[by_size["option"] == r["option"]].iterrows()
        ]
        inds = [
            Level(
                code=str(x["industry"]),
                label=_text(inst.question("industry").choice(str(x["industry"])).short),
                stat=_stat(x),
            )
            for _, x in by_ind[by_ind["option"] == r["option"]].iterrows()
            if not x["suppressed"]
        ]
        rank = _num(r["rank"])
        items.append(
            {
                "code": c.value,
                "label": _text(c.label),
                "share": _stat(r),
                "rank": int(rank) if rank is not None else len(table),
                "by_size": sizes,
                "by_industry": inds,
            }
        )
    return {"list": items, "changes": changes, "gaps": gaps}


def _profile(s: Survey) -> list[Distribution]:
    """Who was visited: unweighted counts and weighted shares by size, region, industry."""
    inst, design = s.instrument, s.design
    out = []
    w = design.weights
    for name in ("size", "region", "industry"):
        q = inst.question(name)
        col = design.data[name].astype(object).to_numpy()
        levels = []
        total = float(w[s.domain].sum())
        for c in q.choices:
            m = s.domain & (col == c.value)
            n = int(m.sum())
            if n == 0:
                continue
            small = n < s.params.min_cell
            share = None if small else float(w[m].sum()) / total
            levels.append(
                Level(
                    code=str(c.value),
                    label=_text(q.short if False else c.label),
                    stat=Stat(estimate=share, n=n, suppressed=small),
                )
            )
        out.append(Distribution(code=name, label=_text(q.short), levels=levels))
    return out


def _drivers(s: Survey) -> Drivers | None:
    from .models import key_drivers

    inst = s.instrument
    try:
        d = key_drivers(s.design, domain=s.domain, min_cell=s.params.min_cell)
    except DesignError:
        return None  # too few firms in the domain for a model: the brief says so
    coef = d.coefficients.set_index("term") if "term" in d.coefficients else pd.DataFrame()
    items = []
    for _, r in d.importance.iterrows():
        if r.get("suppressed") or _num(r.get("rank")) is None:
            continue
        q = inst.question(r["item"])
        c = coef.loc[r["item"]] if r["item"] in coef.index else None
        if isinstance(c, pd.DataFrame):
            c = c.iloc[0]
        items.append(
            Driver(
                code=r["item"],
                label=_text(q.short),
                dimension=str(r["dimension"]),
                importance=float(r["share"]),
                rank=int(r["rank"]),
                performance=Stat(
                    estimate=_num(r["performance"]),
                    se=_num(r.get("performance_se")),
                    ci_low=_num(r.get("performance_ci_low")),
                    ci_high=_num(r.get("performance_ci_high")),
                    n=int(r["n"]),
                ),
                coefficient=_num(c["estimate"]) if c is not None else None,
                p_value=_num(c["p_value"]) if c is not None else None,
                quadrant=str(r["quadrant"]),
            )
        )
    items.sort(key=lambda x: x.rank)
    r2 = d.fit.get("linear", {}).get("r2") if isinstance(d.fit, dict) else None
    model = Text(
        zh=("有序概率（probit）模型" if d.model == "ordinal" else "加权线性回归模型")
        + "，以设计权重加权，控制企业规模、市州和行业；相对重要性采用Johnson相对权重法。",
        en=("An ordered probit" if d.model == "ordinal" else "A weighted linear regression")
        + " with design weights, controlling for size, region and industry; relative "
        "importance by Johnson's relative weights.",
    )
    return Drivers(model=model, r2=_num(r2), n=int(d.n), items=items)


def _open_answers(s: Survey) -> list[OpenAnswers]:
    from .text import load_coding, open_answers

    p, inst, design = s.params, s.instrument, s.design
    scheme = load_coding(p.coding or None, instrument=inst)
    data = design.data
    people = (
        data["contact_person"].dropna().astype(str).unique() if "contact_person" in data else ()
    )
    firms = data["firm_name"].dropna().astype(str).unique() if "firm_name" in data else ()
    out = []
    for column in ("urgent_needs", "suggestions"):
        if column not in data:
            continue
        rows = data.loc[s.domain]
        res = open_answers(
            rows,
            column,
            weights=design.weights[s.domain],
            scheme=scheme,
            min_cell=p.min_cell,
            people=people,
            firms=firms,
        )
        ind = res.indicators.reindex(data.index)
        d = design.assign(**{c: ind[c].to_numpy() for c in ind.columns})
        flag = pd.Categorical.from_codes(np.where(s.domain, 0, -1), categories=["in"])
        d = d.assign(_in=flag)
        shares = d.proportion(list(ind.columns), by="_in") if len(ind.columns) else pd.DataFrame()
        from .disclosure import suppress

        shares = suppress(shares, p.min_cell) if len(shares) else shares
        cats = []
        table = res.categories.set_index("category") if len(res.categories) else pd.DataFrame()
        for c in scheme.categories:
            col = f"{column}__{c.name}"
            if c.name not in table.index or not len(shares):
                continue
            row = shares[shares["level"] == col]
            stat = _stat(row.iloc[0]) if len(row) else Stat(estimate=None)
            count = int(table.loc[c.name, "answers"])
            quotable = bool(table.loc[c.name].get("quotable", count >= p.min_cell))
            phr = (
                res.phrases[res.phrases["category"] == c.name]["phrase"].tolist()[:8]
                if quotable
                else []
            )
            quo = (
                res.quotes[res.quotes["category"] == c.name]["quote"].tolist()[:3]
                if quotable
                else []
            )
            cats.append(
                Category(
                    code=c.name,
                    label=Text(zh=c.label_zh, en=c.label_en),
                    count=count,
                    share=stat,
                    phrases=phr,
                    quotes=quo,
                )
            )
        cats.sort(key=lambda c: (-(c.share.estimate or 0), c.code))
        cats = [c for c in cats if c.count > 0]
        q = inst.question(column)
        cov = _num(res.coverage)
        out.append(
            OpenAnswers(
                field=column,
                label=_text(q.short),
                answered=int(res.answers),
                coverage=cov,
                categories=cats,
            )
        )
    return out


def _requests(s: Survey) -> Requests | None:
    from .ledger import ledger_report

    p, inst = s.params, s.instrument
    if s.requests is None or not len(s.requests):
        return None
    # isin against a Series hashes both sides once; a Python set of a million ids is slow
    req = s.requests[s.requests["visit_id"].isin(s.visits.loc[s.scope_all_waves, "visit_id"])]
    current = req[req["visit_id"].isin(s.visits.loc[s.domain, "visit_id"])]
    if not len(current):
        return None
    rep = ledger_report(current, s.visits, overdue_days=p.overdue_days)
    every = ledger_report(req, s.visits, as_of=rep.as_of, overdue_days=p.overdue_days)
    dept_q, cat_q = inst.requests["department"], inst.requests["category"]

    def rate(code, label, r, overdue=0) -> Rate:
        small = int(r["requests"]) < p.min_cell
        ci = (_num(r.get("median_ci_low")), _num(r.get("median_ci_high")))
        return Rate(
            code=str(code),
            label=label,
            total=int(r["requests"]),
            resolved=int(r["resolved"]),
            rate=None if small else _num(r["resolution_rate"]),
            median_days=None if small else _num(r.get("median_days")),
            median_ci=None if small else ci,
            open=int(r["requests"] - r["resolved"]),
            overdue=int(overdue),
        )

    od = (
        rep.overdue_by_department.set_index("department")["overdue"]
        if len(rep.overdue_by_department)
        else pd.Series(dtype=int)
    )
    by_dept = [
        rate(
            r["department"],
            _text(dept_q.choice(str(r["department"])).label),
            r,
            od.get(r["department"], 0),
        )
        for _, r in rep.by_department.iterrows()
    ]
    by_cat = [
        rate(r["category"], _text(cat_q.choice(str(r["category"])).label), r)
        for _, r in rep.by_category.iterrows()
    ]
    by_wave, p_wave = [], None
    if every.waves is not None:
        for _, r in every.waves.table.iterrows():
            wave = int(r["wave"]) if float(r["wave"]).is_integer() else r["wave"]
            by_wave.append(rate(wave, Text(zh=f"{wave}年", en=str(wave)), r))
        p_wave = _num(every.waves.p_value)
    overall = Rate(
        code="all",
        label=Text(zh="合计", en="all"),
        total=rep.requests,
        resolved=rep.resolved,
        rate=_num(rep.resolution_rate),
        median_days=_num(rep.median_days),
        median_ci=(_num(rep.median_ci_low), _num(rep.median_ci_high)),
        open=rep.requests - rep.resolved,
        overdue=int(rep.overdue),
    )
    return Requests(
        as_of=str(rep.as_of),
        overdue_days=p.overdue_days,
        overall=overall,
        by_department=by_dept,
        by_category=by_cat,
        by_wave=by_wave,
        wave_p_value=p_wave,
    )
