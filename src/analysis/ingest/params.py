"""The parameters of a run: one declared contract, checked before anything runs.

Papermill itself only warns about a parameter a notebook does not declare; here an
unknown name, a wrong type, or a region, wave, industry or size that is not in the
data stops the run with a :class:`~analysis.errors.ParameterError` that lists the valid
values. Every notebook's ``parameters`` cell declares exactly these names with these
defaults (a test checks it), so a notebook opened in JupyterLab runs as the pipeline
runs it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from analysis.errors import ParameterError, clip
from analysis.ingest.yamlfile import MAX_BYTES, read_yaml

ROOT = Path(__file__).resolve().parents[3]
MAX_TEXT = 4096  # characters in one parameter's value (a long path fits)


@dataclass(frozen=True)
class Params:
    """Run parameters. ``None`` means "all" for the population filters.

    Paths may be relative to the project folder; :func:`check` makes them absolute.
    """

    region: str | None = None  # 市州 (name or code); None: the whole province
    wave: int | None = None  # survey wave (year); None: the latest in the data
    compare_wave: int | None = None  # wave to compare with; None: the one before
    industry: str | None = None  # GB/T 4754 section (code or name); None: all
    size: str | None = None  # size class (大型/中型/小型/微型 or code); None: all
    lang: str = "zh"  # language of the brief and drafts: zh or en
    min_cell: int = 10  # cells with fewer respondents are suppressed
    confidence: float = 0.95  # confidence level of every interval
    overdue_days: int = 60  # a request open longer than this is overdue
    unit: str = ""  # the issuing unit named on drafts; empty: the office profile's
    office: str = "data/office/qinghai.yaml"  # office profile: unit, 期号, departments, documents
    as_of: str = ""  # cut-off date of the ledger (YYYY-MM-DD); empty: the wave's last date
    visits: str = "data/sample/visits.csv"  # visits export (CSV or XLSX)
    requests: str = "data/sample/requests.csv"  # requests ledger; empty: none
    frame: str = "data/sample/frame.csv"  # registered firms per wave x region x size
    instrument: str = "data/instrument/enterprise-visit.yaml"  # questionnaire
    rules: str = ""  # extra suggestion rules (YAML); empty: the defaults only
    coding: str = ""  # extra open-answer coding dictionary (YAML); empty: defaults

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_TYPES = {f.name: f.type for f in fields(Params)}
PATHS = ("visits", "requests", "frame", "instrument", "rules", "coding", "office")
_OPTIONAL_PATHS = ("requests", "rules", "coding")
_MAY_BE_EMPTY = (*_OPTIONAL_PATHS, "unit", "as_of")


def names() -> tuple[str, ...]:
    return tuple(f.name for f in fields(Params))


def collect(namespace: dict[str, Any]) -> dict[str, Any]:
    """The contract's parameters out of a notebook's namespace (``globals()``)."""
    return {name: namespace[name] for name in names() if name in namespace}


def read_params_file(path: str | Path) -> dict[str, Any]:
    """Parameters from a YAML file (``name: value`` lines)."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"parameters file not found: {path}", "check the path given with -f")
    try:
        data = read_yaml(path, ParameterError, "write one name: value per line, e.g. region: 海东")
    except ParameterError:
        _full_width_colon(path)  # the likelier cause, named
        raise
    data = {} if data is None else data
    if not isinstance(data, dict):
        _full_width_colon(path)
        raise ParameterError(f"{path}: expected 'name: value' lines", "see README: parameters")
    return data


def _full_width_colon(path: Path) -> None:
    """Raise when a line writes its colon full-width (``region：海东市``), as Chinese
    input methods do: the file then is one string, or not YAML at all."""
    if path.stat().st_size > MAX_BYTES:
        return
    text = path.read_text(encoding="utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(r"^\s*[A-Za-z_]+\s*：", line):
            raise ParameterError(
                f"{path}: line {number} ({line.strip()!r}) writes the colon as '：' (full-width)",
                "write each line as name: value with an ASCII colon and a space, e.g. "
                "region: 海东市",
            )


def parse_assignments(items: list[str]) -> dict[str, str]:
    """``["region=海东市", "wave=2025"]`` → a dict; values stay text until checked."""
    out = {}
    for item in items:
        if "=" not in item:
            raise ParameterError(
                f"'{item}' is not name=value",
                "write parameters as name=value, e.g. region=海东市 wave=2025",
            )
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def _shown(value: Any) -> str:
    """A value as quoted in a message: at most 80 characters, whatever was given."""
    return repr(clip(value)) if isinstance(value, str) else clip(value)


def _convert(name: str, value: Any) -> Any:
    kind = _TYPES[name]
    optional = "None" in str(kind)
    # the type first: a list, a mapping or a yes/no is never turned into text
    if isinstance(value, bool) or not isinstance(value, str | int | float | type(None)):
        what = "yes/no" if isinstance(value, bool) else type(value).__name__
        raise ParameterError(
            f"{name}={_shown(value)} is a {what}, not one value",
            f"write {name} as one value, e.g. {name}: {_example(name)}"
            + (" (quote it: 'yes')" if isinstance(value, bool) else ""),
        )
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "null")):
        if optional or name in _MAY_BE_EMPTY:
            return None if optional else ""
        raise ParameterError(f"{name} cannot be empty", f"give a value for {name}")
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise ParameterError(
            f"{name}={_shown(value)} is {len(text):,} characters long (at most {MAX_TEXT:,})",
            f"give {name} a short value, e.g. {name}={_example(name)}",
        )
    if "int" in str(kind):
        digits = text.lstrip("-")
        if (
            not (isinstance(value, int) or (digits.isdecimal() and len(digits) <= 15))
            or abs(int(text)) >= 10**15
        ):
            raise ParameterError(
                f"{name}={_shown(value)} is not a whole number",
                f"write {name} as a whole number, e.g. {name}=2025",
            )
        return int(text)
    if "float" in str(kind):
        try:
            return float(text)
        except ValueError:
            raise ParameterError(
                f"{name}={_shown(value)} is not a number",
                f"write {name} as a number, e.g. {name}=0.95",
            ) from None
    if not isinstance(value, str | int | float):
        raise ParameterError(f"{name}={_shown(value)} is not text", f"write {name} as text")
    return text


def _example(name: str) -> str:
    examples = {"region": "海东市", "wave": "2025", "lang": "zh"}
    return examples.get(name, str(getattr(Params(), name)))


def check(raw: dict[str, Any] | None = None, root: str | Path = ROOT) -> Params:
    """Check names, types and ranges of run parameters (not yet against the data).

    Parameters
    ----------
    raw : parameter values, as typed YAML values or as text from the command line.
    root : the folder relative paths are taken from.

    Returns
    -------
    Params
        With defaults filled in and paths made absolute.

    Raises
    ------
    ParameterError
        An unknown name (with the closest valid one), a wrong type, a value out of
        range, or an input file that does not exist.

    Examples
    --------
    >>> check({"wave": "2025", "lang": "zh"}).wave
    2025
    """
    raw = dict(raw or {})
    valid = names()
    unknown = [k for k in raw if k not in valid]
    if unknown:
        hints = []
        for k in unknown:
            close = difflib.get_close_matches(str(k)[:100], valid, n=1)
            hints.append(f"{_shown(k)}" + (f" (did you mean '{close[0]}'?)" if close else ""))
        raise ParameterError(
            f"unknown parameter {', '.join(hints)}", f"valid parameters: {', '.join(valid)}"
        )
    values = {k: _convert(k, v) for k, v in raw.items()}
    p = replace(Params(), **values)
    if p.lang not in ("zh", "en"):
        raise ParameterError(f"lang={_shown(p.lang)} is not supported", "use lang=zh or lang=en")
    if p.min_cell < 1:
        raise ParameterError(
            f"min_cell={p.min_cell} must be at least 1",
            "use the office's disclosure rule, e.g. min_cell=10",
        )
    if not 0.5 <= p.confidence < 1:
        raise ParameterError(
            f"confidence={p.confidence} must be between 0.5 and 1", "use e.g. confidence=0.95"
        )
    if p.as_of:
        import datetime as _dt

        try:
            p = replace(p, as_of=_dt.date.fromisoformat(p.as_of).isoformat())
        except ValueError:
            raise ParameterError(
                f"as_of={p.as_of!r} is not a date", "write the cut-off date as YYYY-MM-DD"
            ) from None
    if p.overdue_days < 1:
        raise ParameterError(
            f"overdue_days={p.overdue_days} must be positive", "use e.g. overdue_days=60"
        )
    root = Path(root)
    paths = {}
    for name in PATHS:
        value = getattr(p, name)
        if not value:
            continue
        path = Path(value)
        path = path if path.is_absolute() else root / path
        if not path.is_file():
            raise ParameterError(
                f"{name}: file not found: {path}",
                f"give the path of the {name} file, e.g. {name}=data/raw/…",
            )
        paths[name] = str(path)
    return replace(p, **paths)


def against_data(p: Params, visits, instrument) -> Params:
    """Check the population filters against the loaded visits and normalise them to
    codes (a region may be given as 海东市, 海东, Haidong or haidong).

    Raises
    ------
    ParameterError
        A value that is not in the data, listing the values that are.
    """
    from analysis.ingest.load import normalize

    waves = sorted(int(w) for w in visits["wave"].dropna().unique())
    wave = p.wave if p.wave is not None else waves[-1]
    if wave not in waves:
        raise ParameterError(
            f"wave={wave} is not in the data", f"waves in the data: {', '.join(map(str, waves))}"
        )
    earlier = [w for w in waves if w < wave]
    compare = p.compare_wave if p.compare_wave is not None else (earlier[-1] if earlier else None)
    if compare is not None and (compare not in waves or compare == wave):
        others = [w for w in waves if w != wave]
        raise ParameterError(
            f"compare_wave={compare} is not another wave in the data",
            f"use one of: {', '.join(map(str, others))}"
            if others
            else "the data has one wave only; leave compare_wave empty",
        )
    out = {"wave": wave, "compare_wave": compare}
    in_wave = visits[visits["wave"] == wave]
    for name in ("region", "industry", "size"):
        value = getattr(p, name)
        if value is None:
            continue
        q = instrument.question(name)
        present = set(in_wave[name].dropna().astype(str).unique())
        match = None
        for c in q.choices:
            if normalize(value) in {normalize(k) for k in c.names}:
                match = c.value
        if match is None or str(match) not in present:
            listed = "、".join(c.label.zh for c in q.choices if str(c.value) in present)
            raise ParameterError(
                f"{name}={_shown(value)} is not in the data of wave {wave}",
                f"{name} values in that wave: {listed}",
            )
        out[name] = match
    return replace(p, **out)
