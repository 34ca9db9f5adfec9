"""Closing the loop: for each suggestion topic, the submissions that carried it, what
became of them, and the topic's indicator in the next wave of the survey.

A submission names the Qifang run its evidence came from (``run``: the run folder's
name, e.g. ``2024-all`` or ``2024-haidong``) and the suggestion rules it carried
(``suggestions``: rule ids such as ``financing``). The topic's indicator is the first
of the rule's evidence that the survey measures in every wave: a difficulty's share
(``difficulty.financing.share``) or an index score (``index.government.score``). Its
next-wave value, change, interval and adjusted test come from the findings of the same
population in the next wave, compared with the run's wave — made here from the survey,
by the same code as a brief's findings.

What this shows is an association in time, not an effect: the texts say
“建议报送后，下一轮调查中…”, never that the change followed *because of* the
submission.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from analysis.errors import Problem
from analysis.findings.model import Findings, Text
from analysis.ingest.instrument import Instrument
from analysis.ingest.params import Params
from analysis.tracking import model as m
from analysis.tracking.ledgers import ADOPTION, Ledgers
from analysis.tracking.periods import Period


def linked(ledgers: Ledgers, period: Period) -> pd.DataFrame:
    """Submissions of the period (sent in it, or with an event in it) that carried
    suggestions."""
    s = ledgers.submissions.data
    e = ledgers.events.data
    active = set(e.submission_id[period.contains(e["date"])])
    mask = period.contains(s["submitted"]) | s.submission_id.isin(active)
    mask &= s["suggestions"].map(len) > 0
    return s[mask & (s["submitted"] <= pd.Timestamp(period.end))]


def run_scope(name: str, instrument: Instrument) -> dict | None:
    """The parameters a run folder's name stands for: ``2024-haidong`` →
    ``{"wave": 2024, "region": "haidong"}``; None if the name is not a run's.

    >>> from analysis.ingest.instrument import load_instrument
    >>> run_scope("2024-all-C-micro", load_instrument())
    {'wave': 2024, 'region': None, 'industry': 'C', 'size': 'micro'}
    """
    parts = str(name).strip().split("-")
    if len(parts) < 2 or not parts[0].isdigit() or len(parts[0]) != 4:
        return None
    scope: dict = {"wave": int(parts[0])}
    regions = {str(c.value) for c in instrument.question("region").choices}
    if parts[1] != "all" and parts[1] not in regions:
        return None
    scope["region"] = None if parts[1] == "all" else parts[1]
    industries = {str(c.value) for c in instrument.question("industry").choices}
    sizes = {str(c.value) for c in instrument.question("size").choices}
    for token in parts[2:]:
        if token in industries and "industry" not in scope:
            scope["industry"] = token
        elif token in sizes and "size" not in scope:
            scope["size"] = token
        elif token != "en":
            return None
    return scope


def check_links(ledgers: Ledgers, period: Period, instrument: Instrument, rules) -> list[Problem]:
    """Problems with the ``run`` and ``suggestions`` cells of the linked submissions:
    a run name that is not a run's, a rule id that is no rule (with the closest)."""
    import difflib

    sub = ledgers.submissions
    ids = [r.id for r in rules]
    out = []
    for _, r in linked(ledgers, period).iterrows():
        for rule in r["suggestions"]:
            if rule not in ids:
                near = difflib.get_close_matches(rule, ids, n=1, cutoff=0.0)
                out.append(
                    Problem(
                        sub.path,
                        int(r["row"]),
                        sub.headers.get("suggestions", "suggestions"),
                        rule,
                        f"no suggestion rule has the id {rule!r}"
                        + (f"; the closest is {near[0]!r}" if near else ""),
                        f"use the ids of the rules files: {', '.join(ids)}",
                    )
                )
        run = r.get("run")
        if run is not None and not pd.isna(run) and run_scope(run, instrument) is None:
            out.append(
                Problem(
                    sub.path,
                    int(r["row"]),
                    sub.headers.get("run", "run"),
                    str(run),
                    "not the name of a Qifang run",
                    "write the run folder's name as `qifang run` makes it: <wave>-<region or "
                    "all>[-<industry>][-<size>], e.g. 2024-all or 2024-haidong",
                )
            )
    return out


def _outcome(ledgers: Ledgers, ident: str, period: Period) -> Text:
    spec = ledgers.spec
    e = ledgers.events.data
    mine = e[(e.submission_id == ident) & (e["date"] <= pd.Timestamp(period.end))]
    mine = mine.sort_values("date")
    zh, en = [], []
    bodies = list(dict.fromkeys(mine.body[mine.event.isin(ADOPTION)].dropna()))
    if bodies:
        zh.append(f"{'、'.join(bodies)}采用")
        en.append(f"adopted by {', '.join(bodies)}")
    for pub in dict.fromkeys(mine.publication.dropna()):
        name = f"《{str(pub).strip('《》')}》"
        zh.append(f"{name}刊发")
        en.append(f"carried by {name}")
    for _, r in mine[mine.event == "instructed"].iterrows():
        level, leader = spec.option("level", r["level"]), spec.option("leader", r["leader"])
        zh.append(f"获{level.label.zh}{leader.label.zh}批示")
        en.append(f"instructed by a {level.label.en} {leader.label.en}")
    for event in ("filed", "replied", "closed"):
        rows = mine[mine.event == event]
        if len(rows):
            option = spec.option("event", event)
            reply = rows["reply"].dropna() if "reply" in rows else []
            label = spec.option("reply", reply.iloc[0]).label if len(reply) else None
            tail = f"（{label.zh.split('（')[0]}）" if label else ""  # A类（已解决…） → A类
            tail_en = f" ({label.en})" if label else ""
            zh.append(f"已{option.label.zh}{tail}")
            en.append(f"{option.label.en}{tail_en}")
    if not zh:
        return Text(
            zh="截至期末尚无采用、批示或答复记录", en="nothing recorded by the period's end"
        )
    return Text(zh="；".join(zh), en="; ".join(en))


def _indicator_path(rule) -> str | None:
    for path in rule.evidence:
        parts = path.split(".")
        if len(parts) == 3 and (
            (parts[0] == "difficulty" and parts[2] == "share")
            or (parts[0] == "index" and parts[2] == "score")
        ):
            return path
    return None


def _read(findings: Findings, path: str):
    """(label, kind, current stat, change) of an indicator in a findings object."""
    group, code, _ = path.split(".")
    if group == "difficulty":
        d = next((x for x in findings.difficulties if x.code == code), None)
        if d is None:
            return None
        label = Text(
            zh=f"反映{d.label.zh}的企业比例", en=f"share of firms citing {d.label.en.lower()}"
        )
        return label, "share", d.share, d.change
    if code == "overall":
        label = Text(zh="营商环境指数", en="business-environment index")
        return label, "score", findings.index.overall, findings.index.change
    dim = next((x for x in findings.index.dimensions if x.code == code), None)
    if dim is None:
        return None
    return (
        Text(zh=f"{dim.label.zh}得分", en=f"{dim.label.en} score"),
        "score",
        dim.score,
        dim.change,
    )


class _Survey:
    """Findings of the survey for a run's population in its next wave, made once each."""

    def __init__(self, base: Params, instrument: Instrument):
        self.base = base
        self.instrument = instrument
        self._waves: list[int] | None = None
        self._cache: dict[tuple, Findings] = {}

    def waves(self) -> list[int]:
        if self._waves is None:
            from analysis.ingest.load import load

            visits = load(self.base.visits, "visits", self.instrument).data
            self._waves = sorted(int(w) for w in visits["wave"].dropna().unique())
        return self._waves

    def findings(self, scope: dict, wave: int, compare: int) -> Findings:
        from analysis.findings.build import build_findings, open_survey

        key = (tuple(sorted(scope.items())), wave, compare)
        if key not in self._cache:
            params = replace(
                self.base,
                **{k: v for k, v in scope.items() if k != "wave"},
                wave=wave,
                compare_wave=compare,
            )
            self._cache[key] = build_findings(open_survey(params))
        return self._cache[key]


def close_loop(
    ledgers: Ledgers, period: Period, base: Params, instrument: Instrument, rules
) -> list[m.LoopTopic]:
    """The loop of every suggestion topic the period's submissions carried.

    Parameters
    ----------
    ledgers, period : the checked ledgers and the period.
    base : survey parameters (input files, confidence, min_cell) for the indicators.
    instrument : the survey's questionnaire.
    rules : the suggestion rules (ids, topics, evidence).
    """
    survey = _Survey(base, instrument)
    by_id = {r.id: r for r in rules}
    rows = linked(ledgers, period)
    order = [rule for rule in by_id if any(rule in s for s in rows["suggestions"])]
    out = []
    for rule_id in order:
        rule = by_id[rule_id]
        mine = rows[rows["suggestions"].map(lambda s, rid=rule_id: rid in s)]
        subs = [
            m.LoopSubmission(
                submission_id=str(r["submission_id"]),
                kind=str(r["kind"]),
                kind_label=ledgers.spec.option("submission_kind", r["kind"]).label,
                title=str(r["title"]),
                submitted=r["submitted"].date(),
                outcome=_outcome(ledgers, r["submission_id"], period),
                refs=[m.Ref(ledger="submissions", rows=[int(r["row"])])],
            )
            for _, r in mine.sort_values("submitted").iterrows()
        ]
        indicators = []
        path = _indicator_path(rule)
        runs = [x for x in dict.fromkeys(mine["run"].dropna()) if str(x).strip()]
        for run in runs if path else ():
            scope = run_scope(run, instrument)
            later = [w for w in survey.waves() if w > scope["wave"]]
            if not later:
                indicators.append(
                    m.Indicator(
                        path=path,
                        kind="share" if path.startswith("difficulty") else "score",
                        label=rule.topic,
                        run=str(run),
                        scope=Text(zh=str(run), en=str(run)),
                        wave=scope["wave"],
                        next_wave=None,
                    )
                )
                continue
            f = survey.findings(scope, later[0], scope["wave"])
            got = _read(f, path)
            if got is None:
                continue
            label, kind, stat, change = got
            usable = change is not None and not change.suppressed and change.estimate is not None
            indicators.append(
                m.Indicator(
                    path=path,
                    kind=kind,
                    label=label,
                    run=str(run),
                    scope=f.scope.label,
                    wave=scope["wave"],
                    next_wave=later[0],
                    before=change.b if usable else None,
                    after=stat.estimate if not stat.suppressed else None,
                    change=change.estimate if usable else None,
                    ci_low=change.ci_low if usable else None,
                    ci_high=change.ci_high if usable else None,
                    p_adjusted=change.p_adjusted if usable else None,
                    significant=change.significant if usable else None,
                    n_before=change.n_b if usable else 0,
                    n_after=stat.n,
                    suppressed=not usable,
                    confidence=base.confidence,
                )
            )
        out.append(
            m.LoopTopic(rule=rule_id, topic=rule.topic, submissions=subs, indicators=indicators)
        )
    return out
