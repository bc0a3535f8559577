"""kcat's short flags and output habits: -c count, -f format string, -D delimiters, -K with
escapes, on an embedded cluster."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.types import ConsumedRecord
from streamgov.cli import cli
from streamgov.cli.formatstring import FormatString


def ok(*args: str, input: str | bytes | None = None) -> Result:
    result = CliRunner().invoke(cli, list(args), input=input)
    assert result.exit_code == 0, result.output
    return result


def test_short_flags_as_kcat_spells_them(streamgov_home: Path) -> None:
    ok("topics", "create", "t")
    ok("produce", "t", "-K", "\\t", "-D", "|", input="k1\tone|k2\ttwo|k3\tthree")
    out = ok("consume", "t", "-o", "beginning", "-c", "2", "-f", "%o:%k=%s (%K/%S)\\n").stdout
    assert out == "0:k1=one (2/3)\n1:k2=two (2/3)\n"
    listed = ok("consume", "t", "-o", "beginning", "-e", "-D", ";", "-K", ":").stdout
    assert listed == "k1:one;k2:two;k3:three;"


def test_produce_splits_on_a_nul_delimiter(streamgov_home: Path) -> None:
    ok("topics", "create", "z")
    ok("produce", "z", "-D", "\\0", input=b"multi\nline\x00second\x00")
    assert ok("consume", "z", "-o", "beginning", "-e", "-D", "\\0").stdout == (
        "multi\nline\x00second\x00"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["consume", "t", "-f", "%q"], "%q is not a format token"),
        (["consume", "t", "-f", "50%"], "a trailing % is not a format token"),
        (["consume", "t", "-f", "%s", "--format", "json"], "not both"),
        (["produce", "t", "-D", ""], "must not be empty"),
    ],
)
def test_bad_kcat_options_are_one_line_errors(
    streamgov_home: Path, args: list[str], message: str
) -> None:
    ok("topics", "create", "t")
    result = CliRunner().invoke(cli, args, input="")
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def _model(fmt: str, record: ConsumedRecord) -> bytes:
    """kcat's format string, read character by character (the obviously-right version)."""
    fields = {
        "t": record.topic.encode(),
        "p": str(record.partition).encode(),
        "o": str(record.offset).encode(),
        "T": str(record.timestamp_ms).encode(),
        "k": record.key or b"",
        "s": record.value or b"",
        "K": str(-1 if record.key is None else len(record.key)).encode(),
        "S": str(-1 if record.value is None else len(record.value)).encode(),
        "h": b",".join(n.encode() + b"=" + (v or b"") for n, v in record.headers),
        "%": b"%",
    }
    out, i = b"", 0
    while i < len(fmt):
        if fmt[i] == "%":
            out += fields[fmt[i + 1]]
            i += 2
        else:
            out += fmt[i].encode()
            i += 1
    return out


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["%t", "%p", "%o", "%T", "%k", "%K", "%s", "%S", "%h", "%%", "a", " ", ":"])
    ),
    st.one_of(st.none(), st.binary(max_size=8)),
    st.one_of(st.none(), st.binary(max_size=8)),
    st.lists(
        st.tuples(st.sampled_from(["h1", "h2"]), st.one_of(st.none(), st.binary(max_size=3))),
        max_size=3,
    ),
)
def test_format_strings_render_as_the_model_reads_them(
    pieces: list[str],
    key: bytes | None,
    value: bytes | None,
    headers: list[tuple[str, bytes | None]],
) -> None:
    fmt = "".join(pieces)
    record = ConsumedRecord("top", 3, 42, 1700, key, value, tuple(headers))
    assert FormatString.parse(fmt).render(record, key, value) == _model(fmt, record)
