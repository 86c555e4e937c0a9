"""Load operator-edited YAML with line numbers, and turn validation errors into file:line: key messages."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, NodeEvent

from core.errors import ConfigError

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)

# Bounds on what one operator-edited file may make us build. Our largest configuration file is about
# 20 kB, nested 6 levels deep, and none uses anchors; a hostile file (a "billion laughs" alias bomb of
# ten lines, brackets nested thousands deep, megabytes of intents) is refused before it is expanded.
MAX_YAML_BYTES = 256 * 1024  # ten times our largest file
MAX_DEPTH = 64  # nested mappings and lists, aliases expanded
MAX_ALIAS_VALUES = 10_000  # values that aliases add when expanded (each alias: its anchor's whole subtree)


@dataclass
class YamlDoc:
    """Plain Python data from a YAML file plus the line (1-based) of every key and list item."""

    path: Path
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Iterable[str | int]) -> int | None:
        """Line of the deepest known prefix of `loc` (pydantic error locations may go deeper)."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), None)

    def where(self, loc: Iterable[str | int]) -> str:
        line = self.line_of(loc)
        return f"{self.path}:{line}" if line else str(self.path)


def _plain(node: Any, loc: Loc, lines: dict[Loc, int]) -> Any:
    if isinstance(node, CommentedMap):
        out: dict[Any, Any] = {}
        for key, value in node.items():
            try:
                line, _col = node.lc.key(key)
                lines[loc + (str(key),)] = line + 1
            except (KeyError, TypeError, AttributeError):
                pass
            out[str(key) if not isinstance(key, (int, float, bool)) else key] = _plain(
                value, loc + (str(key),), lines
            )
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for i, value in enumerate(node):
            try:
                line, _col = node.lc.item(i)
                lines[loc + (i,)] = line + 1
            except (KeyError, TypeError, AttributeError, IndexError):
                pass
            items.append(_plain(value, loc + (i,), lines))
        return items
    if isinstance(node, str):
        return str(node)
    return node


def _check_bounds(yaml: YAML, text: str, path: Path) -> None:
    """Refuse, from the parser's events (linear, no recursion), what would blow up when built:
    nesting deeper than MAX_DEPTH and aliases expanding to more than MAX_ALIAS_VALUES values."""
    size: dict[str, int] = {}  # anchor -> values in its subtree
    height: dict[str, int] = {}  # anchor -> levels of nesting in its subtree
    open_: list[tuple[str | None, int, int]] = []  # per open collection: anchor, count at start, deepest
    count = added = 0
    for event in yaml.parse(io.StringIO(text)):
        line = event.start_mark.line + 1 if event.start_mark is not None else 0
        if isinstance(event, AliasEvent):
            anchor = str(event.anchor)
            n, h = size.get(anchor, 1), height.get(anchor, 0)
            count += n
            added += n
            if added > MAX_ALIAS_VALUES:
                raise ConfigError(
                    f"{path}:{line}: aliases (*{anchor}) expand to more than {MAX_ALIAS_VALUES} values; "
                    "write the values out instead of repeating an anchor"
                )
            if len(open_) + h > MAX_DEPTH:
                raise ConfigError(
                    f"{path}:{line}: nested more than {MAX_DEPTH} levels deep (through *{anchor})"
                )
            if open_:
                a, c, deepest = open_[-1]
                open_[-1] = (a, c, max(deepest, h))
        elif isinstance(event, CollectionStartEvent):
            count += 1
            if len(open_) >= MAX_DEPTH:
                raise ConfigError(f"{path}:{line}: nested more than {MAX_DEPTH} levels deep")
            open_.append((event.anchor, count, 0))
        elif isinstance(event, CollectionEndEvent):
            named, start, deepest = open_.pop()
            if named is not None:
                size[str(named)], height[str(named)] = count - start + 1, deepest + 1
            if open_:
                a, c, d = open_[-1]
                open_[-1] = (a, c, max(d, deepest + 1))
        elif isinstance(event, NodeEvent):  # a scalar
            count += 1
            if event.anchor is not None:
                size[str(event.anchor)], height[str(event.anchor)] = 1, 0


def parse_yaml_text(text: str, path: Path) -> YamlDoc:
    """Parse YAML text (BOM tolerated, duplicate keys rejected) into plain data with line numbers.

    Bounded: more than MAX_YAML_BYTES of text, nesting deeper than MAX_DEPTH or an alias bomb is a
    ConfigError naming the file (and the line), never a blown-up process.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    if len(text) > MAX_YAML_BYTES:
        raise ConfigError(
            f"{path}: {len(text)} characters, more than {MAX_YAML_BYTES} (a configuration "
            "file is a few kilobytes); nothing was read"
        )
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        _check_bounds(yaml, text, path)
        node = yaml.load(io.StringIO(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "invalid YAML"
        hint = ""
        if "\t" in text and ("tab" in str(exc).lower() or "'\\t'" in str(exc)):
            hint = " (YAML does not allow tab characters for indentation; use spaces)"
        raise ConfigError(f"{path}{line}: {problem}{hint}") from None
    except YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from None
    lines: dict[Loc, int] = {}
    data = _plain(node, (), lines)
    return YamlDoc(path=path, data=data, lines=lines)


def load_yaml(path: Path, *, shown_as: Path | None = None) -> YamlDoc:
    """Read and parse one YAML file; every failure is a ConfigError naming the file.

    `shown_as` names the file in messages and in the result instead of `path` (an edited copy being
    checked before it replaces the original).
    """
    name = shown_as or path
    try:
        if path.stat().st_size > MAX_YAML_BYTES:
            raise ConfigError(
                f"{name}: {path.stat().st_size} bytes, more than {MAX_YAML_BYTES} (a "
                "configuration file is a few kilobytes); nothing was read"
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{name}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    return parse_yaml_text(text, name)


_NAMED_KEY = re.compile(r"([a-z_]+(?:\.[a-z_0-9]+)+): ")


def _dotted(loc: Iterable[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


_URL_PASSWORD = re.compile(r"(://[^:/@\s'\"]*):[^@/\s'\"]*@")


def hide_url_password(text: str) -> str:
    """A URL's password (a database URL in a mistaken setting) is not echoed into an error message."""
    return _URL_PASSWORD.sub(r"\1:***@", text)


def describe_validation_error(
    exc: ValidationError,
    doc: YamlDoc,
    *,
    prefix: Loc = (),
    sources: Mapping[Loc, str] | None = None,
) -> list[str]:
    """One line per problem: `file:line: key.path: what was expected (got ...)`.

    `prefix` is prepended to pydantic locations (when only part of the file was validated);
    `sources` maps locations that came from elsewhere (environment variables) to a label.
    """
    messages = []
    for err in exc.errors(include_url=False):
        loc = prefix + tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        msg = err["msg"]
        # A check across keys names the key it is about ("ivr.flow.operator_endpoint: ..."): point there.
        named = _NAMED_KEY.match(msg.removeprefix("Value error, "))
        # A number in it is a list item: "ivr.duty.rota.2.ring" is ivr.duty.rota[2].ring.
        named_loc = tuple(int(p) if p.isdigit() else p for p in named.group(1).split(".")) if named else ()
        if named and named_loc[: len(loc)] == loc:
            loc = named_loc
            msg = msg.removeprefix("Value error, ")[named.end() :]
        where = None
        if sources:
            for src_loc, label in sources.items():
                if loc[: len(src_loc)] == src_loc:
                    where = label
                    break
        where = where or doc.where(loc)
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see the comments in the file for valid keys)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        got = ""
        if err["type"] not in ("missing", "extra_forbidden") and not isinstance(err.get("input", {}), dict):
            shown = hide_url_password(repr(err["input"]))
            got = f" (got {shown[:80]})"
        messages.append(f"{where}: {_dotted(loc)}: {msg}{got}")
    return messages


_NO_DATA = object()


def validate_doc(model: type[M], doc: YamlDoc, *, heading: str = "", data: Any = _NO_DATA) -> M:
    """`model` from the file's data (or `data` drawn from it); a ConfigError with one `file:line: key`
    line per problem, under `heading` when given."""
    try:
        return model.model_validate(doc.data if data is _NO_DATA else data)
    except ValidationError as exc:
        lines = describe_validation_error(exc, doc)
        raise ConfigError(f"{heading}:\n  " + "\n  ".join(lines) if heading else "\n".join(lines)) from None
