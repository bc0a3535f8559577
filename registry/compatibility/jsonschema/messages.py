"""Rule names (Confluent's `Difference.Type` spelling) and the advice that goes with each."""

from __future__ import annotations

# What to do about each incompatible change; appended to the sentence describing it.
ADVICE: dict[str, str] = {
    "TYPE_CHANGED": "keep the old type allowed, e.g. list both in `type` or use `anyOf`",
    "TYPE_NARROWED": "keep every old type allowed (an `integer` field cannot read old "
    "fractional numbers; widen to `number` instead)",
    "ENUM_ARRAY_NARROWED": "keep every old value in `enum`/`const`; values may only be added",
    "ENUM_ARRAY_CHANGED": "keep every old value in `enum`/`const`; values may only be added",
    "MAX_LENGTH_ADDED": "drop `maxLength`, or register the change under a new subject",
    "MAX_LENGTH_DECREASED": "keep `maxLength` at least as large as before",
    "MIN_LENGTH_ADDED": "drop `minLength`, or register the change under a new subject",
    "MIN_LENGTH_INCREASED": "keep `minLength` at most as large as before",
    "PATTERN_ADDED": "drop `pattern`; a pattern can only be removed compatibly",
    "PATTERN_CHANGED": "keep the old `pattern`; a pattern can only be removed compatibly",
    "MAXIMUM_ADDED": "drop the new upper bound",
    "MAXIMUM_DECREASED": "keep the upper bound at least as large as before",
    "EXCLUSIVE_MAXIMUM_ADDED": "drop the new upper bound",
    "EXCLUSIVE_MAXIMUM_DECREASED": "keep the upper bound at least as large as before",
    "MINIMUM_ADDED": "drop the new lower bound",
    "MINIMUM_INCREASED": "keep the lower bound at most as large as before",
    "EXCLUSIVE_MINIMUM_ADDED": "drop the new lower bound",
    "EXCLUSIVE_MINIMUM_INCREASED": "keep the lower bound at most as large as before",
    "MULTIPLE_OF_ADDED": "drop `multipleOf`",
    "MULTIPLE_OF_EXPANDED": "use a `multipleOf` that divides the old one",
    "MULTIPLE_OF_CHANGED": "use a `multipleOf` that divides the old one",
    "REQUIRED_ATTRIBUTE_ADDED": "leave the property optional, or give it a `default`",
    "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL": "make it optional, or give it a `default`",
    "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL": "close the old model with "
    "`additionalProperties: false` before adding properties, give the property the empty "
    "schema `{}`, or register it under a new subject",
    "REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL": "close the old model with "
    "`additionalProperties: false` before adding properties, or register it under a new subject",
    "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL": "close the old model with "
    "`additionalProperties: false` before adding properties, or register it under a new subject",
    "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL": "give the property a schema "
    "that accepts everything the old `additionalProperties`/`patternProperties` allowed",
    "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL": "keep the property (it may be deprecated), or "
    "open the model so old data carrying it stays valid",
    "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL": "keep the property, or let "
    "`additionalProperties`/`patternProperties` accept its old values",
    "ADDITIONAL_PROPERTIES_REMOVED": "keep additional properties allowed",
    "ADDITIONAL_PROPERTIES_NARROWED": "keep `additionalProperties` accepting any value",
    "UNEVALUATED_PROPERTIES_REMOVED": "keep unevaluated properties allowed",
    "UNEVALUATED_PROPERTIES_NARROWED": "keep `unevaluatedProperties` accepting any value",
    "PATTERN_PROPERTIES_NARROWED": "let the pattern's schema accept what the old schema allowed",
    "MAX_PROPERTIES_ADDED": "drop `maxProperties`",
    "MAX_PROPERTIES_DECREASED": "keep `maxProperties` at least as large as before",
    "MIN_PROPERTIES_ADDED": "drop `minProperties`",
    "MIN_PROPERTIES_INCREASED": "keep `minProperties` at most as large as before",
    "DEPENDENCY_ARRAY_ADDED": "drop the new dependency",
    "DEPENDENCY_ARRAY_EXTENDED": "do not add names to an existing dependency",
    "DEPENDENCY_ARRAY_CHANGED": "only remove names from a dependency",
    "DEPENDENCY_SCHEMA_ADDED": "drop the new schema dependency",
    "PROPERTY_NAMES_NARROWED": "keep `propertyNames` accepting every old name",
    "SCHEMA_ADDED": "drop the new constraint on array items",
    "ITEM_ADDED_TO_OPEN_CONTENT_MODEL": "close the old tuple with `additionalItems: false` first, "
    "or give the new position the empty schema",
    "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL": "give the new position a schema "
    "that accepts the old additional items",
    "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL": "keep the tuple position, or allow additional items",
    "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL": "keep the tuple position, or let "
    "additional items accept its old values",
    "ADDITIONAL_ITEMS_REMOVED": "keep additional items allowed",
    "ADDITIONAL_ITEMS_NARROWED": "keep additional items accepting any value",
    "UNEVALUATED_ITEMS_REMOVED": "keep unevaluated items allowed",
    "UNEVALUATED_ITEMS_NARROWED": "keep `unevaluatedItems` accepting any value",
    "MAX_ITEMS_ADDED": "drop `maxItems`",
    "MAX_ITEMS_DECREASED": "keep `maxItems` at least as large as before",
    "MIN_ITEMS_ADDED": "drop `minItems`",
    "MIN_ITEMS_INCREASED": "keep `minItems` at most as large as before",
    "UNIQUE_ITEMS_ADDED": "drop `uniqueItems`",
    "CONTAINS_ADDED": "drop the new `contains`",
    "CONTAINS_NARROWED": "keep `contains` accepting what it accepted before",
    "MIN_CONTAINS_ADDED": "drop `minContains`",
    "MIN_CONTAINS_INCREASED": "keep `minContains` at most as large as before",
    "MAX_CONTAINS_ADDED": "drop `maxContains`",
    "MAX_CONTAINS_DECREASED": "keep `maxContains` at least as large as before",
    "SUM_TYPE_NARROWED": "keep every old `anyOf`/`oneOf` alternative accepted",
    "COMBINED_TYPE_CHANGED": "keep the old combinator (`oneOf` may become `anyOf`, not the "
    "other way round)",
    "COMBINED_TYPE_SUBSCHEMAS_CHANGED": "make each old alternative match a new one",
    "NOT_TYPE_EXTENDED": "only shrink what `not` excludes",
    "CONDITIONAL_CHANGED": "keep `if`/`then`/`else` as they were, or only loosen `then`/`else`",
    "COMPARISON_TOO_DEEP": "simplify the schema's reference chains",
}


def sentence(rule: str, path: str, detail: str) -> str:
    """The full message: what changed at `path`, then what to do about it."""
    where = f"`{path}`" if path else "the root"
    text = detail.replace("{path}", where)
    advice = ADVICE.get(rule)
    return f"{text}; {advice}" if advice else text
