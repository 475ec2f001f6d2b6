"""Shell completion scripts for the ``taskhub`` command, written from its table of commands.

``taskhub completion bash`` and ``taskhub completion zsh`` print a self-contained script: the
commands, their options and every fixed set of values (states, vendors, formats, shells) come
from :mod:`taskhub.cli.parser`, the table the command's own parser is built from, so the script
follows the command it came from; backend names (for ``--backend`` and the ``BACKEND:`` part of
a ref) and job names are asked of ``taskhub backends --names`` and ``taskhub jobs --names``
when TAB is pressed, with the ``--config`` typed on the line. File arguments complete as
files. Nothing beyond the shell is needed (no argcomplete).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import attrs

from taskhub import registry
from taskhub.cli.parser import COMMANDS, GLOBAL, PROG
from taskhub.cli.parser import Arg as Declared
from taskhub.states import State

SHELLS = ("bash", "zsh")


@attrs.frozen
class Arg:
    """One argument of one command, as completion sees it."""

    names: tuple[str, ...]  # option strings; empty for a positional
    dest: str
    help: str
    #: What its value completes to: "" (a flag, no value), "files", "backends", "jobs",
    #: "refs", "words" (then ``words``), or "any" (a free value: nothing to offer).
    kind: str
    words: tuple[str, ...] = ()
    repeat: bool = False  # an option given more than once, or a positional taking many
    optional: bool = False  # a positional that may be left out


@attrs.frozen
class Command:
    """One command, as completion sees it."""

    name: str
    help: str
    args: tuple[Arg, ...]

    @property
    def options(self) -> list[Arg]:
        """Its options (the arguments with a dash)."""
        return [a for a in self.args if a.names]

    @property
    def positionals(self) -> list[Arg]:
        """Its positional arguments, in order."""
        return [a for a in self.args if not a.names]


#: Every command takes -h / --help, which argparse adds by itself.
HELP = Arg(("-h", "--help"), "help", "show this help message and exit", "")


def _kind(declared: Declared) -> tuple[str, tuple[str, ...]]:
    kind = declared.complete
    if kind == "words":
        return kind, tuple(str(c) for c in declared.kwargs["choices"])
    if kind == "states":
        return "words", tuple(s.value for s in State)
    if kind == "vendors":
        return "words", tuple(registry.names())
    return kind, ()


def _help(declared: Declared) -> str:
    if declared.kwargs.get("action") == "version":
        return "show program's version number and exit"
    return re.sub(r"\s*\(default: (%\(default\)s|[^)]*)\)", "", declared.help)


def _arg(declared: Declared) -> Arg:
    kind, words = _kind(declared)
    return Arg(
        () if declared.positional else declared.names,
        declared.dest,
        _help(declared),
        kind,
        words,
        repeat=declared.repeat,
        optional=declared.optional,
    )


def describe() -> tuple[tuple[Arg, ...], list[Command]]:
    """The global options and every command, from the command's table."""
    commands = [Command(c.name, c.help, (HELP, *(_arg(a) for a in c.all_args))) for c in COMMANDS]
    return (HELP, *(_arg(a) for a in GLOBAL)), commands


def script(shell: str) -> str:
    """The completion script for ``shell`` (``bash`` or ``zsh``)."""
    if shell == "bash":
        return bash()
    if shell == "zsh":
        return zsh()
    raise ValueError(f"no completion for {shell!r}; expected one of {', '.join(SHELLS)}")


# -- bash ---------------------------------------------------------------------------------------


def _bash_kind(arg: Arg) -> str:
    return f"words:{' '.join(arg.words)}" if arg.kind == "words" else arg.kind


#: The bash script; the arms of its case statements are filled from the table.
_BASH = """\
# bash completion for {prog} (written by `{prog} completion bash`).
# Load it now:    eval "$({prog} completion bash)"
# Or install it:  {prog} completion bash > ~/.local/share/bash-completion/completions/{prog}

_{prog}_names() {{
    # the configured names of $1 (backends, jobs), from the --config typed on the line if any
    local cfg=()
    [[ -n $2 ]] && cfg=(--config "$2")
    command {prog} "${{cfg[@]}}" "$1" --names 2>/dev/null
}}

_{prog}_value_kind() {{
    # what the value of option $2 of command $1 completes to (nothing: a flag)
    case "$1 $2" in
{value_arms}
    esac
}}

_{prog}_positional_kind() {{
    # what positional argument $2 (from 0) of command $1 completes to
    case "$1 $2" in
{positional_arms}
    esac
}}

_{prog}_options() {{
    case "$1" in
        "") echo {global_names} ;;
{option_arms}
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
        commands) mapfile -t COMPREPLY < <(compgen -W {command_names} -- "$cur") ;;
        words:*) mapfile -t COMPREPLY < <(compgen -W "${{kind#words:}}" -- "$cur") ;;
        files)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            ;;
        backends|jobs)
            mapfile -t COMPREPLY < <(compgen -W "$(_{prog}_names "$kind" "$config")" -- "$cur")
            ;;
        refs)
            if [[ $cur != *:* ]]; then
                w=$(_{prog}_names backends "$config")
                mapfile -t COMPREPLY < <(compgen -S : -W "$w" -- "$cur")
                compopt -o nospace 2>/dev/null
            fi
            ;;
    esac
}}

complete -F _{prog} {prog}
"""


def bash() -> str:
    """A bash completion script (bash 4 or later)."""
    glob, commands = describe()
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
    return _BASH.format(
        prog=PROG,
        value_arms="\n".join(value_arms),
        positional_arms="\n".join(positional_arms),
        option_arms="\n".join(option_arms),
        global_names=_q(global_names),
        command_names=_q(command_names),
    )


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
    if arg.kind in ("backends", "jobs"):
        return f"_{prog}_{arg.kind}"
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


#: The zsh script; its specs are filled from the table.
_ZSH = """\
#compdef {prog}
# zsh completion for {prog} (written by `{prog} completion zsh`).
# Load it now (after compinit):  source <({prog} completion zsh)
# Or install it:  {prog} completion zsh > ~/.zfunc/_{prog}  with ~/.zfunc in $fpath before compinit

_{prog}_names() {{
    # the configured names of $1 (backends, jobs), from the --config typed on the line if any
    local -a cfg
    local i=${{words[(I)--config]}}
    if (( i )); then
        cfg=(--config "${{words[i+1]}}")
    elif [[ -n $_{prog}_config ]]; then
        cfg=(--config "$_{prog}_config")
    fi
    reply=(${{(f)"$(command {prog} $cfg $1 --names 2>/dev/null)"}})
}}

_{prog}_backends() {{
    local -a reply
    _{prog}_names backends
    compadd -a reply
}}

_{prog}_jobs() {{
    local -a reply
    _{prog}_names jobs
    compadd -a reply
}}

_{prog}_refs() {{
    local -a reply
    [[ $PREFIX == *:* ]] && return 1
    _{prog}_names backends
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
{arms}
            esac ;;
    esac
}}

if [[ $funcstack[1] == _{prog} ]]; then
    _{prog} "$@"
else
    compdef _{prog} {prog}
fi
"""


def zsh() -> str:
    """A zsh completion script (for compinit: an autoloaded ``_taskhub`` or sourced)."""
    glob, commands = describe()
    spec_lines = " \\\n        ".join(_zsh_specs(glob, PROG))
    described = "\n".join(f"        {_q(f'{c.name}:{_zsh_text(c.help)}')}" for c in commands)
    arms = []
    for command in commands:
        specs = " \\\n                ".join(_zsh_specs(command.args, PROG))
        arms.append(f"            {command.name})\n                _arguments {specs} ;;")
    return _ZSH.format(prog=PROG, described=described, spec_lines=spec_lines, arms="\n".join(arms))
