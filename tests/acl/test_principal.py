"""Client certificate principals: distinguished names written as Java's RFC 2253 writer does,
and Kafka's `ssl.principal.mapping.rules` as a pure function (a table of cases)."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st

from acl.principal import (
    CertificatePrincipals,
    MappingRuleError,
    NoMatchingRuleError,
    map_name,
    parse_rules,
    rfc2253,
)
from engine.auth import ANONYMOUS
from tests.tlscerts import certificate

DN = "CN=kafka1,OU=Engineering,O=Acme,L=Paris,C=FR"

MAPPING = [
    # (rules, distinguished name, principal name)
    ("DEFAULT", DN, DN),
    (None, DN, DN),
    ("RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),C=(.*?)$/$1@$2/L,DEFAULT", DN, "kafka1@engineering"),
    ("RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),C=(.*?)$/$1@$2/U", DN, "KAFKA1@ENGINEERING"),
    ("RULE:^CN=(.*?),.*$/$1/", DN, "kafka1"),
    ("RULE:^CN=(.*?),.*$/$1/,DEFAULT", "CN=alice,O=Acme", "alice"),
    ("RULE:^OU=(.*?)$/$1/,DEFAULT", DN, DN),  # first rule does not match the whole name
    ("  RULE:^CN=(.*?),.*$/$1/L  ,  DEFAULT  ", "CN=Bob,O=Acme", "bob"),
    ("RULE:^CN=([^,]*),.*$/user-$1/", "CN=x,O=y", "user-x"),
    ("RULE:^CN=(.*?),.*$/$1 $2/", "CN=x,O=y", "x $2"),  # $2 beyond the groups is literal
    ("RULE:^CN=(.*?),(.*)$/$2.$1/", "CN=x,O=y", "O=y.x"),
    ("RULE:^(CN)=(.*?),.*$/$12/", "CN=x,O=y", "CN2"),  # $12 is $1 then "2" (2 groups)
    ("RULE:^CN=(?P<who>.*?),.*$/${who}!/", "CN=x,O=y", "x!"),
    ("RULE:^CN=(.*?),.*$/\\$1/", "CN=x,O=y", "$1"),  # an escaped $ is literal
    ("RULE:^CN=(.*?)\\/(.*?),.*$/$2/", "CN=a/b,O=y", "b"),  # a slash escaped in a pattern
    ("RULE:.*/X/", "abc", "XX"),  # replaceAll: also the empty match at the end, as Java
    ("RULE:^CN=(.*?),.*$/$1/L,RULE:^(.*)$/other/", "O=z", "other"),
]


@pytest.mark.parametrize(("rules", "name", "expected"), MAPPING)
def test_mapping_rules(rules: str | None, name: str, expected: str) -> None:
    assert map_name(parse_rules(rules), name) == expected


@pytest.mark.parametrize(
    ("rules", "name"),
    [("RULE:^CN=(.*?),.*$/$1/", "OU=x"), ("", "CN=a"), ("RULE:^x$/y/", "CN=a")],
)
def test_no_matching_rule_is_an_error(rules: str, name: str) -> None:
    with pytest.raises(NoMatchingRuleError, match="no principal mapping rule applies"):
        map_name(parse_rules(rules), name)


@pytest.mark.parametrize(
    "rules", ["DEFAULT,junk", "RULE:^CN=(.*$/$1/", "RULE:missing-slashes", "DEFAULTX"]
)
def test_invalid_rules_are_refused_naming_them(rules: str) -> None:
    with pytest.raises(MappingRuleError, match="principal mapping rule"):
        parse_rules(rules)


def test_rules_print_as_kafka_prints_them() -> None:
    assert [str(r) for r in parse_rules("RULE:^CN=(.*?),.*$/$1/L, DEFAULT")] == [
        "RULE:^CN=(.*?),.*$/$1/L",
        "DEFAULT",
    ]


def attr(oid: x509.ObjectIdentifier, value: str) -> x509.NameAttribute:
    return x509.NameAttribute(oid, value)


NAMES = [
    # (name as encoded, most general first; as Java's X500Principal.getName() writes it)
    (
        x509.Name([attr(NameOID.COUNTRY_NAME, "FR"), attr(NameOID.ORGANIZATION_NAME, "Acme"),
                   attr(NameOID.COMMON_NAME, "alice")]),
        "CN=alice,O=Acme,C=FR",
    ),
    (
        x509.Name([attr(NameOID.ORGANIZATION_NAME, "Acme, Inc."),
                   attr(NameOID.COMMON_NAME, 'a+b=c<d>e;f"g\\h#i')]),
        'CN=a\\+b\\=c\\<d\\>e\\;f\\"g\\\\h\\#i,O=Acme\\, Inc.',
    ),
    (x509.Name([attr(NameOID.COMMON_NAME, " padded  ")]), "CN=\\ padded\\ \\ "),
    (x509.Name([attr(NameOID.COMMON_NAME, "Zoë")]), "CN=Zoë"),
    (
        x509.Name([attr(NameOID.DOMAIN_COMPONENT, "com"), attr(NameOID.DOMAIN_COMPONENT, "acme"),
                   attr(NameOID.USER_ID, "u1"), attr(NameOID.STREET_ADDRESS, "Main St"),
                   attr(NameOID.STATE_OR_PROVINCE_NAME, "CA"),
                   attr(NameOID.ORGANIZATIONAL_UNIT_NAME, "Ops")]),
        "OU=Ops,ST=CA,STREET=Main St,UID=u1,DC=acme,DC=com",
    ),
    (  # not an RFC 2253 keyword: the dotted OID and the DER value in hex
        x509.Name([attr(NameOID.EMAIL_ADDRESS, "a@b.c"), attr(NameOID.COMMON_NAME, "alice")]),
        "CN=alice,1.2.840.113549.1.9.1=#1605614062 2e63".replace(" ", ""),
    ),
]  # fmt: skip


@pytest.mark.parametrize(("name", "expected"), NAMES)
def test_distinguished_names_are_written_as_java_writes_them(
    name: x509.Name, expected: str
) -> None:
    assert rfc2253(name.public_bytes()) == expected


def test_the_values_of_one_rdn_are_joined_by_plus() -> None:
    name = x509.Name([
        x509.RelativeDistinguishedName([attr(NameOID.COMMON_NAME, "alice"),
                                        attr(NameOID.ORGANIZATIONAL_UNIT_NAME, "x")]),
        x509.RelativeDistinguishedName([attr(NameOID.ORGANIZATION_NAME, "Acme")]),
    ])  # fmt: skip
    head, _, rdn = rfc2253(name.public_bytes()).partition(",")
    assert head == "O=Acme"
    assert sorted(rdn.split("+")) == ["CN=alice", "OU=x"]  # DER sorts a SET's values


def test_a_certificate_is_user_and_its_mapped_subject() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([attr(NameOID.ORGANIZATION_NAME, "Acme"), attr(NameOID.COMMON_NAME, "al")])
    der = certificate(subject, key, subject, key).public_bytes(Encoding.DER)
    assert CertificatePrincipals().principal(der) == "User:CN=al,O=Acme"
    assert CertificatePrincipals("RULE:^CN=(.*?),.*$/$1/U").principal(der) == "User:AL"
    assert CertificatePrincipals().principal(None) == ANONYMOUS
    with pytest.raises(NoMatchingRuleError):
        CertificatePrincipals("RULE:^OU=.*$/x/").principal(der)


text = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=20
)


@given(common=text, organization=text)
def test_written_names_parse_back_to_the_same_values(common: str, organization: str) -> None:
    """Differential: cryptography's RFC 4514 parser reads what `rfc2253` writes back into the
    same attributes, whatever the values hold (escapes, spaces at either end, non-ASCII)."""
    name = x509.Name([attr(NameOID.ORGANIZATION_NAME, organization),
                      attr(NameOID.COMMON_NAME, common)])  # fmt: skip
    parsed = x509.Name.from_rfc4514_string(rfc2253(name.public_bytes()))
    assert [(a.oid, a.value) for a in parsed] == [(a.oid, a.value) for a in name]


@given(name=text)
def test_default_and_an_identity_rule_keep_any_name(name: str) -> None:
    assert map_name(parse_rules("DEFAULT"), name) == name
    assert map_name(parse_rules("RULE:^(.*)$/$1/U"), name) == name.upper()
