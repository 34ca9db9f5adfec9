"""Complementary suppression of the findings: no blanked figure can be recomputed.

:func:`protect` takes the findings after primary suppression (cells of fewer than
``min_cell`` firms or requests) and blanks further figures, with
:func:`analysis.survey.disclosure.complementary`, wherever a blanked one could be
recomputed from what the findings publish:

- shares that sum to 100% (the sample's profile, each outlook question);
- a difficulty's share against its shares by size class or by industry
  (share = sum of the classes' shares weighted by their respondents' weights, which
  the design knows exactly);
- the index against its dimensions (a weighted sum);
- requests: a department's (or category's) resolved requests against the total, the
  others' and its own number of requests (the rate is resolved / total), and its
  overdue requests likewise;
- a policy's reach gap against its awareness and benefit (gap = 1 - benefit / awareness).

Figures that follow others are blanked with them: a gap or a change with either of its
sides, a category's count of answers with its share, a driver with its importance.
Because every output (brief, drafts, charts, ``tables.xlsx``, ``suggestions.json``) is
written from the findings only, they all show the same blanks.

Not used, because they are not exact identities (firms skip items): an item's score
against its dimension's, a region's index against the province's.
"""

from __future__ import annotations

from collections.abc import Mapping

from analysis.findings.model import Findings
from analysis.survey.disclosure import Cell, complementary
from analysis.survey.multiplicity import adjust_pvalues

SHARE_TOL = 1e-3  # shares print to 0.1 percentage point
SCORE_TOL = 0.05  # scores print to 0.1 point


def protect(findings: Findings, coefficients: Mapping, confidence: float) -> Findings:
    """The findings with complementary suppression applied, p-values re-adjusted over
    the comparisons still published, and the list of suppressed figures complete.

    Parameters
    ----------
    findings : after primary suppression.
    coefficients : from the design: ``{"size": {code: weight}, "industry": {...}}``,
        the summed weights of the firms answering the difficulties question in each
        class; ``"size_step"``: ``{code: 1 / n}`` for a class whose firms weigh the same
        (its shares are multiples of 1 / n), else 0; ``"drivers_omitted"``: items left
        out of the key drivers.
    confidence : for the Benjamini-Hochberg flags.
    """
    data = findings.model_dump()
    cells: dict = {}
    groups: list = []
    ties: list = []
    limits: list = []
    _distributions(data, cells, groups, "profile")
    _difficulties(data, coefficients, cells, groups, ties)
    _index(data, cells, groups, ties)
    _policies(data, cells, ties)
    _distributions(data, cells, groups, "outlook")
    _drivers(data, coefficients, cells, groups)
    _open(data, cells, ties)
    _requests(data, cells, groups, ties, limits)
    blank = complementary(cells, groups, ties, limits)
    for key in blank:
        _blank(data, key)
    if data["drivers"] is not None:
        data["drivers"]["items"] = [
            d for d in data["drivers"]["items"] if ("driver", d["code"]) not in blank
        ]
    top = data["headline"]["top_difficulty"]
    if top is not None:
        share = next(d["share"] for d in data["difficulties"] if d["code"] == top["code"])
        top["stat"] = share
    _readjust(data, confidence)
    data["suppressed"] = _listing(data, blank)
    return Findings.model_validate(data)


# -- cells, groups and ties of each section -------------------------------------------


def _stat_cell(stat: dict, low=0.0, high=1.0, tol=SHARE_TOL, step=0.0, cost=None) -> Cell:
    return Cell(
        value=stat["estimate"] if stat["estimate"] is not None else 0.0,
        low=low,
        high=high,
        primary=bool(stat["suppressed"]),
        cost=float(stat["n"] if cost is None else cost),
        step=step,
        tol=tol,
    )


def _distributions(data, cells, groups, part: str) -> None:
    """The shares of each distribution (the profile's, the outlook's): they sum to 1."""
    for i, dist in enumerate(data[part]):
        keys = []
        for j, level in enumerate(dist["levels"]):
            key = (part, i, j)
            cells[key] = _stat_cell(level["stat"])
            keys.append(key)
        if keys:
            groups.append(({k: 1.0 for k in keys}, 1.0))


def _difficulties(data, coefficients, cells, groups, ties) -> None:
    for i, d in enumerate(data["difficulties"]):
        top = ("diff", i)
        cells[top] = _stat_cell(d["share"])
        for part, levels in (("size", d["by_size"]), ("industry", d["by_industry"])):
            weights = coefficients.get(part, {})
            steps = coefficients.get(f"{part}_step", {})
            terms = {}
            for j, level in enumerate(levels):
                key = ("diff", i, part, j)
                cells[key] = _stat_cell(level["stat"], step=steps.get(level["code"], 0.0))
                terms[key] = float(weights.get(level["code"], 0.0))
            total = sum(terms.values())
            if terms and total > 0:
                groups.append(({**terms, top: -total}, 0.0))
        side = {lv["code"]: ("diff", i, "size", j) for j, lv in enumerate(d["by_size"])}
        if d["size_gap"] is not None:
            sources = [side[c] for c in ("micro", "large") if c in side]
            ties.append((sources, [("change", "difficulties", i, "size_gap")]))
        if d["change"] is not None:
            ties.append(([top], [("change", "difficulties", i, "change")]))


def _index(data, cells, groups, ties) -> None:
    index = data["index"]
    overall = ("index", "overall")
    cells[overall] = _stat_cell(index["overall"], 0.0, 100.0, SCORE_TOL)
    weights = [d["weight"] for d in index["dimensions"]]
    total = sum(weights) or 1.0
    terms = {overall: -1.0}
    for i, d in enumerate(index["dimensions"]):
        key = ("index", i)
        cells[key] = _stat_cell(d["score"], 0.0, 100.0, SCORE_TOL)
        terms[key] = d["weight"] / total
        ties.append(([key], [("change", "dimension", i)]))
    groups.append((terms, 0.0))
    ties.append(([overall], [("change", "index")]))
    for i, _ in enumerate(index["regions"]):
        ties.append(([("region", i)], [("change", "region", i), ("change", "government", i)]))
        cells[("region", i)] = _stat_cell(index["regions"][i]["score"], 0.0, 100.0, SCORE_TOL)


def _policies(data, cells, ties) -> None:
    for i, p in enumerate(data["policies"]):
        keys = {m: ("policy", i, m) for m in ("aware", "benefited", "reach_gap")}
        for m, key in keys.items():
            cells[key] = _stat_cell(p[m])
        # reach gap = 1 - benefited / aware: either of the two gives the other away
        pair = [keys["benefited"], keys["reach_gap"]]
        ties += [(pair, pair), ([keys["aware"]], pair)]


def _drivers(data, coefficients, cells, groups) -> None:
    if data["drivers"] is None or not data["drivers"]["items"]:
        return
    terms = {}
    for d in data["drivers"]["items"]:
        key = ("driver", d["code"])
        cells[key] = Cell(d["importance"], 0.0, 1.0, cost=d["importance"], tol=SHARE_TOL)
        terms[key] = 1.0
    for code in coefficients.get("drivers_omitted", ()):
        key = ("driver", code)
        cells[key] = Cell(0.0, 0.0, 1.0, primary=True, tol=SHARE_TOL)
        terms[key] = 1.0
    groups.append((terms, 1.0))  # importance shares sum to 1


def _open(data, cells, ties) -> None:
    for i, block in enumerate(data["open_answers"]):
        for j, c in enumerate(block["categories"]):
            key = ("open", i, j)
            cells[key] = _stat_cell(c["share"])
            ties.append(([key], [("count", i, j)]))


def _requests(data, cells, groups, ties, limits) -> None:
    r = data["requests"]
    if r is None:
        return
    overall = ("req", "overall")
    cells[overall] = _rate_cell(r["overall"])
    cells[("overdue", "overall")] = _overdue_cell(r["overall"])
    for part in ("by_department", "by_category", "by_wave"):
        terms, late = {overall: -1.0}, {("overdue", "overall"): -1.0}
        for j, rate in enumerate(r[part]):
            key, od = ("req", part, j), ("overdue", part, j)
            cells[key], cells[od] = _rate_cell(rate), _overdue_cell(rate)
            terms[key], late[od] = 1.0, 1.0
            ties += [([key], [od])]
            limits.append(({key: 1.0, od: 1.0}, float(rate["total"])))  # overdue <= open
        if part != "by_wave":  # the waves are of every wave's requests, not this one's
            groups.append((terms, 0.0))
        if part == "by_department":
            groups.append((late, 0.0))


def _rate_cell(rate: dict) -> Cell:
    return Cell(
        value=float(rate["resolved"] or 0),
        low=0.0,
        high=float(rate["total"]),
        primary=rate["rate"] is None,
        cost=float(rate["total"]),
        step=1.0,
        tol=1.0,
    )


def _overdue_cell(rate: dict) -> Cell:
    # blanked with its row (overdue <= open would bound the rate), not protected itself
    return Cell(
        float(rate["overdue"] or 0), 0.0, float(rate["total"]), step=1.0, tol=1.0, audit=False
    )


# -- blanking -------------------------------------------------------------------------


def _blank_stat(stat: dict) -> None:
    stat.update(estimate=None, se=None, ci_low=None, ci_high=None, suppressed=True)


_CHANGE = ("a", "b", "estimate", "se", "ci_low", "ci_high", "p_value", "p_adjusted")


def _blank_change(change: dict | None) -> None:
    if change is not None:
        change.update(dict.fromkeys(_CHANGE), significant=None, suppressed=True)


def _blank(data: dict, key: tuple) -> None:
    kind = key[0]
    if kind == "profile":
        _blank_stat(data["profile"][key[1]]["levels"][key[2]]["stat"])
    elif kind == "diff":
        d = data["difficulties"][key[1]]
        if len(key) == 2:
            _blank_stat(d["share"])
        else:
            levels = d["by_size"] if key[2] == "size" else d["by_industry"]
            _blank_stat(levels[key[3]]["stat"])
    elif kind == "index":
        index = data["index"]
        _blank_stat(
            index["overall"] if key[1] == "overall" else index["dimensions"][key[1]]["score"]
        )
    elif kind == "region":
        _blank_stat(data["index"]["regions"][key[1]]["score"])
    elif kind == "policy":
        _blank_stat(data["policies"][key[1]][key[2]])
    elif kind == "outlook":
        _blank_stat(data["outlook"][key[1]]["levels"][key[2]]["stat"])
    elif kind == "open":
        _blank_stat(data["open_answers"][key[1]]["categories"][key[2]]["share"])
    elif kind == "count":
        data["open_answers"][key[1]]["categories"][key[2]]["count"] = None
    elif kind in ("req", "overdue"):
        r = data["requests"]
        rate = r["overall"] if key[1] == "overall" else r[key[1]][key[2]]
        if kind == "req":
            rate.update(rate=None, resolved=None, open=None, median_days=None, median_ci=None)
            rate["suppressed"] = True
        else:
            rate["overdue"] = None
    elif kind == "change":
        _blank_change(_change(data, key))
    # ("driver", code): dropped from the list by the caller


def _change(data: dict, key: tuple) -> dict | None:
    part = key[1]
    if part == "difficulties":
        return data["difficulties"][key[2]][key[3]]
    if part == "dimension":
        return data["index"]["dimensions"][key[2]]["change"]
    if part == "index":
        return data["index"]["change"]
    region = data["index"]["regions"][key[2]]
    return region["change"] if part == "region" else region["government_change"]


def _changes(data: dict) -> list[dict]:
    out = [data["index"]["change"], *(d["change"] for d in data["index"]["dimensions"])]
    for r in data["index"]["regions"]:
        out += [r["change"], r["government_change"]]
    for d in data["difficulties"]:
        out += [d["change"], d["size_gap"]]
    return [c for c in out if c is not None]


def _readjust(data: dict, confidence: float) -> None:
    """Benjamini-Hochberg again over the comparisons still published: a blanked one is
    no longer a test of the brief."""
    live = [c for c in _changes(data) if not c["suppressed"] and c["p_value"] is not None]
    if not live:
        return
    q = adjust_pvalues([c["p_value"] for c in live])
    for c, qi in zip(live, q, strict=True):
        c.update(p_adjusted=float(qi), significant=bool(qi < 1 - confidence))


def _listing(data: dict, blank: Mapping) -> list[dict]:
    """Every suppressed figure of the findings, with why."""
    out = []

    def add(table, key, n, cell_key):
        reason = "complementary" if blank.get(cell_key) == "complementary" else "small"
        out.append({"table": table, "key": key, "n": int(n or 0), "reason": reason})

    for i, dist in enumerate(data["profile"]):
        for j, lv in enumerate(dist["levels"]):
            if lv["stat"]["suppressed"]:
                add("profile", f"{dist['code']}/{lv['code']}", lv["stat"]["n"], ("profile", i, j))
    index = data["index"]
    if index["overall"]["suppressed"]:
        add("index", "overall", index["overall"]["n"], ("index", "overall"))
    for i, d in enumerate(index["dimensions"]):
        if d["score"]["suppressed"]:
            add("index", d["code"], d["score"]["n"], ("index", i))
        for item in d["items"]:
            if item["score"]["suppressed"]:
                add("items", item["code"], item["score"]["n"], None)
    for i, r in enumerate(index["regions"]):
        if r["score"]["suppressed"]:
            add("regions", r["code"], r["score"]["n"], ("region", i))
    for i, d in enumerate(data["difficulties"]):
        if d["share"]["suppressed"]:
            add("difficulties", d["code"], d["share"]["n"], ("diff", i))
        for part in ("size", "industry"):
            for j, lv in enumerate(d[f"by_{part}"]):
                if lv["stat"]["suppressed"]:
                    key = f"{d['code']}/{lv['code']}"
                    add(f"difficulties/{part}", key, lv["stat"]["n"], ("diff", i, part, j))
    for i, p in enumerate(data["policies"]):
        for m in ("aware", "benefited", "reach_gap"):
            if p[m]["suppressed"]:
                add("policies", f"{p['code']}/{m}", p[m]["n"], ("policy", i, m))
    for i, dist in enumerate(data["outlook"]):
        for j, lv in enumerate(dist["levels"]):
            if lv["stat"]["suppressed"]:
                add("outlook", f"{dist['code']}/{lv['code']}", lv["stat"]["n"], ("outlook", i, j))
    for i, block in enumerate(data["open_answers"]):
        for j, c in enumerate(block["categories"]):
            if c["share"]["suppressed"]:
                add("open", f"{block['field']}/{c['code']}", c["share"]["n"], ("open", i, j))
    r = data["requests"]
    if r is not None:
        if r["overall"]["suppressed"]:
            add("requests", "all", r["overall"]["total"], ("req", "overall"))
        for part in ("by_department", "by_category", "by_wave"):
            for j, rate in enumerate(r[part]):
                if rate["suppressed"]:
                    key = f"{part.removeprefix('by_')}/{rate['code']}"
                    add("requests", key, rate["total"], ("req", part, j))
    for code in [k[1] for k in blank if k[0] == "driver"]:
        add("drivers", code, 0, ("driver", code))
    return out
