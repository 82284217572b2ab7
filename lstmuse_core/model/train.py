"""Training a style's network on its train split, with progress and early stopping.

Whole songs are the training sequences (see `lstmuse_core.model.batches`).
`train_style` is the whole job: dataset -> fit -> held-out evaluation
against an n-gram baseline -> sample statistics -> a new bundle -> promotion.
"""

from __future__ import annotations

import hashlib
import math
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lstmuse_core.errors import InvalidParameter, LstmuseError
from lstmuse_core.limits import TRAINER_MAX_EPOCHS, TRAINER_MAX_MINUTES
from lstmuse_core.model.batches import song_batches
from lstmuse_core.model.bundle import Bundle
from lstmuse_core.model.conditioning import Conditioning
from lstmuse_core.model.network import PRESETS, ModelConfig, build_model
from lstmuse_core.music.encoding import SONG_END, Vocabulary
from lstmuse_core.names import check_style_name

if TYPE_CHECKING:
    from lstmuse_core.model.generate import MelodyGenerator
    from lstmuse_core.music.corpus import ReadOptions, Song
    from lstmuse_core.music.dataset import Dataset

LN2 = math.log(2.0)
# The temperature written into a new bundle as its style's default: 0.8 sounded
# best to our ears on every committed style (README, "Styles").
DEFAULT_TEMPERATURE = 0.8
# Share of training songs told their length (bars remaining) in an epoch; the
# rest learn to end a song by themselves (`lstmuse_core.model.conditioning`).
LENGTH_KNOWN_SHARE = 0.5


@dataclass(frozen=True)
class TrainingProgress:
    """One finished epoch, as the CLI bar and the worker's task state show it."""

    epoch: int
    max_epochs: int
    loss_bits: float  # training loss, bits per symbol
    val_loss_bits: float  # validation loss, bits per symbol
    val_accuracy: float
    best_val_loss_bits: float
    elapsed_seconds: float
    eta_seconds: float  # upper bound: early stopping usually ends sooner
    device: str = ""  # `machine_description()`: where the epochs run

    def to_json(self) -> dict[str, float | int | str]:
        return asdict(self)


ProgressCallback = Callable[[TrainingProgress], None]


def set_determinism(seed: int) -> None:
    """Seed Python, NumPy and the backend; make TensorFlow ops deterministic."""
    import keras

    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


@dataclass(frozen=True)
class TrainedModel:
    model: Any
    epochs: int
    best_epoch: int
    best_val_loss_bits: float
    seconds: float
    history: list[TrainingProgress]
    stopped_by: str  # "early stopping" | "time budget" | "max epochs"


def fit(
    config: ModelConfig,
    vocabulary: Vocabulary,
    conditioning: Conditioning,
    train_songs: Sequence[Song],
    validation_songs: Sequence[Song],
    *,
    seed: int = 0,
    on_progress: ProgressCallback | None = None,
    max_epochs: int | None = None,
    initial_weights: Sequence[np.ndarray] | None = None,
) -> TrainedModel:
    """Train a network; keeps the weights of the best validation epoch.

    A plain loop over ``train_on_batch`` (batches differ in length, which
    Keras' dataset adapters do not all accept) with early stopping on the
    exact validation loss and a wall-clock budget (``config.max_minutes``).
    ``initial_weights`` (a trained network of the same shape) continues its
    training: an epoch must then beat its validation loss to be kept, and
    ``best_epoch`` stays 0 when none does.
    """
    from lstmuse_core.model.evaluate import score_model, training_songs

    if not train_songs or not validation_songs:
        raise LstmuseError("training needs at least one train and one validation song")
    set_determinism(seed)
    delimiter = vocabulary.index[SONG_END]
    train = song_batches(
        training_songs(vocabulary, train_songs),
        conditioning,
        config.batch_size,
        config.pad_multiple,
        delimiter,
    )
    # `max_epochs or config.max_epochs` would turn 0 into the preset's 200: check instead.
    epochs = config.max_epochs if max_epochs is None else check_max_epochs(max_epochs)
    model = build_model(config, len(vocabulary), conditioning)
    best_bits = math.inf
    if initial_weights is not None:
        model.set_weights(list(initial_weights))
        best_bits = score_model(
            model, vocabulary, conditioning, validation_songs, config.batch_size
        ).bits_per_symbol
    device = machine_description()
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    best_epoch, best_weights = 0, model.get_weights()
    history: list[TrainingProgress] = []
    stopped_by = "max epochs"
    for epoch in range(1, epochs + 1):
        loss_sum = weight_sum = 0.0
        for index in rng.permutation(len(train)):
            batch = train[index]
            told = rng.random(len(batch.targets)) < LENGTH_KNOWN_SHARE
            loss = model.train_on_batch(
                batch.with_lengths_known(told), batch.targets, sample_weight=batch.weights
            )
            weight = float(batch.weights.sum())
            loss_sum += float(np.asarray(loss).reshape(-1)[0]) * weight
            weight_sum += weight
        score = score_model(model, vocabulary, conditioning, validation_songs, config.batch_size)
        if score.bits_per_symbol < best_bits:
            best_bits, best_epoch, best_weights = score.bits_per_symbol, epoch, model.get_weights()
        elapsed = time.perf_counter() - started
        per_epoch = elapsed / epoch
        budget_left = config.max_minutes * 60 - elapsed
        progress = TrainingProgress(
            epoch=epoch,
            max_epochs=epochs,
            loss_bits=loss_sum / weight_sum / LN2,
            val_loss_bits=score.bits_per_symbol,
            val_accuracy=score.accuracy,
            best_val_loss_bits=best_bits,
            elapsed_seconds=elapsed,
            eta_seconds=max(0.0, min(per_epoch * (epochs - epoch), budget_left)),
            device=device,
        )
        history.append(progress)
        if on_progress is not None:
            on_progress(progress)
        if epoch - best_epoch >= config.patience:
            stopped_by = "early stopping"
            break
        if epoch < epochs and per_epoch > budget_left:
            stopped_by = "time budget"
            break
    model.set_weights(best_weights)
    return TrainedModel(
        model,
        len(history),
        best_epoch,
        best_bits,
        time.perf_counter() - started,
        history,
        stopped_by,
    )


def machine_description() -> str:
    """Where a model trains, in words: the config.json of its bundle, the worker's log
    and the retrain progress reply all say it.

    For example ``"NVIDIA H200, torch 2.11.0 (CUDA 13.0, cuDNN 91002), keras 3.15.1"``
    or ``"CPU x86_64 2 cores, tensorflow 2.21.0, keras 3.15.1"``. Keras places the
    work on a GPU by itself when its backend sees one; this only reports it.
    """
    import keras

    backend = keras.backend.backend()
    where = f"CPU {platform.machine()} {len(os.sched_getaffinity(0))} cores"
    if backend == "torch":
        import torch

        version = f"torch {torch.__version__}"
        if torch.cuda.is_available():
            where = torch.cuda.get_device_name(0)
            version += f" (CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()})"
    elif backend == "jax":
        import jax

        version = f"jax {jax.__version__}"
        gpus = [device for device in jax.devices() if device.platform == "gpu"]
        if gpus:
            where = str(gpus[0].device_kind)
    elif backend == "tensorflow":
        import tensorflow as tf

        version = f"tensorflow {tf.__version__}"
        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            details = tf.config.experimental.get_device_details(gpus[0])
            where = str(details.get("device_name", gpus[0].name))
    else:
        version = backend
    return f"{where}, {version}, keras {keras.__version__}"


@dataclass(frozen=True)
class StyleTrainingResult:
    bundle: Bundle
    promoted: bool
    promotion_note: str
    trained: TrainedModel


def train_style(
    style: str,
    *,
    preset_name: str = "default",
    max_epochs: int | None = None,
    max_minutes: float | None = None,
    input_dir: Path | None = None,
    models_dir: Path | None = None,
    cache_dir: Path | None = None,
    seed: int = 0,
    force: bool = False,
    on_progress: ProgressCallback | None = None,
    show_progress: bool = False,
    read_options: ReadOptions | None = None,
    continue_from: str | None = None,
) -> StyleTrainingResult:
    """The whole training job for one style; the active model changes only on success.

    ``continue_from`` (a version of the style, such as ``"v002"``) trains on from that
    bundle's weights instead of new ones (`continued_weights`): a run stopped by its
    time budget while still improving goes on where it stopped.

    A built-in style reads its music21 corpus; ``input_dir`` trains a style of
    that name from a folder of music files instead. ``read_options``: how its files
    are read (``ReadOptions(off_grid="triplets")`` keeps triplets: the bundle's
    vocabulary then has `encoding.TRIPLET`); by default the style's own, off the
    16th grid as its active version was read (`retrain_reading`).
    """
    from lstmuse_core.model.bundle import calibration_config, write_bundle
    from lstmuse_core.model.evaluate import score_model
    from lstmuse_core.model.generate import MelodyGenerator
    from lstmuse_core.model.held_out import song_digest
    from lstmuse_core.model.ngram import NGramModel
    from lstmuse_core.model.promotion import promote
    from lstmuse_core.model.stepper import LstmStepper
    from lstmuse_core.model.triplet_calibration import calibrate_triplet_bias
    from lstmuse_core.music.dataset import build_dataset

    # Every option is checked before any data is read or anything is written.
    config = training_config(
        style, preset_name=preset_name, max_epochs=max_epochs, max_minutes=max_minutes, seed=seed
    )
    if not isinstance(force, bool):
        raise InvalidParameter("force", force, "true or false")
    if input_dir is not None and not Path(input_dir).is_dir():
        raise InvalidParameter("input_dir", str(input_dir), "an existing folder of music files")
    if read_options is None:
        read_options = retrain_reading(style, models_dir, built_in=input_dir is None)
    if input_dir is not None:
        dataset = build_dataset(
            input_dir=input_dir,
            name=style,
            cache_dir=cache_dir,
            progress=show_progress,
            options=read_options,
        )
    else:
        dataset = build_dataset(
            style, cache_dir=cache_dir, progress=show_progress, options=read_options
        )
    vocabulary = dataset.vocabulary()
    conditioning = Conditioning.from_songs(
        dataset.songs, metrical=config.metrical, form=config.form
    )
    train_songs, test_songs = dataset.songs_in("train"), dataset.songs_in("test")
    source = (
        None
        if continue_from is None
        else continued_weights(
            style, continue_from, models_dir, config, vocabulary, conditioning, dataset
        )
    )
    trained = fit(
        config,
        vocabulary,
        conditioning,
        train_songs,
        dataset.songs_in("validation"),
        seed=seed,
        on_progress=on_progress,
        initial_weights=None if source is None else source.load_model().get_weights(),
    )
    if source is not None and trained.best_epoch < 1:
        raise LstmuseError(
            f"no epoch improved on {style} {source.version}'s validation loss "
            f"({trained.best_val_loss_bits:.3f} bits per symbol); nothing was written"
        )
    if trained.best_epoch < 1 or not math.isfinite(trained.best_val_loss_bits):
        # No epoch improved on nothing (the loss was NaN or infinite throughout):
        # the weights are the untrained ones, and such a bundle is never written.
        raise LstmuseError(
            f"training {style} never reached a finite validation loss; nothing was written"
        )
    test = score_model(trained.model, vocabulary, conditioning, test_songs)
    ngram = (
        NGramModel().fit([s.symbols for s in train_songs]).score([s.symbols for s in test_songs])
    )
    # The new network's sampler (no bundle yet): its sample statistics and its triplet
    # calibration, measured on the training songs.
    generator = MelodyGenerator(
        vocabulary, LstmStepper.from_keras(trained.model, conditioning), conditioning
    )
    samples = _sample_statistics(generator, train_songs, seed)
    calibration = calibrate_triplet_bias(generator, train_songs, temperature=DEFAULT_TEMPERATURE)
    run_config = {
        "model": config.to_json(),
        "conditioning": conditioning.to_json(),
        "default_temperature": DEFAULT_TEMPERATURE,
        **calibration_config(calibration),
        "dataset": {
            **dataset.summary(),
            "fingerprint": dataset_fingerprint(dataset),
            "split_ids": dataset.split,
        },
        "training": {
            "seed": seed,
            "epochs": trained.epochs,
            "best_epoch": trained.best_epoch,
            "stopped_by": trained.stopped_by,
            **({} if source is None else {"continued_from": _lineage(source)}),
            "seconds": round(trained.seconds, 1),
            "machine": machine_description(),
            "trained_at": timestamp(),
        },
    }
    metrics = {
        "test": test.to_json(),
        "validation": {"bits_per_symbol": trained.best_val_loss_bits},
        "ngram": {
            "order": ngram.order,
            "bits_per_symbol": ngram.bits_per_symbol,
            "bits_per_note": ngram.bits_per_note,
            "pitch_bits_per_note": ngram.pitch_bits_per_note,
            "unknown_targets": ngram.unknown_targets,
        },
        "samples": samples,
        "history": [p.to_json() for p in trained.history],
    }
    digests = {song.song_id: song_digest(song) for song in dataset.songs_in("test")}
    bundle = write_bundle(
        style, trained.model, vocabulary, run_config, metrics, models_dir, test_songs=digests
    )
    held_out = {song.song_id: song for song in dataset.songs_in("test")}
    promoted, note = promote(bundle, force=force, models_dir=models_dir, held_out_songs=held_out)
    return StyleTrainingResult(bundle, promoted, note, trained)


def continued_weights(
    style: str,
    version: str,
    models_dir: Path | None,
    config: ModelConfig,
    vocabulary: Vocabulary,
    conditioning: Conditioning,
    dataset: Dataset,
) -> Bundle:
    """The bundle whose weights a run continues, checked to be the same network on the
    same songs: its layers, symbols and inputs, and its dataset's fingerprint and split,
    so that its validation and test songs were never its training songs either."""
    from lstmuse_core.errors import BundleError
    from lstmuse_core.model.bundle import resolve_bundle

    try:
        source = resolve_bundle(style, models_dir, version)
    except (InvalidParameter, BundleError) as error:
        raise InvalidParameter(
            "continue_from", version, f"a version of {style} that loads ({error})"
        ) from None
    dataset_json = source.config_json.get("dataset", {})
    differences = [
        name
        for name, same in (
            ("layers", _shape(source.model_config) == _shape(config)),
            ("symbols", source.vocabulary.symbols == vocabulary.symbols),
            ("inputs", source.conditioning.to_json() == conditioning.to_json()),
            ("songs", dataset_json.get("fingerprint") == dataset_fingerprint(dataset)),
            ("split", dataset_json.get("split_ids") == dataset.split),
        )
        if not same
    ]
    if differences:
        raise InvalidParameter(
            "continue_from",
            version,
            f"a version of {style} with the same network and songs as this run "
            f"(it differs in: {', '.join(differences)}); train anew instead",
        )
    return source


def _shape(config: ModelConfig) -> tuple[Any, ...]:
    return (config.embedding_dim, config.lstm_units, config.metrical, config.form)


def _lineage(source: Bundle) -> dict[str, Any]:
    """What a continued run started from: the version and the epochs behind it."""
    training = source.config_json.get("training", {})
    before = training.get("continued_from", {}).get("epochs_before", 0)
    return {
        "version": source.version,
        "epochs_before": before + int(training.get("epochs", 0)),
        "seconds_before": round(
            training.get("continued_from", {}).get("seconds_before", 0.0)
            + float(training.get("seconds", 0.0)),
            1,
        ),
    }


def retrain_reading(style: str, models_dir: Path | None, *, built_in: bool) -> ReadOptions | None:
    """How a retrain reads its files when not told: the style's own reading, with triplets
    kept (or quantized) if its active version was trained so; None: the plain default.

    A retrain (`!retrain`, `lstmuse train` without ``--off-grid``) may replace the active
    model: reading the corpus as that model did keeps what it can play (a model trained
    with triplets, retrained without, would lose them and train on other songs).
    """
    from dataclasses import replace

    from lstmuse_core.errors import BundleError
    from lstmuse_core.model.bundle import resolve_bundle
    from lstmuse_core.music.corpus import STYLES, ReadOptions

    try:
        active = resolve_bundle(style, models_dir)
    except (InvalidParameter, BundleError):
        return None  # no active version (a new style), or one that does not load
    off_grid = active.config_json.get("dataset", {}).get("off_grid", "drop")
    if off_grid == "drop":
        return None
    own = STYLES[style].read_options() if built_in and style in STYLES else ReadOptions()
    return replace(own, off_grid=off_grid)


def check_max_epochs(max_epochs: object) -> int:
    """A whole number of epochs from 1 to 10,000 (never a bool, 0 or a fraction)."""
    if (
        isinstance(max_epochs, bool)
        or not isinstance(max_epochs, int)
        or not 1 <= max_epochs <= TRAINER_MAX_EPOCHS
    ):
        raise InvalidParameter(
            "max_epochs", max_epochs, f"a whole number from 1 to {TRAINER_MAX_EPOCHS:,}"
        )
    return max_epochs


def check_max_minutes(max_minutes: object) -> float:
    """A wall-clock budget in minutes: above 0, at most 1,440 (one day)."""
    if (
        isinstance(max_minutes, bool)
        or not isinstance(max_minutes, int | float)
        or not math.isfinite(max_minutes)
        or not 0 < max_minutes <= TRAINER_MAX_MINUTES
    ):
        raise InvalidParameter(
            "max_minutes",
            max_minutes,
            f"a number of minutes above 0, at most {TRAINER_MAX_MINUTES:g}",
        )
    return float(max_minutes)


def training_config(
    style: str,
    *,
    preset_name: str = "default",
    max_epochs: int | None = None,
    max_minutes: float | None = None,
    seed: int = 0,
) -> ModelConfig:
    """The model config a training run will use, or `InvalidParameter` naming the option.

    ``None`` means "the preset's value"; 0 is refused, not taken as "unset".
    """
    check_style_name(style)
    if not isinstance(preset_name, str) or preset_name not in PRESETS:
        raise InvalidParameter("preset", preset_name, f"use one of {', '.join(PRESETS)}")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise InvalidParameter("seed", seed, "a whole number from 0 to 4294967295")
    return PRESETS[preset_name].with_overrides(
        max_epochs=None if max_epochs is None else check_max_epochs(max_epochs),
        max_minutes=None if max_minutes is None else check_max_minutes(max_minutes),
    )


def dataset_fingerprint(dataset: Dataset) -> str:
    """SHA-256 of the dataset's songs (ids and symbols, in id order).

    Recorded in ``config.json``: promotion compares it to tell a retrain on
    the same music from one on a different corpus or upload (the style name
    and the source folder can stay the same while the files change).
    """
    digest = hashlib.sha256()
    for song in sorted(dataset.songs, key=lambda s: s.song_id):
        digest.update(song.song_id.encode("utf-8") + b"\t")
        digest.update(" ".join(song.symbols).encode("utf-8") + b"\n")
    return digest.hexdigest()


def _sample_statistics(
    generator: MelodyGenerator, train_songs: Sequence[Song], seed: int, count: int = 100
) -> dict[str, Any]:
    """Yang & Lerch statistics of melodies sampled at temperature 1 vs the training songs."""
    from lstmuse_core.music.melody_stats import compare_sets

    melodies = generator.sample(n=count, seed=seed)
    rng = np.random.default_rng(seed)
    reference_rows = rng.choice(len(train_songs), size=min(500, len(train_songs)), replace=False)
    reference = [train_songs[i].symbols for i in sorted(reference_rows)]
    usable = [m.symbols for m in melodies if len(m.symbols) >= 2]
    return {
        "melodies": len(usable),
        "temperature": 1.0,
        "compared_with": "train split",
        "features": compare_sets(usable, reference, seed=seed) if len(usable) >= 2 else {},
    }


def timestamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
