"""Principals from TLS client certificates, as Kafka's default principal builder makes them.

A verified client certificate's subject becomes `User:` + its distinguished name in RFC 2253
form as Java's `X500Principal.getName()` writes it (most specific RDN first, `CN=alice,O=Acme`),
after Kafka's `ssl.principal.mapping.rules` (`RULE:^CN=(.*?),.*$/$1/L,DEFAULT`). A connection
without a certificate is `User:ANONYMOUS`. Everything here is pure: bytes and strings in,
strings out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from cryptography import x509

from engine.auth import ANONYMOUS
from httpapi.tls import TlsSettings

DEFAULT_RULES = "DEFAULT"

#: Attribute types RFC 2253 names by keyword (as Java does); any other is written as its
#: dotted OID with the value's DER encoding in hex.
_KEYWORDS = {
    "2.5.4.3": "CN",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "STREET",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "0.9.2342.19200300.100.1.1": "UID",
    "0.9.2342.19200300.100.1.25": "DC",
}
#: DER string tags Java writes as text, with how their bytes decode.
_STRING_TAGS = {
    12: "utf-8",  # UTF8String
    19: "latin-1",  # PrintableString
    20: "latin-1",  # T61String
    22: "latin-1",  # IA5String
    27: "latin-1",  # GeneralString
    30: "utf-16-be",  # BMPString
}
_ESCAPED = frozenset(',=+<>#;"\\')


class CertificateNameError(ValueError):
    """A certificate or subject that is not valid DER."""


class MappingRuleError(ValueError):
    """`ssl.principal.mapping.rules` text that is not a list of rules."""


class NoMatchingRuleError(ValueError):
    """No mapping rule applies to a distinguished name (Kafka fails the authentication)."""


# -- distinguished names ------------------------------------------------------------------


def _read_tlv(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER element at `at`."""
    if at + 2 > len(data):
        raise CertificateNameError("truncated DER element")
    tag, length = data[at], data[at + 1]
    at += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or at + count > len(data):
            raise CertificateNameError("bad DER length")
        length = int.from_bytes(data[at : at + count], "big")
        at += count
    if at + length > len(data):
        raise CertificateNameError("truncated DER element")
    return tag, at, at + length


def _children(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """(tag, element start, content start, content end) of each element in data[start:end]."""
    at = start
    while at < end:
        tag, content, stop = _read_tlv(data, at)
        yield tag, at, content, stop
        at = stop


def _oid(content: bytes) -> str:
    if not content:
        raise CertificateNameError("empty OID")
    first = content[0]
    parts = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    value = 0
    for byte in content[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(map(str, parts))


def _escape(text: str) -> str:
    """A value escaped as Java's RFC 2253 writer does: specials anywhere, NUL as `\\00`,
    spaces and carriage returns at either end."""
    chars = ["\\00" if c == "\0" else f"\\{c}" if c in _ESCAPED else c for c in text]
    lead = 0
    while lead < len(text) and text[lead] in " \r":
        lead += 1
    trail = len(text) - 1
    while trail >= lead and text[trail] in " \r":
        trail -= 1
    return "".join(f"\\{c}" if i < lead or i > trail else c for i, c in enumerate(chars))


def _attribute(data: bytes, start: int, end: int) -> str:
    """One `type=value` (an AttributeTypeAndValue SEQUENCE's content)."""
    parts = list(_children(data, start, end))
    if len(parts) != 2 or parts[0][0] != 0x06:
        raise CertificateNameError("bad attribute in a name")
    oid = _oid(data[parts[0][2] : parts[0][3]])
    tag, element, content, stop = parts[1]
    keyword = _KEYWORDS.get(oid)
    encoding = _STRING_TAGS.get(tag)
    if keyword is None or encoding is None:
        return f"{keyword or oid}=#{data[element:stop].hex()}"
    try:
        value = data[content:stop].decode(encoding)
    except UnicodeDecodeError as exc:
        raise CertificateNameError(f"bad string in a name: {exc}") from None
    return f"{keyword}={_escape(value)}"


def rfc2253(name_der: bytes) -> str:
    """The distinguished name (a DER `Name`) as Java's `X500Principal.getName()` writes it:
    RDNs from the last to the first, joined by `,`; values of one RDN joined by `+`."""
    tag, start, end = _read_tlv(name_der, 0)
    if tag != 0x30:
        raise CertificateNameError("a name is a SEQUENCE")
    rdns: list[str] = []
    for set_tag, _, set_start, set_end in _children(name_der, start, end):
        if set_tag != 0x31:
            raise CertificateNameError("a relative distinguished name is a SET")
        values = [
            _attribute(name_der, s, e) for t, _, s, e in _children(name_der, set_start, set_end)
        ]
        rdns.append("+".join(values))
    return ",".join(reversed(rdns))


def subject_dn(certificate_der: bytes) -> str:
    """The RFC 2253 subject of a DER certificate."""
    try:
        certificate = x509.load_der_x509_certificate(certificate_der)
    except ValueError as exc:
        raise CertificateNameError(f"not a certificate: {exc}") from None
    return rfc2253(certificate.subject.public_bytes())


# -- ssl.principal.mapping.rules ----------------------------------------------------------

_RULE = r"(DEFAULT)|RULE:((\\.|[^\\/])*)/((\\.|[^\\/])*)/([LU]?).*?|(.*?)"
_SPLITTER = re.compile(r"\s*(" + _RULE + r")\s*(,\s*|$)")
_PARSER = re.compile(_RULE)
_BACK_REFERENCE = re.compile(r"\$(\d+)")


@dataclass(frozen=True)
class MappingRule:
    """One rule: DEFAULT (the name unchanged), or a pattern the whole name must match and a
    replacement (Java's `$1` syntax), optionally lower- or upper-cased."""

    pattern: re.Pattern[str] | None
    replacement: str = ""
    case: str = ""

    def apply(self, name: str) -> str | None:
        """The mapped name, or None when the rule does not apply."""
        if self.pattern is None:
            return name
        match = self.pattern.fullmatch(name)
        if match is None:
            return None
        groups = self.pattern.groups
        replacement = _literal_out_of_range(self.replacement, groups)
        result = self.pattern.sub(lambda m: _expand(replacement, m), name)
        if self.case == "L":
            return result.lower()
        if self.case == "U":
            return result.upper()
        return result

    def __str__(self) -> str:
        if self.pattern is None:
            return "DEFAULT"
        return f"RULE:{self.pattern.pattern}/{self.replacement}" + (
            f"/{self.case}" if self.case else ""
        )


def _literal_out_of_range(replacement: str, groups: int) -> str:
    """Kafka's treatment of `$N` beyond the pattern's groups: shorten N while it is too big
    and has two digits or more; if still too big, the `$` is literal."""
    if groups == 0:
        return replacement
    value = replacement
    for found in list(_BACK_REFERENCE.finditer(replacement)):
        digits = found.group(1)
        if digits.startswith("0"):
            continue
        index = int(digits)
        while index > groups and index >= 10:
            index //= 10
        if index > groups:
            # at the reference's position in the original text, as Kafka does
            at = found.start()
            value = value[:at] + "\\" + value[at:]
    return value


def _expand(replacement: str, match: re.Match[str]) -> str:
    """Java's `Matcher.appendReplacement`: `\\x` is x, `$N` the longest group number that
    exists (at least one digit), `${name}` a named group."""
    out: list[str] = []
    groups = match.re.groups
    at = 0
    while at < len(replacement):
        char = replacement[at]
        if char == "\\":
            if at + 1 >= len(replacement):
                raise NoMatchingRuleError("character to be escaped is missing")
            out.append(replacement[at + 1])
            at += 2
        elif char == "$":
            at += 1
            if at < len(replacement) and replacement[at] == "{":
                close = replacement.find("}", at)
                if close < 0:
                    raise NoMatchingRuleError("named group is missing its closing brace")
                try:
                    out.append(match.group(replacement[at + 1 : close]) or "")
                except IndexError:
                    raise NoMatchingRuleError("no such named group") from None
                at = close + 1
                continue
            if at >= len(replacement) or not replacement[at].isdigit():
                raise NoMatchingRuleError("illegal group reference in a replacement")
            number = int(replacement[at])
            at += 1
            while at < len(replacement) and replacement[at].isdigit():
                longer = number * 10 + int(replacement[at])
                if longer > groups:
                    break
                number = longer
                at += 1
            if number > groups:
                raise NoMatchingRuleError(f"no group {number} in the rule's pattern")
            out.append(match.group(number) or "")
        else:
            out.append(char)
            at += 1
    return "".join(out)


def parse_rules(text: str | None) -> tuple[MappingRule, ...]:
    """The rules of an `ssl.principal.mapping.rules` value (None: DEFAULT); raises
    `MappingRuleError` naming the rule that is not valid."""
    source = DEFAULT_RULES if text is None else text
    rules: list[MappingRule] = []
    for found in _SPLITTER.finditer(source.strip()):
        rule = found.group(1)
        parsed = _PARSER.match(rule)
        if parsed is None or parsed.end() != len(rule):
            raise MappingRuleError(f"invalid principal mapping rule: {rule!r}")
        if parsed.group(1) is not None:
            rules.append(MappingRule(None))
        elif parsed.group(2) is not None:
            try:
                pattern = re.compile(parsed.group(2))
            except re.error as exc:
                raise MappingRuleError(
                    f"invalid pattern in principal mapping rule {rule!r}: {exc}"
                ) from None
            rules.append(MappingRule(pattern, parsed.group(4), parsed.group(6)))
        # anything else matched only the empty rule, which Kafka ignores
    return tuple(rules)


def map_name(rules: tuple[MappingRule, ...], name: str) -> str:
    """The name the first applicable rule gives; `NoMatchingRuleError` when none applies."""
    for rule in rules:
        mapped = rule.apply(name)
        if mapped is not None:
            return mapped
    shown = ", ".join(map(str, rules))
    raise NoMatchingRuleError(f"no principal mapping rule applies to {name} (rules: {shown})")


class CertificatePrincipals:
    """Client certificate -> principal, with one set of mapping rules (repeated certificates
    are answered from a small cache)."""

    def __init__(self, rules: str | None = None) -> None:
        self.rules = parse_rules(rules)
        self._principal = lru_cache(maxsize=1024)(self._compute)

    def principal(self, certificate_der: bytes | None) -> str:
        """`User:` + the mapped subject; `User:ANONYMOUS` without a certificate. Raises
        `NoMatchingRuleError` or `CertificateNameError`."""
        if not certificate_der:
            return ANONYMOUS
        return self._principal(certificate_der)

    def _compute(self, certificate_der: bytes) -> str:
        return "User:" + map_name(self.rules, subject_dn(certificate_der))


def certificate_principals(tls: TlsSettings | None) -> CertificatePrincipals | None:
    """The certificate principals of a server whose TLS asks for client certificates."""
    if tls is None or not tls.verifies_clients:
        return None
    return CertificatePrincipals(tls.principal_mapping)
