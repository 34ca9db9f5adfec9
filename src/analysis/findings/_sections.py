"""Sections of the findings that need more than a call into one statistics module:
difficulties with their changes and gaps, the sample profile, the open answers and
the requests ledger; and the helpers that turn estimate tables into findings models.
Used by :mod:`analysis.findings.build`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.findings.model import (
    Category,
    Change,
    Distribution,
    Level,
    OpenAnswers,
    Rate,
    Requests,
    Stat,
    Text,
)
from analysis.survey.compare import difference


def mask(data: pd.DataFrame, **filters) -> np.ndarray:
    m = np.ones(len(data), dtype=bool)
    for column, value in filters.items():
        if value is not None:
            m &= data[column].astype(object).to_numpy() == value
    return m


def num(x) -> float | None:
    if x is None or (isinstance(x, float | np.floating) and math.isnan(x)) or x is pd.NA:
        return None
    return float(x)


def stat(row, n_col: str = "n") -> Stat:
    suppressed = bool(row.get("suppressed", False))
    n = row.get(n_col, 0)
    return Stat(
        estimate=None if suppressed else num(row.get("estimate")),
        se=None if suppressed else num(row.get("se")),
        ci_low=None if suppressed else num(row.get("ci_low")),
        ci_high=None if suppressed else num(row.get("ci_high")),
        n=int(n) if num(n) is not None else 0,
        suppressed=suppressed,
    )


def change(row, label_a: Text | None = None, label_b: Text | None = None) -> Change:
    suppressed = bool(row.get("suppressed", False))

    def get(key):
        return None if suppressed else num(row.get(key))

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
        test=row["test"] if isinstance(row.get("test"), str) else "t",
    )


def text(label) -> Text:
    return Text(zh=label.zh, en=label.en)


def difficulties_section(s, tests, difficulties, difficulty_gaps, unfit, omit) -> dict:
    """Difficulties with their change since the compared wave and the gap between micro
    and large firms; a change or a gap the domain cannot support is left out."""
    p, inst, design = s.params, s.instrument, s.design
    q = inst.question("difficulties")
    table = difficulties(design, domain=s.domain, instrument=inst, min_cell=p.min_cell)
    by_size = difficulties(design, by="size", domain=s.domain, instrument=inst, min_cell=p.min_cell)
    by_ind = difficulties(
        design, by="industry", domain=s.domain, instrument=inst, min_cell=p.min_cell
    )
    changes: dict = {}
    if p.compare_wave is not None:
        from analysis.survey.disclosure import suppress

        columns = list(q.columns)
        flag = pd.Categorical.from_codes(np.where(s.scope_all_waves, 0, -1), categories=["in"])
        d = (s.changes or design).assign(_scope=flag)
        try:
            ch = difference(
                d, columns, "wave", p.wave, p.compare_wave, statistic="proportion", within="_scope"
            )
        except unfit:
            omit.no_change(p.compare_wave)
        else:
            ch = ch.assign(option=ch["level"].str.slice(len("difficulties__")))
            ch = suppress(ch, p.min_cell, counts=("n_a", "n_b"))
            for _, r in ch.iterrows():
                tests.add(changes, r["option"], change(r))
    gaps: dict = {}
    size = inst.question("size")
    if p.size is None and {"micro", "large"} <= set(size.values):
        try:
            g = difficulty_gaps(design, domain=s.domain, instrument=inst, min_cell=p.min_cell)
        except unfit:  # no micro or no large firm here: no gap, the texts say nothing of it
            g = pd.DataFrame(columns=["option"])
        for _, r in g.iterrows():
            tests.add(
                gaps,
                r["option"],
                change(r, text(size.choice("micro").label), text(size.choice("large").label)),
            )
    items = []
    for _, r in table.iterrows():
        c = q.choice(r["option"])
        sizes = [
            Level(
                code=str(x["size"]),
                label=text(inst.question("size").choice(str(x["size"])).label),
                stat=stat(x),
            )
            for _, x in by_size[by_size["option"] == r["option"]].iterrows()
        ]
        inds = [
            Level(
                code=str(x["industry"]),
                label=text(inst.question("industry").choice(str(x["industry"])).short),
                stat=stat(x),
            )
            for _, x in by_ind[by_ind["option"] == r["option"]].iterrows()
            if x["n"] > 0
        ]
        rank = num(r["rank"])
        items.append(
            {
                "code": c.value,
                "label": text(c.label),
                "share": stat(r),
                "rank": int(rank) if rank is not None else len(table),
                "by_size": sizes,
                "by_industry": inds,
            }
        )
    return {"list": items, "changes": changes, "gaps": gaps}


def difficulty_weights(s) -> dict:
    """Summed design weights of the firms answering the difficulties question in each
    size class and industry of the domain: a difficulty's share is the classes' shares
    weighted by these, the identity complementary suppression protects. A class whose
    firms all weigh the same has shares that are multiples of 1 / n (``*_step``)."""
    data = s.design.data
    cols = [c for c in data.columns if str(c).startswith("difficulties__")]
    answered = s.domain & data[cols].notna().all(axis=1).to_numpy()
    w = s.design.weights.to_numpy()
    out: dict = {}
    for part in ("size", "industry"):
        codes = data[part].astype(object).to_numpy()
        weights, steps = {}, {}
        for code in pd.unique(codes[answered]):
            wc = w[answered & (codes == code)]
            weights[str(code)] = float(wc.sum())
            steps[str(code)] = 1 / len(wc) if np.ptp(wc) <= 1e-12 * wc.max() else 0.0
        out[part], out[f"{part}_step"] = weights, steps
    return out


def profile(s) -> list[Distribution]:
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
                    label=text(q.short if False else c.label),
                    stat=Stat(estimate=share, n=n, suppressed=small),
                )
            )
        out.append(Distribution(code=name, label=text(q.short), levels=levels))
    return out


def open_answers_section(s) -> list[OpenAnswers]:
    from analysis.measures.indicators import SHARE_METHOD
    from analysis.measures.text import load_coding, open_answers

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
        # the answers and the contact fields to redact: not every column of the domain
        used = [c for c in (column, "contact_person", "firm_name", "phone") if c in data]
        res = open_answers(
            data.loc[s.domain, used],
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
        shares = (
            d.proportion(list(ind.columns), by="_in", method=SHARE_METHOD)
            if len(ind.columns)
            else pd.DataFrame()
        )
        from analysis.survey.disclosure import suppress

        shares = suppress(shares, p.min_cell) if len(shares) else shares
        cats = []
        table = res.categories.set_index("category") if len(res.categories) else pd.DataFrame()
        for c in scheme.categories:
            col = f"{column}__{c.name}"
            if c.name not in table.index or not len(shares):
                continue
            row = shares[shares["level"] == col]
            share = stat(row.iloc[0]) if len(row) else Stat(estimate=None)
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
                    share=share,
                    phrases=phr,
                    quotes=quo,
                )
            )
        cats.sort(key=lambda c: (-(c.share.estimate or 0), c.code))
        cats = [c for c in cats if c.count > 0]
        q = inst.question(column)
        cov = num(res.coverage)
        out.append(
            OpenAnswers(
                field=column,
                label=text(q.short),
                answered=int(res.answers),
                coverage=cov,
                categories=cats,
            )
        )
    return out


def _member(values: pd.Series, pool: pd.Series) -> np.ndarray:
    """values.isin(pool) by Arrow's hash lookup: pandas' isin on a million Arrow
    strings takes seconds, this a fraction of one."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.is_in(pa.array(values, type=pa.string()), value_set=pa.array(pool, type=pa.string()))
    return found.to_numpy(zero_copy_only=False)


def cut_off(s) -> str | None:
    """One cut-off date per wave, the same in every brief of the wave: the ``as_of``
    parameter, or the latest date of the whole wave's ledger (every region, industry
    and size), never the latest date inside one brief's subset."""
    if s.params.as_of:
        return s.params.as_of
    if s.requests is None or not len(s.requests):
        return None
    in_wave = s.visits.loc[s.visits["wave"] == s.params.wave, "visit_id"]
    wave = s.requests[_member(s.requests["visit_id"], in_wave)]
    dates = pd.concat(
        [
            pd.to_datetime(wave["raised_date"], errors="coerce"),
            pd.to_datetime(wave["resolved_date"], errors="coerce"),
        ]
    ).dropna()
    return None if dates.empty else dates.max().date().isoformat()


def requests_section(s) -> Requests | None:
    from analysis.measures.ledger import ledger_report

    p, inst = s.params, s.instrument
    if s.requests is None or not len(s.requests):
        return None
    ids = s.visits["visit_id"]
    req = s.requests[_member(s.requests["visit_id"], ids[s.scope_all_waves])]
    current = req[_member(req["visit_id"], ids[s.domain])]
    if not len(current):
        return None
    rep = ledger_report(current, s.visits, as_of=cut_off(s), overdue_days=p.overdue_days)
    every = ledger_report(req, s.visits, as_of=rep.as_of, overdue_days=p.overdue_days)
    dept_q, cat_q = inst.requests["department"], inst.requests["category"]

    def rate(code, label, r, overdue=0) -> Rate:
        small = int(r["requests"]) < p.min_cell
        ci = (num(r.get("median_ci_low")), num(r.get("median_ci_high")))
        return Rate(
            code=str(code),
            label=label,
            total=int(r["requests"]),
            resolved=int(r["resolved"]),
            rate=None if small else num(r["resolution_rate"]),
            median_days=None if small else num(r.get("median_days")),
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
            text(dept_q.choice(str(r["department"])).label),
            r,
            od.get(r["department"], 0),
        )
        for _, r in rep.by_department.iterrows()
    ]
    by_cat = [
        rate(r["category"], text(cat_q.choice(str(r["category"])).label), r)
        for _, r in rep.by_category.iterrows()
    ]
    by_wave, p_wave = [], None
    if every.waves is not None:
        for _, r in every.waves.table.iterrows():
            wave = int(r["wave"]) if float(r["wave"]).is_integer() else r["wave"]
            by_wave.append(rate(wave, Text(zh=f"{wave}年", en=str(wave)), r))
        p_wave = num(every.waves.p_value)
    overall = Rate(
        code="all",
        label=Text(zh="合计", en="all"),
        total=rep.requests,
        resolved=rep.resolved,
        rate=num(rep.resolution_rate),
        median_days=num(rep.median_days),
        median_ci=(num(rep.median_ci_low), num(rep.median_ci_high)),
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
