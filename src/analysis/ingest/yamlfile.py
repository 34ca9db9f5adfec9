"""The one way Qifang reads YAML a user supplies: parameters, rules, coding
dictionaries, questionnaires.

``yaml.safe_load`` already refuses ``!!python/…`` tags, but not the rest of what a
hostile or broken file can do: a 400-byte file of nested aliases (``&a``/``*a``) expands
to gigabytes, a deeply nested one exhausts the stack, a huge one fills memory. Here:

- aliases (and so merge keys ``<<: *a``) are refused: Qifang's files never need them;
- nesting deeper than :data:`MAX_DEPTH` is refused;
- a file larger than :data:`MAX_BYTES` is refused before it is read;
- every problem is the caller's typed error, naming the file and the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from analysis.errors import QifangError, clip

MAX_BYTES = 10_000_000  # a questionnaire of a thousand questions is about 0.5 MB
MAX_DEPTH = 50


class _Refused(yaml.YAMLError):
    def __init__(self, message: str, mark) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


class _SafeLoader(yaml.SafeLoader):
    """A SafeLoader without aliases and with bounded nesting."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Refused(
                f"an alias (*{clip(event.anchor, 40)}) — aliases are not allowed in Qifang's "
                "files; write the value out",
                event.start_mark,
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(
                    f"nesting deeper than {MAX_DEPTH} levels", self.peek_event().start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def loads(text: str) -> Any:
    """Parse YAML text with the same limits (raises ``yaml.YAMLError``)."""
    loader = _SafeLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def read_yaml(
    path: str | Path,
    error: type[QifangError],
    fix: str = "fix the YAML at the line shown (indentation, quotes, colons)",
    max_bytes: int = MAX_BYTES,
) -> Any:
    """The data of a YAML file, or ``error(message, fix)`` saying what is wrong where.

    Parameters
    ----------
    path : the file; its existence is the caller's to check, with its own message.
    error : the typed error to raise (``RuleError``, ``ParameterError`` …).
    fix : what to tell the user for a syntax error.
    max_bytes : larger files are refused unread.

    Examples
    --------
    >>> from analysis.errors import ParameterError
    >>> read_yaml("data/sample/README.md", ParameterError)  # doctest: +SKIP
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise error(
                f"{path.name}: {size:,} bytes, more than the {max_bytes:,} a YAML file may have",
                "check that this is the right file; YAML files of Qifang are small",
            )
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(
            f"{path.name}: not UTF-8 text (byte {exc.start})", "save the file as UTF-8"
        ) from None
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror})", "check the path") from None
    try:
        return loads(text)
    except yaml.YAMLError as exc:
        raise error(f"{path.name}: not valid YAML ({_describe(exc)})", fix) from None
    except RecursionError:
        raise error(f"{path.name}: not valid YAML (nested too deeply)", fix) from None


def _describe(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    what = getattr(exc, "message", None) or getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    return clip(f"{where}{what}" + (f" ({context})" if context else ""), 300)
