"""Open answers: coding dictionary, coding quality, redaction, phrases and quotes.

Measured agreement (kept here so a change that moves it shows in review):

- the sample's urgent_needs against the generator's planted categories: precision and
  recall 1.00 in every category, coverage 0.993 (the dictionary was written after
  reading the generator's phrases, so this is a regression check, not an estimate);
- hand-coded answers written like real firms write (dev set, 67 answers + set A,
  32 answers, both used while writing the dictionary): pooled F1 0.98;
- set B (27 answers, written after the dictionary was frozen and never used to tune
  it): pooled precision 0.68, recall 0.70, F1 0.69 — the honest estimate of how the
  dictionary codes text it has not seen. Set A scored F1 0.74 before it was used.
"""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis.errors import CodingError, ParameterError
from analysis.measures.text import (
    agreement,
    code_answers,
    load_coding,
    open_answers,
    redact,
)
from analysis.sample.generate import generate_sample
from conftest import DATA, ROOT

TEXT = DATA / "text"
PLACEHOLDER = re.compile(r"〔[^〕]+〕")


@pytest.fixture(scope="module")
def scheme():
    return load_coding()


@pytest.fixture(scope="module")
def sample():
    return generate_sample()


@pytest.fixture(scope="module")
def weighted(sample):
    """The sample's visits with their design weights (frame firms / sampled firms)."""
    v = sample.visits
    keys = ["wave", "region", "size"]
    n = v.groupby(keys, observed=True).size().rename("n").reset_index()
    w = n.merge(sample.frame, on=keys).assign(weight=lambda d: d.firms / d.n)
    frame = v[keys].astype({"region": str, "size": str})
    w = w.astype({"region": str, "size": str})
    return v.assign(weight=frame.merge(w, on=keys, how="left")["weight"].to_numpy())


@pytest.fixture(scope="module")
def urgent(weighted):
    return open_answers(weighted, "urgent_needs", weights="weight")


def _hand_coded(name: str, scheme) -> tuple[pd.Series, pd.DataFrame]:
    table = pd.read_csv(TEXT / f"{name}.csv", keep_default_na=False, dtype=str)
    codes = [set(c.split(";")) - {""} for c in table["categories"]]
    unknown = set().union(*codes) - set(scheme.names)
    assert not unknown, f"{name}.csv uses unknown categories {unknown}"
    reference = pd.DataFrame(
        {c: [float(c in s) if s else np.nan for s in codes] for c in scheme.names}
    )
    return table["answer"], reference


# -- nothing at import ---------------------------------------------------------------


def test_import_loads_no_jieba_and_reads_no_dictionary():
    code = (
        "import sys; import analysis.measures.text, analysis.measures.ledger; "
        "assert 'jieba' not in sys.modules, 'jieba imported at import time'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_the_tokenizer_is_private_and_deterministic(urgent):
    import jieba

    from analysis.measures._words import content_words

    # open_answers has segmented text by now; jieba's global tokenizer was never set up.
    assert not jieba.dt.initialized
    text = "流动资金贷款到期续贷难，希望银行不要抽贷断贷"
    assert content_words(text) == content_words(text)
    assert {"续贷", "抽贷", "断贷"} <= set(content_words(text))  # from the domain dictionary


# -- the dictionary ------------------------------------------------------------------


def test_default_dictionary_has_the_instrument_categories(scheme, instrument):
    difficulty = instrument.question("difficulties")
    assert scheme.names == tuple(difficulty.values)
    assert scheme.names[-1] == "other"
    for c in difficulty.choices:
        cat = scheme.category(c.value)
        assert (cat.label_zh, cat.label_en) == (c.label.zh, c.label.en)
    for word in ("贷款", "融资", "担保", "抵押", "续贷", "招工", "用工", "社保", "电价", "原材料",
                 "订单", "销路", "拖欠", "回款", "清欠", "税费", "收费", "政策兑现", "申报",
                 "检查", "执法", "用地", "用能", "物流", "运费", "人才"):  # fmt: skip
        assert any(word in c.keywords for c in scheme.categories), word


def test_dictionary_does_not_copy_the_generators_phrases(scheme):
    phrases = yaml.safe_load(
        (ROOT / "src" / "analysis" / "sample" / "sample_phrases.yaml").read_text("utf-8")
    )
    entries = {e for c in scheme.categories for e in (*c.keywords, *c.phrases)}
    for sentences in phrases["urgent_needs"].values():
        for sentence in sentences:
            # Set terms of four characters (多头执法) are vocabulary, not the generator's.
            clauses = {sentence, *re.split(r"[，；、]", sentence)}
            copied = {c for c in clauses if len(c) >= 5} & entries
            assert not copied, f"generator phrase copied into the dictionary: {copied}"


def test_user_file_adds_replaces_removes_and_adds_categories(tmp_path, scheme):
    user = tmp_path / "coding.yaml"
    user.write_text(
        """
none_answers: [没意见]
categories:
  financing: {keywords: [银根], remove: [银行]}
  tax: {replace: true, keywords: [税负]}
  approval:
    label: {zh: 审批办证, en: Permits and approvals}
    keywords: [审批, 办证]
""",
        encoding="utf-8",
    )
    mine = load_coding(user)
    assert "银根" in mine.category("financing").keywords
    assert "银行" not in mine.category("financing").keywords
    assert "贷款" in mine.category("financing").keywords  # the default's words stay
    assert mine.category("tax").keywords == ("税负",)
    assert mine.names[-2:] == ("approval", "other")
    assert mine.sources == (*scheme.sources, str(user))
    coded = code_answers(["项目审批太慢", "没意见", "银根太紧"], mine)
    assert coded.loc[0, "approval"] == 1
    assert coded.loc[1].isna().all()
    assert coded.loc[2, "financing"] == 1


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("categories: [a, b]", "expected a mapping"),
        ("categories:\n  financing: {keywrods: [贷款]}", "unknown key.*keywrods"),
        ("categories:\n  financing: {keywords: [贷]}", "single character"),
        ("categories:\n  financing: {keywords: 贷款}", "expected a list"),
        ("categories:\n  financing: {keywords: [123, '']}", "is not a word"),
        ("categories:\n  financing: {phrases: [政策…]}", "empty part"),
        ("categories:\n  approval: {keywords: [审批]}", "not a difficulty category"),
        ("categories:\n  Financing: {keywords: [贷款]}", "invalid category name"),
        ("categories:\n  financing: {keywords: [贷款]\n", "not valid YAML"),
        ("categories: {}\ncodes: {}", "unknown top-level key"),
    ],
)
def test_bad_dictionaries_are_rejected_with_the_reason(tmp_path, text, match):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CodingError, match=match):
        load_coding(path)


def test_missing_dictionary_file(tmp_path):
    with pytest.raises(CodingError, match="not found"):
        load_coding(tmp_path / "nope.yaml")


# -- coding --------------------------------------------------------------------------


def test_code_answers_multi_other_empty_and_exclusions(scheme):
    coded = code_answers(
        pd.Series(
            ["回款慢，资金周转困难，想申请流动资金贷款", "园区路灯不亮", "暂无。", None, "  ",
             "物流成本高", "政策迟迟没有兑现"],
            index=list("abcdefg"),
        ),
        scheme,
    )  # fmt: skip
    assert list(coded.index) == list("abcdefg")
    assert coded.loc["a", ["financing", "arrears"]].tolist() == [1.0, 1.0]
    assert coded.loc["a", "other"] == 0
    assert coded.loc["b", "other"] == 1 and coded.loc["b"].sum() == 1
    assert coded.loc[["c", "d", "e"]].isna().all().all()
    assert coded.loc["f", "logistics"] == 1 and coded.loc["f", "costs"] == 0  # excluded
    assert coded.loc["g", "policy"] == 1  # 政策…兑现 with words between


def test_agreement_counts():
    coded = pd.DataFrame({"tax": [1, 1, 0, 0, np.nan]})
    ref = pd.DataFrame({"tax": [1, 0, 0, 1, 1]})
    row = agreement(coded, ref).iloc[0]
    assert (row.support, row.predicted, row.tp) == (2, 2, 1)
    assert row.precision == row.recall == row.f1 == 0.5
    assert row.kappa == pytest.approx(0.0)


def test_agreement_with_hand_coded_answers(scheme):
    answers, reference = zip(
        *(_hand_coded(n, scheme) for n in ("hand_coded_answers", "hand_coded_holdout")),
        strict=True,
    )
    answers = pd.concat(answers, ignore_index=True)
    reference = pd.concat(reference, ignore_index=True)
    assert len(answers) >= 90
    table = agreement(code_answers(answers, scheme), reference).set_index("category")
    assert table.loc["all", "f1"] >= 0.95  # measured 0.98
    assert table.loc["all", "kappa"] >= 0.95
    solid = table[(table.index != "all") & (table.support >= 5)]
    assert (solid.f1 >= 0.8).all(), solid[solid.f1 < 0.8]


def test_agreement_on_answers_never_used_to_tune(scheme):
    answers, reference = _hand_coded("hand_coded_holdout_b", scheme)
    table = agreement(code_answers(answers, scheme), reference).set_index("category")
    # A keyword dictionary misses paraphrase (钱要了一年多还没给 is arrears): the
    # threshold guards against losing ground, measured 0.69.
    assert table.loc["all", "f1"] >= 0.65
    assert table.loc["all", "precision"] >= 0.65


def test_recovers_the_planted_categories_of_the_sample(sample, scheme):
    truth = sample.truth.open_answers.drop(columns="visit_id")
    coded = code_answers(sample.visits["urgent_needs"], scheme)
    answered = coded.notna().all(axis=1)
    assert answered.sum() == truth.any(axis=1).sum()  # the same answers are non-empty
    table = agreement(coded[answered], truth[answered]).set_index("category")
    per_category = table.drop(index="all")
    assert (per_category.recall >= 0.95).all(), per_category.recall
    assert (per_category.precision >= 0.95).all(), per_category.precision


def test_coverage_of_the_sample(urgent):
    assert urgent.answers == 2245
    assert urgent.coverage >= 0.95  # measured 0.993
    assert urgent.coded == round(urgent.coverage * urgent.answers)


# -- redaction -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus():
    return yaml.safe_load((TEXT / "redaction_corpus.yaml").read_text(encoding="utf-8"))


def _redact_corpus(corpus, texts):
    c = corpus["contacts"]
    return redact(texts, people=c["people"], firms=c["firms"], phones=c["phones"]).tolist()


def test_redaction_corpus_positive_cases(corpus):
    texts, expected = zip(*corpus["redact"], strict=True)
    assert len(texts) >= 35
    assert _redact_corpus(corpus, texts) == list(expected)


def test_redaction_corpus_negative_cases_stay(corpus):
    assert len(corpus["keep"]) >= 25
    assert _redact_corpus(corpus, corpus["keep"]) == corpus["keep"]


def test_redact_keeps_missing_values_and_index():
    out = redact(pd.Series(["电话13912345678", None], index=[5, 9]))
    assert out.index.tolist() == [5, 9]
    assert out.iloc[0] == "电话〔电话〕" and pd.isna(out.iloc[1])


def test_redaction_scales_to_many_names():
    # 20,000 names and 5,000 firms; only those found in the texts enter the pattern.
    surnames, given = (
        "王李张刘陈杨赵黄周吴",
        [chr(0x4E00 + i) + chr(0x4E80 + i) for i in range(2000)],
    )
    people = [s + g for s in surnames for g in given]
    firms = [f"青海{chr(0x5000 + i)}{chr(0x5200 + i)}商贸有限公司" for i in range(5000)]
    out = redact(
        ["联系人" + people[-1] + "，" + firms[-1][2:4] + "的货款", "订单减少"],
        people=people,
        firms=firms,
    )
    assert out.tolist() == ["联系人〔姓名〕，〔企业〕的货款", "订单减少"]


def _distinct_contacts(n: int) -> tuple[list[str], list[str], list[str]]:
    """``n`` distinct contact names (surname and two given characters), firm names
    (brand: two characters) and phone numbers of seven digits (even numbers only)."""
    surnames = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
    given = [chr(0x5F00 + i // 50) + chr(0x6A00 + i % 50) for i in range(-(-n // len(surnames)))]
    people = [s + g for g in given for s in surnames][:n]
    firms = [f"青海{chr(0x5000 + i // 300)}{chr(0x5200 + i % 300)}商贸有限公司" for i in range(n)]
    return people, firms, [f"{2 * i:07d}" for i in range(n)]


@pytest.mark.parametrize("batch", [None, 97])
def test_redaction_finds_names_among_many_distinct_ones(batch, monkeypatch):
    # A survey has about as many contact names and firm names as firms. Only the
    # names found in the texts enter the pattern; finding them works in batches of
    # characters, so a small batch (97) must find the same.
    from analysis.measures import _redact

    if batch:
        monkeypatch.setattr(_redact, "_BATCH", batch)
    people, firms, phones = _distinct_contacts(60_000)
    name, firm, phone = people[45_678], firms[51_234], phones[33_333]
    brand = firm[2:4]
    texts = [
        f"联系人{name}说贷款难",
        f"{people[0]}和{people[-1]}都反映用工难",
        f"{firm}的工程款拖了两年",
        f"{brand}商贸被拖欠货款，{brand}县的路也不好走",
        f"有事打{phone}找我",
        f"打{int(phone) + 1:07d}的不是我们",  # an odd number is no one's phone
        f"{name[:2]}某说的不算",  # a surname and a given name that no one has
        "订单减少，资金紧张",
    ]
    expected = [
        "联系人〔姓名〕说贷款难",
        "〔姓名〕和〔姓名〕都反映用工难",
        "〔企业〕的工程款拖了两年",
        f"〔企业〕被拖欠货款，{brand}县的路也不好走",
        "有事打〔电话〕找我",
        f"打{int(phone) + 1:07d}的不是我们",
        f"{name[:2]}某说的不算",
        "订单减少，资金紧张",
    ]
    out = redact(texts, people=people, firms=firms, phones=phones).tolist()
    assert out == expected
    shown = {t[i:j] for t in out for i in range(len(t)) for j in range(i + 2, len(t) + 1)}
    brands = {f[2:6] for f in firms} | {f[2:4] for f in firms}
    assert not shown & (set(people) | set(firms) | set(phones) | brands - {brand})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("李建国说顺达矿业和顺达集团都欠款", "〔姓名〕说〔企业〕和〔企业〕集团都欠款"),
        ("欧阳总和欧阳明华都说农业发展困难", "欧阳总和〔姓名〕都说农业发展困难"),
        ("鑫源农牧业和鑫源都在海东", "〔企业〕农牧业和〔企业〕都在海东"),
        ("华辰超市和华辰县", "〔企业〕和华辰县"),
        ("三江源生态旅游和三江源", "〔企业〕和〔企业〕"),
        ("拨打0971-612 3456或9712345.0", "拨打〔电话〕或〔电话〕"),
    ],
    ids=["spaced-name", "compound-surname", "line-of-business", "place", "bare-brand", "phones"],
)
def test_contact_values_as_written(text, expected):
    # Contact fields as they come: white space of every kind inside names, brackets,
    # a province with 省, a name that is only a legal form, numbers as numbers.
    people = ["李\u3000建国", "欧阳 明华", "  ", "经理", 12345, None]
    firms = [
        "青海 顺达（集团）矿业有限公司",
        "青海省\u3000农业发展有限公司",
        "海东市鑫源农牧业开发有限公司",
        "西宁华辰超市有限公司",
        "青海\x1c三江源生态旅游开发有限公司",
        float("nan"),
    ]
    phones = ["0971-612 3456", "１３８３４８３５７５５", " 1234 ", 9712345.0]
    assert redact([text], people=people, firms=firms, phones=phones).tolist() == [expected]


def test_white_space_of_names_is_what_python_calls_space():
    from analysis.measures._redact import _WHITESPACE

    assert set(_WHITESPACE) == {c for c in map(chr, range(0x110000)) if c.isspace()}


def test_no_contact_of_any_row_in_quotes_or_phrases(sample):
    # Every firm with its own contact person and name, as in real data; answers
    # mention the contacts of other firms (and the sample's planted identifiers, whose
    # names come in as further names to redact).
    v = sample.visits.reset_index(drop=True)
    n = len(v)
    people, firms, _ = _distinct_contacts(n)
    answers = v["urgent_needs"].astype("string").fillna("").to_numpy(dtype=object)
    for i in range(0, n, 5):
        answers[i] = f"{people[(i + 7) % n]}说{answers[i]}找{firms[(i + 11) % n][2:4]}商贸"
    for i in range(2, n, 5):
        answers[i] = f"{answers[i]}，{firms[(i + 13) % n]}也一样"
    v = v.assign(contact_person=people, firm_name=firms, urgent_needs=answers)
    out = open_answers(
        v,
        "urgent_needs",
        min_cell=1,
        quotes=1000,
        phrases=1000,
        people=sample.visits["contact_person"],
        firms=sample.visits["firm_name"],
    )
    assert len(out.quotes) > 100
    shown = "\n".join([*out.quotes["quote"], *out.phrases["phrase"]])
    values = [*people, *firms, *(f[2:6] for f in firms), *(f[2:4] for f in firms)]
    values += [*v["phone"].dropna().astype(str), *sample.truth.identifiers["value"]]
    assert not [x for x in values if x in shown]


def test_segmenting_block_by_block_is_segmenting_the_answer(sample):
    from analysis.measures._words import _WORD, _stopwords, _tokenizer, words_of

    texts = [*sample.visits["urgent_needs"].dropna().astype(str).unique()[:400]]
    texts += [
        "ＱＱ：123，abc-def 贷款\r\n难。〔姓名〕说  融资难",
        "",
        "。。",
        "e-mail: a.b@c.cn 续贷",
    ]
    stop = _stopwords()
    whole = [
        [
            w if _WORD.fullmatch(w) and w not in stop else None
            for w in _tokenizer().lcut(t, HMM=False)
        ]
        for t in (PLACEHOLDER.sub("。", t) for t in texts)
    ]
    assert words_of(texts) == whole


def test_no_planted_identifier_survives_redaction(sample):
    v, ids = sample.visits, sample.truth.identifiers
    assert len(ids) > 100
    for field in ("urgent_needs", "suggestions"):
        clean = redact(v[field], v["contact_person"], v["firm_name"], v["phone"])
        text = "\n".join(clean.dropna().unique())
        assert not [x for x in ids["value"] if x in text]
        changed = clean.fillna("") != v[field].astype("string").fillna("")
        planted = v["visit_id"].isin(ids.loc[ids.field == field, "visit_id"])
        assert (changed == planted).all()  # every planted answer, and nothing else


def test_no_planted_identifier_in_quotes_or_phrases(sample):
    v, ids = sample.visits, sample.truth.identifiers
    planted = v[v["visit_id"].isin(ids.loc[ids.field == "urgent_needs", "visit_id"])]
    outputs = [
        open_answers(v, field, by="region", min_cell=1, quotes=1000, phrases=1000)
        for field in ("urgent_needs", "suggestions")
    ]
    # Only answers that carry an identifier: every quote must show a placeholder.
    only = open_answers(planted, "urgent_needs", min_cell=1, quotes=1000, phrases=1000)
    assert len(only.quotes) > 10
    assert only.quotes["quote"].str.contains(PLACEHOLDER).all()
    for out in [*outputs, only]:
        shown = "\n".join([*out.quotes["quote"], *out.phrases["phrase"]])
        leaked = [x for x in ids["value"] if x in shown]
        assert not leaked, leaked
        assert not PLACEHOLDER.search("".join(out.phrases["phrase"]))


# -- open_answers --------------------------------------------------------------------


def test_indicators_and_weighted_shares(weighted, urgent, scheme):
    ind = urgent.indicators
    assert list(ind.columns) == [f"urgent_needs__{c}" for c in scheme.names]
    assert ind.index.equals(weighted.index)
    answered = weighted["urgent_needs"].astype(str).str.len() > 0
    assert (ind.notna().all(axis=1) == answered).all()
    w = weighted["weight"]
    for row in urgent.categories.itertuples():
        col = ind[f"urgent_needs__{row.category}"]
        expected = (col * w).sum() / w[col.notna()].sum()
        assert row.share == pytest.approx(expected)
        assert row.answers == int(col.sum())
        assert row.base == urgent.answers


def test_indicators_feed_the_design(weighted, urgent):
    from analysis.survey.design import Design

    data = weighted.join(urgent.indicators)
    design = Design(data, weights="weight", strata=["wave", "region", "size"])
    est = design.proportion(list(urgent.indicators.columns)).set_index("level")
    share = urgent.categories.set_index("category")["share"]
    for category, value in share.items():
        assert est.loc[f"urgent_needs__{category}", "estimate"] == pytest.approx(value)
        assert est.loc[f"urgent_needs__{category}", "se"] > 0


def test_financing_in_open_answers_falls_with_firm_size(weighted):
    out = open_answers(weighted, weights="weight", by="size")
    fin = out.categories[out.categories.category == "financing"].set_index("size")["share"]
    assert fin["micro"] > fin["small"] > fin["medium"] > fin["large"]


def test_quotes_and_phrases_are_deterministic_and_ignore_row_order(weighted, urgent):
    shuffled = weighted.sample(frac=1.0, random_state=7)
    again = open_answers(shuffled, "urgent_needs", weights="weight")
    pd.testing.assert_frame_equal(urgent.quotes, again.quotes)
    pd.testing.assert_frame_equal(urgent.phrases, again.phrases)
    per_category = urgent.quotes.groupby("category").size()
    assert per_category.max() <= 3 and len(per_category) == 12


def test_quotes_are_about_their_category(urgent, scheme):
    quotes = urgent.quotes
    coded = code_answers(quotes["quote"], scheme)
    for i, row in quotes.iterrows():
        assert coded.loc[i, row["category"]] == 1


def test_phrases_name_the_category(urgent):
    top = urgent.phrases[urgent.phrases["rank"] <= 10]
    for category, words in {"financing": "贷款", "arrears": "拖欠", "talent": "人才"}.items():
        assert words in set(top.loc[top.category == category, "phrase"])
    assert (urgent.phrases["answers"] >= 3).all()


def test_small_cells_get_no_quotes_or_phrases(weighted):
    out = open_answers(weighted, by="region", min_cell=40)
    cats = out.categories.set_index(["region", "category"])
    small = cats[cats.answers < 40]
    assert len(small) > 0 and not small.quotable.any()
    for table in (out.quotes, out.phrases):
        shown = table.set_index(["region", "category"]).index.unique()
        assert (cats.loc[shown, "answers"] >= 40).all()
        assert not set(shown) & set(small.index)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"column": "nope"}, "no column 'nope'"),
        ({"by": "nope"}, "no domain column"),
        ({"weights": "nope"}, "no weights column"),
        ({"weights": [1.0, 2.0]}, "2 weights for"),
        ({"min_cell": 0}, "min_cell must be"),
        ({"quotes": -1}, "quotes must be"),
    ],
)
def test_bad_parameters(weighted, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        open_answers(weighted, **kwargs)


def test_negative_weights_are_refused(weighted):
    with pytest.raises(ParameterError, match="non-negative"):
        open_answers(weighted, weights=-weighted["weight"])
