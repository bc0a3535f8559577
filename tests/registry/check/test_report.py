"""Every output format, parsed back: JSON, JUnit XML, GitHub workflow commands, human text."""

from __future__ import annotations

import json
import re
import subprocess
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.check.report import _escape_data, _escape_property
from tests.commands import STREAMGOV
from tests.registry.check.conftest import SchemaRepo, field, record

GITHUB = re.compile(r"^::(?P<cmd>error|warning|notice) (?P<props>[^:]*)::(?P<data>.*)$")


@pytest.fixture()
def broken(repo: SchemaRepo) -> SchemaRepo:
    """A working tree with an incompatible, an invalid, a deleted and a new subject."""
    repo.write("schemas/orders-value.avsc", record("Order", field("id", "string")))
    repo.write("schemas/refunds-value.avsc", record("Refund", field("id", "string")))
    repo.write("schemas/users-value.avsc", record("User", field("id", "string")))
    repo.commit()
    repo.write(
        "schemas/orders-value.avsc",
        record("Order", field("id", "string"), field("total", "long")),
    )
    repo.write("schemas/users-value.avsc", '{"type": "record", "name": "User", "fields": 3}')
    (repo.root / "schemas/refunds-value.avsc").unlink()
    repo.write("schemas/payments-value.avsc", record("Payment", field("id", "string")))
    return repo


def _json(repo: SchemaRepo) -> dict[str, Any]:
    result = repo.check("--against", "git:main", "--format", "json")
    assert result.exit_code == 1
    document: dict[str, Any] = json.loads(result.output)
    return document


def test_json(broken: SchemaRepo) -> None:
    document = _json(broken)
    assert document["ok"] is False
    assert document["against"] == "git:main"
    summary = document["summary"]
    assert (summary["incompatible"], summary["invalid"], summary["deleted"], summary["new"]) == (
        1,
        1,
        1,
        1,
    )
    assert summary["errors"] == 3
    kinds = {p["subject"]: p["kind"] for p in document["problems"]}
    assert kinds == {
        "orders-value": "incompatible",
        "users-value": "invalid",
        "refunds-value": "deleted",
    }
    for problem in document["problems"]:
        assert problem["fix"]


def test_junit(broken: SchemaRepo) -> None:
    result = broken.check("--against", "git:main", "--format", "junit")
    assert result.exit_code == 1
    root = ET.fromstring(result.output)
    suite = root.find("testsuite")
    assert suite is not None
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == {"orders-value", "users-value", "refunds-value", "payments-value"}
    assert suite.get("tests") == "4" and suite.get("failures") == "3"
    failure = cases["orders-value"].find("failure")
    assert failure is not None
    assert failure.get("type") == "READER_FIELD_MISSING_DEFAULT_VALUE"
    assert "total" in (failure.get("message") or "")
    assert "fix:" in (failure.text or "")
    assert cases["orders-value"].get("classname") == "schemas/orders-value.avsc"
    assert cases["payments-value"].find("failure") is None


def test_github_annotations_point_at_file_and_line(broken: SchemaRepo) -> None:
    expected = {p["subject"]: p for p in _json(broken)["problems"]}
    result = broken.check("--against", "git:main", "--format", "github")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    annotations = [m for m in map(GITHUB.match, lines) if m]
    errors = [m for m in annotations if m["cmd"] == "error"]
    assert len(errors) == 3
    for match in errors:
        props = dict(prop.split("=", 1) for prop in match["props"].split(","))
        subject = props["title"].split(" ")[0]
        assert props["file"] == expected[subject]["file"]
        if expected[subject]["line"]:
            assert int(props["line"]) == expected[subject]["line"]
        assert "%0A" not in match["data"] or "\n" not in match["data"]
    orders = next(m for m in errors if m["props"].startswith("file=schemas/orders-value.avsc"))
    line = int(dict(p.split("=", 1) for p in orders["props"].split(","))["line"])
    source = (broken.root / "schemas/orders-value.avsc").read_text().splitlines()
    assert '"total"' in source[line - 1]
    assert lines[-1].startswith("FAILED")


def test_human_blocks_and_summary(broken: SchemaRepo) -> None:
    result = broken.check("--against", "git:main", "--no-color")
    assert result.exit_code == 1
    text = result.output
    assert "\x1b[" not in text
    block = text[text.index("schemas/orders-value.avsc:") :].split("\n\n")[0]
    for label in ("against:", "at:", "rule:", "problem:", "fix:"):
        assert label in block
    assert "orders-value: incompatible at BACKWARD" in block
    summary = text.strip().splitlines()[-1]
    assert summary.startswith("FAILED: 4 subject(s) against git:main")
    assert "3 error(s)" in summary
    colored = broken.check("--against", "git:main", "--color")
    assert "\x1b[" in colored.output


def test_output_file(broken: SchemaRepo, tmp_path: Path) -> None:
    target = tmp_path / "report.xml"
    result = broken.check("--against", "git:main", "--format", "junit", "--output", str(target))
    assert result.exit_code == 1
    assert result.output.startswith("FAILED")
    assert ET.parse(target).getroot().tag == "testsuites"


def test_clean_run_exits_0_in_every_format(repo: SchemaRepo) -> None:
    repo.write("schemas/orders-value.avsc", record("Order", field("id", "string")))
    repo.commit()
    for fmt in ("human", "github", "json", "junit"):
        result = repo.check("--against", "git:main", "--format", fmt)
        assert result.exit_code == 0, (fmt, result.output)
    assert json.loads(repo.check("--against", "git:main", "--format", "json").output)["ok"]


def test_console_script_exit_codes(broken: SchemaRepo) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*STREAMGOV, "check", *args],
            cwd=broken.root,
            capture_output=True,
            text=True,
            check=False,
        )

    assert run("--against", "git:main").returncode == 1
    unknown = run("--against", "git:nope")
    assert unknown.returncode == 2
    assert unknown.stderr.strip().count("\n") == 0 and "unknown git ref" in unknown.stderr


def _unescape(text: str) -> str:
    return (
        text.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
    )


@settings(deadline=None, max_examples=100)
@given(st.text(max_size=60))
def test_github_escaping_round_trips(text: str) -> None:
    data = _escape_data(text)
    prop = _escape_property(text)
    assert "\n" not in data and "\r" not in data
    assert not {",", ":", "\n"} & set(prop)
    controls = ("Cc", "Zl", "Zp")
    assert not [c for c in data + prop if unicodedata.category(c) in controls]
    if (text.replace("\r", "").replace("\n", "")).isprintable():
        assert _unescape(prop) == text  # other control characters are shown as escapes


def test_extra_reports_beside_the_main_format(broken: SchemaRepo, tmp_path: Path) -> None:
    junit, document = tmp_path / "schemas.xml", tmp_path / "schemas.json"
    result = broken.check(
        "--against",
        "git:main",
        "--format",
        "github",
        "--report",
        f"junit:{junit}",
        "--report",
        f"json:{document}",
    )
    assert result.exit_code == 1
    assert GITHUB.match(result.output.splitlines()[0])
    assert ET.parse(junit).getroot().tag == "testsuites"
    assert json.loads(document.read_text())["summary"]["errors"] == 3
    bad = broken.check("--against", "git:main", "--report", "xml:out.xml")
    assert bad.exit_code == 2 and "expected FORMAT:FILE" in bad.output
