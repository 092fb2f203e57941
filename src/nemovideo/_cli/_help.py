"""Help a person reads: arguments shown by their metavar (``PROMPT``, ``FILE...``), not ``{prompt} <str>``,
and flags without a ``<bool>`` type. Applied to the built command tree, parameter by parameter."""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperOption


def _argument(param: TyperArgument) -> None:
    name = param.metavar or (param.name or "").upper()
    shown = name if param.required else f"[{name}]"
    param._usage_display_name = lambda: shown  # type: ignore[method-assign]
    param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]


def _flag(param: Any) -> None:
    param.display_type_rich = lambda ctx: None


def _help_option(command: Any) -> None:
    """The ``--help`` option is made when help is asked for: tidy it then."""
    made = command.get_help_option

    def get_help_option(ctx: Any) -> Any:
        option = made(ctx)
        if option is not None:
            _flag(option)
        return option

    command.get_help_option = get_help_option


def tidy(command: Any) -> Any:
    """``command`` (typer's built command tree) and its subcommands, with readable usage lines and type
    columns. Typer's own click may be vendored, so the tree is walked by its attributes."""
    for param in command.params:
        if isinstance(param, TyperArgument):
            _argument(param)
        elif isinstance(param, TyperOption) and param.is_flag:
            _flag(param)
    _help_option(command)
    for sub in getattr(command, "commands", {}).values():
        tidy(sub)
    return command
