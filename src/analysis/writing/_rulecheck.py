"""What a rules file may contain: checked when it loads, so a shared or uploaded rules
file can neither run code nor make the run work without bound.

A rule's *texts* are Jinja templates. A user's may use only facts (``difficulty.…``),
the documented filters (``v ci vci bounds sig n label delta contrast plain``; ``plain``
may name its kind, ``plain("driver")``), the test ``is available``,
``{% if %}`` / ``{% elif %}`` / ``{% else %}``, comparisons and ``and or not``: no
call, loop, assignment, include, arithmetic, or attribute or key that starts with
``_``. They are rendered in Jinja's immutable sandbox besides
(:func:`analysis.writing.render.sandbox`).

A rule's *condition* (``when``, ``rank_by``) is a Python expression evaluated by
simpleeval: only facts, numbers, short strings, ``+ - * /``, comparisons, ``and or
not``, ``x if c else y`` and ``abs min max``; no ``**``, no string arithmetic, no
number larger than :data:`MAX_NUMBER`. simpleeval's own limits (``MAX_POWER`` 4,000,000
and ``MAX_STRING_LENGTH`` 100,000, module globals) are not relied on: the evaluator
gets only the operators below.
"""

from __future__ import annotations

import ast
import operator

from analysis.errors import RuleError, clip

MAX_TEXT = 20_000  # characters in one rule text
MAX_CONDITION = 1_000  # characters in one condition
MAX_NODES = 300  # parts of one condition or text
MAX_NUMBER = 1e12  # largest number written in a condition
MAX_STRING = 200  # characters of a string written in a condition or text
USER_FILTERS = ("v", "ci", "vci", "bounds", "sig", "n", "label", "delta", "contrast", "plain")
USER_TESTS = ("available",)
FUNCTIONS = {"abs": abs, "min": min, "max": max}

_TEXT_HELP = (
    "a rule text may use facts, the filters v, ci, vci, bounds, sig, n, label, delta, "
    "contrast and plain (plain(\"share\") … names its kind), "
    "{% if fact is available %} … {% endif %}, and nothing else"
)
_CONDITION_HELP = (
    "write conditions like: difficulty.financing.share >= 0.3 and "
    "difficulty.financing.change.significant (facts, numbers, + - * /, comparisons, "
    "and/or/not, abs/min/max)"
)


def _mult(a, b):
    if isinstance(a, str) or isinstance(b, str):
        raise RuleError("a condition multiplies text", _CONDITION_HELP)
    return a * b


# The evaluator's whole arithmetic: nothing here can build a huge number or string.
OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: _mult,
    ast.Div: operator.truediv,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Not: operator.not_,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}

_EXPRESSION_NODES = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.BinOp,
    ast.Compare,
    ast.IfExp,
    ast.Name,
    ast.Attribute,
    ast.Constant,
    ast.Call,
    ast.Load,
    *OPERATORS,
)


def evaluator(names: dict):
    """A simpleeval evaluator of conditions over ``names``, with the operators above."""
    from simpleeval import SimpleEval

    return SimpleEval(names=names, functions=FUNCTIONS, operators=OPERATORS)


def condition_names(expression: object, where: str, field: str) -> list[str]:
    """The dotted fact names a condition uses, after checking it holds nothing else.

    Raises
    ------
    RuleError
        Naming the rule (``where``), the field and what is not allowed.
    """
    if not isinstance(expression, str | int | float) or isinstance(expression, bool):
        raise RuleError(
            f"{where}: '{field}' must be an expression written as text, not "
            f"{type(expression).__name__}",
            _CONDITION_HELP,
        )
    expression = str(expression)
    if len(expression) > MAX_CONDITION:
        raise RuleError(
            f"{where}: '{field}' is {len(expression):,} characters long "
            f"(at most {MAX_CONDITION:,})",
            _CONDITION_HELP,
        )
    try:
        tree = ast.parse(" ".join(expression.split()), mode="eval")
    except SyntaxError as exc:
        raise RuleError(
            f"{where}: '{field}' is not a valid expression: {exc.msg} at column "
            f"{exc.offset} in {clip(expression)!r}",
            _CONDITION_HELP,
        ) from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise RuleError(f"{where}: '{field}' is too long an expression", _CONDITION_HELP)
    names = []
    for node in nodes:
        refused = _refused_in_condition(node)
        if refused:
            raise RuleError(f"{where}: '{field}' {refused}", _CONDITION_HELP)
        if isinstance(node, ast.Attribute | ast.Name):
            parts, cur = [], node
            while isinstance(cur, ast.Attribute):
                parts.append(cur.attr)
                cur = cur.value
            if isinstance(cur, ast.Name):
                parts.append(cur.id)
                names.append(".".join(reversed(parts)))
    # keep only the longest chains (ast.walk also yields their prefixes)
    return [n for n in names if not any(o != n and o.startswith(n + ".") for o in names)]


def _refused_in_condition(node: ast.AST) -> str | None:
    if not isinstance(node, _EXPRESSION_NODES):
        what = {
            ast.Pow: "raises to a power (**)",
            ast.Mod: "uses %",
            ast.FloorDiv: "uses //",
            ast.Subscript: "uses [ ]",
            ast.Lambda: "defines a function",
        }.get(type(node), f"uses {type(node).__name__}")
        return f"{what}, which conditions may not"
    if isinstance(node, ast.Call):
        if not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS):
            return "calls a function that is not allowed (only abs, min, max)"
        if node.keywords or len(node.args) > 20:
            return "calls abs, min or max with keywords or too many values"
    if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
        return f"uses the attribute {clip(node.attr, 40)!r}, which starts with _"
    if isinstance(node, ast.Name) and node.id.startswith("_"):
        return f"uses the name {clip(node.id, 40)!r}, which starts with _"
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, str) and len(value) > MAX_STRING:
            return f"holds a text of {len(value):,} characters"
        if isinstance(value, int | float) and not isinstance(value, bool):
            if not abs(value) <= MAX_NUMBER:
                return f"holds the number {clip(str(value), 30)}, larger than {MAX_NUMBER:g}"
        elif not isinstance(value, str | bool | type(None)):
            return f"holds a {type(value).__name__}"
    if isinstance(node, ast.BinOp) and any(
        isinstance(side, ast.Constant) and isinstance(side.value, str)
        for side in (node.left, node.right)
    ):
        return "does arithmetic on text"
    return None


def check_text(source: str, where: str, parse) -> list[str]:
    """Check a user's rule text; return the dotted fact names it uses.

    ``parse`` is the sandbox environment's ``parse`` (syntax errors are the caller's).

    Raises
    ------
    RuleError
        Naming the rule and what the text may not use.
    """
    from jinja2 import nodes

    if len(source) > MAX_TEXT:
        raise RuleError(
            f"{where}: a text of {len(source):,} characters (at most {MAX_TEXT:,})", _TEXT_HELP
        )
    tree = parse(source)
    allowed = (
        nodes.Output,
        nodes.TemplateData,
        nodes.Const,
        nodes.Name,
        nodes.Getattr,
        nodes.Getitem,
        nodes.Filter,
        nodes.Test,
        nodes.If,
        nodes.Not,
        nodes.And,
        nodes.Or,
        nodes.Compare,
        nodes.Operand,
        nodes.CondExpr,
    )
    found = list(tree.find_all(nodes.Node))
    if len(found) > MAX_NODES:
        raise RuleError(f"{where}: a text with too many {{{{ … }}}} parts", _TEXT_HELP)
    names = []
    for node in found:
        refused = _refused_in_text(node, allowed)
        if refused:
            raise RuleError(f"{where}: {refused}, which rule texts may not", _TEXT_HELP)
        chain = fact_chain(node)
        if chain:
            names.append(chain)
    return [n for n in names if not any(o != n and o.startswith(n + ".") for o in names)]


def _refused_in_text(node, allowed) -> str | None:
    from jinja2 import nodes

    if not isinstance(node, allowed):
        what = {
            nodes.Call: "calls a function or method",
            nodes.For: "loops ({% for %})",
            nodes.Assign: "assigns ({% set %})",
            nodes.AssignBlock: "assigns ({% set %})",
            nodes.Include: "includes a file",
            nodes.Import: "imports a template",
            nodes.FromImport: "imports a template",
            nodes.Extends: "extends a template",
            nodes.Macro: "defines a macro",
            nodes.Concat: "joins texts (~)",
        }.get(type(node))
        if what is None and isinstance(node, nodes.BinExpr | nodes.UnaryExpr):
            what = f"does arithmetic ({node.operator})"  # numbers come through filters
        what = what or f"uses {type(node).__name__}"
        return f"the text {what}"
    if isinstance(node, nodes.Name) and node.ctx == "load" and node.name not in _ROOTS:
        return f"the text uses the name {clip(node.name, 40)!r} (not a fact)"
    if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
        return f"the text uses the attribute {clip(node.attr, 40)!r}, which starts with _"
    if isinstance(node, nodes.Getitem) and not (
        isinstance(node.arg, nodes.Const)
        and isinstance(node.arg.value, str)
        and not node.arg.value.startswith("_")
    ):
        return "the text uses [ ] with something other than a plain name"
    if isinstance(node, nodes.Filter) and (
        node.name not in USER_FILTERS
        or node.kwargs
        or node.dyn_args
        or node.dyn_kwargs
        or (node.args and not _plain_kind(node))
    ):
        return f"the text uses the filter {clip(node.name, 40)!r} (or gives it arguments)"
    if isinstance(node, nodes.Test) and node.name not in USER_TESTS:
        return f"the text uses the test {clip(node.name, 40)!r}"
    if (
        isinstance(node, nodes.Const)
        and isinstance(node.value, str)
        and len(node.value) > MAX_STRING
    ):
        return f"the text holds a string of {len(node.value):,} characters in {{{{ }}}}"
    return None


def _plain_kind(node) -> bool:
    """``plain("share")``: the one filter argument allowed, a kind of plain phrase."""
    from jinja2 import nodes

    from analysis.writing.plain import KINDS

    return (
        node.name == "plain"
        and len(node.args) == 1
        and isinstance(node.args[0], nodes.Const)
        and node.args[0].value in KINDS
    )


def fact_chain(node) -> str | None:
    """``difficulty.financing.share`` for ``difficulty.financing.share`` or
    ``difficulty['financing'].share``; None for anything else."""
    from jinja2 import nodes

    if not isinstance(node, nodes.Getattr | nodes.Getitem):
        return None
    parts, cur = [], node
    while isinstance(cur, nodes.Getattr | nodes.Getitem):
        if isinstance(cur, nodes.Getattr):
            parts.append(cur.attr)
        elif isinstance(cur.arg, nodes.Const):
            parts.append(str(cur.arg.value))
        else:
            return None
        cur = cur.node
    if isinstance(cur, nodes.Name) and cur.name in _ROOTS:
        return ".".join([cur.name, *reversed(parts)])
    return None


_ROOTS = frozenset(
    {
        "difficulty",
        "index",
        "item",
        "driver",
        "policy",
        "region",
        "open",
        "requests",
        "outlook",
        "n",
        "population",
    }
)
