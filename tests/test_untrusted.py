"""Files from someone else: rules that try to run code, YAML and XLSX bombs, inputs past
the bounds. Each is refused when it loads, with a typed message naming the file (and the
rule), before any notebook runs; bombs are opened under a memory cap in a subprocess,
so a regression fails the test instead of freezing the machine.
"""

from __future__ import annotations

import io
import os
import resource
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from analysis import cli
from analysis.errors import (
    CodingError,
    InputTooLargeError,
    InstrumentError,
    ParameterError,
    RuleError,
    ValidationError,
)
from analysis.findings.model import Text
from analysis.ingest.load import load
from analysis.ingest.params import read_params_file
from analysis.measures.text import load_coding
from analysis.pipeline.run import prepare
from analysis.writing import _rulecheck, render
from analysis.writing.suggest import load_rules
from conftest import EXPORTS, SAMPLE

MB = 1024**2

# --- rules that try to run code or to work without bound ----------------------------

RULE = """\
rules:
  - id: {rule_id}
    topic: {{zh: 融资, en: Finance}}
    priority: high
    when: {when}
    evidence: [difficulty.financing.share]
    departments: [finance]
    title: {{zh: 破解融资难题, en: Ease finance}}
    problem:
      zh: {problem}
      en: Problem.
    actions:
      - {{zh: 扩大信用贷款投放。, en: Lend more on credit.}}
"""
OK_WHEN = '"difficulty.financing.share >= 0.4"'
OK_TEXT = '"{{ difficulty.financing.share | vci }}的企业反映融资难。"'

# (id, when, problem text, message): each is refused when the rules load.
ATTACKS = [
    (
        "lipsum",
        OK_WHEN,
        "\"{{% set x = lipsum.__globals__['os'].system('touch {marker}') %}}问题\"",
        r"the text assigns \(\{% set %\}\)",
    ),
    (
        "cycler",
        OK_WHEN,
        "\"{{{{ cycler.__init__.__globals__.os.popen('touch {marker}').read() }}}}\"",
        "the text calls a function or method",
    ),
    ("range", OK_WHEN, '"{{{{ range(10**12) }}}}"', "the text calls a function or method"),
    (
        "findings_save",
        OK_WHEN,
        "\"{{{{ findings.save('{marker}') }}}}\"",
        "the text calls a function or method",
    ),
    ("findings_name", OK_WHEN, '"{{{{ findings }}}}"', "the name 'findings' \\(not a fact\\)"),
    ("include", OK_WHEN, "\"{{% include '/etc/passwd' %}}\"", "the text includes a file"),
    (
        "dunder",
        OK_WHEN,
        '"{{{{ difficulty.financing.share.__class__ }}}}"',
        "the attribute '__class__', which starts with _",
    ),
    (
        "attr_filter",
        OK_WHEN,
        "\"{{{{ difficulty.financing.share | attr('__class__') }}}}\"",
        "the filter 'attr'",
    ),
    ("loop", OK_WHEN, '"{{% for i in difficulty %}}x{{% endfor %}}"', r"the text loops"),
    ("arith", OK_WHEN, '"{{{{ 9 ** 9 ** 9 }}}}"', r"does arithmetic \(\*\*\)"),
    ("pow", '"9**9**9 > 1"', OK_TEXT, r"'when' raises to a power \(\*\*\)"),
    ("strmul", "\"'a'*99999999 == 'a'\"", OK_TEXT, "'when' does arithmetic on text"),
    ("bignum", '"difficulty.financing.share > 1e300"', OK_TEXT, "larger than 1e\\+12"),
    ("listmul", '"[1] * 100000000"', OK_TEXT, "'when' uses List"),
    (
        "import",
        "\"__import__('os').system('touch {marker}')\"",
        OK_TEXT,
        "calls a function that is not allowed",
    ),
    ("lambda", '"(lambda: 1)()"', OK_TEXT, "calls a function that is not allowed"),
    (
        "cond_dunder",
        '"difficulty.financing.share.__class__ == 1"',
        OK_TEXT,
        "the attribute '__class__', which starts with _",
    ),
    ("long_condition", '"' + " or ".join(["n > 1"] * 300) + '"', OK_TEXT, "characters long"),
]


def _rules_file(folder: Path, rule_id: str, when: str, problem: str) -> Path:
    marker = folder / "PWNED"
    text = RULE.format(
        rule_id=rule_id,
        when=when.format(marker=marker),
        problem=problem.format(marker=marker),
    )
    path = folder / f"{rule_id}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("rule_id", "when", "problem", "message"), ATTACKS, ids=[a[0] for a in ATTACKS]
)
def test_a_rules_file_cannot_run_code_or_work_without_bound(
    tmp_path, monkeypatch, capsys, rule_id, when, problem, message
):
    monkeypatch.chdir(tmp_path)
    path = _rules_file(tmp_path, rule_id, when, problem)
    with pytest.raises(RuleError, match=message) as info:
        load_rules(path)
    assert str(info.value).startswith(f"{rule_id}.yaml: rule '{rule_id}'")  # file and rule
    # the whole run stops before any notebook, and says the same
    out = tmp_path / "briefs"
    assert cli.main(["run", "--out", str(out), f"rules={path}"]) == 1
    err = capsys.readouterr().err
    assert f"{rule_id}.yaml: rule '{rule_id}'" in err and "Traceback" not in err
    assert not out.exists()
    # no file was written and no command ran
    assert {p.name for p in tmp_path.iterdir()} == {path.name}
    assert not (tmp_path / "PWNED").exists()


def test_the_documented_facts_filters_and_tests_load(tmp_path):
    text = (
        '"{% if difficulty.financing.share is available and '
        "not difficulty.financing.share.significant %}"
        "{{ difficulty.financing.share | vci }}，{{ difficulty.financing.share | n }}家，"
        "{{ region['haidong'].score | v }}{{ difficulty.financing.share | label }}"
        '{% elif n > 10 %}{{ n | v }}{% else %}无{% endif %}"'
    )
    path = _rules_file(tmp_path, "ok", OK_WHEN, text.replace("{", "{{").replace("}", "}}"))
    rule = next(r for r in load_rules(path) if r.id == "ok")
    assert "region['haidong'].score | v" in rule.problem.zh


@pytest.mark.parametrize(
    "template",
    [
        "{% set x = lipsum.__globals__['os'].system('touch PWNED') %}",
        "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ facts.append(1) }}",
        "{{ range(10**12) | list }}",
    ],
)
def test_rule_texts_render_in_a_sandbox_even_if_the_load_check_were_bypassed(
    tmp_path, monkeypatch, template
):
    import jinja2
    from jinja2.exceptions import SecurityError

    monkeypatch.chdir(tmp_path)
    with pytest.raises((SecurityError, jinja2.UndefinedError)):
        render.text(Text(zh=template, en=template), {"facts": []})
    assert not (tmp_path / "PWNED").exists()


def test_conditions_are_evaluated_without_power_or_string_arithmetic():
    from simpleeval import OperatorNotDefined

    ev = _rulecheck.evaluator({"n": 5})
    assert ev.eval("n * 2 + 1 > 10") is True
    with pytest.raises(OperatorNotDefined):
        ev.eval("9 ** 9 ** 9")
    with pytest.raises(RuleError, match="multiplies text"):
        ev.eval("'a' * 99999999")


KEYS = [
    "id",
    "priority",
    "when",
    "rank_by",
    "evidence",
    "departments",
    "actions",
    "topic",
    "title",
    "problem",
    "causes",
    "enabled",
    "category",
]
WRONG = [["a", "b"], {"a": 1}, 12, None, True, "x" * 100_000]


@pytest.mark.parametrize("key", KEYS)
def test_a_rule_key_of_the_wrong_type_is_a_rule_error(tmp_path, key):
    import yaml

    for value in WRONG:
        rule = yaml.safe_load(RULE.format(rule_id="typed", when=OK_WHEN, problem=OK_TEXT))
        rule["rules"][0][key] = value
        path = tmp_path / "typed.yaml"
        path.write_text(yaml.safe_dump(rule, allow_unicode=True), encoding="utf-8")
        try:
            load_rules(path)
        except RuleError as exc:
            assert "typed.yaml" in str(exc) and len(str(exc)) < 1200, str(exc)[:300]
        # no other exception type, whatever the value


# --- YAML --------------------------------------------------------------------------


def _laughs(levels: int = 9, top: str = "region") -> str:
    """The billion-laughs file, one key: each level lists the one before nine times."""
    parts = ['&a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        parts.append(f"&a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    return f"{top}: [" + ", ".join(parts) + "]\n"


def _capped(code: str, cap_mb: int, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh Python whose address space is capped at ``cap_mb``."""
    prelude = (
        "import resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({cap_mb * MB}, {cap_mb * MB}))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "QIFANG_DEBUG": ""},
    )


def test_yaml_alias_bombs_are_refused_under_a_memory_cap(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text(_laughs(), encoding="utf-8")
    assert params.stat().st_size < 700
    rules = tmp_path / "rules.yaml"
    rules.write_text(_laughs(top="rules"), encoding="utf-8")
    coding = tmp_path / "coding.yaml"
    coding.write_text(_laughs(top="categories"), encoding="utf-8")
    instrument = tmp_path / "instrument.yaml"
    instrument.write_text(_laughs(top="forms"), encoding="utf-8")
    done = _capped(
        f"""
        from analysis import cli
        from analysis.errors import QifangError
        from analysis.ingest.instrument import load_instrument
        from analysis.measures.text import load_coding
        from analysis.writing.suggest import load_rules
        for call, path in ((load_rules, {str(rules)!r}), (load_coding, {str(coding)!r}),
                           (load_instrument, {str(instrument)!r})):
            try:
                call(path)
            except QifangError as exc:
                print(type(exc).__name__, exc)
        sys.exit(cli.main(["run", "-f", {str(params)!r}, "--out", {str(tmp_path / "out")!r}]))
        """,
        cap_mb=1500,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["RuleError", "CodingError", "InstrumentError"]
    for line, name in zip(lines, ("rules.yaml", "coding.yaml", "instrument.yaml"), strict=True):
        assert (
            f"{name}: not valid YAML (line 1, column" in line and "aliases are not allowed" in line
        )
    assert "params.yaml: not valid YAML" in done.stderr and "aliases are not allowed" in done.stderr
    assert len(done.stderr) < 1000 and "Traceback" not in done.stderr


def test_yaml_nested_too_deeply_or_too_large_is_refused(tmp_path):
    deep = tmp_path / "deep.yaml"
    deep.write_text("region: " + "[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(ParameterError, match=r"deep.yaml: not valid YAML .*nesting deeper than 50"):
        read_params_file(deep)
    big = tmp_path / "big.yaml"
    big.write_text("unit: " + "x" * 11_000_000, encoding="utf-8")
    with pytest.raises(
        ParameterError, match=r"big.yaml: 11,000,006 bytes, more than the 10,000,000"
    ):
        read_params_file(big)
    gbk = tmp_path / "gbk.yaml"
    gbk.write_bytes("unit: 工商联".encode("gbk"))
    with pytest.raises(CodingError, match=r"gbk.yaml: not UTF-8 text"):
        load_coding(gbk)
    with pytest.raises(InstrumentError, match="merge"):
        from analysis.ingest.instrument import load_instrument

        merge = tmp_path / "merge.yaml"
        merge.write_text("base: &b {x: 1}\nforms:\n  <<: *b\n", encoding="utf-8")
        try:
            load_instrument(merge)
        except InstrumentError as exc:
            assert "aliases are not allowed" in str(exc)
            raise InstrumentError("merge") from None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("region: [海东, 西宁]", r"region=\['海东', '西宁'\] is a list, not one value"),
        ("region: {a: 1}", "region={'a': 1} is a dict, not one value"),
        ("region: no", r"region=False is a yes/no, not one value .*quote it"),
        ("wave: 99999999999999999999999", "is not a whole number"),
        ("wave: '²'", "wave='²' is not a whole number"),
        ("region: " + "x" * 100_000, "is 100,000 characters long"),
    ],
)
def test_params_of_the_wrong_type_are_refused_and_not_echoed_whole(
    tmp_path, capsys, content, message
):
    path = tmp_path / "params.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ParameterError, match=message) as info:
        prepare(read_params_file(path))
    assert len(str(info.value)) < 400
    assert cli.main(["run", "-f", str(path), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert len(err) < 600 and "Traceback" not in err


# --- XLSX bombs and bounds ----------------------------------------------------------


def _workbook_with_a_huge_cell(path: Path, size: int, fill: bytes = b"a", level: int = 9) -> Path:
    """A real workbook (openpyxl's own) whose cell B2 holds ``size`` bytes of text,
    deflated: 1 GiB of one letter is 1 MB on disk."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["visit_id", "urgent_needs"])
    wb.active.append(["V1", "x"])
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(buf)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename != "xl/worksheets/sheet1.xml":
                z.writestr(info, data)
                continue
            head, tail = data.split(b"<t>x</t>", 1)
            with z.open(info.filename, "w", force_zip64=True) as f:
                f.write(head + b"<t>")
                chunk = (fill * (MB // len(fill) + 1))[:MB]
                for _ in range(size // MB):
                    f.write(chunk)
                f.write(b"</t>" + tail)
    return path


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory):
    path = _workbook_with_a_huge_cell(tmp_path_factory.mktemp("bomb") / "visits.xlsx", 1024 * MB)
    assert path.stat().st_size < 1.1 * MB
    return path


def test_an_xlsx_zip_bomb_is_refused_under_a_memory_cap(zip_bomb):
    done = _capped(
        f"""
        from analysis import cli
        sys.exit(cli.main(["validate", {str(zip_bomb)!r}]))
        """,
        cap_mb=1500,
    )
    assert done.returncode == 1, (done.stdout + done.stderr)[-2000:]
    assert (
        "visits.xlsx: its part xl/worksheets/sheet1.xml would expand from" in done.stdout
        and "1,073,742,516 bytes" in done.stdout
        and "a zip bomb?" in done.stdout
    )
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr


def test_a_run_refuses_the_zip_bomb_before_any_kernel_starts(zip_bomb, tmp_path, capsys):
    code = cli.main(["run", f"visits={zip_bomb}", "--out", str(tmp_path)])
    assert code == 1 and "zip bomb?" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_a_workbook_expanding_past_the_byte_bound_says_how_to_raise_it(tmp_path, monkeypatch):
    # hex digits compress only about 2:1, so this is no bomb: only too big for the bound
    path = _workbook_with_a_huge_cell(
        tmp_path / "big.xlsx", 6 * MB, fill=os.urandom(MB).hex().encode(), level=1
    )
    monkeypatch.setenv("QIFANG_MAX_INPUT_BYTES", "5M")
    with pytest.raises(
        InputTooLargeError, match="its parts would expand to more than 5,242,880 bytes"
    ) as info:
        load(path)
    assert "set QIFANG_MAX_INPUT_BYTES (e.g. QIFANG_MAX_INPUT_BYTES=4G)" in str(info.value)
    monkeypatch.setenv("QIFANG_MAX_INPUT_BYTES", "100M")
    with pytest.raises(ValidationError):  # past the bound: read, and checked as usual
        load(path)


def test_row_and_byte_bounds_of_every_input(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("QIFANG_MAX_INPUT_ROWS", "1000")
    with pytest.raises(
        InputTooLargeError, match=r"visits.csv: 2,994 rows, more than the bound of 1,000"
    ) as info:
        load(SAMPLE / "visits.csv")
    assert "QIFANG_MAX_INPUT_ROWS=10000000" in str(info.value)
    xlsx = tmp_path / "visits.xlsx"
    pd.read_csv(SAMPLE / "visits.csv", dtype=str).head(1500).to_excel(xlsx, index=False)
    with pytest.raises(InputTooLargeError, match="more than 1,000 rows"):
        load(xlsx)
    monkeypatch.setenv("QIFANG_MAX_INPUT_ROWS", "100000")
    monkeypatch.setenv("QIFANG_MAX_INPUT_BYTES", "100k")
    with pytest.raises(
        InputTooLargeError, match=r"requests.csv: [\d,]+ bytes, more than the bound of 102,400"
    ):
        load(SAMPLE / "requests.csv", "requests")
    monkeypatch.setenv("QIFANG_MAX_INPUT_BYTES", "lots")
    assert cli.main(["validate", str(SAMPLE / "frame.csv")]) == 1
    assert "QIFANG_MAX_INPUT_BYTES='lots' is not a size" in capsys.readouterr().err


def test_a_fifty_megabyte_cell_gets_the_cell_size_message(tmp_path, capsys):
    df = pd.read_csv(EXPORTS / "utf8_variable_names.csv", dtype=str, keep_default_na=False).head(3)
    df.loc[1, "urgent_needs"] = "融资难" * 6_000_000  # 18 million characters, 54 MB
    path = tmp_path / "fifty_megabyte_cell.csv"
    df.to_csv(path, index=False)
    assert path.stat().st_size > 50_000_000
    with pytest.raises(
        ValidationError,
        match=r":3:urgent_needs: '融资难.*an answer of 18,000,000 characters "
        r"\(the limit is 5,000\)",
    ):
        load(path)
    assert cli.main(["validate", str(path)]) == 1
    out = capsys.readouterr()
    assert "straddl" not in out.out + out.err and "Traceback" not in out.err


def test_an_xlsform_zip_bomb_is_refused(tmp_path):
    from analysis.ingest.instrument import load_instrument

    path = _workbook_with_a_huge_cell(tmp_path / "form.xlsx", 64 * MB)
    with pytest.raises(InputTooLargeError, match=r"form.xlsx: its part .*a zip bomb"):
        load_instrument(path)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 4 * 1024 * 1024  # KB: < 4 GB


def test_a_workbook_of_too_many_parts_is_refused(tmp_path):
    path = tmp_path / "parts.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        for i in range(10_001):
            z.writestr(f"xl/p{i}.xml", b"")
    with pytest.raises(InputTooLargeError, match="a workbook of 10,001 parts"):
        load(path)


def test_a_condition_that_divides_by_zero_does_not_fire(tmp_path):
    from analysis.writing.suggest import suggest
    from findings_fixture import sample_findings

    path = _rules_file(tmp_path, "zero", '"difficulty.financing.share / (n - n) > 1"', OK_TEXT)
    fired = [s.rule for s in suggest(sample_findings(), load_rules(path))]
    assert "zero" not in fired and fired  # the others still fire
