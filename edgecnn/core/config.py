"""The one config-file loader, with one set of rules for every command that takes ``--config FILE``
(``edgecnn run``, ``edgecnn sweep``).

The rules:

- JSON for a ``.json`` file, TOML for any other suffix.
- Options flat, or under one table named after the command (``[run]``, ``[sweep]``), which must then be the
  file's only entry.
- Keys are the command's long options without the dashes (``top-k`` or ``top_k``; some options also take their
  parameter name, such as ``archs`` for ``--arch``). An unknown key is a one-line error listing the known ones.
- Values are checked against the kind the option declares: booleans are ``true``/``false``, integers must be
  whole numbers, text options take text (or a number, such as a camera index), list options take an array or a
  comma-separated string, table options a table.
- Relative paths are relative to the file's directory, so that a service can point at a config file anywhere:
  options that are always paths (``model``, ``labels``, ``jsonl``, ``--out``...) are resolved (``-``, standard
  output, stays), options that may be a path or a name (``--source``, ``--data``) only when that path exists.

The command line feeds the same declaration and wins over the file (the CLI passes the file's values to click as
``default_map``; see ``edgecnn.cli._declare``). Standard library only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.parsing import parse_list

#: ``ConfigKey.path``: always a path (resolved against the config file's directory).
PATH = "path"
#: ``ConfigKey.path``: a path or a name (a camera index, a URL, a dataset name): resolved only where it exists.
PATH_OR_NAME = "path-or-name"

_KIND_NAMES = {bool: "bool", int: "int", float: "float", str: "str", list: "a list", dict: "a table"}


@dataclass(frozen=True)
class ConfigKey:
    """One option as a config file may set it.

    Attributes:
        name: The option's parameter name (the key in the returned values).
        kind: ``bool``, ``int``, ``float``, ``str``, ``list`` or ``dict``.
        item: For ``list``: the item type or converter (see :func:`edgecnn.core.parsing.parse_list`).
        path: None, :data:`PATH` or :data:`PATH_OR_NAME`.
        spellings: Further accepted keys (the long flags' names), with ``_`` for ``-``.
    """

    name: str
    kind: type = str
    item: type | Callable[[str], Any] = str
    path: str | None = None
    spellings: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """How the list of known keys shows this option: its first spelling, and its name where that differs."""
        first = self.spellings[0] if self.spellings else self.name
        return first if first == self.name else f"{first}/{self.name}"


def flag_of(name: str) -> str:
    """The command-line flag spelling of a parameter name (``top_k`` -> ``--top-k``)."""
    return "--" + name.replace("_", "-")


def read_table(path: str | os.PathLike, command: str) -> dict[str, Any]:
    """The option table of a config file: the whole file, or its ``[command]`` table.

    Raises:
        EdgeCNNError: If the file is missing or unparsable, not a table, or mixes a ``[command]`` table with other
            top-level entries.
    """
    import tomllib  # here, not at import: every CLI start imports this module, few read a file

    path = Path(path)
    if not path.is_file():
        raise EdgeCNNError(f"config file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        raise EdgeCNNError(f"cannot parse config file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise EdgeCNNError(f"config file {path} must hold a table of options, got {type(data).__name__}")
    if isinstance(data.get(command), dict):
        others = sorted(str(key) for key in data if key != command)
        if others:
            raise EdgeCNNError(
                f"config file {path} has a [{command}] table and top-level keys ({', '.join(others)}); "
                f"put every option under [{command}] or none"
            )
        data = data[command]
    return data


def check_value(key: ConfigKey, value: Any, where: str) -> Any:
    """``value`` as ``key.kind`` declares it.

    Raises:
        EdgeCNNError: ``<where>: <name> must be <kind>. Received <name>=<value>``.
    """
    name, kind = key.name, key.kind
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind is list and (isinstance(value, str | list | tuple) or number):
        try:
            return list(parse_list(value, key.item, name))
        except EdgeCNNError as exc:
            raise EdgeCNNError(f"{where}: {exc}") from None
    if kind is bool and isinstance(value, bool):
        return value
    if kind is int and number and float(value).is_integer():
        return int(value)
    if kind is float and number:
        return float(value)
    if kind is str and (isinstance(value, str) or number):
        return str(value)
    if kind is dict and isinstance(value, dict):
        return value
    raise EdgeCNNError(f"{where}: {name} must be {_KIND_NAMES.get(kind, kind.__name__)}. Received {name}={value!r}")


def resolve_path(value: str, how: str | None, base: Path) -> str:
    """A config file's relative path made relative to ``base`` (its directory), as :attr:`ConfigKey.path` says."""
    if how == PATH and value != "-":
        return str(base / Path(value).expanduser())
    if how == PATH_OR_NAME and not Path(value).is_absolute() and (base / value).exists():
        return str(base / value)
    return value


def load_config(path: str | os.PathLike, command: str, keys: Iterable[ConfigKey]) -> dict[str, Any]:
    """Reads ``--config FILE`` for ``command`` with the rules in this module's docstring.

    Args:
        path: The file.
        command: The command's name, which is also the name of its optional table (``run``, ``sweep``).
        keys: The options the command declares.

    Returns:
        Checked values by parameter name, relative paths resolved.

    Raises:
        EdgeCNNError: For a missing or unparsable file, an unknown or repeated key, or a wrongly typed value.
    """
    path = Path(path)
    keys = list(keys)
    by_spelling = {spelling: key for key in keys for spelling in (*key.spellings, key.name)}
    base = path.resolve().parent
    where = f"config file {path}"
    values: dict[str, Any] = {}
    for raw, value in read_table(path, command).items():
        key = by_spelling.get(str(raw).replace("-", "_"))
        if key is None:
            known = ", ".join(k.label for k in keys)
            raise EdgeCNNError(f"unknown option {raw!r} in {where}; known: {known}")
        if key.name in values:
            raise EdgeCNNError(f"{where} sets {key.name} twice (as {raw!r} and another spelling)")
        checked = check_value(key, value, where)
        if key.path is not None and isinstance(checked, str):
            checked = resolve_path(checked, key.path, base)
        values[key.name] = checked
    return values
