"""What `paxcheck test` writes: the summary table, JSON, JUnit XML, SARIF
2.1.0, and, under GitHub Actions, annotations and a step summary. Each is
a function of the outcomes (ci/runner.py), nothing else."""
from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from paxcheck import __version__
from paxcheck.ci.runner import Finding, Location, Outcome

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://github.com/paxcheck/paxcheck"


def _status(o: Outcome) -> str:
    if o.verdict == "error":
        return "ERROR"
    return "ok" if o.ok else "FAIL"


def table(outcomes: Sequence[Outcome]) -> str:
    """One line per item: status, kind, name, expected, then the result."""
    rows = [("", "kind", "item", "expected")] + [
        (_status(o), o.kind, o.name, o.expectation) for o in outcomes]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    ends = ["  result"] + [f"  {o.message}  [{'cached' if o.cached else f'{o.seconds:.1f} s'}]"
                           for o in outcomes]
    return "".join("  ".join(c.ljust(w) for c, w in zip(r, widths)) + end + "\n"
                   for r, end in zip(rows, ends))


def summary_line(outcomes: Sequence[Outcome], seconds: float) -> str:
    bad = sum(not o.ok for o in outcomes)
    cached = sum(o.cached for o in outcomes)
    return (f"{len(outcomes) - bad} of {len(outcomes)} expectations met"
            + (f", {bad} not" if bad else "") + f" ({cached} cached; {seconds:.1f} s)")


def to_json(outcomes: Sequence[Outcome], seconds: float) -> dict[str, Any]:
    return {"format": "paxcheck-test", "version": 1, "paxcheck": __version__,
            "ok": all(o.ok for o in outcomes), "seconds": round(seconds, 3),
            "items": [o.to_json() for o in outcomes]}


# ---- JUnit -------------------------------------------------------------------------
def junit(outcomes: Sequence[Outcome], seconds: float) -> str:
    """JUnit XML as Jenkins, GitLab and the rest read it: one testcase per item."""
    failures = sum(not o.ok and o.verdict != "error" for o in outcomes)
    errors = sum(o.verdict == "error" for o in outcomes)
    root = ET.Element("testsuites", name="paxcheck", tests=str(len(outcomes)),
                      failures=str(failures), errors=str(errors), time=f"{seconds:.3f}")
    suite = ET.SubElement(root, "testsuite", name="paxcheck", tests=str(len(outcomes)),
                          failures=str(failures), errors=str(errors), skipped="0",
                          time=f"{sum(o.seconds for o in outcomes):.3f}")
    for o in outcomes:
        case = ET.SubElement(suite, "testcase", classname=f"paxcheck.{o.kind}", name=o.name,
                             file=o.path, time=f"{o.seconds:.3f}")
        detail = "\n\n".join(f.trace or f.message for f in o.findings)
        if not o.ok:
            tag = "error" if o.verdict == "error" else "failure"
            el = ET.SubElement(case, tag, message=f"{o.name}: {o.message}",
                               type=o.verdict)
            el.text = f"expected: {o.expectation}\nresult: {o.message}\n\n{detail}"
        out = ET.SubElement(case, "system-out")
        out.text = f"expected: {o.expectation}\nresult: {o.message}\n" \
                   + "".join(f"{k}: {v}\n" for k, v in o.figures.items())
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


# ---- SARIF -------------------------------------------------------------------------
def _physical(at: Location) -> dict[str, Any]:
    return {"physicalLocation": {"artifactLocation": {"uri": at.file, "uriBaseId": "SRCROOT"},
                                 "region": {"startLine": at.line, "startColumn": at.col}}}


def _sarif_result(o: Outcome, f: Finding, rules: dict[str, int]) -> dict[str, Any]:
    failing = not o.ok and not f.expected
    res: dict[str, Any] = {
        "ruleId": f.rule, "ruleIndex": rules[f.rule],
        "level": "error" if failing else "note",
        "kind": "fail" if failing else "informational",
        "message": {"text": f"{o.name}: {f.message}"
                            + (" (expected)" if f.expected else "")},
        "locations": [_physical(f.at)],
        "properties": {"item": o.name, "expected": o.expectation, "result": o.message},
    }
    if f.steps:
        res["codeFlows"] = [{"threadFlows": [{"locations": [
            {"location": {**_physical(s.at), "message": {"text": s.text}}, "executionOrder": i}
            for i, s in enumerate(f.steps, 1)]}]}]
    return res


def sarif(outcomes: Sequence[Outcome], root: Path) -> dict[str, Any]:
    """SARIF 2.1.0: a result per finding (a violated property at its
    declaration, with the trace as a code flow through the actions), at
    level error when it fails its item's expectation, note when expected;
    an item that fails with no finding gets one at its file."""
    findings: list[tuple[Outcome, Finding]] = []
    for o in outcomes:
        findings += [(o, f) for f in o.findings]
        if not o.ok and not any(not f.expected for f in o.findings):
            findings.append((o, Finding("paxcheck/expectation", o.message, Location(o.path))))
    rules: dict[str, int] = {}
    for _, f in findings:
        rules.setdefault(f.rule, len(rules))
    rule_list = [{"id": r, "shortDescription": {"text": _rule_text(r)}} for r in rules]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "paxcheck", "version": __version__,
                                "informationUri": INFO_URI, "rules": rule_list}},
            "originalUriBaseIds": {"SRCROOT": {"uri": root.resolve().as_uri() + "/"}},
            "results": [_sarif_result(o, f, rules) for o, f in findings],
        }],
    }


def _rule_text(rule: str) -> str:
    return {"paxcheck/unfired-action": "an action never fires in an exhaustive search",
            "paxcheck/expectation": "a run did not give its expected outcome",
            "paxcheck/bad-input": "a spec, model or project file is malformed",
            "paxcheck/mutation-score": "the mutation score is below its floor",
            "deadlock": "a reachable state has no successor"}.get(rule, f"property '{rule}'")


# ---- GitHub Actions ------------------------------------------------------------------
def _escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def github_annotations(outcomes: Sequence[Outcome]) -> str:
    """Workflow commands: an ::error at the property (or file) of each
    failed item, which GitHub shows on the pull request's diff."""
    lines = []
    for o in outcomes:
        if o.ok:
            continue
        bad = [f for f in o.findings if not f.expected] or [Finding("expectation", o.message,
                                                                    Location(o.path))]
        f = bad[0]
        lines.append(f"::error file={_escape(f.at.file, True)},line={f.at.line},col={f.at.col},"
                     f"title={_escape('paxcheck: ' + o.name, True)}::"
                     f"{_escape(o.message + (chr(10) + f.trace if f.trace else ''))}")
    return "".join(line + "\n" for line in lines)


def github_summary(outcomes: Sequence[Outcome], seconds: float) -> str:
    """The step summary, in Markdown."""
    out = [f"### paxcheck test: {summary_line(outcomes, seconds)}", "",
           "| | kind | item | expected | result | time |", "|---|---|---|---|---|---:|"]
    for o in outcomes:
        mark = ":white_check_mark:" if o.ok else ":x:"
        t = "cached" if o.cached else f"{o.seconds:.1f} s"
        out.append(f"| {mark} | {o.kind} | `{o.name}` | {o.expectation} | "
                   f"{o.message.replace('|', '/')} | {t} |")
    return "\n".join(out) + "\n"


def under_github() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def write_github(outcomes: Sequence[Outcome], seconds: float) -> str:
    """Under GitHub Actions: the annotations (returned, for stdout) and the
    step summary appended to $GITHUB_STEP_SUMMARY."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        try:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(github_summary(outcomes, seconds))
        except OSError:
            pass
    return github_annotations(outcomes)


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2) + "\n"
