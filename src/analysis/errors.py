"""Typed errors: one base class, each subclass says what the user must do.

Every error Qifang raises on purpose derives from :class:`QifangError`. The command
line catches that base class, prints ``str(error)`` (the problem and the fix) and exits
non-zero without a traceback; the Python API raises the same objects, so a notebook
or a script can catch them by type.

Errors about input data carry where the problem is (file, row, column, value) in a
:class:`Problem`; validation collects every problem of a file in one pass and raises
them together as a :class:`ValidationError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file.

    Parameters
    ----------
    path : file the problem is in.
    row : spreadsheet row number as a user sees it (the header is row 1), or None
        when the problem concerns the whole file or a whole column.
    column : the column header as it appears in the file, or None.
    value : the offending value as read, or None.
    message : what is wrong.
    fix : what to do about it.
    severity : ``"error"`` stops a run; ``"warning"`` is reported and the run goes on.
    """

    path: str
    row: int | None
    column: str | None
    value: str | None
    message: str
    fix: str
    severity: str = "error"

    def __str__(self) -> str:
        where = ":".join(
            part for part in (Path(self.path).name, _str(self.row), self.column) if part
        )
        value = "" if self.value is None else f" {clip(self.value)!r} —"
        return f"{where}:{value} {self.message} — {self.fix}"


def _str(x: object) -> str:
    return "" if x is None else str(x)


def clip(value: object, limit: int = 80) -> str:
    """``value`` as text of at most ``limit`` characters, for quoting in a message: a
    value a user supplied may be a megabyte long, and is never echoed whole."""
    text = value if isinstance(value, str) else _short_repr(value, limit)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short_repr(value: object, limit: int) -> str:
    import reprlib

    r = reprlib.Repr()
    r.maxstring = r.maxother = limit
    r.maxlist = r.maxdict = r.maxtuple = r.maxset = 5
    r.maxlevel = 2
    return r.repr(value)


class QifangError(Exception):
    """Base class of every error Qifang raises on purpose.

    ``message`` says what went wrong, ``fix`` what the user should do.
    """

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message} — {self.fix}" if self.fix else self.message


class InputFileError(QifangError):
    """A file cannot be read as a survey export at all (missing, empty, binary,
    unknown encoding, wrong sheet)."""

    def __init__(self, path: str | Path, message: str, fix: str) -> None:
        super().__init__(f"{path}: {message}", fix)
        self.path = str(path)


class ValidationError(QifangError):
    """A file was read but its contents break the instrument's rules.

    ``problems`` holds every problem found (errors and warnings), in file order.
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        files = sorted({Path(p.path).name for p in errors})
        lines = "\n".join(f"  {p}" for p in errors[:50])
        more = f"\n  … and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(
            f"{len(errors)} problem(s) in {', '.join(files)}:\n{lines}{more}",
            "correct the file(s) (or the instrument) and run again; "
            "`qifang validate FILE` lists every problem",
        )

    def __str__(self) -> str:
        return f"{self.message}\n{self.fix}"


class InstrumentError(QifangError):
    """The questionnaire definition (YAML or XLSForm) is malformed."""


class DesignError(QifangError):
    """A survey design cannot be built or used as asked (weights, strata, domains)."""


class ParameterError(QifangError):
    """A run parameter is unknown, of the wrong type, or not a value in the data."""


class RuleError(QifangError):
    """A suggestion rule cannot be loaded (unknown finding, bad expression)."""


class FontNotFoundError(QifangError):
    """No font with Chinese glyphs is installed, so charts and PDFs would show boxes."""


class RunError(QifangError):
    """A notebook of a run failed; names the notebook and the cell."""


class OutputFolderError(QifangError):
    """An output folder or run name cannot be used: not a safe folder name, not a
    folder, a folder that is not a Qifang run, or one another run is writing."""


class InputTooLargeError(InputFileError):
    """An input is larger than the configured bounds (bytes, rows, or the uncompressed
    size of a workbook's parts); the message says how to raise them."""


class CodingError(QifangError):
    """A coding dictionary for open answers (YAML) cannot be loaded: missing file, bad
    YAML, an unknown category or key, or a keyword that is not a non-empty string."""
