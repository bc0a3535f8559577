"""Realistic fake values for fields tagged PII, through Faker, chosen by the field's name.

Tests then never need production personal data: a field `email` tagged PII gets an address
that looks real (and is not anyone's), `phone` a phone number, `name` a person's name.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection

from faker import Faker

#: Tag names that mark a field as personal data (compared lower-case).
PII_TAGS = frozenset({"pii", "personal", "gdpr", "sensitive"})

#: (words any of which in the field name choose it, the Faker provider). First match wins.
PROVIDERS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("email", "mail"), "email"),
    (("phone", "mobile", "msisdn", "tel"), "phone_number"),
    (("first", "given", "forename"), "first_name"),
    (("last", "surname", "family"), "last_name"),
    (("username", "login", "handle"), "user_name"),
    (("street",), "street_address"),
    (("address", "addr"), "address"),
    (("city", "town"), "city"),
    (("country",), "country"),
    (("zip", "postcode", "postal"), "postcode"),
    (("ssn", "social", "national", "taxid", "tax_id"), "ssn"),
    (("iban",), "iban"),
    (("card", "pan", "ccnum"), "credit_card_number"),
    (("birth", "dob"), "date_of_birth"),
    (("ip",), "ipv4"),
    (("company", "employer", "organisation", "organization"), "company"),
    (("name", "holder", "customer", "person"), "name"),
)

#: A PII field whose name says nothing recognisable still gets a person's name.
DEFAULT_PROVIDER = "name"


def is_pii(tags: Collection[str]) -> bool:
    """Whether any of these tags (`pii`, `PII`, `pii=high`, ...) marks personal data."""
    return any(tag.split("=", 1)[0].strip().lower() in PII_TAGS for tag in tags)


def provider_for(field_name: str) -> str:
    """The Faker provider a PII field of this name gets."""
    words = field_name.lower().replace("-", "_")
    parts = set(words.split("_"))
    for keys, provider in PROVIDERS:
        if any(key in parts or (len(key) > 3 and key in words) for key in keys):
            return provider
    return DEFAULT_PROVIDER


class Fakes:
    """A Faker seeded from the generator's random source, so fake values repeat with a seed."""

    def __init__(self, rng: random.Random) -> None:
        self._faker = Faker()
        self._faker.seed_instance(rng.getrandbits(64))

    def maker(self, field_name: str) -> Callable[[], str]:
        """A function returning a fresh fake text value for a PII field of this name."""
        method = getattr(self._faker, provider_for(field_name))

        def make() -> str:
            return str(method())

        return make
