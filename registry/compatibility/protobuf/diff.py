"""The comparison Confluent's Protobuf checker makes (its `diff` package), over descriptors.

`differences(original, update)` walks two schemas the way `SchemaDiff.compare` does: the package,
then top-level messages and enums by name, in each message the fields by number and the oneofs
by name, nested types by name, and message-typed fields into the referenced message when it
comes from another file or reference version. It yields only the differences Confluent counts
as incompatible (the compatible ones, e.g. FIELD_ADDED, ENUM_CONST_REMOVED, MESSAGE_MOVED,
never decide anything), each with Confluent's path (`#/Message/3`) and a detail sentence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from registry.compatibility.protobuf.model import (
    NUMERIC_KINDS,
    SCALAR_KINDS,
    Field,
    Message,
    SchemaModel,
    TypeRef,
)

Finding = tuple[str, str, str]
"""(rule, path such as `#/Order/3`, detail sentence)."""


@dataclass(slots=True)
class _Scope:
    original: SchemaModel
    update: SchemaModel
    original_package: str
    update_package: str
    path: list[str]
    active: set[int] = field(default_factory=set)  # messages being compared (recursion guard)
    found: list[Finding] = field(default_factory=list)

    def add(self, rule: str, detail: str, *extra: str) -> None:
        self.found.append((rule, "#/" + "/".join((*self.path, *extra)), detail))


def differences(original: SchemaModel, update: SchemaModel) -> list[Finding]:
    """The incompatible differences from `original` (the writer) to `update` (the reader)."""
    scope = _Scope(original, update, original.package, update.package, [])
    if original.package != update.package:
        scope.add(
            "PACKAGE_CHANGED",
            f"the package changed from `{original.package or '(none)'}` to "
            f"`{update.package or '(none)'}`, so every message's full name changed",
        )
    _types(scope, original.top_messages, update.top_messages)
    return scope.found


def _types(scope: _Scope, original: dict[str, Message], update: dict[str, Message]) -> None:
    for name in sorted(original.keys() | update.keys()):
        old, new = original.get(name), update.get(name)
        scope.path.append(name)
        if new is None and old is not None:
            scope.add("MESSAGE_REMOVED", f"message `{old.full_name}` was removed")
        elif old is not None and new is not None:
            _message(scope, old, new)
        scope.path.pop()


def _message(scope: _Scope, old: Message, new: Message) -> None:
    if id(old) not in scope.active:
        scope.active.add(id(old))
        try:
            _fields(scope, old, new)
        finally:
            scope.active.discard(id(old))
    _types(scope, old.messages, new.messages)


def _fields(scope: _Scope, old: Message, new: Message) -> None:
    deleted_oneofs = {
        name
        for name, numbers in old.oneofs.items()
        if name not in new.oneofs and not any(number in new.fields for number in numbers)
    }
    for oneof, numbers in new.oneofs.items():
        origins: set[str] = set()
        moved_in = 0
        for number in numbers:
            before = old.fields.get(number)
            if before is None:
                continue
            if before.oneof is not None:
                origins.add("oneof:" + before.oneof)
            else:
                origins.add(f"field:{number}")
                moved_in += 1
        if len(origins) > 1:
            if moved_in > 1:
                scope.add(
                    "MULTIPLE_FIELDS_MOVED_TO_ONEOF",
                    f"several fields of `{new.full_name}` that were not in a oneof moved into "
                    f"oneof `{oneof}`, so old data may carry more than one of them",
                    oneof,
                )
            else:
                scope.add(
                    "FIELD_MOVED_TO_EXISTING_ONEOF",
                    f"a field of `{new.full_name}` moved into the existing oneof `{oneof}`, so old "
                    "data may set it together with another member",
                    oneof,
                )
    for number in sorted(old.fields.keys() | new.fields.keys()):
        before, after = old.fields.get(number), new.fields.get(number)
        if after is None and before is not None:
            if before.oneof is not None:
                if before.oneof not in deleted_oneofs:
                    scope.add(
                        "ONEOF_FIELD_REMOVED",
                        f"field {number} (`{before.name}`) was removed from oneof "
                        f"`{before.oneof}` of `{old.full_name}`",
                        before.oneof,
                        str(number),
                    )
            elif before.label == "required":
                scope.add(
                    "REQUIRED_FIELD_REMOVED",
                    f"required field {number} (`{before.name}`) of `{old.full_name}` was removed",
                    str(number),
                )
        elif before is None and after is not None:
            if after.oneof is None and after.label == "required":
                scope.add(
                    "REQUIRED_FIELD_ADDED",
                    f"required field {number} (`{after.name}`) was added to `{new.full_name}`, "
                    "and old data does not carry it",
                    str(number),
                )
        elif before is not None and after is not None:
            if before == after and _plain(after):
                continue  # the same scalar field: nothing can differ
            where = (after.oneof, str(number)) if after.oneof is not None else (str(number),)
            scope.path.extend(where)
            _field(scope, before, after)
            del scope.path[-len(where) :]


def _plain(field: Field) -> bool:
    """Whether the field's type is a scalar (or a map of scalars): equal fields then agree."""
    if field.map_key is not None and field.map_value is not None:
        return field.map_key.scalar is not None and field.map_value.scalar is not None
    return field.type.scalar is not None


def _field(scope: _Scope, before: Field, after: Field) -> None:
    _labels_and_types(scope, before, after, before.label, after.label)


def _kind(model: SchemaModel, field: Field | None, ref: TypeRef) -> str:
    if field is not None and field.map_key is not None:
        return "MAP"
    if ref.scalar is not None or (ref.named is not None and ref.named in model.enums):
        return "SCALAR"
    return "MESSAGE"


def _scalar_kind(model: SchemaModel, ref: TypeRef) -> str:
    if ref.named is not None:
        return "GENERAL_NUMBER"  # an enum
    return SCALAR_KINDS[ref.scalar or ""]


def _describe(field: Field) -> str:
    return f"field {field.number} (`{field.name}`)"


def _labels_and_types(
    scope: _Scope,
    before: Field | None,
    after: Field | None,
    old_label: str | None,
    new_label: str | None,
    old_ref: TypeRef | None = None,
    new_ref: TypeRef | None = None,
) -> None:
    old_ref = old_ref or (before.type if before else TypeRef())
    new_ref = new_ref or (after.type if after else TypeRef())
    old_kind = _kind(scope.original, before, old_ref)
    new_kind = _kind(scope.update, after, new_ref)
    what = _describe(after) if after is not None else "a map's key or value"
    if old_kind != new_kind:
        scope.add(
            "FIELD_KIND_CHANGED",
            f"{what} changed from a {old_kind.lower()} to a {new_kind.lower()}",
        )
        return
    if old_kind == "SCALAR":
        old_scalar = _scalar_kind(scope.original, old_ref)
        new_scalar = _scalar_kind(scope.update, new_ref)
        if old_scalar != new_scalar:
            scope.add(
                "FIELD_SCALAR_KIND_CHANGED",
                f"{what} changed type from `{_spell(old_ref)}` to `{_spell(new_ref)}`, which "
                "are encoded differently on the wire",
            )
        elif (
            old_label is not None
            and new_label is not None
            and old_label != new_label
            and old_scalar in NUMERIC_KINDS
        ):
            scope.add(
                "FIELD_NUMERIC_LABEL_CHANGED",
                f"{what} changed from `{old_label}` to `{new_label}`; numeric fields cannot move "
                "between singular and repeated (packed encoding differs)",
            )
    elif old_kind == "MESSAGE":
        _message_types(scope, what, old_ref, new_ref)
    elif before is not None and after is not None:
        _labels_and_types(scope, None, None, None, None, before.map_key, after.map_key)
        _labels_and_types(scope, None, None, None, None, before.map_value, after.map_value)


def _spell(ref: TypeRef) -> str:
    return ref.scalar or f".{ref.named}"


def _message_types(scope: _Scope, what: str, old_ref: TypeRef, new_ref: TypeRef) -> None:
    old = scope.original.messages.get(old_ref.named or "")
    new = scope.update.messages.get(new_ref.named or "")
    if old is None or new is None:
        if old_ref != new_ref:
            scope.add(
                "FIELD_NAMED_TYPE_CHANGED",
                f"{what} changed type from `{_spell(old_ref)}` to `{_spell(new_ref)}`",
            )
        return
    old_local = _local(old)
    new_local = _local(new)
    if old_local != new_local:
        scope.add(
            "FIELD_NAMED_TYPE_CHANGED",
            f"{what} changed type from `{_spell(old_ref)}` to `{_spell(new_ref)}`",
        )
        return
    if old.reference is not None and old.reference == new.reference:
        return  # the same file (the root, or one reference version): compared where defined
    sub = _Scope(
        scope.original,
        scope.update,
        old.package,
        new.package,
        old_local.split("."),
        set(scope.active),
    )
    _message(sub, old, new)
    scope.found.extend(sub.found)
    if sub.found:
        scope.add(
            "FIELD_NAMED_TYPE_CHANGED",
            f"{what} has type `{old_local}`, which changed incompatibly (see the findings at "
            f"`#/{old_local.replace('.', '/')}`)",
        )


def _local(message: Message) -> str:
    prefix = f"{message.package}." if message.package else ""
    return (
        message.full_name[len(prefix) :]
        if message.full_name.startswith(prefix)
        else message.full_name
    )
