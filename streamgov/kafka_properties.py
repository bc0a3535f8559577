"""librdkafka client properties for a Kafka cluster, gathered kcat-style from three places.

Lowest to highest precedence (a later source overrides a key of an earlier one):

1. the `kafka:` section of `streamgov.yaml`: `key: value`, or `key: {file: PATH}` /
   `key: {env: NAME}` to read the value from a file or an environment variable;
2. the environment: `STREAMGOV_KAFKA_SASL_USERNAME=app` is `sasl.username` (`_` -> `.`,
   `__` -> `_`, as Confluent's images spell properties), and `..._FILE=PATH` reads the value
   of the property from a file (`STREAMGOV_KAFKA_SASL_PASSWORD_FILE`);
3. `-X key=value` on the command line (repeatable), `-X key=@PATH` to read a file (`@@` keeps
   a literal leading `@`).

Secret values (passwords, secrets, private keys, and every value read from a file or an
environment variable named in the configuration) are never shown: `describe()` masks them and
`scrub()` removes them from any text, such as a client library's error message. Everything
here is pure except reading the named files and variables.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ENV_PREFIX = "STREAMGOV_KAFKA_"
FILE_SUFFIX = "_FILE"
SECTION = "kafka"
MASK = "***"
#: A secret file larger than this is surely not a password or a key.
MAX_SECRET_FILE_BYTES = 1_048_576

_KEY = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*$")
#: Properties the command line owns: the bootstrap servers come from --bootstrap.
_OWNED = {"bootstrap.servers": "give the brokers with --bootstrap/-b or STREAMGOV_BOOTSTRAP"}
_SECRET_WORDS = ("password", "secret", "key.pem", "keystore.location", "oauthbearer.config")


class KafkaPropertyError(ValueError):
    """A client property is not valid; the message names it and where it came from."""


def is_secret_key(key: str) -> bool:
    """Whether a property's value is a credential that must never be shown."""
    return any(word in key for word in _SECRET_WORDS)


@dataclass(frozen=True, slots=True)
class KafkaProperty:
    """One librdkafka property, where it was set, and whether its value must stay hidden."""

    key: str
    value: str = field(repr=False)
    source: str
    secret: bool

    def shown(self) -> str:
        """`key=value (source)`, the value masked when it is secret."""
        return f"{self.key}={MASK if self.secret else self.value} (from {self.source})"


def _check_key(key: str, source: str) -> str:
    if not _KEY.match(key):
        raise KafkaPropertyError(
            f"{source}: {key!r} is not a librdkafka property name (e.g. security.protocol)"
        )
    if key in _OWNED:
        raise KafkaPropertyError(f"{source}: {key} cannot be set here; {_OWNED[key]}")
    return key


def _read_secret_file(path: str, key: str, source: str) -> str:
    try:
        file = Path(path).expanduser()
        if file.stat().st_size > MAX_SECRET_FILE_BYTES:
            raise KafkaPropertyError(
                f"{source}: the file for {key} is larger than {MAX_SECRET_FILE_BYTES} bytes"
            )
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise KafkaPropertyError(
            f"{source}: cannot read the file for {key}: {exc.strerror or type(exc).__name__}"
        ) from None
    except UnicodeDecodeError:
        raise KafkaPropertyError(f"{source}: the file for {key} is not UTF-8 text") from None
    # A secret file conventionally ends with a newline that is not part of the secret.
    return text.removesuffix("\n").removesuffix("\r")


def from_options(pairs: Iterable[str]) -> list[KafkaProperty]:
    """`-X key=value` / `-X key=@PATH` options, in order."""
    result = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            # The text may hold a secret: name only what was wrong.
            raise KafkaPropertyError("-X: expected KEY=VALUE (e.g. -X security.protocol=SSL)")
        _check_key(key, f"-X {key}")
        if value.startswith("@@"):
            result.append(KafkaProperty(key, value[1:], "-X", is_secret_key(key)))
        elif value.startswith("@"):
            text = _read_secret_file(value[1:], key, f"-X {key}")
            result.append(KafkaProperty(key, text, f"-X {key}=@{value[1:]}", True))
        else:
            result.append(KafkaProperty(key, value, "-X", is_secret_key(key)))
    return result


def _env_key(name: str) -> str:
    """`SASL_USERNAME` -> `sasl.username`; a doubled `__` stands for `_`."""
    return "_".join(piece.replace("_", ".") for piece in name.lower().split("__"))


def from_environment(env: Mapping[str, str]) -> list[KafkaProperty]:
    """`STREAMGOV_KAFKA_*` variables, in name order (`..._FILE` reads the value from a file)."""
    result = []
    for name in sorted(env):
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX:
            continue
        rest = name.removeprefix(ENV_PREFIX)
        if rest.endswith(FILE_SUFFIX) and rest != FILE_SUFFIX.lstrip("_"):
            key = _check_key(_env_key(rest.removesuffix(FILE_SUFFIX)), name)
            result.append(KafkaProperty(key, _read_secret_file(env[name], key, name), name, True))
        else:
            key = _check_key(_env_key(rest), name)
            result.append(KafkaProperty(key, env[name], name, is_secret_key(key)))
    return result


def _scalar(node: yaml.Node, where: str) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise KafkaPropertyError(f"{where}: expected text, a number, true/false or {{file|env}}")
    value = yaml.SafeLoader("").construct_object(node, deep=True)
    if value is None or isinstance(value, (list, dict)):
        raise KafkaPropertyError(f"{where}: the value is empty")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def from_yaml(text: str, source: str, env: Mapping[str, str]) -> list[KafkaProperty]:
    """The `kafka:` section of a `streamgov.yaml` text (none: no properties). Errors name the
    file and line; unknown forms are refused rather than guessed."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise KafkaPropertyError(f"{where}: not valid YAML") from None
    if root is None or not isinstance(root, yaml.MappingNode):
        return []
    section = next(
        (value for key, value in root.value if getattr(key, "value", None) == SECTION), None
    )
    if section is None or (isinstance(section, yaml.ScalarNode) and section.value in ("", "~")):
        return []
    if not isinstance(section, yaml.MappingNode):
        raise KafkaPropertyError(
            f"{source}:{section.start_mark.line + 1}: {SECTION} must be a mapping of "
            "librdkafka properties"
        )
    result = []
    seen: set[str] = set()
    for key_node, value_node in section.value:
        where = f"{source}:{key_node.start_mark.line + 1}"
        if not isinstance(key_node, yaml.ScalarNode):
            raise KafkaPropertyError(f"{where}: a property name must be text")
        key = _check_key(str(key_node.value), where)
        if key in seen:
            raise KafkaPropertyError(f"{where}: {SECTION}.{key} is given twice")
        seen.add(key)
        result.append(_yaml_value(key, value_node, where, env))
    return result


def _yaml_value(key: str, node: yaml.Node, where: str, env: Mapping[str, str]) -> KafkaProperty:
    if not isinstance(node, yaml.MappingNode):
        value = _scalar(node, f"{where}: {SECTION}.{key}")
        return KafkaProperty(key, value, where, is_secret_key(key))
    items = {getattr(k, "value", None): v for k, v in node.value}
    if len(items) != 1 or not set(items) <= {"file", "env"}:
        raise KafkaPropertyError(
            f"{where}: {SECTION}.{key} must be a value, {{file: PATH}} or {{env: NAME}}"
        )
    ((kind, inner),) = items.items()
    name = _scalar(inner, f"{where}: {SECTION}.{key}.{kind}")
    if kind == "file":
        return KafkaProperty(key, _read_secret_file(name, key, where), f"{where} (file)", True)
    if name not in env:
        raise KafkaPropertyError(
            f"{where}: {SECTION}.{key} names the environment variable {name}, which is not set"
        )
    return KafkaProperty(key, env[name], f"{where} (env {name})", True)


@dataclass(frozen=True)
class KafkaProperties:
    """The merged client properties; a later source overrides an earlier one, key by key."""

    properties: tuple[KafkaProperty, ...] = ()

    @classmethod
    def merge(cls, *sources: Iterable[KafkaProperty]) -> KafkaProperties:
        """Merge sources given lowest precedence first."""
        chosen: dict[str, KafkaProperty] = {}
        for source in sources:
            for prop in source:
                chosen.pop(prop.key, None)
                chosen[prop.key] = prop
        return cls(tuple(chosen.values()))

    def config(self) -> dict[str, str]:
        """The properties as a librdkafka configuration."""
        return {p.key: p.value for p in self.properties}

    def source_of(self, key: str) -> str | None:
        """Where a property was set (None: not set)."""
        return next((p.source for p in self.properties if p.key == key), None)

    def describe(self) -> list[str]:
        """One masked line per property, for `--verbose`."""
        return [self.scrub(p.shown()) for p in self.properties]

    def scrub(self, text: str) -> str:
        """`text` with every secret value replaced by the mask."""
        for prop in sorted(self.properties, key=lambda p: -len(p.value)):
            if prop.secret and prop.value:
                text = text.replace(prop.value, MASK)
        return text

    def __repr__(self) -> str:
        return f"KafkaProperties({', '.join(self.describe())})"


def gather(
    options: Iterable[str], env: Mapping[str, str] | None = None, config_file: Path | None = None
) -> KafkaProperties:
    """Merge `streamgov.yaml`'s `kafka:` section, the environment and `-X` options."""
    environ = os.environ if env is None else env
    from_file: list[KafkaProperty] = []
    if config_file is not None and config_file.is_file():
        try:
            text = config_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise KafkaPropertyError(f"cannot read {config_file}: {exc}") from None
        from_file = from_yaml(text, str(config_file), environ)
    return KafkaProperties.merge(from_file, from_environment(environ), from_options(options))
