"""A running job's progress: what the worker publishes and every front end shows.

The worker stores its JSON form as the Celery task state ``PROGRESS`` (the
task's ``meta``); the console's in-process jobs hand the object over as is.
Losses are in bits per 16th-note symbol, times in seconds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from lstmuse_core.jobs.json_form import json_object, number, optional_text, text, whole_number

GENERATING = "generating"
HARMONIZING = "harmonizing"
READING_THE_CORPUS = "reading the corpus"
TRAINING = "training"


@dataclass(frozen=True)
class EpochProgress:
    """One finished training epoch.

    eta_seconds: an upper bound (early stopping usually ends sooner);
    device: where the epochs run, in words (empty when unknown).
    """

    epoch: int
    max_epochs: int
    loss_bits: float
    val_loss_bits: float
    best_val_loss_bits: float
    eta_seconds: float
    device: str = ""


@dataclass(frozen=True)
class Progress:
    """The stage a job is in and, while it trains, its last finished epoch."""

    stage: str
    epoch: EpochProgress | None = None

    def to_json(self) -> dict[str, Any]:
        """Flat: ``{"stage": ...}`` plus the epoch's fields when there is one."""
        return {"stage": self.stage, **(asdict(self.epoch) if self.epoch else {})}

    @classmethod
    def from_json(cls, data: Any, where: str = "progress") -> Progress:
        """The typed progress; `MalformedResult` names the field that is wrong."""
        if isinstance(data, dict) and "epoch" not in data:
            return cls(text(json_object(data, where, ("stage",)), "stage", where))
        required = [name for name in EpochProgress.__dataclass_fields__ if name != "device"]
        data = json_object(data, where, ["stage", *required], ("device",))
        epoch = EpochProgress(
            epoch=whole_number(data, "epoch", where),
            max_epochs=whole_number(data, "max_epochs", where),
            loss_bits=number(data, "loss_bits", where),
            val_loss_bits=number(data, "val_loss_bits", where),
            best_val_loss_bits=number(data, "best_val_loss_bits", where),
            eta_seconds=number(data, "eta_seconds", where),
            device=optional_text(data, "device", where) or "",
        )
        return cls(text(data, "stage", where), epoch)
