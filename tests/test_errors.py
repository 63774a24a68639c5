"""Bad specs and bad models become a PaxError with the exact message and the
position of the culprit, never a traceback; good specs give the expected IR."""
from __future__ import annotations

from pathlib import Path

import pytest

from paxcheck.config.model import load_model
from paxcheck.errors import PaxError
from paxcheck.lang import ir
from paxcheck.lang.typecheck import load_spec_text

# A minimal valid spec; each bad case appends a few lines to it.
BASE = """\
sort node
ordered sort ballot
sort value
immutable relation member(n: node, q: node)
mutable relation voted(n: node, b: ballot)
mutable function max_bal(n: node): ballot?
mutable individual leader: node
message msg(src: node, b: ballot) from src
init {
  voted(N, B) := false
  max_bal(N) := none
}
action vote(n: node, b: ballot) by n {
  require max_bal(n) < b
  voted(n, b) := true
}
"""
FIRST = BASE.count("\n") + 1  # line number of the first appended line


def spec_error(text: str) -> PaxError:
    with pytest.raises(PaxError) as info:
        load_spec_text(text, "t.pax")
    return info.value


def bad(extra: str, message: str, line: int, col: int, end_col: int | None = None,
        expected: str | None = None) -> PaxError:
    """Append `extra` to BASE; `line` counts from the first appended line (1)."""
    err = spec_error(BASE + extra)
    assert err.message == message
    assert (err.span.file, err.span.line, err.span.col) == ("t.pax", FIRST + line - 1, col)
    if end_col is not None:
        assert (err.span.end_line, err.span.end_col) == (FIRST + line - 1, end_col)
    if expected is not None:
        assert err.expected == expected
    return err


def test_base_spec_is_valid():
    assert FIRST == 17
    spec = load_spec_text(BASE, "t.pax")
    assert [a.name for a in spec.actions] == ["vote"]


# ---- syntax errors ---------------------------------------------------------
def test_missing_close_paren_at_end_of_file():
    bad("safety s: forall n: node. voted(n, n\n",
        "syntax error: unexpected end of file", 1, 37, 38,
        expected="'&', '(', ')', ',', '->', '<->', '|', '~>', a comparison (= != < <= > >=)")


def test_missing_close_paren_in_parameters():
    # only what can follow a parameter sort; not the declaration keywords that
    # LALR lookahead merging would add ('action', 'sort', '.', ...)
    bad("action a(n: node {\n}\n", "syntax error: unexpected '{'", 1, 18, 19,
        expected="')', ',', '?'")


def test_unexpected_token_after_binders():
    bad("safety s: forall n: node voted(n, n)\n", "syntax error: unexpected name 'voted'",
        1, 26, 31, expected="',', '.', '?'")


def test_bad_character_in_formula():
    err = bad("safety s: forall n: node. $voted(n, n)\n",
              "syntax error: unexpected character '$'", 1, 27, 28)
    assert err.expected == ("'!', '(', 'always', 'eventually', 'exists', 'false', 'forall', "
                            "'none', 'old', 'true', "
                            "a name")


def test_bad_character_after_a_complete_formula():
    err = bad("safety s: true @\n", "syntax error: unexpected character '@'", 1, 16, 17)
    for word in ("'&'", "'|'", "'->'", "'<->'", "'action'", "'safety'", "end of file"):
        assert word in err.expected
    assert "'}'" not in err.expected and "a name" not in err.expected


def test_unexpected_end_of_file_in_a_block():
    err = bad("action a(n: node) {\n  require true\n", "syntax error: unexpected end of file",
              2, 15, 16)
    for word in ("'}'", "'require'", "'if'", "'&'", "a name"):
        assert word in err.expected


def test_end_of_file_points_past_the_last_token_not_a_trailing_comment():
    bad("safety s: voted(\n\n# trailing comment\n", "syntax error: unexpected end of file",
        1, 17, 18)


def test_double_semicolon():
    bad("action a(n: node) {\n  leader := n;;\n}\n", "syntax error: unexpected ';'", 2, 15, 16,
        expected="'if', 'require', '}', a name")


# The first mistakes of people coming from C, Python or TLA+: the error says
# what to write instead. Columns: the caret sits where the parser fails
# (the second character of `==`, `&&`, `||`; the first of `//`, `/\\`).
@pytest.mark.parametrize("extra, message, line, col, expected", [
    ("safety s: forall n: node. voted(n, n) == voted(n, n)\n",
     "syntax error: unexpected '=': there is no '=='", 1, 40,
     "'=' for equality ('!=' for its negation)"),
    ("safety s: forall n: node, b: ballot. voted(n, b) && max_bal(n) = b\n",
     "syntax error: unexpected '&': there is no '&&'", 1, 51, "'&' for and"),
    ("safety s: forall n: node, b: ballot. voted(n, b) || max_bal(n) = b\n",
     "syntax error: unexpected '|': there is no '||'", 1, 51, "'|' for or"),
    ("// a comment\n", "syntax error: unexpected character '/': comments start with '#'", 1, 1,
     "'# a comment'"),
    ("safety s: forall n: node, b: ballot. voted(n, b) /\\ max_bal(n) = b\n",
     "syntax error: unexpected character '/': there is no '/\\'", 1, 50, "'&' for and"),
    ("action a(n: node) {\n  require leader := n\n}\n",
     "syntax error: unexpected ':=': ':=' is an update, a statement of its own; a guard "
     "compares with '='", 2, 18, "require x = y, then x := y on a line of its own"),
    ("mutable relation flag\naction b() {\n  flag() := true\n}\n",
     "syntax error: unexpected 'action': a relation with no arguments is declared with '()'",
     2, 1, "mutable relation flag()"),
])
def test_habits_of_other_languages_say_what_to_write(extra, message, line, col, expected):
    bad(extra, message, line, col, expected=expected)


@pytest.mark.parametrize("extra, word, col", [
    ("sort forall\n", "forall", 6),
    ("action sort() {\n}\n", "sort", 8),
    ("mutable individual none: node\n", "none", 20),
    ("action a(from: node) {\n  leader := from\n}\n", "from", 10),
])
def test_keywords_are_reserved(extra, word, col):
    bad(extra, f"syntax error: '{word}' is a reserved word, not a name", 1, col, col + len(word),
        expected="a name that is not a keyword")


def test_parameter_name_with_question_mark():
    bad("mutable relation r(n?: node)\n", "a parameter name cannot carry '?'", 1, 21, 22,
        expected="'name: sort?'")


def test_crlf_line_endings_keep_positions():
    err = spec_error(BASE.replace("\n", "\r\n") + "safety s:\r\n  votd\r\n")
    assert err.message == "unknown name 'votd'"
    assert (err.span.line, err.span.col) == (FIRST + 1, 3)


# ---- names and sorts -------------------------------------------------------
def test_unknown_sort_in_declaration():
    bad("mutable relation r(n: nod)\n", "unknown sort 'nod'", 1, 23, 26,
        expected="a declared sort ('ballot', 'node', 'value')")


def test_unknown_sort_in_binder():
    bad("safety s: forall x: nodes. true\n", "unknown sort 'nodes'", 1, 21, 26)


def test_unknown_name():
    bad("safety s: forall n: node. votd(n, n)\n", "unknown name 'votd'", 1, 27,
        expected="a variable, symbol or definition "
                 "('leader', 'max_bal', 'member', 'msg', 'n', 'voted')")


def test_unknown_bare_name():
    bad("safety s: forall n: node. m = n\n", "unknown name 'm'", 1, 27, 28)


def test_sort_name_used_as_a_term():
    bad("safety s: node\n", "'node' cannot be used in a formula here", 1, 11, 15)


def test_unknown_symbol_on_lhs():
    bad("action a(n: node) {\n  votd(n) := true\n}\n",
        "unknown symbol 'votd' on the left of ':='", 2, 3, 10,
        expected="a mutable relation, function or individual "
                 "('leader', 'max_bal', 'msg', 'voted')")


def test_assignment_to_a_variable_is_not_an_unknown_symbol():
    bad("action a(n: node) {\n  n := n\n}\n", "cannot assign to variable 'n'", 2, 3, 4)


def test_assignment_to_a_definition():
    bad("definition d = true\naction a(n: node) {\n  d := n = n\n}\n",
        "cannot assign to 'd': it is not a relation, function or individual", 3, 3, 4)


def test_arity_mismatch_in_formula():
    bad("safety s: forall n: node. voted(n)\n", "'voted' takes 2 argument(s), got 1", 1, 27, 35)


def test_arity_mismatch_on_lhs():
    bad("action a(n: node) {\n  voted(n) := true\n}\n", "'voted' takes 2 argument(s), got 1",
        2, 3, 11)


def test_relation_without_arguments():
    bad("safety s: voted\n", "relation 'voted' needs 2 argument(s)", 1, 11, 16,
        expected="voted(node, ballot)")


def test_definition_arity():
    bad("definition d(n: node) = leader = n\nsafety s: d\n",
        "definition 'd' takes 1 argument(s), got 0", 2, 11, 12)


def test_variable_applied_to_arguments():
    bad("safety s: forall n: node. n(n)\n", "variable 'n' cannot be applied to arguments",
        1, 27, 31)


# ---- sorts -----------------------------------------------------------------
def test_sort_mismatch_in_relation_argument():
    bad("safety s: forall n: node. voted(n, n)\n",
        "sort mismatch: found node, expected ballot", 1, 36, 37,
        expected="a term of sort ballot")


def test_option_sort_where_plain_sort_is_expected():
    bad("safety s: forall n: node. voted(n, max_bal(n))\n",
        "sort mismatch: found ballot?, expected ballot", 1, 36, 46)


def test_sort_mismatch_in_comparison():
    bad("safety s: forall n: node, b: ballot. n = b\n",
        "sort mismatch: cannot compare node with ballot", 1, 38, 43,
        expected="terms of the same sort on both sides of '='")


def test_less_than_on_unordered_sort():
    bad("safety s: forall n, m: node. n < m\n",
        "'<' needs an ordered sort, but node is not ordered", 1, 30, 35,
        expected="'ordered sort node' or '=' / '!='")


def test_greater_or_equal_on_unordered_sort_keeps_the_written_operator():
    bad("safety s: forall n, m: node. n >= m\n",
        "'>=' needs an ordered sort, but node is not ordered", 1, 30, 36)


def test_ordering_formulas():
    bad("safety s: true < false\n", "'<' compares terms, found a formula", 1, 11, 15)


def test_none_at_a_non_option_sort():
    bad("action a(n: node) {\n  leader := none\n}\n", "'none' is not a value of sort node",
        2, 13, 17, expected="a term of sort node (only option sorts like node? contain none)")


def test_none_as_a_non_option_argument():
    bad("safety s: forall b: ballot. voted(none, b)\n", "'none' is not a value of sort node",
        1, 35, 39)


def test_none_compared_with_none():
    bad("safety s: none = none\n", "cannot tell the sort of 'none' here", 1, 11, 15,
        expected="'none' compared with a term of an option sort")


def test_none_as_a_formula():
    bad("safety s: none\n", "cannot tell the sort of 'none' here", 1, 11, 15,
        expected="'none' compared with or passed as a term of an option sort")


def test_none_compared_with_a_formula():
    bad("safety s: none = true\n", "'none' compared with a formula", 1, 11, 22)


def test_formula_where_a_term_is_expected():
    bad("action a(n: node) {\n  leader := true\n}\n", "expected a term, found a formula",
        2, 13, 17, expected="a term of sort node")


def test_formula_as_a_function_argument():
    bad("safety s: forall b: ballot. max_bal(leader = leader) = b\n",
        "expected a term, found a formula", 1, 37, 52)


def test_term_where_a_formula_is_expected():
    bad("action a(n: node) {\n  require max_bal(n)\n}\n",
        "expected a formula, found a term of sort ballot?", 2, 11, 21,
        expected="a formula (true/false, an atom, a comparison, ...)")


def test_term_assigned_to_a_relation():
    bad("action a(n: node) {\n  voted(n, B) := leader\n}\n",
        "expected a formula, found a term of sort node", 2, 18, 24)


def test_term_as_if_condition():
    bad("action a(n: node) {\n  if leader { leader := n }\n}\n",
        "expected a formula, found a term of sort node", 2, 6, 12)


def test_lhs_variable_at_two_sorts():
    err = spec_error("sort node\nsort value\nmutable relation r(n: node, v: value)\n"
                     "init { r(X, X) := false }\naction a() { r(X, V) := true }\n")
    assert err.message == "'X' is used at sorts node and value"
    assert (err.span.line, err.span.col) == (4, 13)


# ---- mutability, old, variables --------------------------------------------
def test_assignment_to_immutable_symbol():
    bad("action a(n: node) {\n  member(n, n) := true\n}\n",
        "cannot assign to immutable relation 'member'", 2, 3, 15, expected="a mutable symbol")


def test_havoc_of_immutable_symbol():
    bad("action a() {\n  member(X, Y) := *\n}\n",
        "cannot assign to immutable relation 'member'", 2, 3, 15)


def test_old_outside_transition_property():
    bad("safety s: forall n: node. old(leader = n)\n",
        "'old(...)' is only allowed in a 'transition' property", 1, 27, 42,
        expected="a one-state formula")


def test_old_in_an_action():
    bad("action a(n: node) {\n  require old(leader = n)\n}\n",
        "'old(...)' is only allowed in a 'transition' property", 2, 11, 26)


def test_nested_old():
    bad("transition t: forall n: node. old(old(leader = n)) -> leader = n\n",
        "'old(...)' cannot be nested", 1, 35, 50)


def test_unused_quantified_variable():
    bad("safety s: forall n, m: node. leader = n\n", "quantified variable 'm' is never used",
        1, 21, 22, expected="a use of 'm', or a name starting with '_'")


def test_unused_action_parameter():
    bad("action a(n: node, m: node) {\n  leader := n\n}\n", "parameter 'm' is never used",
        1, 19, 20)


def test_underscore_parameter_may_be_unused():
    spec = load_spec_text(BASE + "action a(n: node, _m: node) {\n  leader := n\n}\n"
                          "safety s: forall n, _m: node. leader = n\n", "t.pax")
    assert [b.name for b in spec.action_map["a"].params] == ["n", "_m"]


def test_unused_definition_parameter():
    bad("definition d(n: node) = true\n", "parameter 'n' is never used", 1, 14, 15)


def test_duplicate_sort():
    bad("sort node\n", "sort 'node' is already declared (at line 1)", 1, 1, 10)


def test_duplicate_action():
    bad("action vote(n: node) {\n  leader := n\n}\n",
        "action 'vote' is already declared (at line 13)", 1, 1)


def test_duplicate_parameter():
    bad("mutable relation r(n: node, n: node)\n", "parameter 'n' appears twice", 1, 29, 36)


def test_reserved_sort_bool():
    err = spec_error("sort bool\n")
    assert err.message == "'bool' is reserved and cannot name a sort"
    assert (err.span.line, err.span.col) == (1, 1)


def test_second_init_block():
    bad("init { leader := leader }\n", "more than one 'init' block", 1, 1, 26)


def test_variable_shadows_a_declared_symbol():
    bad("safety s: forall leader: node. leader = leader\n",
        "variable 'leader' shadows the declared name 'leader'", 1, 18, 24,
        expected="a name not declared at top level")


def test_parameter_shadows_an_action():
    bad("action a(vote: node) {\n  leader := vote\n}\n",
        "variable 'vote' shadows the declared name 'vote'", 1, 10, 14)


def test_axiom_reads_a_mutable_relation():
    bad("axiom ax: forall n: node. voted(n, n)\n",
        "an axiom may only use immutable symbols, but 'voted' is mutable", 1, 27, 38)


def test_axiom_reads_a_mutable_individual():
    bad("axiom ax: forall n: node. member(n, leader)\n",
        "an axiom may only use immutable symbols, but 'leader' is mutable", 1, 37, 43)


def test_axiom_reads_a_definition_of_mutable_state():
    bad("definition d = leader = leader\naxiom ax: d\n",
        "an axiom may only use immutable symbols, but definition 'd' reads mutable state",
        2, 11, 12)


def test_message_sender_not_a_parameter():
    bad("message m(src: node) from dst\n", "message sender 'dst' is not a parameter of 'm'",
        1, 27, 30, expected="a named parameter ('src')")


def test_message_sender_names_an_unnamed_parameter():
    bad("message m(node) from node\n", "message sender 'node' is not a parameter of 'm'",
        1, 22, 26, expected="a named parameter")


def test_actor_not_a_parameter():
    bad("action a(n: node) by m {\n  leader := n\n}\n",
        "acting process 'm' is not a parameter of 'a'", 1, 22, 23,
        expected="a parameter ('n')")


def test_no_action():
    err = spec_error("sort node\nmutable relation r(n: node)\n")
    assert err.message == "the spec declares no action"
    assert (err.span.line, err.span.col) == (2, 1)
    assert err.expected == "at least one 'action NAME(...) { ... }'"


def test_empty_spec():
    err = spec_error("")
    assert err.message == "the spec declares no action"
    assert (err.span.line, err.span.col) == (1, 1)


# ---- rendering ---------------------------------------------------------------
def test_render_has_position_source_line_and_caret():
    err = spec_error(BASE + "safety s: forall n: node. voted(n, n)\n")
    lines = err.render().splitlines()
    assert lines[0] == "t.pax:17:36: error: sort mismatch: found node, expected ballot"
    assert lines[1] == "    17 | safety s: forall n: node. voted(n, n)"
    assert lines[2] == "       | " + " " * 35 + "^"
    assert lines[3] == "  expected: a term of sort ballot"
    assert str(err) == err.render()


def test_render_of_a_syntax_error_underlines_the_token():
    err = spec_error(BASE + "safety s: forall n: node voted(n, n)\n")
    out = err.render()
    assert out.startswith("t.pax:17:26: error: syntax error: unexpected name 'voted'\n")
    assert "\n       | " + " " * 25 + "^^^^^\n" in out


# ---- model files -------------------------------------------------------------
MODEL_SPEC = """\
sort node
sort quorum
ordered sort ballot
sort value
immutable relation member(n: node, q: quorum)
immutable individual boss: node
immutable function rank(n: node): ballot
axiom quorums_intersect: forall q1, q2: quorum. exists n: node. member(n, q1) & member(n, q2)
mutable relation proposed(v: value)
init { proposed(V) := false }
action propose(v: value) {
  proposed(v) := true
}
safety one: forall v, w: value. proposed(v) & proposed(w) -> v = w
"""
GOOD_SORTS = "[sorts]\nnode = 3\nballot = 3\nvalue = 2\n"
GOOD_IMMUTABLE = ('[immutable]\nmember = "majority"\nboss = 0\n'
                  "rank = { table = [[0, 0], [1, 1], [2, 2]] }\n")


@pytest.fixture
def write_model(tmp_path: Path):
    spec = tmp_path / "m.pax"
    spec.write_text(MODEL_SPEC)

    def write(body: str) -> Path:
        path = tmp_path / "m.toml"
        path.write_text(f'spec = "{spec}"\n' + body)
        return path
    return write


def model_error(path: Path) -> PaxError:
    with pytest.raises(PaxError) as info:
        load_model(path)
    return info.value


def test_good_model_loads(write_model):
    m = load_model(write_model(GOOD_SORTS + GOOD_IMMUTABLE))
    assert [i.describe() for i in m.instances] == ["node=3 ballot=3 value=2 quorum=3"]
    assert m.config.properties == ("one",)


def test_invalid_toml(write_model):
    path = write_model("[sorts]\nnode = 3\nballot 3\n")
    err = model_error(path)
    assert err.message == "invalid TOML: Expected '=' after a key in a key/value pair"
    assert (err.span.file, err.span.line, err.span.col) == (str(path), 4, 8)
    assert err.render().startswith(f"{path}:4:8: error: invalid TOML")
    assert "     4 | ballot 3\n       |        ^" in err.render()


def test_invalid_toml_at_end_of_document(write_model):
    err = model_error(write_model('[sorts]\nnode = "3'))
    assert err.message == "invalid TOML: Unterminated string"
    assert (err.span.line, err.span.col) == (3, 10)


def test_unknown_sort_name(write_model, tmp_path):
    err = model_error(write_model(GOOD_SORTS + "ballots = 3\n" + GOOD_IMMUTABLE))
    assert err.message == f"unknown sort 'ballots' (not in {tmp_path / 'm.pax'})"
    assert (err.span.line, err.span.col, err.span.end_col) == (6, 1, 8)
    assert err.expected == "'ballot', 'node', 'quorum', 'value'"


def test_unknown_sort_name_in_an_inline_table(write_model):
    err = model_error(write_model("sorts = { node = 3, ballots = 3 }\n"))
    assert err.message.startswith("unknown sort 'ballots'")
    assert (err.span.line, err.span.col) == (2, 21)


def test_missing_sort_size(write_model):
    err = model_error(write_model("[sorts]\nnode = 3\nballot = 3\n" + GOOD_IMMUTABLE))
    assert err.message == "sort 'value' has no size"
    assert (err.span.line, err.span.col) == (2, 1)  # the [sorts] header
    assert err.expected == "value = N in [sorts]"


def test_missing_size_needed_by_an_interpretation(write_model):
    err = model_error(write_model("[sorts]\nnode = 3\nvalue = 2\n" + GOOD_IMMUTABLE))
    assert err.message == "'rank' needs the size of sort 'ballot'"
    assert (err.span.line, err.span.col) == (8, 1)


def test_sort_size_zero(write_model):
    err = model_error(write_model("[sorts]\nnode = 0\n"))
    assert err.message == "sort 'node' must have at least one element"
    assert (err.span.line, err.span.col) == (3, 1)


def test_unknown_immutable_symbol(write_model, tmp_path):
    err = model_error(write_model(GOOD_SORTS + GOOD_IMMUTABLE + 'proposed = "any"\n'))
    assert err.message == f"'proposed' is not an immutable symbol of {tmp_path / 'm.pax'}"
    assert (err.span.line, err.span.col, err.span.end_col) == (10, 1, 9)
    assert err.expected == "'boss', 'member', 'rank'"


def test_missing_interpretation(write_model):
    err = model_error(write_model(GOOD_SORTS + '[immutable]\nmember = "majority"\nboss = 0\n'))
    assert err.message == "immutable function 'rank' has no interpretation"
    assert (err.span.line, err.span.col) == (6, 1)


def test_interpretation_breaks_an_axiom(write_model, tmp_path):
    # singleton quorums of 3 nodes do not intersect
    err = model_error(write_model(GOOD_SORTS + GOOD_IMMUTABLE.replace(
        'member = "majority"', "member = { subsets = 1 }")))
    assert err.message == (f"the interpretation breaks axiom 'quorums_intersect' "
                           f"({tmp_path / 'm.pax'}:8)")
    assert (err.span.line, err.span.col) == (6, 1)  # the [immutable] header
    assert err.expected == "interpretations that satisfy every axiom"


def test_quorum_size_disagrees_with_majority(write_model):
    err = model_error(write_model(GOOD_SORTS + "quorum = 2\n" + GOOD_IMMUTABLE))
    assert err.message == "sort 'quorum' has 2 elements but member = 'majority' makes 3 subsets"
    assert (err.span.line, err.span.col) == (6, 1)


def test_unknown_property_in_check(write_model):
    err = model_error(write_model(GOOD_SORTS + GOOD_IMMUTABLE
                                  + '[check]\nproperties = ["one", "two"]\n'))
    assert err.message == "unknown property 'two'"
    assert (err.span.line, err.span.col, err.span.end_col) == (11, 1, 11)
    assert err.expected == "'one'"


def test_unknown_key_in_check(write_model):
    err = model_error(write_model(GOOD_SORTS + GOOD_IMMUTABLE + "[check]\nmax_state = 3\n"))
    assert err.message == "unknown key 'max_state' in [check]"
    assert (err.span.line, err.span.col) == (11, 1)
    assert err.expected == ("'deadlock', 'liveness', 'max_states', 'properties', 'symmetry', "
                            "'timeout'")


def test_unknown_table(write_model):
    err = model_error(write_model(GOOD_SORTS + GOOD_IMMUTABLE + "[chekc]\n"))
    assert err.message == "unknown key 'chekc'"
    assert (err.span.line, err.span.col, err.span.end_col) == (10, 2, 7)


def test_table_row_with_too_few_entries(write_model):
    err = model_error(write_model(GOOD_SORTS + GOOD_IMMUTABLE.replace("[1, 1]", "[1]")))
    assert err.message == "each row of 'rank' needs 2 entries"
    assert (err.span.line, err.span.col) == (9, 1)
    assert err.expected == "[node, ballot]"


def test_table_row_with_a_bad_element(write_model):
    err = model_error(write_model(GOOD_SORTS + GOOD_IMMUTABLE.replace("[1, 1]", "[1, 7]")))
    assert err.message == "'7' is not an element of sort ballot"
    assert (err.span.line, err.span.col) == (9, 1)
    assert err.expected == "'0', '1', '2'"


def test_function_table_missing_a_row(write_model):
    err = model_error(write_model(GOOD_SORTS + GOOD_IMMUTABLE.replace("[1, 1], ", "")))
    assert err.message == "table of function 'rank' has no row for arguments (1,)"
    assert (err.span.line, err.span.col) == (9, 1)


def test_bad_spec_reports_the_spec_position(write_model, tmp_path):
    (tmp_path / "m.pax").write_text("sort node\nsafety s: forall n: node. $\n")
    err = model_error(write_model(""))
    assert err.message == "syntax error: unexpected character '$'"
    assert (err.span.file, err.span.line, err.span.col) == (str(tmp_path / "m.pax"), 2, 27)


def test_missing_spec_file(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('spec = "nope.pax"\n')
    err = model_error(path)
    assert err.message == f"spec file not found: {tmp_path / 'nope.pax'}"
    assert (err.span.line, err.span.col) == (1, 1)


# ---- good specs: the typed IR ------------------------------------------------
def test_greater_than_is_normalised_to_less_than():
    spec = load_spec_text(BASE + "action a(n: node, b: ballot) {\n"
                          "  require b > max_bal(n)\n  require b >= max_bal(n)\n"
                          "  voted(n, b) := true\n}\n", "t.pax")
    gt, ge = spec.action_map["a"].body[:2]
    node, ballot = ir.SortT("node"), ir.SortT("ballot")
    max_bal_n = ir.App("max_bal", (ir.Var("n", node),), ir.SortT("ballot", True))
    assert gt.cond == ir.Cmp("<", max_bal_n, ir.Var("b", ballot))
    assert ge.cond == ir.Cmp("<=", max_bal_n, ir.Var("b", ballot))


def test_capitalised_lhs_variables_are_bound():
    spec = load_spec_text(BASE, "t.pax")
    node, ballot = ir.SortT("node"), ir.SortT("ballot")
    voted, max_bal = spec.init
    assert voted == ir.Assign("voted", (ir.Var("N", node), ir.Var("B", ballot)),
                              (ir.Binder("N", node), ir.Binder("B", ballot)), ir.BoolLit(False))
    assert max_bal.bound == (ir.Binder("N", node),)
    # a lowercase parameter is an ordinary argument, not a binder
    assign = spec.action_map["vote"].body[1]
    assert assign.bound == () and assign.args == (ir.Var("n", node), ir.Var("b", ballot))


def test_none_gets_the_option_sort():
    spec = load_spec_text(
        BASE + "safety s: forall n: node. none = max_bal(n) | max_bal(n) != none\n", "t.pax")
    assert spec.init[1].rhs == ir.NoneLit(ir.SortT("ballot", True))
    body = spec.property_map["s"].formula.body
    assert isinstance(body, ir.Or)
    left, right = body.args
    assert left.left == ir.NoneLit(ir.SortT("ballot", True))
    assert right.op == "!=" and right.right == ir.NoneLit(ir.SortT("ballot", True))


def test_message_sender_and_actor_indices():
    spec = load_spec_text(BASE + "message reply(b: ballot, v: value, dst: node) from dst\n"
                          "action a(b: ballot, n: node) by n {\n  voted(n, b) := true\n}\n",
                          "t.pax")
    reply = spec.symbol_map["reply"]
    assert (reply.message, reply.mutable, reply.sender) == (True, True, 2)
    assert reply.param_names == ("b", "v", "dst")
    assert spec.symbol_map["msg"].sender == 0
    assert spec.symbol_map["voted"].sender is None and not spec.symbol_map["voted"].message
    assert spec.action_map["a"].actor == 1
    assert spec.action_map["vote"].actor == 0


def test_conjunctions_flatten_and_spans_point_at_the_source():
    spec = load_spec_text(BASE + "safety s: forall n: node. leader = n & member(n, n) & true\n",
                          "t.pax")
    prop = spec.property_map["s"]
    assert isinstance(prop.formula.body, ir.And) and len(prop.formula.body.args) == 3
    assert (prop.span.line, prop.span.col) == (17, 1)
    assert (prop.formula.body.args[1].span.line, prop.formula.body.args[1].span.col) == (17, 40)


def test_real_paxos_spec_loads(root):
    from paxcheck.lang.typecheck import load_spec
    spec = load_spec(root / "specs" / "paxos.pax")
    assert [a.name for a in spec.actions] == ["propose", "prepare", "promise", "accept",
                                              "accepted"]
    assert spec.symbol_map["one_b"].sender == 0
    assert spec.action_map["promise"].actor == 0
