"""Build the findings of one brief from the survey: the analysis stage's last step.

:func:`open_survey` loads and checks the inputs of a parameter set and builds its
design; :func:`build_findings` computes every figure the writing stages need — all as
domain estimates of the one design, never by subsetting — attaches the instrument's
zh/en labels, adjusts the p-values of all the brief's comparisons together
(Benjamini–Hochberg), and returns a :class:`~analysis.findings.model.Findings`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.errors import DesignError
from analysis.findings import _sections as sections
from analysis.findings._omit import Omissions
from analysis.findings._protect import protect
from analysis.findings.model import (
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
    Policy,
    RegionScore,
    Scope,
    Stat,
    Text,
)
from analysis.findings.periods import months
from analysis.ingest.instrument import Instrument
from analysis.ingest.params import Params, against_data, check
from analysis.survey.multiplicity import adjust_pvalues

# What a model, a matrix or a test can fail with when a small domain cannot support
# it: the section is left out, with its reason, instead of stopping the brief.
UNFIT = (DesignError, np.linalg.LinAlgError, FloatingPointError, ValueError, ZeroDivisionError)


def _method_design(region_word: Text) -> Text:
    return Text(
        zh=f"样本按调查年度、{region_word.zh}和企业规模分层，各层权重为该层登记在册企业数除以"
        "走访企业数，估计值代表全部登记在册企业。",
        en=f"The sample is stratified by wave, {region_word.en.lower()} and size class; each "
        "firm's weight is the registered firms of its stratum divided by the firms visited, so "
        "estimates represent all registered firms.",
    )


_METHOD_INTERVALS = Text(
    zh="标准误采用泰勒线性化方法计算，置信区间按设计自由度的t分布构造；比例的置信区间采用"
    "Korn–Graubard方法（以有效样本量计算的Clopper–Pearson区间），比例为0或100%时取精确二项区间。",
    en="Standard errors use Taylor linearisation; intervals use the t distribution with the "
    "design's degrees of freedom; shares' intervals are Korn and Graubard's (Clopper–Pearson "
    "with the effective sample size), exact binomial where a share is 0 or 100%.",
)
_METHOD_COMPARISONS = Text(
    zh="年度间和组间比较采用基于设计的t检验；比例之差中一方比例为0或100%（标准误为0），或一方"
    "反映（或未反映）的企业不足5家时，t检验不适用，改用由两方Korn–Graubard区间合成的MOVER区间"
    "及其p值。全部比较的p值经Benjamini–Hochberg方法校正。",
    en="Comparisons between waves and groups use design-based t tests; where a side of a "
    "difference of shares is 0 or 100% (a zero standard error) or rests on fewer than 5 firms "
    "either way, no t test applies, and the interval and p-value come from MOVER on the two "
    "sides' Korn–Graubard intervals. All p-values of the brief are adjusted together with the "
    "Benjamini–Hochberg method.",
)


@dataclass(frozen=True)
class Survey:
    """The inputs of one brief, loaded and checked, and its design."""

    params: Params
    instrument: Instrument
    visits: pd.DataFrame
    requests: pd.DataFrame | None
    frame: pd.DataFrame
    design: object  # analysis.survey.design.Design
    domain: np.ndarray  # the brief's population in its wave
    scope_all_waves: np.ndarray  # the same population in every wave
    cache_key: str = ""  # the shared tables' entry (analysis.survey.cache)
    changes: object = None  # the design of wave-to-wave changes (firm as the cluster)


def open_survey(raw: dict | Params | None = None) -> Survey:
    """Load, validate and weight the survey for a parameter set.

    The loaded tables come from the cache of shared tables when it holds them
    (:mod:`analysis.survey.cache`): every brief and rerun on the same inputs loads
    them once.

    Raises
    ------
    ParameterError, ValidationError, InputFileError, DesignError
        Bad parameters, bad input files, or a frame that does not fit the visits.
    """
    from analysis.survey.cache import shared
    from analysis.survey.sampling import frame_design

    p = raw if isinstance(raw, Params) else check(raw)
    # loaded with the check `qifang validate` makes (the same data, or the same error),
    # once per set of inputs
    tables = shared(p)
    inst, visits = tables.instrument, tables.visits
    p = against_data(p, visits, inst)
    design = frame_design(visits, tables.frame, confidence=p.confidence)
    changes = design
    firm = inst.visits.by_role("firm")
    if firm is not None and firm.name in visits and visits[firm.name].notna().any():
        from analysis.survey.panel import panel_design

        changes = panel_design(design, firm.name)
    s = Survey(
        p, inst, visits, tables.requests, tables.frame, design, None, None, tables.key, changes
    )
    return _narrow(s, p)


def for_params(s: Survey, **changes) -> Survey:
    """The same inputs for another population (``region="海西州"``, ``size="micro"``):
    the parameters are checked against the data again, nothing is loaded again.

    Examples
    --------
    >>> haixi = for_params(survey, region="海西州")  # doctest: +SKIP
    """
    unknown = set(changes) - {"region", "industry", "size", "wave", "compare_wave", "min_cell"}
    if unknown:
        raise ValueError(f"for_params changes the population only, not {sorted(unknown)}")
    raw = {**s.params.to_dict(), **changes}
    p = against_data(check(raw), s.visits, s.instrument)
    return _narrow(s, p)


def _narrow(s: Survey, p: Params) -> Survey:
    filters = {k: getattr(p, k) for k in ("region", "industry", "size")}
    scope = sections.mask(s.design.data, **filters)
    domain = scope & (s.design.data["wave"].to_numpy() == p.wave)
    return dataclasses.replace(s, params=p, domain=domain, scope_all_waves=scope)


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
    area = inst.words.area
    zh = inst.question("region").choice(p.region).label.zh if p.region else area.zh
    en = inst.question("region").choice(p.region).label.en if p.region else area.en
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
    a, b = dates.min().date(), dates.max().date()
    return Text(zh=months(a, b, "zh"), en=months(a, b, "en"))


def build_findings(s: Survey) -> Findings:
    """Every figure of the brief, labelled, tested and with small cells suppressed.

    A section the domain cannot support (a model that cannot be fitted, no answers,
    no ledger) is left out and listed in ``omitted`` with the reason; nothing about a
    small region stops the brief.
    """
    from analysis.measures.index import environment_index, index_change, item_scores
    from analysis.measures.indicators import difficulties, difficulty_gaps

    p, inst, design = s.params, s.instrument, s.design
    mc, conf = p.min_cell, p.confidence
    tests = _Tests()
    scope = _scope_label(s)
    omit = Omissions(scope)

    wave_scope = s.scope_all_waves & (design.data["wave"].to_numpy() == p.wave)
    province = sections.mask(design.data, industry=p.industry, size=p.size) & (
        design.data["wave"].to_numpy() == p.wave
    )
    idx = environment_index(design, domain=s.domain, instrument=inst, min_cell=mc)
    items = item_scores(design, domain=s.domain, instrument=inst, min_cell=mc)
    changes = {}
    if p.compare_wave is not None:
        try:
            ch = index_change(
                s.changes or design,
                current=p.wave,
                previous=p.compare_wave,
                by=None,
                domain=s.scope_all_waves,
                instrument=inst,
                min_cell=mc,
            )
        except UNFIT:
            omit.no_change(p.compare_wave)
        else:
            for _, r in ch.iterrows():
                tests.add(changes, r["dimension"], sections.change(r))
    overall = sections.stat(idx.set_index("dimension").loc["overall"])
    dims = []
    for d in inst.dimensions:
        if d.name not in set(idx["dimension"]):
            continue
        row = idx.set_index("dimension").loc[d.name]
        its = [
            Item(
                code=q.name,
                label=sections.text(q.short),
                score=sections.stat(items.set_index("item").loc[q.name]),
            )
            for q in inst.items(d.name)
        ]
        dims.append(
            {
                "code": d.name,
                "label": sections.text(d.label),
                "weight": d.weight,
                "score": sections.stat(row),
                "items": its,
            }
        )

    regions = _regions(s, province, tests, omit)
    diffs = sections.difficulties_section(
        s, tests, difficulties, difficulty_gaps, unfit=UNFIT, omit=omit
    )
    policy_list = _policies(s)
    outlook = _outlook(s)

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
    m = design.methods
    words = inst.words
    region_word = sections.text(inst.question("region").short)
    lo, hi = inst.scale()
    drivers, omitted = _drivers(s, omit)
    voices = sections.open_answers_section(s)
    if not any(b.field == "urgent_needs" and b.answered for b in voices):
        omit.no_voices(asked=inst.has("urgent_needs"))
    ledger = _requests(s, omit)
    if not policy_list:
        omit.no_policies()
    findings = Findings(
        title=Text(
            zh=f"{p.wave}年{scope.zh}民营企业大调研大走访调研简报",
            en=f"Private-enterprise visits {p.wave}: {scope.en} — survey brief",
        ),
        unit=_unit(p),
        scope=Scope(
            wave=p.wave,
            compare_wave=p.compare_wave,
            region=p.region,
            industry=p.industry,
            size=p.size,
            label=scope,
            fieldwork=_fieldwork(s.visits.loc[s.domain, "visit_date"]),
            area=sections.text(words.area),
            whole=sections.text(words.whole),
            region_word=region_word,
            as_of=_as_of(s),
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
            design=_method_design(region_word),
            intervals=_METHOD_INTERVALS,
            comparisons=_comparisons(s),
            scale=Text(zh=f"{lo}—{hi}分", en=f"{lo}–{hi}"),
            items=len(inst.items()),
        ),
        headline=Headline(
            n=n_visits,
            index=overall,
            top_difficulty=Level(code=top.code, label=top.label, stat=top.share) if top else None,
        ),
        profile=sections.profile(s),
        index=index,
        difficulties=difficulty_list,
        policies=policy_list,
        outlook=outlook,
        drivers=drivers,
        open_answers=voices,
        requests=ledger,
        suppressed=[],
        omitted=omit.items,
    )
    coefficients = {**sections.difficulty_weights(s), "drivers_omitted": omitted}
    return protect(findings, coefficients, conf)


def _policies(s: Survey) -> list[Policy]:
    from analysis.measures.indicators import policies

    try:
        pol = policies(
            s.design, domain=s.domain, instrument=s.instrument, min_cell=s.params.min_cell
        )
    except DesignError:
        return []  # the questionnaire asks none: the brief drops the section
    out = []
    for q in s.instrument.visits.fields:
        if q.name in set(pol["policy"]):
            rows = pol[pol["policy"] == q.name].set_index("measure")
            out.append(
                Policy(
                    code=q.name,
                    label=sections.text(q.short),
                    aware=sections.stat(rows.loc["aware"]),
                    benefited=sections.stat(rows.loc["benefited"]),
                    reach_gap=sections.stat(rows.loc["reach_gap"]),
                )
            )
    return out


def _outlook(s: Survey) -> list[Distribution]:
    from analysis.measures.indicators import OUTLOOK, shares

    inst = s.instrument
    asked = [name for name in OUTLOOK if inst.has(name) and name in s.design.data]
    if not asked:
        return []
    out_tab = shares(s.design, asked, domain=s.domain, min_cell=s.params.min_cell)
    outlook = []
    for name in asked:
        q = inst.question(name)
        rows = out_tab[out_tab["question"] == name]
        levels = [
            Level(
                code=str(c.value),
                label=sections.text(c.label),
                stat=sections.stat(rows[rows["level"].astype(str) == str(c.value)].iloc[0]),
            )
            for c in q.choices
            if (rows["level"].astype(str) == str(c.value)).any()
        ]
        outlook.append(Distribution(code=name, label=sections.text(q.short), levels=levels))
    return outlook


def _requests(s: Survey, omit: Omissions):
    if s.requests is None:
        omit.no_requests(given=False)
        return None
    ledger = sections.requests_section(s)
    if ledger is None:
        omit.no_requests(given=True)
    return ledger


def _as_of(s: Survey) -> str | None:
    """The wave's cut-off date: the parameter, the whole wave's ledger, or its last visit."""
    date = sections.cut_off(s)
    if date:
        return date
    visits = pd.to_datetime(
        s.visits.loc[s.visits["wave"] == s.params.wave, "visit_date"], errors="coerce"
    ).dropna()
    return None if visits.empty else visits.max().date().isoformat()


def _unit(p) -> Text:
    """The issuing unit: the ``unit`` parameter, or the office profile's."""
    if p.unit:
        return Text(zh=p.unit, en=_unit_en(p.unit))
    from analysis.ingest.office import load_office

    office = load_office(p.office or None)
    return Text(zh=office.unit.zh, en=office.unit.en)


def _comparisons(s: Survey) -> Text:
    """The methods note on comparisons, with the panel when firms were revisited."""
    firms = getattr(s.changes, "methods", {}).get("panel_firms") if s.changes is not None else 0
    if not firms:
        return _METHOD_COMPARISONS
    region = s.instrument.question("region").short
    region_word, region_word_en = region.zh, region.en.lower()
    return Text(
        zh=f"两轮均走访的企业{firms}家：年度间变化以企业为聚类单元（同一企业两轮的回答一并计入，"
        f"分层为{region_word}×规模，不作有限总体校正），从而计入两轮之间的协方差。"
        + _METHOD_COMPARISONS.zh,
        en=f"{firms} firms were visited in both waves: changes between waves take the firm as "
        f"the cluster (its answers of both waves together; strata {region_word_en} × size, no "
        "finite-population correction), so the covariance between the waves counts. "
        + _METHOD_COMPARISONS.en,
    )


def _unit_en(unit: str) -> str:
    known = {
        "省工商联": "Provincial Federation of Industry and Commerce",
        "青海省工商联": "Qinghai Federation of Industry and Commerce",
    }
    return known.get(unit, unit)


def _regions(s: Survey, province: np.ndarray, tests: _Tests, omit: Omissions) -> dict:
    from analysis.measures.index import index_change, region_ranking

    p, inst, design = s.params, s.instrument, s.design
    rank = region_ranking(design, domain=province, instrument=inst, min_cell=p.min_cell)
    regions = []
    overall = rank[rank["dimension"] == "overall"].set_index("region")
    for c in inst.question("region").choices:
        if c.value not in overall.index:
            continue
        r = overall.loc[c.value]
        stat = sections.stat(r)
        vs = "suppressed" if stat.suppressed else str(r.get("vs_average", "not_different"))
        regions.append(
            RegionScore(
                code=c.value,
                label=sections.text(c.label),
                score=stat,
                rank=None if stat.suppressed or sections.num(r["rank"]) is None else int(r["rank"]),
                vs_province=vs
                if vs in ("above", "below", "not_different", "suppressed")
                else "not_different",
            )
        )
    changes: dict = {}
    if p.compare_wave is not None:
        scope = sections.mask(design.data, industry=p.industry, size=p.size)
        try:
            ch = index_change(
                s.changes or design,
                current=p.wave,
                previous=p.compare_wave,
                by="region",
                domain=scope,
                instrument=inst,
                min_cell=p.min_cell,
            )
        except UNFIT:
            omit.no_change(p.compare_wave)
            ch = pd.DataFrame(columns=["region", "dimension"])
        for _, r in ch.iterrows():
            if r["region"] != "all" and r["dimension"] in ("overall", "government"):
                tests.add(changes, (r["region"], r["dimension"]), sections.change(r))
    return {"list": regions, "changes": changes}


def _drivers(s: Survey, omit: Omissions) -> tuple[Drivers | None, list[str]]:
    """The key drivers, and the items left out because too few firms rated them; when
    the domain cannot support the model, None and the reason in ``omit``."""
    from analysis.measures.models import key_drivers

    inst = s.instrument
    if not inst.has("overall_satisfaction"):
        omit.drivers_not_asked()
        return None, []
    try:
        d = key_drivers(s.design, domain=s.domain, min_cell=s.params.min_cell, instrument=inst)
    except UNFIT:
        omit.drivers_not_fitted()
        return None, []
    if d.model == "none":
        omit.drivers_too_few(d.n, d.needed)
        return None, []
    coef = d.coefficients.set_index("term") if "term" in d.coefficients else pd.DataFrame()
    items, omitted = [], []
    for _, r in d.importance.iterrows():
        if sections.num(r.get("rank")) is None:
            continue
        if r.get("suppressed"):
            omitted.append(str(r["item"]))
            continue
        q = inst.question(r["item"])
        c = coef.loc[r["item"]] if r["item"] in coef.index else None
        if isinstance(c, pd.DataFrame):
            c = c.iloc[0]
        items.append(
            Driver(
                code=r["item"],
                label=sections.text(q.short),
                dimension=str(r["dimension"]),
                importance=float(r["share"]),
                importance_se=sections.num(r.get("share_se")),
                importance_ci_low=sections.num(r.get("share_ci_low")),
                importance_ci_high=sections.num(r.get("share_ci_high")),
                rank=int(r["rank"]),
                performance=Stat(
                    estimate=sections.num(r["performance"]),
                    se=sections.num(r.get("performance_se")),
                    ci_low=sections.num(r.get("performance_ci_low")),
                    ci_high=sections.num(r.get("performance_ci_high")),
                    n=int(r["n"]),
                ),
                coefficient=sections.num(c["estimate"]) if c is not None else None,
                p_value=sections.num(c["p_value"]) if c is not None else None,
                quadrant=str(r["quadrant"]),
            )
        )
    items.sort(key=lambda x: x.rank)
    if not items:
        omit.drivers_not_fitted()
        return None, omitted
    r2 = d.fit.get("linear", {}).get("r2") if isinstance(d.fit, dict) else None
    word = inst.question("region").short
    model = Text(
        zh=("有序概率（probit）模型" if d.model == "ordinal" else "加权线性回归模型")
        + f"，以设计权重加权，控制企业规模、{word.zh}和行业；相对重要性采用Johnson相对权重法，"
        "其置信区间由分层刀切法（JKn）重复权重计算。",
        en=("An ordered probit" if d.model == "ordinal" else "A weighted linear regression")
        + f" with design weights, controlling for size, {word.en.lower()} and industry; "
        "relative importance by Johnson's relative weights, with intervals from jackknife "
        "(JKn) replicate weights.",
    )
    return Drivers(model=model, r2=sections.num(r2), n=int(d.n), items=items), omitted
