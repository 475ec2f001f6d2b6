"""Sample engines for the Veritone engine-runner tests."""

from __future__ import annotations

from pathlib import Path

from taskhub.adapters.veritone.engine import EngineFailure, EngineInput, EngineOutput, OutputFile


def detect(job: EngineInput) -> dict[str, object]:
    """Finds one object per kilobyte of input."""
    size = job.path.stat().st_size
    return {
        "series": [{"found": "outdoor", "start": 0, "end": size, "confidence": 825}],
        "asset": job.asset.id,
        "language": job.task_payload.get("language"),
    }


def transcribe(job: EngineInput) -> EngineOutput:
    """Writes a transcript file next to the input."""
    out = job.path.with_suffix(".ttml")
    out.write_text("<tt><body><p>hello</p></body></tt>")
    return EngineOutput(files=(OutputFile(Path(out), "application/ttml+xml", "transcript"),))


def broken(job: EngineInput) -> None:
    raise RuntimeError("the model exploded")


def picky(job: EngineInput) -> None:
    raise EngineFailure("invalid_data", "the audio is silent")
