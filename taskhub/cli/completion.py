"""Shell completion scripts for the ``taskhub`` command, written from its argparse parser.

``taskhub completion bash`` and ``taskhub completion zsh`` print a self-contained script: the
commands, their options and every fixed set of values (states, vendors, formats, shells) are
read from the parser when the script is printed, so the script follows the command it came
from; backend names (for ``--backend`` and the ``BACKEND:`` part of a ref) are asked of
``taskhub backends --names`` when TAB is pressed, with the ``--config`` typed on the line.
File arguments complete as files. Nothing beyond the shell is needed (no argcomplete).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence

import attrs

from taskhub import registry
from taskhub.states import State

SHELLS = ("bash", "zsh")


@attrs.frozen
class Arg:
    """One argument of one command, as completion sees it."""

    names: tuple[str, ...]  # option strings; empty for a positional
    dest: str
    help: str
    #: What its value completes to: "" (a flag, no value), "files", "backends", "refs",
    #: "words" (then ``words``), or "any" (a free value: nothing to offer).
    kind: str
    words: tuple[str, ...] = ()
    repeat: bool = False  # an option given more than once, or a positional taking many
    optional: bool = False  # a positional that may be left out


@attrs.frozen
class Command:
    name: str
    help: str
    args: tuple[Arg, ...]

    @property
    def options(self) -> list[Arg]:
        return [a for a in self.args if a.names]

    @property
    def positionals(self) -> list[Arg]:
        return [a for a in self.args if not a.names]


def _kind(action: argparse.Action) -> tuple[str, tuple[str, ...]]:
    if action.nargs == 0:
        return "", ()
    if action.choices is not None and not isinstance(action, argparse._SubParsersAction):
        return "words", tuple(str(c) for c in action.choices)
    if action.metavar == "FILE":
        return "files", ()
    if action.metavar == "BACKEND:ID":
        return "refs", ()
    if action.dest == "backend":
        return "backends", ()
    if action.dest == "state":
        return "words", tuple(s.value for s in State)
    if action.dest == "vendor":
        return "words", tuple(registry.names())
    return "any", ()


def _help(action: argparse.Action) -> str:
    text = re.sub(r"\s*\(default: (%\(default\)s|[^)]*)\)", "", action.help or "")
    return text if text != argparse.SUPPRESS else ""


def _args(parser: argparse.ArgumentParser) -> tuple[Arg, ...]:
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) or action.help == argparse.SUPPRESS:
            continue
        kind, words = _kind(action)
        out.append(
            Arg(
                tuple(action.option_strings),
                action.dest,
                _help(action),
                kind,
                words,
                repeat=isinstance(action, argparse._AppendAction) or action.nargs in ("+", "*"),
                optional=not action.option_strings and action.nargs in ("?", "*"),
            )
        )
    return tuple(out)


def describe(parser: argparse.ArgumentParser) -> tuple[tuple[Arg, ...], list[Command]]:
    """The global options and every command of ``parser``."""
    commands = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {c.dest: c.help or "" for c in action._choices_actions}
            for name, sub in action.choices.items():
                commands.append(Command(name, helps.get(name, ""), _args(sub)))
    return _args(parser), commands


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    """The completion script for ``shell`` (``bash`` or ``zsh``)."""
    if shell == "bash":
        return bash(parser)
    if shell == "zsh":
        return zsh(parser)
    raise ValueError(f"no completion for {shell!r}; expected one of {', '.join(SHELLS)}")


# -- bash ---------------------------------------------------------------------------------------


def _bash_kind(arg: Arg) -> str:
    return f"words:{' '.join(arg.words)}" if arg.kind == "words" else arg.kind


def bash(parser: argparse.ArgumentParser) -> str:
    """A bash completion script (bash 4 or later)."""
    prog = parser.prog
    glob, commands = describe(parser)
    value_arms = []
    for cmd_name, args in [("", glob), *((c.name, c.args) for c in commands)]:
        for arg in args:
            if arg.names and arg.kind:
                pattern = "|".join(f'"{cmd_name} {n}"' for n in arg.names)
                value_arms.append(f"        {pattern}) echo {_q(_bash_kind(arg))} ;;")
    positional_arms = []
    option_arms = []
    for command in commands:
        positionals = command.positionals
        for n, arg in enumerate(positionals):
            pattern = f'"{command.name} "*' if arg.repeat else f'"{command.name} {n}"'
            positional_arms.append(f"        {pattern}) echo {_q(_bash_kind(arg))} ;;")
        names = " ".join(n for a in command.options for n in a.names)
        option_arms.append(f"        {command.name}) echo {_q(names)} ;;")
    global_names = " ".join(n for a in glob for n in a.names)
    command_names = " ".join(c.name for c in commands)
    return f"""\
# bash completion for {prog} (written by `{prog} completion bash`).
# Load it now:    eval "$({prog} completion bash)"
# Or install it:  {prog} completion bash > ~/.local/share/bash-completion/completions/{prog}

_{prog}_backends() {{
    # the configured backend names, from the --config typed on the line if any
    local cfg=()
    [[ -n $1 ]] && cfg=(--config "$1")
    command {prog} "${{cfg[@]}}" backends --names 2>/dev/null
}}

_{prog}_value_kind() {{
    # what the value of option $2 of command $1 completes to (nothing: a flag)
    case "$1 $2" in
{chr(10).join(value_arms)}
    esac
}}

_{prog}_positional_kind() {{
    # what positional argument $2 (from 0) of command $1 completes to
    case "$1 $2" in
{chr(10).join(positional_arms)}
    esac
}}

_{prog}_options() {{
    case "$1" in
        "") echo {_q(global_names)} ;;
{chr(10).join(option_arms)}
    esac
}}

_{prog}() {{
    # Split the line ourselves: COMP_WORDBREAKS would cut BACKEND:ID at the colon.
    local line="${{COMP_LINE:0:COMP_POINT}}" cur="" cmd="" config="" expect="" kind w
    local -a words
    local -i npos=0 i
    read -ra words <<< "$line"
    if [[ -n $line && $line != *[[:space:]] ]]; then
        cur="${{words[${{#words[@]}}-1]}}"
        unset 'words[${{#words[@]}}-1]'
    fi
    for ((i = 1; i < ${{#words[@]}}; i++)); do
        w="${{words[i]}}"
        if [[ -n $expect ]]; then
            [[ $expect == --config ]] && config="$w"
            expect=""
            continue
        fi
        case "$w" in
            --config=*) config="${{w#--config=}}" ;;
            -*) [[ -n $(_{prog}_value_kind "$cmd" "$w") ]] && expect="$w" ;;
            *) if [[ -z $cmd ]]; then cmd="$w"; else npos+=1; fi ;;
        esac
    done
    if [[ -n $expect ]]; then
        kind=$(_{prog}_value_kind "$cmd" "$expect")
    elif [[ $cur == -* ]]; then
        kind="options"
    elif [[ -z $cmd ]]; then
        kind="commands"
    else
        kind=$(_{prog}_positional_kind "$cmd" "$npos")
    fi
    COMPREPLY=()
    case "$kind" in
        options) mapfile -t COMPREPLY < <(compgen -W "$(_{prog}_options "$cmd")" -- "$cur") ;;
        commands) mapfile -t COMPREPLY < <(compgen -W {_q(command_names)} -- "$cur") ;;
        words:*) mapfile -t COMPREPLY < <(compgen -W "${{kind#words:}}" -- "$cur") ;;
        files)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            ;;
        backends) mapfile -t COMPREPLY < <(compgen -W "$(_{prog}_backends "$config")" -- "$cur") ;;
        refs)
            if [[ $cur != *:* ]]; then
                mapfile -t COMPREPLY < <(compgen -S : -W "$(_{prog}_backends "$config")" -- "$cur")
                compopt -o nospace 2>/dev/null
            fi
            ;;
    esac
}}

complete -F _{prog} {prog}
"""


def _q(text: str) -> str:
    """``text`` single-quoted for a POSIX shell."""
    return "'" + text.replace("'", "'\\''") + "'"


# -- zsh ----------------------------------------------------------------------------------------


def _zsh_text(text: str) -> str:
    """Help text safe inside an ``_arguments`` spec or a ``_describe`` entry."""
    return text.replace("[", "(").replace("]", ")").replace(":", " -").replace("\\", "/")


def _zsh_action(arg: Arg, prog: str) -> str:
    if arg.kind == "files":
        return "_files"
    if arg.kind == "backends":
        return f"_{prog}_backends"
    if arg.kind == "refs":
        return f"_{prog}_refs"
    if arg.kind == "words":
        return "(" + " ".join(arg.words) + ")"
    return " "


def _zsh_specs(args: Sequence[Arg], prog: str) -> list[str]:
    specs = []
    position = 0
    for arg in args:
        text = _zsh_text(arg.help)
        action = _zsh_action(arg, prog)
        if arg.names:
            if arg.names == ("-h", "--help") or "--version" in arg.names:
                exclusive = "(- *)"
            else:
                exclusive = "*" if arg.repeat else ""
            for name in arg.names:
                if arg.kind:
                    specs.append(_q(f"{exclusive}{name}=[{text}]:{arg.dest}:{action}"))
                else:
                    specs.append(_q(f"{exclusive}{name}[{text}]"))
        elif arg.repeat:
            specs.append(_q(f"*:{arg.dest}:{action}"))
        else:
            position += 1
            colon = "::" if arg.optional else ":"
            specs.append(_q(f"{position}{colon}{arg.dest}:{action}"))
    return specs


def zsh(parser: argparse.ArgumentParser) -> str:
    """A zsh completion script (for compinit: an autoloaded ``_taskhub`` or sourced)."""
    prog = parser.prog
    glob, commands = describe(parser)
    spec_lines = " \\\n        ".join(_zsh_specs(glob, prog))
    described = "\n".join(f"        {_q(f'{c.name}:{_zsh_text(c.help)}')}" for c in commands)
    arms = []
    for command in commands:
        specs = " \\\n                ".join(_zsh_specs(command.args, prog))
        arms.append(f"            {command.name})\n                _arguments {specs} ;;")
    return f"""\
#compdef {prog}
# zsh completion for {prog} (written by `{prog} completion zsh`).
# Load it now (after compinit):  source <({prog} completion zsh)
# Or install it:  {prog} completion zsh > ~/.zfunc/_{prog}  with ~/.zfunc in $fpath before compinit

_{prog}_backend_names() {{
    # the configured backend names, from the --config typed on the line if any
    local -a cfg
    local i=${{words[(I)--config]}}
    if (( i )); then
        cfg=(--config "${{words[i+1]}}")
    elif [[ -n $_{prog}_config ]]; then
        cfg=(--config "$_{prog}_config")
    fi
    reply=(${{(f)"$(command {prog} $cfg backends --names 2>/dev/null)"}})
}}

_{prog}_backends() {{
    local -a reply
    _{prog}_backend_names
    compadd -a reply
}}

_{prog}_refs() {{
    local -a reply
    [[ $PREFIX == *:* ]] && return 1
    _{prog}_backend_names
    compadd -S : -a reply
}}

_{prog}() {{
    local curcontext="$curcontext" state line _{prog}_config
    typeset -A opt_args
    local -a commands=(
{described}
    )
    # -A: the global options come before the command; after it, its own
    _arguments -C -A '-*' \\
        {spec_lines} \\
        '1:command:->command' \\
        '*::argument:->argument'
    case $state in
        command)
            _describe -t commands command commands ;;
        argument)
            _{prog}_config=${{opt_args[--config]}}
            case $line[1] in
{chr(10).join(arms)}
            esac ;;
    esac
}}

if [[ $funcstack[1] == _{prog} ]]; then
    _{prog} "$@"
else
    compdef _{prog} {prog}
fi
"""
