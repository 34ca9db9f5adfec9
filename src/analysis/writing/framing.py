"""Which topic a draft takes up, and in what words: framing that follows the evidence.

Each suggestion that fired is a candidate topic. Its evidence is scored per kind, from
0 to 1, and the kinds are weighted by ``framing:`` in ``resources/genres.yaml``:

==========  ==================================================================
cited       firms citing the difficulty: 1 in the top three or at 30% and over,
            else its share / 30%
driver      a key driver of satisfaction: 1 when it matters much and scores low,
            0.6 in the top three, 0.3 otherwise
gap         micro firms markedly worse off than large ones: 1, or 0.5 when no
            large firm reported it
voices      the share of firms' own words on the topic, against the largest share
requests    the topic's requests in the ledger, against the largest count
low_score   an item the rules call rated low
==========  ==================================================================

The strongest topic leads the proposal; the 社情民意信息 takes the strongest other topic
with firms' own words to quote. A draft words its topic by the kind of evidence that
carries it (“反映最为集中” for a difficulty firms cite, “评价偏低且是影响企业满意度的
关键因素” for a driver), never by a fixed sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.findings.facts import Fact
from analysis.writing import plain


@dataclass(frozen=True)
class Topic:
    """A suggestion with the strength of its evidence, by kind, strongest first."""

    suggestion: object  # analysis.writing.suggest.Suggestion
    score: float
    strengths: tuple[tuple[str, float], ...]
    difficulty: str | None  # the difficulty code behind it, if firms cite it
    driver: str | None  # the rated item behind it, if a key driver
    item: str | None  # the rated item the rule cites
    policy: str | None  # the support policy the rule cites
    quotes: tuple[str, ...]  # firms' own words on it (redacted)

    @property
    def kind(self) -> str:
        """The kind of evidence that carries the topic."""
        return self.strengths[0][0] if self.strengths else "cited"

    def has(self, kind: str) -> bool:
        return any(k == kind and v > 0 for k, v in self.strengths)


def _value(facts: dict[str, Fact], name: str):
    f = facts.get(name)
    return None if f is None else f.value


def topics(findings, suggestions, facts: dict[str, Fact], weights: dict[str, float]) -> list[Topic]:
    """Every suggestion as a topic, strongest evidence first."""
    open_shares = {
        c.code: c.share.estimate
        for b in findings.open_answers
        if b.field == "urgent_needs"
        for c in b.categories
        if c.share.estimate is not None
    }
    top_voice = max(open_shares.values(), default=0) or 1
    counts = {}
    if findings.requests is not None:
        counts = {c.code: c for c in findings.requests.by_category}
    top_count = max((c.total for c in counts.values()), default=0) or 1
    out = []
    for s in suggestions:
        names = [e.path for e in s.evidence]
        cat = s.category
        share = _value(facts, f"difficulty.{cat}.share") if cat else None
        rank = _value(facts, f"difficulty.{cat}.rank") if cat else None
        strengths: dict[str, float] = {}
        difficulty = None
        if share is not None and any(n.startswith(f"difficulty.{cat}.") for n in names):
            difficulty = cat
            strengths["cited"] = 1.0 if (rank or 99) <= 3 or share >= 0.30 else share / 0.30
        gap = facts.get(f"difficulty.{cat}.gap") if cat else None
        if gap is not None and gap.value is not None and gap.a is not None and gap.b is not None:
            if gap.b == 0 and gap.a > 0:
                strengths["gap"] = 0.5
            elif gap.significant and gap.a > gap.b:
                strengths["gap"] = 1.0
        driver = next((n.split(".")[1] for n in names if n.startswith("driver.")), None)
        if driver is not None and _value(facts, f"driver.{driver}.rank") is not None:
            if _value(facts, f"driver.{driver}.priority"):
                strengths["driver"] = 1.0
            elif _value(facts, f"driver.{driver}.rank") <= 3:
                strengths["driver"] = 0.6
            else:
                strengths["driver"] = 0.3
        else:
            driver = None
        item = next((n.split(".")[1] for n in names if n.startswith("item.")), None)
        if item is not None and facts.get(f"item.{item}.score") is not None:
            phrase = plain.choose("score", facts[f"item.{item}.score"], facts, "zh")
            if phrase == plain.rules()["score"][0].text.zh:
                strengths["low_score"] = 1.0
        if cat in open_shares:
            strengths["voices"] = open_shares[cat] / top_voice
        if cat in counts and counts[cat].total:
            c = counts[cat]
            unresolved = 1 - (c.rate if c.rate is not None else 1)
            strengths["requests"] = min(1.0, c.total / top_count + unresolved)
        weighted = sorted(
            ((k, v * weights.get(k, 0)) for k, v in strengths.items() if v > 0),
            key=lambda kv: -kv[1],
        )
        policy = next((n.split(".")[1] for n in names if n.startswith("policy.")), None)
        quotes = ()
        for b in findings.open_answers:
            for c in b.categories:
                if c.code == cat and c.quotes:
                    quotes += tuple(c.quotes)
        out.append(
            Topic(
                suggestion=s,
                score=round(sum(v for _, v in weighted), 6),
                strengths=tuple(weighted),
                difficulty=difficulty,
                driver=driver,
                item=item,
                policy=policy,
                quotes=quotes,
            )
        )
    out.sort(key=lambda t: (-t.score, t.suggestion.rule))
    return out


def pick(ranked: list[Topic], genre: str) -> Topic | None:
    """The topic of a genre: the strongest for the proposal and the leaders' summary;
    for the 社情民意信息 the strongest other topic with firms' words to quote (one issue
    per report, and not the proposal's)."""
    if not ranked:
        return None
    if genre == "social":
        others = [t for t in ranked[1:] if t.quotes] or ranked[1:] or ranked
        return others[0]
    return ranked[0]


def case(topic: Topic) -> str | None:
    """One concrete case from the firms' own words: the most specific quote (the
    longest, already redacted of names, numbers that identify and contacts)."""
    if not topic.quotes:
        return None
    return max(topic.quotes, key=lambda q: (len(q), q))
