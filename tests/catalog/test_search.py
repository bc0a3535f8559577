"""Catalog search: every word must match, names rank above descriptions, no query injection."""

from __future__ import annotations

import pytest

from catalog.search import SearchDocument, SearchIndex, SearchQueryError, fts_query


@pytest.fixture()
def index() -> SearchIndex:
    index = SearchIndex()
    index.rebuild(
        [
            SearchDocument("email-events", owner="crm", description="bounces"),
            SearchDocument("orders", owner="checkout", description="mentions email once"),
            SearchDocument("customers", owner="crm", tags="pii", fields="contact email phone"),
            SearchDocument("payments", owner="billing", namespace="finance", tags="financial"),
        ]
    )
    return index


def test_the_name_ranks_above_fields_above_the_description(index: SearchIndex) -> None:
    assert [hit.topic for hit in index.search("email")] == ["email-events", "customers", "orders"]


def test_every_word_must_match_as_a_prefix(index: SearchIndex) -> None:
    assert [hit.topic for hit in index.search("crm pii")] == ["customers"]
    assert [hit.topic for hit in index.search("fin")] == ["payments"]
    assert index.search("crm financial") == []


def test_query_syntax_in_the_text_is_not_interpreted(index: SearchIndex) -> None:
    assert fts_query('email" OR orders NEAR(') == '"email"* "or"* "orders"* "near"*'
    # OR is a word to find, not an operator: no stream has "or" in it, so nothing matches
    assert index.search("orders OR customers") == []
    with pytest.raises(SearchQueryError, match="no word"):
        index.search('"*()')


def test_rebuild_replaces_the_contents(index: SearchIndex) -> None:
    index.rebuild([SearchDocument("fresh")])
    assert index.search("orders") == []
    assert [hit.topic for hit in index.search("fresh")] == ["fresh"]
