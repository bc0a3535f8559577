"""The pure per-subject verdict, and judging many subjects in parallel processes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.check.baselines import BaselineSubject, BaselineVersion
from registry.check.discovery import SchemaFile
from registry.check.judge import Case, _split_remedy, judge, split_fix
from registry.check.results import CheckStatus
from registry.check.runner import PARALLEL_THRESHOLD, judge_all
from registry.compatibility import CompatibilityLevel, Incompatibility
from registry.formats import DEFAULT_LIMITS, ResolvedReference, SchemaType
from tests.registry.check.conftest import field, record

OLD = record("Order", field("id", "string"))


def _case(new: Any, *old: Any, level: str = "BACKWARD", subject: str = "orders-value") -> Case:
    text = new if isinstance(new, str) else json.dumps(new, indent=2)
    versions = tuple(
        BaselineVersion(n, f"v{n}", SchemaType.AVRO, json.dumps(schema))
        for n, schema in enumerate(old, start=1)
    )
    earlier = (
        BaselineSubject(subject, CompatibilityLevel.parse(level), versions) if versions else None
    )
    return Case(SchemaFile(f"{subject}.avsc", subject, SchemaType.AVRO, text), (), earlier)


def test_new_unchanged_compatible() -> None:
    assert judge(_case(OLD)).outcome.status is CheckStatus.NEW
    assert judge(_case(OLD, OLD)).outcome.status is CheckStatus.UNCHANGED
    grown = record("Order", field("id", "string"), field("n", "int", default=0))
    assert judge(_case(grown, OLD)).outcome.status is CheckStatus.COMPATIBLE


def test_incompatible_with_label_line_and_fix() -> None:
    grown = record("Order", field("id", "string"), field("n", "int"))
    verdict = judge(_case(grown, OLD))
    assert verdict.outcome.status is CheckStatus.INCOMPATIBLE
    (problem,) = verdict.problems
    assert problem.version == "v1" and problem.level == "BACKWARD"
    lines = json.dumps(grown, indent=2).splitlines()
    assert problem.line is not None and '"n"' in lines[problem.line - 1]
    assert problem.fix.startswith("add a default")


def test_transitive_checks_every_version_and_counts_them() -> None:
    middle = record("Order", field("id", "string"), field("n", "int", default=0))
    new = record("Order", field("id", "string"), field("n", "long", default=0))
    assert judge(_case(new, OLD, middle, level="FULL")).outcome.status is CheckStatus.INCOMPATIBLE
    verdict = judge(_case(new, OLD, middle, level="BACKWARD_TRANSITIVE"))
    assert verdict.outcome.status is CheckStatus.COMPATIBLE
    assert verdict.outcome.versions_checked == 2


def test_invalid_and_unparseable_earlier_versions() -> None:
    verdict = judge(_case('{\n  "type": "record",\n  "name": ,\n}', OLD))
    assert verdict.outcome.status is CheckStatus.INVALID and verdict.problems[0].line == 3
    broken_old = judge(_case(OLD, {"type": "record"}, OLD | {"doc": "x"}))
    assert broken_old.outcome.status is CheckStatus.COMPATIBLE
    assert any("v1 does not parse" in note for note in broken_old.notes)


def test_validate_only() -> None:
    case = Case(SchemaFile("a.avsc", "a", SchemaType.AVRO, json.dumps(OLD)), compare=False)
    assert judge(case).outcome.status is CheckStatus.VALID


def test_parallel_judging_gives_the_same_verdicts() -> None:
    grown = record("Order", field("id", "string"), field("n", "int"))
    cases = [
        _case(grown if n % 3 == 0 else OLD, OLD, subject=f"s{n}")
        for n in range(PARALLEL_THRESHOLD + 6)
    ]
    sequential = judge_all(cases, DEFAULT_LIMITS, workers=1)
    parallel = judge_all(cases, DEFAULT_LIMITS, workers=2)
    assert parallel == sequential
    assert sum(v.outcome.status is CheckStatus.INCOMPATIBLE for v in parallel) == 24


def test_json_nested_too_deeply_is_invalid_not_a_crash() -> None:
    bomb = "[" * 200_000 + "]" * 200_000
    verdict = judge(_case(bomb, OLD))
    assert verdict.outcome.status is CheckStatus.INVALID
    assert "nested too deeply" in verdict.problems[0].message
    assert judge(_case(OLD, {"type": "record"}, OLD)).outcome.status is CheckStatus.UNCHANGED


def test_fix_is_cut_at_the_last_semicolon_outside_an_aside() -> None:
    found = Incompatibility(
        rule="TYPE_NARROWED",
        path="/properties/age",
        message=(
            "narrowed from `number` to `integer`: old data may hold `number`; keep every old "
            "type allowed (an `integer` cannot read fractions; widen to `number` instead)"
        ),
    )
    problem, fix = split_fix(found, "BACKWARD", "v1")
    assert problem == "narrowed from `number` to `integer`: old data may hold `number`"
    assert fix.startswith("keep every old type allowed (an `integer` cannot read fractions; ")
    assert fix.count("(") == fix.count(")")


@given(st.lists(st.sampled_from(["a", " ", ";", "(", ")", "`"]), max_size=30).map("".join))
@settings(deadline=None, max_examples=200)
def test_problem_and_fix_keep_every_character(message: str) -> None:
    found = Incompatibility(rule="R", path="", message=message)
    problem, remedy = _split_remedy(found.message)
    assert problem == message or f"{problem}; {remedy}" == message


def _money_case(files: tuple[tuple[str, str], ...]) -> Case:
    """orders-value referencing Money, whose new version adds a field without a default."""
    order = json.dumps(record("Order", field("total", "com.acme.Money")), indent=2)
    old_money = json.dumps(record("Money", field("units", "long")), indent=2)
    new_money = json.dumps(
        record("Money", field("units", "long"), field("currency", "string")), indent=2
    )
    old_ref = ResolvedReference("com.acme.Money", "money-value", 1, old_money)
    new_ref = ResolvedReference("com.acme.Money", "money-value", 2, new_money)
    earlier = BaselineSubject(
        "orders-value",
        CompatibilityLevel.BACKWARD,
        (BaselineVersion(1, "v1", SchemaType.AVRO, order, (old_ref,)),),
    )
    item = SchemaFile("orders.avsc", "orders-value", SchemaType.AVRO, order)
    return Case(item, (new_ref,), earlier, reference_files=files)


def test_reference_finding_points_into_the_referenced_file_when_the_tree_holds_it() -> None:
    (problem,) = judge(_money_case((("com.acme.Money", "money.avsc"),))).problems
    assert problem.file == "money.avsc" and problem.pointer == "/fields/1"
    new_money = _money_case(()).references[0].schema.splitlines()
    assert '"currency"' in new_money[(problem.line or 0) - 1]


def test_reference_finding_outside_the_tree_names_the_referencing_file_without_a_line() -> None:
    (problem,) = judge(_money_case(())).problems
    assert problem.file == "orders.avsc" and problem.line is None
    assert "com.acme.Money" in problem.message


def test_forward_findings_are_framed_once_with_the_baseline_label() -> None:
    widened = record("Order", field("id", "long"))
    (problem,) = judge(
        _case(widened, record("Order", field("id", "int")), level="FORWARD")
    ).problems
    assert problem.direction == "forward"
    assert problem.message.startswith("readers still on v1 cannot read data written with this")
    assert problem.message.count("cannot read data written") == 1
    assert "version 1" not in problem.message and "version 1" not in problem.fix
    assert problem.fix.startswith("keep writing what readers on v1 can read")


def test_one_problem_per_finding_lists_every_version_it_breaks_against() -> None:
    # Five versions with `n: int`, each different in a doc; the new one makes `n` a string and
    # adds `m` without default: at FULL_TRANSITIVE that is two problems (plus the forward one),
    # not one per version and direction.
    base = record("Order", field("id", "string"), field("n", "int"))
    olds = [base | {"doc": f"v{n}"} for n in range(1, 6)]
    new = record("Order", field("id", "string"), field("n", "string"), field("m", "int"))
    verdict = judge(_case(new, *olds, level="FULL_TRANSITIVE"))
    assert verdict.outcome.versions_checked == 5
    keys = [(p.direction, p.rule, p.pointer) for p in verdict.problems]
    assert len(keys) == len(set(keys)) == 3
    for problem in verdict.problems:
        assert problem.versions == ("v5", "v4", "v3", "v2", "v1")
        assert problem.version == "v5"
        assert problem.against() == "v5, v4, v3, v2 and v1"
    forward = next(p for p in verdict.problems if p.direction == "forward")
    assert "readers still on v5, v4, v3, v2 and v1 cannot read" in forward.message


def test_a_problem_against_some_versions_only_names_those() -> None:
    with_n = record("Order", field("id", "string"), field("n", "int", default=0))
    new = record("Order", field("id", "string"), field("n", "string", default=""))
    verdict = judge(_case(new, OLD, with_n, with_n | {"doc": "x"}, level="BACKWARD_TRANSITIVE"))
    (problem,) = verdict.problems
    assert problem.versions == ("v3", "v2")


def test_each_schema_is_parsed_once_even_when_the_latest_is_compared_in_spelling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import registry.check.judge as judge_module

    texts: list[str] = []
    real = judge_module.parse_schema

    def counting(kind: Any, text: str, *rest: Any) -> Any:
        texts.append(text)
        return real(kind, text, *rest)

    monkeypatch.setattr(judge_module, "parse_schema", counting)
    grown = record("Order", field("id", "string"), field("n", "int", default=0))
    olds = [OLD | {"doc": f"v{n}"} for n in range(1, 4)]
    verdict = judge(_case(grown, *olds, level="BACKWARD_TRANSITIVE"))
    assert verdict.outcome.status is CheckStatus.COMPATIBLE
    assert len(texts) == len(set(texts)) == 4, "the new schema and each earlier version once"


def test_a_long_list_of_versions_names_the_newest_and_counts_the_rest() -> None:
    base = record("Order", field("id", "string"), field("n", "int"))
    olds = [base | {"doc": f"v{n}"} for n in range(1, 9)]
    new = record("Order", field("id", "string"), field("n", "string"))
    (problem,) = judge(_case(new, *olds, level="BACKWARD_TRANSITIVE")).problems
    assert len(problem.versions) == 8
    assert problem.against() == "v8, v7, v6, v5 and 4 earlier versions"
