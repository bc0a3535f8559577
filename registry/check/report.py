"""Rendering a check report: human text, GitHub workflow commands, JSON and JUnit XML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import asdict
from enum import StrEnum

import click

from registry.check.results import CheckReport, CheckStatus, Problem, Severity
from registry.check.text import one_line


class OutputFormat(StrEnum):
    """The formats `streamgov check --format` offers."""

    HUMAN = "human"
    GITHUB = "github"
    JSON = "json"
    JUNIT = "junit"


_TITLES = {
    CheckStatus.INCOMPATIBLE: "incompatible",
    CheckStatus.INVALID: "invalid",
    CheckStatus.DELETED: "deleted",
}


def summary(report: CheckReport) -> str:
    """One line: the verdict and the counts."""
    counts = report.counts()
    errors = sum(p.severity is Severity.ERROR for p in report.problems)
    warnings = len(report.problems) - errors
    parts = [f"{n} {status}" for status, n in counts.items() if n]
    against = f" against {report.against}" if report.against else ""
    verdict = "FAILED" if not report.ok else "OK"
    tail = f"{errors} error(s)" + (f", {warnings} warning(s)" if warnings else "")
    body = ", ".join(parts) or "no schemas found"
    return one_line(f"{verdict}: {len(report.subjects)} subject(s){against}: {body}; {tail}")


def _location(problem: Problem) -> str:
    where = problem.file or "streamgov.yaml"
    return one_line(f"{where}:{problem.line}" if problem.line else where)


def render_human(report: CheckReport, color: bool = False) -> str:
    """One block per problem, notes first, then a summary line."""

    def style(
        text: str, fg: str | None = None, bold: bool | None = None, dim: bool | None = None
    ) -> str:
        return click.style(text, fg=fg, bold=bold, dim=dim) if color else text

    lines: list[str] = [style(f"note: {one_line(note)}", dim=True) for note in report.notes]
    if lines:
        lines.append("")
    for problem in report.problems:
        is_error = problem.severity is Severity.ERROR
        tag = style(problem.severity.value, fg="red" if is_error else "yellow", bold=True)
        what = _TITLES.get(problem.kind, problem.kind.value)
        level = f" at {problem.level}" if problem.level else ""
        subject = f"{one_line(problem.subject)}: " if problem.subject else ""
        lines.append(f"{style(_location(problem), bold=True)}: {tag}: {subject}{what}{level}")
        rows = [
            ("against", problem.against()),
            ("at", _pointer(problem)),
            ("rule", problem.rule),
            ("problem", problem.message),
            ("fix", problem.fix),
        ]
        lines.extend(f"  {name + ':':<9}{one_line(value)}" for name, value in rows if value)
        lines.append("")
    verdict = summary(report)
    lines.append(style(verdict, fg="red" if not report.ok else "green", bold=True))
    return "\n".join(lines) + "\n"


def _pointer(problem: Problem) -> str | None:
    if problem.pointer is None:
        return None
    if problem.direction == "forward":
        return f"{problem.pointer} in {problem.version}"
    return problem.pointer


def _escape_data(text: str) -> str:
    # Workflow-command escaping for % (the rest cannot occur once written on one line).
    return one_line(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: CheckReport) -> str:
    """GitHub Actions workflow commands: one annotation per problem on its file and line."""
    lines = [f"::notice title=streamgov check::{_escape_data(note)}" for note in report.notes]
    for problem in report.problems:
        command = "error" if problem.severity is Severity.ERROR else "warning"
        props: list[str] = []
        if problem.file:
            # Annotations name files from the repository top, wherever the check ran.
            props.append(f"file={_escape_property(report.prefix + problem.file)}")
            if problem.line:
                props.append(f"line={problem.line}")
        title = " ".join(
            part
            for part in (
                problem.subject,
                _TITLES.get(problem.kind, problem.kind.value),
                problem.rule and f"({problem.rule})",
            )
            if part
        )
        props.append(f"title={_escape_property(title)}")
        details = [problem.message.rstrip(".") + "."]
        against = problem.against()
        if against:
            details.append(f"Against {against}.")
        if problem.pointer:
            details.append(f"At {problem.pointer}.")
        details.append(f"Fix: {problem.fix}")
        lines.append(f"::{command} {','.join(props)}::{_escape_data(' '.join(details))}")
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def render_json(report: CheckReport) -> str:
    """A stable JSON document: verdict, summary counts, subjects, problems, notes."""
    document = {
        "ok": report.ok,
        "against": report.against,
        "prefix": report.prefix,
        "summary": {
            **report.counts(),
            "errors": sum(p.severity is Severity.ERROR for p in report.problems),
            "warnings": sum(p.severity is Severity.WARNING for p in report.problems),
        },
        "subjects": [asdict(outcome) for outcome in report.subjects],
        "problems": [asdict(problem) for problem in report.problems],
        "notes": report.notes,
    }
    return json.dumps(document, indent=2) + "\n"


def render_junit(report: CheckReport) -> str:
    """JUnit XML: one test case per subject; failures carry the problems."""
    by_subject: dict[str | None, list[Problem]] = {}
    loose: list[Problem] = []
    for problem in report.problems:
        if problem.subject is None:
            loose.append(problem)
        else:
            by_subject.setdefault(problem.subject, []).append(problem)
    suite = ET.Element("testsuite", name="streamgov check")
    cases = 0
    failures = 0
    seen: set[str] = set()
    for outcome in report.subjects:
        seen.add(outcome.subject)
        problems = by_subject.get(outcome.subject, [])
        failures += _case(suite, outcome.file or "", outcome.subject, problems)
        cases += 1
    for subject, problems in by_subject.items():
        if subject not in seen:
            failures += _case(suite, problems[0].file or "", subject or "", problems)
            cases += 1
    for problem in loose:
        failures += _case(suite, problem.file or "streamgov.yaml", problem.file or "", [problem])
        cases += 1
    suite.set("tests", str(cases))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", "0")
    if report.notes:
        ET.SubElement(suite, "system-out").text = "\n".join(map(one_line, report.notes))
    root = ET.Element("testsuites", name="streamgov check", tests=str(cases))
    root.set("failures", str(failures))
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _case(suite: ET.Element, classname: str, name: str, problems: list[Problem]) -> int:
    case = ET.SubElement(suite, "testcase", classname=classname, name=name)
    errors = [p for p in problems if p.severity is Severity.ERROR]
    for problem in errors:
        failure = ET.SubElement(
            case,
            "failure",
            message=one_line(problem.message),
            type=problem.rule or problem.kind.value,
        )
        failure.text = "\n".join(
            f"{name}: {one_line(value)}"
            for name, value in (
                ("file", _location(problem)),
                ("against", problem.against()),
                ("at", problem.pointer),
                ("rule", problem.rule),
                ("problem", problem.message),
                ("fix", problem.fix),
            )
            if value
        )
    warnings = [one_line(p.message) for p in problems if p.severity is Severity.WARNING]
    if warnings:
        ET.SubElement(case, "system-out").text = "\n".join(warnings)
    return 1 if errors else 0


RENDERERS: dict[OutputFormat, Callable[[CheckReport], str]] = {
    OutputFormat.GITHUB: render_github,
    OutputFormat.JSON: render_json,
    OutputFormat.JUNIT: render_junit,
}


def render(report: CheckReport, output_format: OutputFormat, color: bool = False) -> str:
    """The report in `output_format`."""
    if output_format is OutputFormat.HUMAN:
        return render_human(report, color)
    return RENDERERS[output_format](report)
