"""The attacker: take everything a brief publishes and try to recover each suppressed value.

Written apart from the protection (analysis.findings._protect), from the published
files only: findings.json, suggestions.json and tables.xlsx as a run writes them
(the brief and drafts print only facts of findings.json, which the number audit of the
drafts checks). The attacker

- reads off any published copy of a suppressed value (a gap's side, a table cell);
- solves, for each suppressed value, the smallest and largest value it can take given
  every identity it can form from the published figures (mixed-integer programming:
  counts are whole numbers, a share of n firms that weigh the same is a multiple of
  1 / n): shares that sum to 100%, a share against its size classes (whose weights a
  regional brief gives away: one stratum each) or industries (approximately), the
  index against its dimensions, requests resolved against their totals by department
  and by category, overdue requests against open ones; and a policy's reach gap
  against awareness and benefit.

A value counts as recovered when its range is narrower than the precision it would
be printed with (0.1 point, or one request).
"""

from __future__ import annotations

import json

import numpy as np
import openpyxl
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from analysis.findings.build import build_findings, open_survey
from analysis.findings.tables import tables
from analysis.pipeline.export import tables_xlsx
from analysis.writing.suggest import load_rules, suggest

HIDDEN = "样本过少，不予公布"


def publish(folder, params):
    """What a run publishes for these parameters (findings, suggestions, tables), and
    the true values behind it (the same figures without disclosure control)."""
    survey = open_survey(params)
    findings = build_findings(survey)
    folder.mkdir(parents=True, exist_ok=True)
    findings.save(folder / "findings.json")
    fired = suggest(findings, load_rules(None, survey.instrument), survey.instrument)
    (folder / "suggestions.json").write_text(
        json.dumps([s.to_dict() for s in fired], ensure_ascii=False), encoding="utf-8"
    )
    tables_xlsx(findings, folder / "tables.xlsx")
    truth = build_findings(open_survey({**params, "min_cell": 1}))
    return folder, json.loads(truth.to_json())


@pytest.fixture(scope="module", params=[10, 25], ids=lambda m: f"min_cell={m}")
def haidong(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"haidong{request.param}")
    return publish(folder, {"region": "海东市", "min_cell": request.param})


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    return publish(tmp_path_factory.mktemp("province"), {"min_cell": 150})


# -- the attacker's model: unknowns, identities, and the range of each unknown ----------


class Attack:
    def __init__(self):
        self.names: list = []  # the unknowns
        self.low, self.high, self.integer, self.step = [], [], [], []
        self.rows: list = []  # (coefficients by unknown, constant, slack)

    def unknown(self, name, low=0.0, high=1.0, step=0.0, integer=False):
        if name not in self.names:
            self.names.append(name)
            self.low.append(low)
            self.high.append(high)
            self.integer.append(integer)
            self.step.append(step)
        return name

    def identity(self, terms: dict, constant: float, slack: float = 1e-7):
        """sum(coefficient * unknown) = constant (+- slack); published terms are numbers."""
        unknowns = {k: c for k, c in terms.items() if isinstance(k, tuple)}
        known = sum(c * k for k, c in terms.items() if not isinstance(k, tuple))
        if unknowns:
            self.rows.append((unknowns, constant - known, slack))

    def ranges(self) -> dict:
        n = len(self.names)
        # a share of n equal-weight firms is k / n: k is the integer unknown
        scale = np.array([s if s > 0 else 1.0 for s in self.step])
        integer = np.array([i or s > 0 for i, s in zip(self.integer, self.step, strict=True)])
        A, lo, hi = [], [], []
        for terms, constant, slack in self.rows:
            row = np.zeros(n)
            for k, c in terms.items():
                row[self.names.index(k)] += c * scale[self.names.index(k)]
            A.append(row)
            lo.append(constant - slack)
            hi.append(constant + slack)
        bounds = Bounds(np.array(self.low) / scale, np.array(self.high) / scale)
        cons = [LinearConstraint(np.array(A), lo, hi)] if A else []
        out = {}
        for i, name in enumerate(self.names):
            ends = []
            for sign in (1, -1):
                c = np.zeros(n)
                c[i] = sign
                res = milp(c, constraints=cons, integrality=integer.astype(int), bounds=bounds)
                assert res.status == 0, (name, res.message)
                ends.append(sign * res.fun * scale[i])
            out[name] = tuple(ends)
        return out


def value(stat, name, attack, **kw):
    """A published figure, or the attacker's unknown for a suppressed one."""
    if stat["suppressed"] or stat["estimate"] is None:
        return attack.unknown(name, **kw)
    return stat["estimate"]


def attack_findings(f: dict) -> tuple[Attack, list]:
    a = Attack()
    # shares of the profile and of each outlook question sum to 1
    for part in ("profile", "outlook"):
        for dist in f[part]:
            terms = {}
            for lv in dist["levels"]:
                key = value(lv["stat"], (part, dist["code"], lv["code"]), a)
                terms[key] = terms.get(key, 0) + 1.0
            if dist["levels"]:
                a.identity(terms, 1.0)
    # the index is the weighted mean of its dimensions
    w = np.array([d["weight"] for d in f["index"]["dimensions"]])
    terms = {value(f["index"]["overall"], ("index", "overall"), a, high=100.0): -1.0}
    for d, wi in zip(f["index"]["dimensions"], w / w.sum(), strict=True):
        key = value(d["score"], ("index", d["code"]), a, high=100.0)
        terms[key] = terms.get(key, 0) + wi
    a.identity(terms, 0.0, slack=1e-5)
    # a difficulty's share against its size classes: a regional brief's size class is
    # one stratum, so its respondents' weight is its profile share scaled by the share
    # of its visited firms that answered
    profile = {d["code"]: {lv["code"]: lv["stat"] for lv in d["levels"]} for d in f["profile"]}
    regional = f["scope"]["region"] is not None
    for d in f["difficulties"]:
        top = value(d["share"], ("difficulty", d["code"]), a)
        for part, exact in (("size", regional), ("industry", False)):
            levels = d[f"by_{part}"]
            weights = {}
            for lv in levels:
                visited = profile[part].get(lv["code"])
                if visited is None or visited["estimate"] is None or not visited["n"]:
                    weights = None
                    break
                weights[lv["code"]] = visited["estimate"] * lv["stat"]["n"] / visited["n"]
            if not weights or sum(weights.values()) == 0:
                continue
            total = sum(weights.values())
            terms = {top: -1.0}
            for lv in levels:
                n = lv["stat"]["n"]
                step = 1 / n if exact and n else 0.0
                key = value(lv["stat"], ("difficulty", d["code"], part, lv["code"]), a, step=step)
                terms[key] = terms.get(key, 0) + weights[lv["code"]] / total
            a.identity(terms, 0.0, slack=1e-7 if exact else 0.02)
    # key drivers' importance shares sum to 1 over the instrument's 15 items
    if f["drivers"] is not None and f["drivers"]["items"]:
        terms = {d["importance"]: 1.0 for d in f["drivers"]["items"]}
        terms = {}
        known = sum(d["importance"] for d in f["drivers"]["items"])
        missing = 15 - len(f["drivers"]["items"])
        for i in range(missing):
            terms[a.unknown(("driver", i))] = 1.0
        if missing:
            a.identity({**terms, known: 1.0}, 1.0)
    # requests: resolved by department and by category add up to the total resolved;
    # overdue requests by department to the total overdue, each at most the open ones
    r = f["requests"]
    if r is not None:

        def count(rate, field, name):
            if rate[field] is None:
                return a.unknown(name, 0.0, rate["total"], integer=True)
            return rate[field]

        total = count(r["overall"], "resolved", ("resolved", "all"))
        late = count(r["overall"], "overdue", ("overdue", "all"))
        for part in ("by_department", "by_category"):
            terms = {total: -1.0}
            overdue = {late: -1.0}
            for rate in r[part]:
                key = count(rate, "resolved", ("resolved", part, rate["code"]))
                terms[key] = terms.get(key, 0) + 1.0
                if part == "by_department":
                    od = count(rate, "overdue", ("overdue", part, rate["code"]))
                    overdue[od] = overdue.get(od, 0) + 1.0
                    if isinstance(key, tuple) or isinstance(od, tuple):
                        # overdue <= open = total - resolved: written as an identity
                        # with a slack unknown
                        gap = a.unknown(("open-overdue", rate["code"]), 0, rate["total"], True)
                        a.identity({key: 1.0, od: 1.0, gap: 1.0}, rate["total"])
            a.identity(terms, 0.0)
            if part == "by_department":
                a.identity(overdue, 0.0)
    return a


def copies(f: dict, truth: dict, suggestions: list) -> list:
    """Suppressed values that are published elsewhere as they are: a gap's or a
    change's side, the headline, a suggestion's evidence."""
    found = []
    for i, d in enumerate(f["difficulties"]):
        true = truth["difficulties"][i]
        sides = {lv["code"]: lv["stat"] for lv in d["by_size"]}
        for side, code in (("a", "micro"), ("b", "large")):
            gap = d["size_gap"]
            if gap and code in sides and sides[code]["suppressed"] and gap[side] is not None:
                found.append((d["code"], "gap", side))
        if d["share"]["suppressed"]:
            if d["change"] and d["change"]["a"] is not None:
                found.append((d["code"], "change"))
            head = f["headline"]["top_difficulty"]
            if head and head["code"] == d["code"] and head["stat"]["estimate"] is not None:
                found.append((d["code"], "headline"))
        assert true["code"] == d["code"]
    hidden = {
        f"difficulty.{d['code']}.share" for d in f["difficulties"] if d["share"]["suppressed"]
    }
    hidden |= {
        f"difficulty.{d['code']}.size.{lv['code']}"
        for d in f["difficulties"]
        for lv in d["by_size"]
        if lv["stat"]["suppressed"]
    }
    hidden |= {
        f"policy.{p['code']}.{m}"
        for p in f["policies"]
        for m in ("aware", "benefited", "reach_gap")
        if p[m]["suppressed"]
    }
    if f["requests"]:
        hidden |= {
            f"requests.dept.{d['code']}.rate"
            for d in f["requests"]["by_department"]
            if d["suppressed"]
        }
    for s in suggestions:
        found += [(s["rule"], e["fact"]) for e in s["evidence"] if e["fact"] in hidden]
    return found


def recovered(folder) -> tuple[dict, list]:
    f = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
    attack = attack_findings(f)
    ranges = attack.ranges()
    out = {}
    for name, (low, high) in ranges.items():
        if name[0] in ("open-overdue", "overdue"):
            continue  # not protected figures: only the means to an end
        tol = 0.999 if name[0] == "resolved" else (0.05 if name[0] == "index" else 1e-3)
        if high - low < tol:
            out[name] = (low, high)
    # a resolution rate is resolved / total
    if f["requests"]:
        for part in ("by_department", "by_category", "by_wave"):
            for rate in f["requests"][part]:
                if rate["rate"] is None and rate["resolved"] is not None:
                    out[("rate", part, rate["code"])] = "resolved and total published"
    # a policy's reach gap is 1 - benefited / aware: any two give the third
    for p in f["policies"]:
        shown = [p[m]["estimate"] is not None for m in ("aware", "benefited", "reach_gap")]
        if sum(shown) == 2 and shown[0]:
            out[("policy", p["code"])] = "two of three published"
    return f, out


def test_the_attacker_recovers_no_suppressed_value_of_a_regional_brief(haidong):
    folder, truth = haidong
    f, got = recovered(folder)
    assert f["suppressed"], "the brief must have suppressed cells for this test to mean anything"
    assert got == {}
    suggestions = json.loads((folder / "suggestions.json").read_text(encoding="utf-8"))
    assert copies(f, truth, suggestions) == []


def test_the_attacker_recovers_no_suppressed_value_of_the_province_brief(province):
    folder, truth = province
    f, got = recovered(folder)
    assert any(s["reason"] == "complementary" for s in f["suppressed"])
    assert got == {}
    suggestions = json.loads((folder / "suggestions.json").read_text(encoding="utf-8"))
    assert copies(f, truth, suggestions) == []


def test_without_complementary_suppression_the_attacker_would_succeed(haidong, monkeypatch):
    # the same attack on the primary suppression alone recovers something: the test can fail
    import analysis.findings.build as build

    folder, _ = haidong
    monkeypatch.setattr(build, "protect", lambda f, coefficients, confidence: f)
    survey = open_survey({"region": "海东市", "min_cell": 10})
    build_findings(survey).save(folder / "primary-only" / "findings.json")
    _, got = recovered(folder / "primary-only")
    assert got


def test_tables_show_the_suppressed_cells_as_the_findings_do(haidong):
    folder, _ = haidong
    f = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
    book = openpyxl.load_workbook(folder / "tables.xlsx")
    requests = {row[0]: row for row in book["诉求"].iter_rows(min_row=2, values_only=True)}
    for d in f["requests"]["by_department"]:
        row = requests[d["label"]["zh"]]
        assert row[1] == d["total"]
        if d["suppressed"]:
            assert row[2:] == (HIDDEN,) * 4
        else:
            assert row[2] == d["resolved"]
    by_size = [r for r in book["困难分规模"].iter_rows(min_row=2, values_only=True)]
    hidden = [
        (d["label"]["zh"], lv["label"]["zh"])
        for d in f["difficulties"]
        for lv in d["by_size"]
        if lv["stat"]["suppressed"]
    ]
    assert sorted((r[0], r[1]) for r in by_size if r[2] == HIDDEN) == sorted(hidden)
    from analysis.findings.model import Findings

    again = tables(Findings.load(folder / "findings.json"))
    assert list(again) == book.sheetnames
