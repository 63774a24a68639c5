"""Text -> surface syntax tree. The grammar is grammar.lark; this module only
builds `syntax` nodes and turns lark's exceptions into PaxError with a span."""
from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

import lark
from lark import Lark, Token, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from lark.lexer import PatternStr
from lark.visitors import Transformer_NonRecursive

from paxcheck.errors import PaxError, Span, read_input
from paxcheck.lang import syntax as S

_GRAMMAR = Path(__file__).with_name("grammar.lark")


def load_grammar(path: Path) -> Lark:
    """An LALR parser for the grammar file at `path`. Building the tables
    takes a quarter of a second, most of a small command's start-up, so
    they are cached beside the grammar, as Python caches bytecode: in
    `__pycache__`, keyed by the grammar's hash (lark checks it on load),
    never in a shared temporary directory. No cache where that folder
    cannot be written."""
    cache_dir = path.parent / "__pycache__"
    cache: str | bool = False
    try:
        cache_dir.mkdir(exist_ok=True)
        if os.access(cache_dir, os.W_OK):
            cache = str(cache_dir / f"{path.stem}.lark-{lark.__version__}.cache")
    except OSError:
        pass
    return Lark(path.read_text(encoding="utf-8"), parser="lalr", propagate_positions=True,
                maybe_placeholders=True, cache=cache)


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return load_grammar(_GRAMMAR)


def _describe_terminals(names: set[str], parser: Lark | None = None) -> str:
    parser = parser or _parser()
    words: set[str] = set()
    for name in names:
        if name == "$END":
            words.add("end of file")
            continue
        try:
            term = parser.get_terminal(name)
        except KeyError:
            words.add(name)
            continue
        if isinstance(term.pattern, PatternStr):
            words.add(f"'{term.pattern.value}'")
        elif name in ("NAME", "ID"):
            words.add("a name")
        elif name == "CMP_OP":
            words.add("a comparison (= != < <= > >=)")
        else:
            words.add(name.lower())
    return ", ".join(sorted(words))


@lru_cache(maxsize=1)
def _keywords() -> frozenset[str]:
    """The grammar's word-like literals ('sort', 'forall', 'none', ...)."""
    name = _parser().get_terminal("NAME").pattern.to_regexp()
    return frozenset(t.pattern.value for t in _parser().terminals
                     if isinstance(t.pattern, PatternStr) and re.fullmatch(name, t.pattern.value))


class SpanBuilder(Transformer_NonRecursive):
    """A lark transformer that knows its file: spans of rules and tokens.
    Both front ends (`.pax` here, `.pyv` in pyv.py) build on it."""

    def __init__(self, file: str) -> None:
        super().__init__()
        self.file = file

    def _span(self, meta) -> Span:
        if getattr(meta, "empty", True):
            return Span(self.file, 0, 0, 0, 0)
        return Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tok(self, tok: Token) -> Span:
        line, col = tok.line or 0, tok.column or 0
        return Span(self.file, line, col, tok.end_line or line, tok.end_column or col + len(tok))


class _Builder(SpanBuilder):
    """Lark's tree to syntax nodes, bottom up without recursion (a formula
    may be deep); nesting beyond MAX_NESTING is refused after the build."""

    def NAME(self, tok: Token) -> Token:
        # The contextual lexer reads a keyword as a NAME where only a name can
        # follow (`sort forall`, `individual none: node`); such a declaration
        # could never be mentioned, since formulas read the word as the keyword.
        if str(tok) in _keywords():
            raise PaxError(f"syntax error: '{tok}' is a reserved word, not a name",
                           self._tok(tok), expected="a name that is not a keyword")
        return tok

    # ---- declarations
    def mutability(self, items):
        return str(items[0])

    def property_kind(self, items):
        return str(items[0])

    def quantifier(self, items):
        return str(items[0])

    @v_args(meta=True)
    def start(self, meta, decls):
        return tuple(decls)

    @v_args(meta=True)
    def sort_decl(self, meta, items):
        ordered, name = items
        return S.SortDeclS(str(name), ordered is not None, self._span(meta))

    @v_args(meta=True)
    def sortref(self, meta, items):
        name, opt = items
        return S.SortRefS(str(name), opt is not None, self._span(meta))

    @v_args(meta=True)
    def param(self, meta, items):
        first, opt, sort = items
        if sort is None:  # bare sort
            return S.ParamS(None, S.SortRefS(str(first), opt is not None, self._tok(first)),
                            self._span(meta))
        if opt is not None:
            raise PaxError("a parameter name cannot carry '?'", self._tok(opt),
                           expected="'name: sort?'")
        return S.ParamS(str(first), sort, self._span(meta))

    def params(self, items):
        return tuple(items)

    @v_args(meta=True)
    def relation_decl(self, meta, items):
        mut, name, params = items
        return S.SymbolDeclS("relation", str(name), params or (), None, str(mut) == "mutable",
                             False, None, self._span(meta))

    @v_args(meta=True)
    def message_decl(self, meta, items):
        name, params, sender = items
        return S.SymbolDeclS("relation", str(name), params or (), None, True, True,
                             str(sender) if sender is not None else None, self._span(meta),
                             self._tok(sender) if sender is not None else None)

    @v_args(meta=True)
    def function_decl(self, meta, items):
        mut, name, params, result = items
        return S.SymbolDeclS("function", str(name), params or (), result, str(mut) == "mutable",
                             False, None, self._span(meta))

    @v_args(meta=True)
    def individual_decl(self, meta, items):
        mut, name, result = items
        return S.SymbolDeclS("individual", str(name), (), result, str(mut) == "mutable",
                             False, None, self._span(meta))

    @v_args(meta=True)
    def binder_group(self, meta, items):
        *names, sort = items
        return tuple(S.BinderS(str(n), sort, self._tok(n)) for n in names)

    def binders(self, groups):
        return tuple(b for g in groups for b in g)

    @v_args(meta=True)
    def axiom_decl(self, meta, items):
        name, formula = items
        return S.AxiomDeclS(str(name), formula, self._span(meta))

    @v_args(meta=True)
    def definition_decl(self, meta, items):
        name, binders, body = items
        return S.DefinitionDeclS(str(name), binders or (), body, self._span(meta))

    @v_args(meta=True)
    def init_decl(self, meta, items):
        return S.InitDeclS(items[0], self._span(meta))

    @v_args(meta=True)
    def action_decl(self, meta, items):
        name, binders, actor, body = items
        return S.ActionDeclS(str(name), binders or (), str(actor) if actor is not None else None,
                             self._tok(actor) if actor is not None else None, body,
                             self._span(meta))

    @v_args(meta=True)
    def property_decl(self, meta, items):
        kind, name, formula = items
        return S.PropertyDeclS(str(kind), str(name), formula, self._span(meta))

    @v_args(meta=True)
    def liveness_decl(self, meta, items):
        name, formula = items
        return S.LivenessDeclS(str(name), formula, self._span(meta))

    def fairness_kind(self, items):
        return str(items[0])

    @v_args(meta=True)
    def fairness_decl(self, meta, items):
        name, kind, binders, *refs = items
        return S.FairnessDeclS(str(name), kind, binders or (), tuple(refs), self._span(meta))

    @v_args(meta=True)
    def action_ref(self, meta, items):
        name, args = items
        return S.ActionRefS(str(name), args, self._span(meta))

    def ref_args(self, items):
        return tuple(str(a) for a in items)

    # ---- statements
    def block(self, items):
        return tuple(items)

    @v_args(meta=True)
    def require_stmt(self, meta, items):
        return S.RequireS(items[0], self._span(meta))

    @v_args(meta=True)
    def assign_stmt(self, meta, items):
        lhs, rhs = items
        return S.AssignS(lhs, rhs, self._span(meta))

    @v_args(meta=True)
    def havoc_stmt(self, meta, items):
        return S.HavocS(items[0], self._span(meta))

    @v_args(meta=True)
    def if_stmt(self, meta, items):
        cond, then, els = items
        if els is None:
            els = ()
        elif isinstance(els, S.IfS):
            els = (els,)
        return S.IfS(cond, then, els, self._span(meta))

    @v_args(meta=True)
    def lhs(self, meta, items):
        name, args = items
        return S.LhsS(str(name), args or (), self._span(meta))

    def args(self, items):
        return tuple(items)

    # ---- expressions
    @v_args(meta=True)
    def iff(self, meta, items):
        return S.BinOpS("<->", items[0], items[1], self._span(meta))

    @v_args(meta=True)
    def implies(self, meta, items):
        return S.BinOpS("->", items[0], items[1], self._span(meta))

    @v_args(meta=True)
    def or_(self, meta, items):
        return self._chain("|", meta, items)

    @v_args(meta=True)
    def and_(self, meta, items):
        return self._chain("&", meta, items)

    def _chain(self, op: str, meta, items) -> S.ChainS:
        # the grammar nests a chain to the left: extend the left chain's list
        # (linear in the chain's length) under the wider span
        left, right = items
        if isinstance(left, S.ChainS) and left.op == op:
            left.items.append(right)
            return S.ChainS(op, left.items, self._span(meta))
        return S.ChainS(op, [left, right], self._span(meta))

    @v_args(meta=True)
    def leads_to(self, meta, items):
        return S.TemporalS("~>", (items[0], items[1]), self._span(meta))

    @v_args(meta=True)
    def always_(self, meta, items):
        return S.TemporalS("always", (items[0],), self._span(meta))

    @v_args(meta=True)
    def eventually_(self, meta, items):
        return S.TemporalS("eventually", (items[0],), self._span(meta))

    @v_args(meta=True)
    def not_(self, meta, items):
        return S.NotS(items[0], self._span(meta))

    @v_args(meta=True)
    def quant(self, meta, items):
        kind, binders, body = items
        return S.QuantS(str(kind), binders, body, self._span(meta))

    @v_args(meta=True)
    def compare(self, meta, items):
        left, op, right = items
        return S.CompareS(str(op), left, right, self._span(meta))

    @v_args(meta=True)
    def name(self, meta, items):
        return S.NameS(str(items[0]), self._span(meta))

    @v_args(meta=True)
    def call(self, meta, items):
        name, args = items
        return S.CallS(str(name), args or (), self._span(meta))

    @v_args(meta=True)
    def old(self, meta, items):
        return S.OldS(items[0], self._span(meta))

    @v_args(meta=True)
    def true(self, meta, items):
        return S.BoolS(True, self._span(meta))

    @v_args(meta=True)
    def false(self, meta, items):
        return S.BoolS(False, self._span(meta))

    @v_args(meta=True)
    def none(self, meta, items):
        return S.NoneS(self._span(meta))


def parse_text(text: str, file: str = "<string>") -> S.ModuleS:
    """Parse spec text into the surface syntax tree (errors with file:line:col)."""
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text, file) from None
    try:
        decls = _Builder(file).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, PaxError):
            err = exc.orig_exc
            raise PaxError(err.message, err.span, err.expected, text) from None
        raise
    _check_nesting(decls, text)
    return S.ModuleS(file, text, decls)


# Formulas and statements nest at most this deep (a chain `a & b & ...` of
# any length is one level). Every later stage (type checking, grounding, the
# evaluator, the Z3 encoders, code generation) walks the tree recursively;
# this bound keeps each of them far from Python's recursion limit and from
# CPython's limits on generated code (100 levels of indentation, 200
# nested parentheses).
MAX_NESTING = 48


def _check_nesting(decls: tuple, text: str) -> None:
    """Refuse, at its position, the first syntax node nested deeper than
    MAX_NESTING; iterative, so any depth is measured safely."""
    stack: list[tuple[object, int]] = [(d, 0) for d in decls]
    while stack:
        node, depth = stack.pop()
        counts = isinstance(node, _NESTING)
        if counts:
            depth += 1
            if depth > MAX_NESTING:
                span = node.span
                raise PaxError(f"nested too deeply: more than {MAX_NESTING} levels of formulas "
                               f"and statements", span,
                               f"at most {MAX_NESTING} levels (a chain a & b & c ... "
                               f"counts once); split it with definitions", text)
        for name in getattr(node, "__dataclass_fields__", ()):
            value = getattr(node, name)
            if isinstance(value, (tuple, list)):
                stack.extend((v, depth) for v in value if hasattr(v, "__dataclass_fields__"))
            elif hasattr(value, "__dataclass_fields__") and not isinstance(value, Span):
                stack.append((value, depth))


_NESTING = (S.NotS, S.ChainS, S.BinOpS, S.CompareS, S.QuantS, S.CallS, S.OldS, S.IfS,
            S.TemporalS)


def parse_file(path: str | Path) -> S.ModuleS:
    """Parse a spec file into the surface syntax tree."""
    return parse_text(read_input(path, "spec"), str(path))


def _syntax_error(exc: UnexpectedInput, text: str, file: str,
                  parser: Lark | None = None) -> PaxError:
    """A lark error as a PaxError at its position, with what could come
    there instead (`parser`: the grammar that failed, .pax's by default)."""
    parser = parser or _parser()
    line, col = exc.line, exc.column
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        if tok.type == "$END":
            what = "unexpected end of file"
            if tok.end_line:  # lark gives $END the position of the last token: point just past it
                line, col = tok.end_line, tok.end_column
            else:
                lines = text.splitlines() or [""]
                line, col = len(lines), len(lines[-1]) + 1
            width = 1
        else:
            what = f"unexpected {_token_words(tok)}"
            width = len(str(tok)) or 1
        start = len(text) if tok.type == "$END" else tok.start_pos
        expected = _describe_terminals(_acceptable(parser, text, start, exc.expected), parser)
    elif isinstance(exc, UnexpectedCharacters):
        ch = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else "?"
        what = f"unexpected character {ch!r}"
        width = 1
        allowed = _acceptable(parser, text, exc.pos_in_stream, exc.allowed or ())
        expected = _describe_terminals(allowed, parser) if allowed else None
    elif isinstance(exc, UnexpectedEOF):
        lines = text.splitlines() or [""]
        line, col = len(lines), len(lines[-1]) + 1
        what, width = "unexpected end of file", 1
        expected = _describe_terminals(set(exc.expected), parser)
    else:  # pragma: no cover - lark has no other kinds
        what, width, expected = str(exc), 1, None
    if line is None or line < 1:
        line, col = 1, 1
    hint = _hint(text, line, col)
    if hint is not None:
        what, expected = f"{what}: {hint[0]}", hint[1]
    return PaxError(f"syntax error: {what}", Span(file, line, col, line, col + width),
                    expected=expected, source=text)


# The first mistakes of people who write C, Python or TLA+ (the character
# sequence at the error, what to say, what to write instead).
_HABITS = (
    ("==", "there is no '=='", "'=' for equality ('!=' for its negation)"),
    ("&&", "there is no '&&'", "'&' for and"),
    ("||", "there is no '||'", "'|' for or"),
    ("//", "comments start with '#'", "'# a comment'"),
    ("/*", "comments start with '#'", "'# a comment' on each line"),
    ("/\\", "there is no '/\\'", "'&' for and"),
    ("\\/", "there is no '\\/'", "'|' for or"),
)


def _hint(text: str, line: int, col: int) -> tuple[str, str] | None:
    """What to write instead, when the error sits at a habit of another
    language: `==`, `&&`, `||`, `//` comments, `:=` in a guard, a symbol
    declared with no parentheses."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return None
    src = lines[line - 1]
    at = src[col - 1:]
    for seq, what, instead in _HABITS:
        if at.startswith(seq) or (col > 1 and src[col - 2:].startswith(seq)):
            return what, instead
    if at.startswith(":=") and re.match(r"\s*(require|if|else\s+if)\b", src):
        return ("':=' is an update, a statement of its own; a guard compares with '='",
                "require x = y, then x := y on a line of its own")
    before = "\n".join(lines[:line - 1] + [src[:col - 1]]).rstrip()
    m = re.search(r"\b((?:(?:im)?mutable\s+)?(relation|message)\s+[A-Za-z_]\w*)$", before)
    if m:
        return (f"a {m.group(2)} with no arguments is declared with '()'", f"{m.group(1)}()")
    return None


def _acceptable(parser: Lark, text: str, pos: int, fallback) -> set[str]:
    """The terminals that can really come at `pos`. LALR merges the lookaheads
    of similar states, and lark reports the state reached after reducing on the
    bad token, so its own list can both name tokens that cannot follow
    (`action` inside a parameter list) and miss ones that can (`&` after
    `require true`). Re-parsing the prefix and trying each token is exact."""
    try:
        interactive = parser.parse_interactive(text[:pos])
        interactive.exhaust_lexer()
        accepted = set(interactive.accepts())
    except UnexpectedInput:
        accepted = set()
    return accepted or set(fallback)


def _token_words(tok: Token) -> str:
    if tok.type in ("NAME", "ID"):
        return f"name '{tok}'"
    return f"'{tok}'"
