"""`taskhub completion bash|zsh`: the scripts, loaded in a real interactive shell on a
pseudo-terminal, complete what is typed with TAB.

Each line is typed with TABs and run. A shell function named ``taskhub`` (completion attaches
to the name) prints the arguments it received, so the output shows what the completion made of
the line; the script's own ``command taskhub backends --names`` still runs the real command.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

PROMPT = b"READY> "
BIN = str(Path(sys.executable).parent)

# Backend names that are not vendor names: completion must have asked the configuration.
CONFIG = """\
[backends.media]
vendor = "livepeer"
base_url = "http://127.0.0.1:9/api"
api_key = "k"

[backends.edge]
vendor = "veritone-edge"
base_url = "http://127.0.0.1:9/edge/v1"
token = "t"

[jobs.ingest]
backend = "media"
spec = { kind = "upload", url = "${url}" }

[jobs.index]
backend = "edge"
spec = { tasks = [{ engineId = "e" }] }
"""

SETUP = {
    "bash": [
        'eval "$(command taskhub completion bash)"',
        "taskhub() { printf 'ARGS<%s>\\n' \"$*\"; }",
    ],
    "zsh": [
        "autoload -Uz compinit && compinit -u -D",
        "source <(command taskhub completion zsh)",
        'taskhub() { print -r -- "ARGS<$*>" }',
    ],
}
ARGV = {"bash": ["bash", "--norc", "--noprofile", "-i"], "zsh": ["zsh", "-f", "-i"]}

# (typed, with \t for TAB) -> the arguments the command received
CASES = [
    ("taskhub sta\t --format js\t", "states --format json"),  # a command, then a choice
    ("taskhub ls --st\t runn\t", "ls --state running"),  # an option, then a state
    ("taskhub report x:y succ\t", "report x:y succeeded"),  # the state positional
    ("taskhub docs vendor veritone-\t", "docs vendor veritone-edge"),  # a vendor
    ("taskhub --config cf\t backends", "--config cfg.toml backends"),  # a file
    ("taskhub --config cfg.toml ls --backend me\t", "--config cfg.toml ls --backend media"),
    ("taskhub get --config cfg.toml ed\tabc", "get --config cfg.toml edge:abc"),  # BACKEND:
    ("taskhub watch --config cfg.toml me\tx ed\ty", "watch --config cfg.toml media:x edge:y"),
    ("taskhub completion z\t", "completion zsh"),
    ("taskhub submit --config cfg.toml ing\t --wa\t", "submit --config cfg.toml ingest --wait"),
]


def interact(argv: list[str], cwd: Path, lines: list[str]) -> str:
    """Type ``lines`` into an interactive shell, each after its prompt; the whole output."""
    env = {
        "PATH": f"{BIN}:/usr/bin:/bin",
        "HOME": str(cwd),
        "TERM": "xterm",
        "PS1": PROMPT.decode(),
        "PROMPT": PROMPT.decode(),
    }
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(cwd)
        os.execvpe(argv[0], argv, env)
    output = b""

    def until_prompts(count: int) -> None:
        nonlocal output
        deadline = time.monotonic() + 60
        while output.count(PROMPT) < count and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    output += os.read(fd, 65536)
                except OSError:
                    return

    try:
        until_prompts(1)
        for n, line in enumerate(lines, start=2):
            os.write(fd, line.encode() + b"\n")
            until_prompts(n)
        os.write(fd, b"exit\n")
    finally:
        os.waitpid(pid, 0)
        os.close(fd)
    return output.decode(errors="replace")


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_scripts_complete_in_a_real_shell(shell: str, tmp_path: Path) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    (tmp_path / "cfg.toml").write_text(CONFIG)
    typed = [typed for typed, _ in CASES]
    text = interact(ARGV[shell], tmp_path, SETUP[shell] + typed)
    received = re.findall(r"ARGS<([^>\r\n]*)>", text)
    # The first ARGS< is the function's own definition echoed back.
    assert received[-len(CASES) :] == [expected for _, expected in CASES], text


def test_the_scripts_are_valid_shell() -> None:
    for shell in ("bash", "zsh"):
        script = subprocess.run(
            [sys.executable, "-m", "taskhub", "completion", shell],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        assert "argcomplete" not in script
        if shutil.which(shell):
            checked = subprocess.run([shell, "-n"], input=script, text=True, capture_output=True)
            assert checked.returncode == 0, checked.stderr
