"""Options declared once: the command's signature is the declaration; ``--config FILE`` and library defaults feed it.

A command's typer signature declares each option once (flag, help, type). Three things feed that declaration
through click's ``default_map``, so the command line always wins:

- the library container's defaults (``RunOptions``, ``SweepConfig``): ``context_settings=library_defaults(...)``
  reads them lazily, so the help shows them and the CLI never repeats them;
- ``--config FILE`` (:func:`config_option`, an eager option): read by :func:`edgecnn.core.config.load_config`
  against keys derived from the same signature (:func:`config_keys`), so the file knows every option, its type
  and which options are paths;
- the command line, parsed by click as usual.

Option kinds that a bare annotation cannot say are declared with :func:`path_option` / :func:`path_argument`
(which paths are inputs, outputs or maybe-paths), :func:`list_option` (comma-separated lists, arrays in a file)
and :func:`pairs_option` (repeated ``KEY=VALUE``, a table in a file). The same declaration lets ``edgecnn service
install`` check ``run`` options with ``run``'s own parser (:func:`parse_command_line`).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import typer

from edgecnn.cli._app import cli_message
from edgecnn.core.errors import EdgeCNNError

try:  # typer >= 0.2x carries its own copy of click
    from typer._click.exceptions import BadOptionUsage, NoSuchOption, UsageError
except ImportError:  # pragma: no cover - typer on the click package
    from click.exceptions import BadOptionUsage, NoSuchOption, UsageError

#: Path roles: a file that must exist (``service install`` makes it absolute), a file the command writes (left
#: relative to the working directory), or a value that is a path only when that path exists (a source, a dataset).
INPUT, OUTPUT, INPUT_OR_NAME = "input", "output", "input-or-name"


def _as_given(value: Any) -> Any:
    """typer ``parser`` that keeps a value as it is, so a config file's array reaches the option's callback."""
    return value


def _declared(callback: Callable, **attributes: Any) -> Callable:
    """An option callback carrying what the option holds (``kind``, path ``role``...) for :func:`config_keys`.

    typer reads a callback's signature, so these are functions with attributes rather than callable objects.
    """
    for name, value in attributes.items():
        setattr(callback, name, value)
    return callback


def path_callback(role: str) -> Callable:
    """Callback of an option holding a path (``role``: :data:`INPUT`, :data:`OUTPUT` or :data:`INPUT_OR_NAME`)."""

    def keep(ctx: typer.Context, param: typer.CallbackParam, value: Any) -> Any:
        return value

    return _declared(keep, kind=str, role=role)


def list_callback(item: type | Callable[[str], Any], what: str | None = None) -> Callable:
    """Callback turning a comma-separated string (or a config file's array) into a tuple of ``item``."""

    def to_tuple(ctx: typer.Context, param: typer.CallbackParam, value: Any) -> tuple | None:
        from edgecnn.core.parsing import parse_list

        if value is None:
            return None
        try:
            return parse_list(value, item, param.name or "", what=what)
        except EdgeCNNError as exc:  # raised while parsing, outside the command's error handler: map it here
            raise EdgeCNNError(cli_message(exc, ctx.command)) from None

    return _declared(to_tuple, kind=list, item=item)


def _to_pairs(ctx: typer.Context, param: typer.CallbackParam, value: Any) -> dict[str, Any]:
    """Callback of a repeated ``KEY=VALUE`` option: a dict (values read as JSON when they parse, else text).

    A config file gives the same option as a table; ``KEY=VALUE`` items on the command line then override the
    table's entries one by one instead of replacing the whole table.
    """
    name = param.name or ""
    pairs: dict[str, Any] = {}
    for item in value or ():
        if isinstance(item, tuple):  # an entry of a config file's table (see _table_items)
            pairs[item[0]] = item[1]
            continue
        if isinstance(item, dict):  # the library default (an empty table), as typer passes it
            pairs.update(_table_items(item))
            continue
        key, sep, text = str(item).partition("=")
        if not sep or not key.strip():
            error = EdgeCNNError(f"{name} takes KEY=VALUE. Received {item!r}", param=name)
            raise EdgeCNNError(cli_message(error, ctx.command))
        try:
            pairs[key.strip().replace("-", "_")] = json.loads(text)
        except ValueError:
            pairs[key.strip().replace("-", "_")] = text
    source = ctx.get_parameter_source(name)
    if source is not None and source.name == "COMMANDLINE" and ctx.default_map:
        pairs = {**dict(ctx.default_map.get(name) or ()), **pairs}
    return pairs


def _table_items(table: dict[str, Any]) -> list[tuple[str, Any]]:
    """A config file's table as a repeated option's ``default_map`` entry (one item per key)."""
    return [(str(key).replace("-", "_"), value) for key, value in table.items()]


def path_option(default: Any, *decls: str, role: str, **kwargs: Any) -> Any:
    """A ``typer.Option`` holding a path (``role``: :data:`INPUT`, :data:`OUTPUT` or :data:`INPUT_OR_NAME`)."""
    return typer.Option(default, *decls, callback=path_callback(role), **kwargs)


def path_argument(default: Any, *, role: str, **kwargs: Any) -> Any:
    """A ``typer.Argument`` holding a path (see :func:`path_option`)."""
    return typer.Argument(default, callback=path_callback(role), **kwargs)


def list_option(default: Any, *decls: str, item: type | Any, what: str | None = None, **kwargs: Any) -> Any:
    """A ``typer.Option`` taking a comma-separated list (an array in a config file); the value is a tuple."""
    return typer.Option(default, *decls, parser=_as_given, callback=list_callback(item, what), **kwargs)


def pairs_option(*decls: str, **kwargs: Any) -> Any:
    """A repeatable ``typer.Option`` of ``KEY=VALUE`` items (a table in a config file); the value is a dict."""
    callback = _declared(_to_pairs, kind=dict, to_default=_table_items)
    kwargs.setdefault("show_default", False)
    return typer.Option(None, *decls, parser=_as_given, callback=callback, **kwargs)


def _load_config_file(ctx: typer.Context, param: typer.CallbackParam, value: str | None) -> str | None:
    """``--config``'s callback: reads the file against the command's declaration and sets ``ctx.default_map``."""
    from edgecnn.core.config import load_config

    if value is None:
        return None
    values = load_config(value, ctx.info_name or "", config_keys(ctx.command))
    declared = declarations(ctx.command)
    defaults = dict(ctx.default_map or {})
    for name, given in values.items():
        to_default = getattr(declared.get(name), "to_default", None)
        defaults[name] = to_default(given) if to_default else given
    ctx.default_map = defaults
    return value


def config_option(help: str = "JSON or TOML file with these options (the command line overrides it).") -> Any:
    """The ``--config FILE`` option: an eager option whose callback loads the file into ``ctx.default_map``."""
    # role: `service install` makes the file's path absolute and checks that it exists.
    callback = _declared(_load_config_file, role=INPUT)
    return typer.Option(None, "--config", is_eager=True, callback=callback, help=help)


class _LibraryDefaults(Mapping):
    """The defaults of a library dataclass (``"module:Class"``), imported when first read."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._values: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        if self._values is None:
            module, _, name = self.target.partition(":")
            cls = getattr(importlib.import_module(module), name)
            self._values = {
                f.name: (f.default_factory() if f.default is dataclasses.MISSING else f.default)
                for f in dataclasses.fields(cls)
                if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
            }
        return self._values

    def __getitem__(self, key: str) -> Any:
        return self._load()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


def library_defaults(target: str) -> dict[str, Any]:
    """``context_settings`` that give a command the defaults of the library dataclass ``"module:Class"``."""
    return {"default_map": _LibraryDefaults(target)}


def from_params(cls: type, params: Mapping[str, Any]) -> Any:
    """An instance of the dataclass ``cls`` from the parsed parameters that share its field names."""
    return cls(**{f.name: params[f.name] for f in dataclasses.fields(cls) if f.name in params})


def declarations(command: Any) -> dict[str, Any]:
    """Parameter name -> its callback, for the parameters declared with one (the kind-declaring callbacks of
    :func:`path_option`, :func:`list_option`, :func:`pairs_option`, :func:`config_option` carry ``kind``,
    ``role``, ``item``)."""
    function = inspect.unwrap(command.callback)
    out = {}
    for name, parameter in inspect.signature(function).parameters.items():
        callback = getattr(parameter.default, "callback", None)
        if callback is not None:
            out[name] = callback
    return out


def _annotation_kind(annotation: Any) -> type:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    if typing.get_origin(annotation) is list:
        return list
    if annotation in (bool, int, float):
        return annotation
    return str


def config_keys(command: Any) -> list:
    """What a config file may set for ``command`` (:class:`~edgecnn.core.config.ConfigKey` list): every parameter
    but ``--config`` and eager ones, in declaration order."""
    from edgecnn.core.config import PATH, PATH_OR_NAME, ConfigKey

    function = inspect.unwrap(command.callback)
    hints = typing.get_type_hints(function)
    declared = declarations(command)
    keys = []
    for param in command.params:
        if param.name == "config" or getattr(param, "is_eager", False) or not param.expose_value:
            continue
        meta = declared.get(param.name)
        kind = getattr(meta, "kind", None) or _annotation_kind(hints.get(param.name, str))
        role = getattr(meta, "role", None)
        spellings = tuple(opt.lstrip("-").replace("-", "_") for opt in param.opts if opt.startswith("--"))
        keys.append(
            ConfigKey(
                param.name,
                kind=kind,
                item=getattr(meta, "item", str),
                path=None if role is None else PATH_OR_NAME if role == INPUT_OR_NAME else PATH,
                spellings=spellings,
            )
        )
    return keys


def app_command(name: str) -> Any:
    """The click command behind ``edgecnn NAME`` (the real one, with its declaration and callbacks)."""
    from edgecnn.cli import app

    group = typer.main.get_command(app)
    command = group.commands.get(name)  # type: ignore[attr-defined]
    if command is None:
        raise KeyError(name)
    return command


def parse_command_line(name: str, args: list[str]) -> Any:
    """Parses ``edgecnn NAME ARGS`` with the command's own parser (``--config`` included) without running it.

    Returns:
        The click context; its ``params`` hold the values the command would get.

    Raises:
        EdgeCNNError: For anything the command's parser refuses, as one line.
    """
    command = app_command(name)
    try:
        return command.make_context(name, list(args))
    except NoSuchOption as exc:
        raise EdgeCNNError(f"unknown `edgecnn {name}` option {exc.option_name!r} (see edgecnn {name} --help)") from None
    except BadOptionUsage as exc:
        flag = exc.option_name
        option = next((p for p in command.params if flag in (*p.opts, *p.secondary_opts)), None)
        if option is not None and getattr(option, "is_flag", False):
            given = next((a for a in args if a.startswith(f"{flag}=")), flag)
            raise EdgeCNNError(f"option {flag} takes no value. Received {given!r}") from None
        raise EdgeCNNError(f"option {flag} needs a value") from None
    except UsageError as exc:
        raise EdgeCNNError(f"`edgecnn {name}`: {exc.format_message()}") from None


def read_command_config(name: str, path: str) -> dict[str, Any]:
    """What ``edgecnn NAME --config PATH`` reads from the file: checked values by parameter name, paths resolved.

    Raises:
        EdgeCNNError: As :func:`edgecnn.core.config.load_config`.
    """
    from edgecnn.core.config import load_config

    return load_config(path, name, config_keys(app_command(name)))
