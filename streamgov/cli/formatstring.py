"""kcat's output format string (`consume -f '%k: %s\\n'`), parsed once, rendered per record.

Tokens: `%t` topic, `%p` partition, `%o` offset, `%T` timestamp (ms), `%k` key, `%K` key
length, `%s` value, `%S` value length (-1 for a null key or value, as kcat prints), `%h`
headers as `name=value` joined by `,`, `%%` a percent sign. Escapes such as `\\n` and `\\t`
are understood. Nothing is added after a record: end the string with `\\n` for one per line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import click

from engine.types import ConsumedRecord
from streamgov.cli.lines import unescape

#: What one record shows for each token, given its printable key and value.
Field = Callable[[ConsumedRecord, bytes | None, bytes | None], bytes]


def _length(data: bytes | None) -> bytes:
    return str(-1 if data is None else len(data)).encode()


def _headers(record: ConsumedRecord) -> bytes:
    return b",".join(name.encode() + b"=" + (value or b"") for name, value in record.headers)


TOKENS: dict[str, Field] = {
    "t": lambda r, k, v: r.topic.encode(),
    "p": lambda r, k, v: str(r.partition).encode(),
    "o": lambda r, k, v: str(r.offset).encode(),
    "T": lambda r, k, v: str(r.timestamp_ms).encode(),
    "k": lambda r, k, v: k or b"",
    "K": lambda r, k, v: _length(k),
    "s": lambda r, k, v: v or b"",
    "S": lambda r, k, v: _length(v),
    "h": lambda r, k, v: _headers(r),
}


@dataclass(frozen=True)
class FormatString:
    """A parsed format string: literal bytes and token fields in order."""

    parts: tuple[bytes | Field, ...]

    @classmethod
    def parse(cls, text: str) -> FormatString:
        """Parse `text`; an unknown `%x` or a trailing `%` is a usage error naming it."""
        parts: list[bytes | Field] = []
        literal: list[str] = []
        index = 0
        while index < len(text):
            char = text[index]
            if char != "%":
                literal.append(char)
                index += 1
                continue
            token = text[index + 1 : index + 2]
            if token == "%":
                literal.append("%%")
            elif token in TOKENS:
                if literal:
                    parts.append(unescape("".join(literal).replace("%%", "%"), "--format-string"))
                    literal = []
                parts.append(TOKENS[token])
            else:
                shown = f"%{token}" if token else "a trailing %"
                raise click.BadParameter(
                    f"{shown} is not a format token (use %t %p %o %T %k %K %s %S %h %%)",
                    param_hint="--format-string",
                )
            index += 2
        if literal:
            parts.append(unescape("".join(literal).replace("%%", "%"), "--format-string"))
        return cls(tuple(parts))

    def render(self, record: ConsumedRecord, key: bytes | None, value: bytes | None) -> bytes:
        """The output of one record."""
        return b"".join(p if isinstance(p, bytes) else p(record, key, value) for p in self.parts)
