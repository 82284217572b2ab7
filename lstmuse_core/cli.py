"""``lstmuse``: the command line for musicians and researchers.

    lstmuse preprocess --style folk [--json]
    lstmuse preprocess --input DIR --name NAME [--json]
    lstmuse styles [--json]
    lstmuse instruments [--json]
    lstmuse train --style folk [--preset default] [--epochs N] [--minutes M]
    lstmuse evaluate --style folk [--input PATH] --json
    lstmuse evaluate --folds 10 --dataset idyom-chorales [--preset chorale] [--minutes M]
    lstmuse generate --style folk --out DIR [--temperature 0.8] [--bars 8] [--key D] ...
    lstmuse harmonize TUNE.abc --out DIR [--backing guitar] [--score-format musicxml] ...
    lstmuse export-weights [--style folk]
    lstmuse calibrate --style irish [--version v002] [--tunes 100] [--json]

``--style`` of evaluate and generate also takes a bundle folder path (one
with a '/', e.g. ``trained_models/folk/v002`` or ``./mybundle``): the CLI is
the only front end that accepts paths; chat commands and queued jobs take
style names only. Style names are case-insensitive (``--style Irish``).

``--bars`` (and ``--steps``) of generate count the music generated after the
seed melody, when there is one; the printed line says so.

Heavy libraries (music21, Keras) are imported inside the commands, so
``lstmuse --help`` answers at once; ``generate`` never imports Keras (it reads
the bundle's ``weights.npz``). A user error (`LstmuseError`) is printed
as one line and exits with status 2; anything else is a bug and shows its
traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lstmuse_core.errors import InvalidParameter, LstmuseError
from lstmuse_core.tensorflow_logs import quiet_tensorflow_logs

if TYPE_CHECKING:
    from lstmuse_core.compose import ComposedMelody

EXIT_USER_ERROR = 2

# `lstmuse_core.model.cross_validation.DATASETS`, here so --help needs no import.
DATASET_CHOICES = ("idyom-chorales",)

# Where the CLI can say more than the shared error message: parameter -> hint.
_HINTS = {"instrument": "see `lstmuse instruments` for every name"}


def main(argv: Sequence[str] | None = None) -> int:
    quiet_tensorflow_logs()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        _fold_style(args)
        _resolve_paths(args)
        if getattr(args, "json", False):
            # --json promises one JSON object on stdout: whatever a library prints
            # (pyfluidsynth announces itself when CI is set) goes to stderr instead.
            args.json_out = sys.stdout
            with contextlib.redirect_stdout(sys.stderr):
                return int(args.run(args) or 0)
        return int(args.run(args) or 0)
    except LstmuseError as error:
        message = str(error)
        if isinstance(error, InvalidParameter) and error.parameter in _HINTS:
            message += f"; {_HINTS[error.parameter]}"
        print(f"lstmuse: {message}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("lstmuse: interrupted", file=sys.stderr)
        return 130


def _resolve_paths(args: argparse.Namespace) -> None:
    """The folders every command uses, resolved once: flag, else setting, else default.

    The settings (``LSTMUSE_MODELS_DIR``, ``LSTMUSE_CACHE_DIR``,
    ``LSTMUSE_SOUNDFONT``, see .env.example) are read here and nowhere in the
    library, which takes explicit paths.
    """
    from lstmuse_core.model.bundle import default_models_dir
    from lstmuse_core.music.cache_folder import default_cache_dir
    from lstmuse_core.settings import Settings

    settings = Settings()
    args.models_dir = (
        getattr(args, "models_dir", None) or settings.models_dir or (default_models_dir())
    )
    args.cache_dir = settings.cache_dir or default_cache_dir()
    args.soundfont = getattr(args, "soundfont", None) or settings.soundfont


def _fold_style(args: argparse.Namespace) -> None:
    """``--style Irish`` -> ``irish``: names are case-insensitive (a bundle path is kept)."""
    from lstmuse_core.names import fold_style_name

    style = getattr(args, "style", None)
    if style and _bundle_path(style) is None:
        args.style = fold_style_name(style)


def _writable_folder(path: Path, option: str) -> Path:
    """``path``, created if missing, once a file could be made in it; else a one-line error."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        reason = "it is a file" if path.is_file() else error.strerror or type(error).__name__
        raise InvalidParameter(option, str(path), "a folder that can be written", reason) from None
    return path


def _print_json(args: argparse.Namespace, data: Any) -> None:
    print(json.dumps(data), file=getattr(args, "json_out", sys.stdout), flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lstmuse",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(title="commands")

    pre = commands.add_parser(
        "preprocess", help="read a style's corpus (or a folder) into a dataset"
    )
    source = pre.add_mutually_exclusive_group(required=True)
    source.add_argument("--style", help="a built-in style (see `lstmuse styles`)")
    source.add_argument("--input", type=Path, help="a folder of MIDI/MusicXML/kern/ABC files")
    pre.add_argument("--name", help="dataset name for --input (default: the folder's name)")
    _add_read_options(pre)
    pre.add_argument("--workers", type=int, help="processes to read with (default: all cores)")
    pre.add_argument("--json", action="store_true", help="print one JSON object")
    pre.set_defaults(run=run_preprocess)

    styles = commands.add_parser("styles", help="list the styles, their corpora and models")
    styles.add_argument("--json", action="store_true")
    styles.add_argument("--models-dir", type=Path, help="where the bundles are (default: ours)")
    styles.set_defaults(run=run_styles)

    instruments = commands.add_parser(
        "instruments", help="list the General MIDI instruments and the names --instrument takes"
    )
    instruments.add_argument("--json", action="store_true")
    instruments.set_defaults(run=run_instruments)

    train = commands.add_parser("train", help="train a style and write a model bundle")
    train.add_argument("--style", required=True, help="style name (a new name needs --input)")
    train.add_argument("--input", type=Path, help="train from this folder of music files")
    train.add_argument(
        "--preset", default="default", help="model preset: seed, default, chorale, tiny"
    )
    train.add_argument("--epochs", type=int, help="most epochs (early stopping ends sooner)")
    train.add_argument("--minutes", type=float, help="wall-clock budget (default: the preset's)")
    train.add_argument("--seed", type=int, default=0, help="random seed (deterministic runs)")
    train.add_argument(
        "--force",
        action="store_true",
        help="make the new version active even if its held-out loss is worse",
    )
    train.add_argument(
        "--continue-from",
        metavar="VERSION",
        help="train on from this version's weights (same network and songs), e.g. v002",
    )
    train.add_argument("--models-dir", type=Path, help="bundle root (default: trained_models/)")
    _add_read_options(train, "default: as the style's active version was read, else drop")
    train.add_argument("--json", action="store_true")
    train.set_defaults(run=run_train)

    evaluate = commands.add_parser(
        "evaluate",
        help="held-out loss (bits per symbol and per note) and accuracy of a model; with "
        "--folds, k-fold cross-validation of a new model on a corpus",
    )
    evaluate.add_argument(
        "--style",
        help="style name or bundle folder; with --folds, the style whose corpus is cross-validated",
    )
    evaluate.add_argument("--version", help="bundle version (default: the active one)")
    evaluate.add_argument(
        "--input",
        type=Path,
        help="evaluate on these songs instead (file/folder); with --folds, the folder "
        "cross-validated",
    )
    evaluate.add_argument(
        "--folds",
        type=int,
        help="K: cross-validate instead (IDyOM's protocol): train a model on K-1 folds of "
        "the songs and score the K-th, K times; report bits per note, mean and spread",
    )
    evaluate.add_argument(
        "--dataset",
        choices=DATASET_CHOICES,
        help="with --folds: a named dataset (idyom-chorales: the soprano lines of BWV "
        "253-438, Pearce 2005's dataset 2)",
    )
    evaluate.add_argument(
        "--preset", default="chorale", help="with --folds: model preset (default: chorale)"
    )
    evaluate.add_argument("--epochs", type=int, help="with --folds: most epochs a fold")
    evaluate.add_argument("--minutes", type=float, help="with --folds: wall-clock budget a fold")
    evaluate.add_argument(
        "--seed", type=int, default=0, help="with --folds: random seed of folds and training"
    )
    evaluate.add_argument("--models-dir", type=Path)
    evaluate.add_argument(
        "--musical",
        action="store_true",
        help="also sample melodies (bars=8 and free) and measure meter, cadences, "
        "repetition, meters and modes against the test songs",
    )
    evaluate.add_argument(
        "--melodies", type=int, default=100, help="melodies per setting for --musical"
    )
    _add_read_options(evaluate)
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(run=run_evaluate)

    generate = commands.add_parser("generate", help="generate melodies: MIDI, audio, picture")
    _add_generate_options(generate)
    generate.set_defaults(run=run_generate)

    harmonize = commands.add_parser(
        "harmonize",
        help="chords for your tune (MIDI, MusicXML or ABC): MIDI, audio, picture, score",
    )
    harmonize.add_argument(
        "file",
        type=Path,
        metavar="FILE",
        help="a .mid, .musicxml, .xml, .mxl or .abc file; of several parts, the one named as "
        "the melody (Soprano, Melody, Voice, ...), else the highest; of several ABC tunes, "
        "the first",
    )
    _add_option_flags(harmonize, _harmonize_options())
    _add_output_options(harmonize)
    harmonize.set_defaults(run=run_harmonize)

    calibrate = commands.add_parser(
        "calibrate",
        help="measure the offset that brings a bundle's triplets to its training songs' rate "
        "and keep it in the bundle (training does this for every new bundle)",
    )
    calibrate.add_argument("--style", required=True, help="style name or bundle folder")
    calibrate.add_argument("--version", help="a version of the style (default: the active one)")
    calibrate.add_argument("--models-dir", type=Path)
    calibrate.add_argument(
        "--tunes", type=int, default=100, help="replies of 8 bars per reel meter and round"
    )
    calibrate.add_argument("--json", action="store_true")
    calibrate.set_defaults(run=run_calibrate)

    export = commands.add_parser(
        "export-weights",
        help="write the sampler's weights.npz from model.keras (bundles made before it existed)",
    )
    export.add_argument(
        "--style", help="style name (all its versions) or bundle folder (default: every style)"
    )
    export.add_argument("--models-dir", type=Path)
    export.set_defaults(run=run_export_weights)
    return parser


def _add_read_options(parser: argparse.ArgumentParser, off_grid_default: str = "") -> None:
    parser.add_argument(
        "--off-grid",
        # `corpus.OFF_GRID_POLICIES`, written out: importing it loads NumPy for `--help`.
        choices=("drop", "quantize", "triplets", "triplets-round"),
        default=None,
        help="songs with durations off the 16th grid (triplets): drop, quantize to the "
        "nearest 16th, keep triplets of 8ths exactly (and drop a song with other off-grid "
        "times), or keep them and round the rest (triplets-round: 16th-note triplets and "
        "32nds read as the notes they ornament) (" + (off_grid_default or "default: drop") + ")",
    )
    parser.add_argument("--part", help="part to read from polyphonic files (default: the top one)")


# Where a generate flag means more than the shared option: the CLI alone takes paths.
_CLI_NOTES = {"style": "; here also a bundle folder path (e.g. trained_models/folk/v002)"}
_ONE_OF = ("bars", "steps")  # one length or the other: a request with both takes bars


def _add_generate_options(parser: argparse.ArgumentParser) -> None:
    """Every melody option's flags, help, range and default from the option table.

    Values stay text here and become the request's by the table's own
    conversion (`lstmuse_core.options.typed_values`), so a bad value is the
    same one-line error as in chat; flags left out are None: the request's
    defaults apply, and a MIDI seed's key and tempo win over no ``--key``/``--bpm``.
    """
    from lstmuse_core.options import MELODY_OPTIONS

    _add_option_flags(parser, MELODY_OPTIONS, exclusive=_ONE_OF)
    parser.add_argument(
        "--seed-file",
        "--seed-midi",
        dest="seed_file",
        type=Path,
        help="a MIDI, MusicXML or ABC file whose melody starts the piece, in its key and "
        "tempo unless --key or --bpm says otherwise",
    )
    parser.add_argument("--models-dir", type=Path)
    _add_output_options(parser)


def _add_option_flags(
    parser: argparse.ArgumentParser, options: Sequence[Any], exclusive: Sequence[str] = ()
) -> None:
    """A flag for each row of an option table (`lstmuse_core.options`), its help, range and
    default from the row; ``exclusive``: rows of which at most one may be given."""
    group = parser.add_mutually_exclusive_group() if exclusive else parser
    for spec in options:
        shown = [] if spec.kind == "text" and not spec.choices else [spec.allowed]
        shown.append("required" if spec.required else f"default: {spec.default}")
        # The shared help names the chat's !styles; here it is `lstmuse styles`.
        words = spec.help.replace("!styles", "`lstmuse styles`") + _CLI_NOTES.get(spec.name, "")
        (group if spec.name in exclusive else parser).add_argument(
            *spec.flags,
            dest=spec.field,
            metavar=spec.name.upper() if not spec.choices else "{" + ",".join(spec.choices) + "}",
            help=f"{words} ({'; '.join(shown)})".replace("%", "%%"),
        )


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    """Where the files go, what plays them, and --json: every command that renders."""
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the files")
    parser.add_argument("--soundfont", type=Path, help="a General MIDI .sf2 file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _read_options(args: argparse.Namespace, style: str | None = None) -> Any:
    """The flags' reading over the built-in ``style``'s own (its part, its pentatonic modes)."""
    from dataclasses import replace

    from lstmuse_core.music.corpus import STYLES, ReadOptions

    own = STYLES[style].read_options() if style in STYLES else ReadOptions()
    return replace(own, off_grid=args.off_grid or own.off_grid, part=args.part or own.part)


def _bundle_path(style: str) -> Path | None:
    """``--style`` as a bundle folder path, when it is one (else it is a style name).

    A value with a path separator, or starting with '.' or '~', or naming a
    folder with a ``config.json``, is a path; anything else is a name and
    passes the one name check downstream.
    """
    if "/" in style or "\\" in style or style.startswith((".", "~")):
        return Path(style)
    if (Path(style) / "config.json").is_file():
        return Path(style)
    return None


def run_preprocess(args: argparse.Namespace) -> int:
    from lstmuse_core.music.dataset import build_dataset

    options = _read_options(args, args.style)
    if args.style:
        dataset = build_dataset(
            args.style,
            options=options,
            workers=args.workers,
            progress=True,
            cache_dir=args.cache_dir,
        )
    else:
        dataset = build_dataset(
            input_dir=args.input,
            name=args.name,
            options=options,
            workers=args.workers,
            progress=True,
            cache_dir=args.cache_dir,
        )
    saved = args.cache_dir / "datasets" / f"{dataset.name}.json.gz"
    dataset.save(saved)
    summary = {**dataset.summary(), "saved_to": str(saved)}
    if args.json:
        summary["dropped_songs"] = [d.to_json() for d in dataset.dropped][:200]
        _print_json(args, summary)
        return 0
    print(
        f"{summary['name']}: {summary['songs_kept']} of {summary['songs_loaded']} songs kept "
        f"from {summary['files']} files ({summary['cached_files']} cached) "
        f"in {summary['seconds']} s"
    )
    print(
        f"  {summary['steps']} steps, vocabulary {summary['vocab_size']} symbols, split "
        + ", ".join(f"{k} {v}" for k, v in summary["split"].items())
    )
    for reason, count in summary["dropped"].items():
        examples = [d for d in dataset.dropped if d.reason == reason][:3]
        print(f"  dropped {count}: {reason} (e.g. " + "; ".join(d.source for d in examples) + ")")
    print(f"  saved to {saved}")
    return 0


def run_styles(args: argparse.Namespace) -> int:
    from lstmuse_core.model.bundle import active_version, load_bundle, trained_styles
    from lstmuse_core.model.held_out import previous_reading
    from lstmuse_core.music.corpus import STYLES

    root = args.models_dir
    rows = []
    for name in sorted(set(STYLES) | set(trained_styles(root))):
        style = STYLES.get(name)
        version = active_version(name, root)
        row: dict[str, Any] = {
            "style": name,
            "description": style.description if style else "trained from uploaded files",
            "corpus": f"{style.corpus_folder}/{','.join(style.patterns)}" if style else None,
            "active_version": version,
        }
        if version:
            bundle = load_bundle(root / name / version)
            row["test_bits_per_symbol"] = bundle.metrics.get("test", {}).get("bits_per_symbol")
            row["previous_reading"] = previous_reading(bundle)
            row["reading"] = _reading(bundle.config_json.get("dataset", {}))
        rows.append(row)
    if args.json:
        _print_json(args, rows)
        return 0
    for row in rows:
        model = f"model {row['active_version']}" if row["active_version"] else "no model yet"
        print(f"{row['style']:<10} {row['description']} [{model}]")
        if row["corpus"]:
            print(f"{'':<10} music21 corpus: {row['corpus']}")
        reading = row.get("reading")
        if reading:
            dropped = ", ".join(f"{n:,} {why}" for why, n in reading["dropped"].items())
            print(
                f"{'':<10} its songs: {reading['read']:,} read, {reading['kept']:,} kept "
                f"({reading['kept'] / reading['read']:.1%})"
                + (f"; dropped: {dropped}" if dropped else "")
                + f" (off the 16th grid: {reading['off_grid']})"
            )
        if row.get("previous_reading"):
            print(f"{'':<10} model {row['previous_reading']}; retrain for today's")
    return 0


def _reading(dataset: dict[str, Any]) -> dict[str, Any] | None:
    """What the active model's corpus reading kept and dropped, from its config.json
    (no corpus is read); None for a bundle that did not record it."""
    if not dataset.get("songs_loaded"):
        return None
    dropped = dataset.get("dropped", {})
    return {
        "read": dataset["songs_loaded"],
        "kept": dataset.get("songs_kept", 0),
        "dropped": dict(sorted(dropped.items(), key=lambda item: -item[1])),
        "off_grid": dataset.get("off_grid", "drop"),
    }


def run_instruments(args: argparse.Namespace) -> int:
    from lstmuse_core.music.midi import INSTRUMENT_ALIASES, instrument_name

    aliases: dict[int, list[str]] = {}
    for alias, program in INSTRUMENT_ALIASES.items():
        aliases.setdefault(program, []).append(alias)
    rows = [
        {"program": program, "name": instrument_name(program), "aliases": aliases.get(program, [])}
        for program in range(128)
    ]
    if args.json:
        _print_json(args, rows)
        return 0
    for program in range(128):
        also = f"  (also: {', '.join(aliases[program])})" if program in aliases else ""
        print(f"{program:>3}  {instrument_name(program)}{also}")
    print(
        "--instrument takes a number, a name or alias above (any case), "
        "or words of a name ('nylon' -> 24)"
    )
    return 0


def run_train(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from lstmuse_core.model.train import TrainingProgress, train_style

    bar = tqdm(total=args.epochs, unit="epoch", desc=f"training {args.style}", disable=args.json)

    def show(progress: TrainingProgress) -> None:
        bar.total = progress.max_epochs
        bar.set_postfix(
            loss=f"{progress.loss_bits:.3f}",
            val=f"{progress.val_loss_bits:.3f}",
            best=f"{progress.best_val_loss_bits:.3f}",
            eta=f"{progress.eta_seconds / 60:.1f}min",
        )
        bar.update(1)

    with bar:
        result = train_style(
            args.style,
            preset_name=args.preset,
            max_epochs=args.epochs,
            max_minutes=args.minutes,
            input_dir=args.input,
            models_dir=args.models_dir,
            cache_dir=args.cache_dir,
            seed=args.seed,
            force=args.force,
            on_progress=show,
            show_progress=not args.json,
            continue_from=args.continue_from,
            # Unflagged: train_style reads as the style's active version was read.
            read_options=(
                _read_options(args, None if args.input else args.style)
                if args.off_grid or args.part
                else None
            ),
        )
    metrics = result.bundle.metrics
    summary = {
        "style": args.style,
        "version": result.bundle.version,
        "path": str(result.bundle.path),
        "promoted": result.promoted,
        "note": result.promotion_note,
        "epochs": result.trained.epochs,
        "best_epoch": result.trained.best_epoch,
        "stopped_by": result.trained.stopped_by,
        "seconds": round(result.trained.seconds, 1),
        "test": metrics["test"],
        "ngram_bits_per_symbol": metrics["ngram"]["bits_per_symbol"],
    }
    if args.json:
        _print_json(args, summary)
    else:
        test = metrics["test"]
        print(
            f"{args.style} {result.bundle.version}: held-out {test['bits_per_symbol']:.3f} "
            f"bits/symbol (n-gram {summary['ngram_bits_per_symbol']:.3f}), accuracy "
            f"{test['accuracy']:.3f}, onsets {test['onset_accuracy']:.3f}; "
            f"{summary['epochs']} epochs, {summary['stopped_by']}; {result.promotion_note}"
        )
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from lstmuse_core.model.bundle import bundle_from_path
    from lstmuse_core.model.evaluate import evaluate_bundle

    if args.folds is not None:
        return run_cross_validation(args)
    if args.dataset is not None:
        raise InvalidParameter("dataset", args.dataset, "only with --folds")
    if not args.style:
        raise InvalidParameter("style", "(none)", "a style name or bundle folder to evaluate")
    path = _bundle_path(args.style)
    report = evaluate_bundle(
        bundle_from_path(path) if path is not None else args.style,
        version=args.version,
        input_path=args.input,
        models_dir=args.models_dir,
        options=_read_options(args),
        cache_dir=args.cache_dir,
        musical_melodies=args.melodies if args.musical else 0,
    )
    if args.json:
        _print_json(args, report)
    else:
        print(
            f"{report['style']} {report['version']} on {report['evaluated_on']}: "
            f"{report['songs']} songs, {report['symbols']} symbols, {report['notes']} notes"
        )
        print(
            f"  model:   {_bits_text(report)}, accuracy {report['accuracy']:.3f}, "
            f"onset accuracy {report['onset_accuracy']:.3f}"
        )
        if report["ngram_bits_per_symbol"] is not None:
            print(f"  9-gram:  {_bits_text(report, 'ngram_')}")
        if report["unknown_symbols"]:
            print(
                f"  skipped {report['songs_skipped']} songs with symbols the model does not "
                f"know: {report['unknown_symbols']}"
            )
        if "musical" in report:
            _print_musical(report["musical"])
    return 0


def _bits_text(figures: dict[str, Any], prefix: str = "") -> str:
    """``1.234 bits/symbol, 5.678 bits/note (pitch only 2.345)`` from a report's figures."""
    return (
        f"{figures[prefix + 'bits_per_symbol']:.3f} bits/symbol, "
        f"{figures[prefix + 'bits_per_note']:.3f} bits/note "
        f"(pitch only {figures[prefix + 'pitch_bits_per_note']:.3f})"
    )


def run_cross_validation(args: argparse.Namespace) -> int:
    """``evaluate --folds K``: train and score a new model on each fold of a corpus (a named
    dataset, a style's corpus or a folder), and print each fold and the spread."""
    from tqdm import tqdm

    from lstmuse_core.model.cross_validation import (
        IDYOM_CHORALE_BITS,
        cross_validate,
        dataset_songs,
        fold_song_ids,
    )
    from lstmuse_core.model.train import TrainingProgress, training_config
    from lstmuse_core.music.dataset import build_dataset

    given = [name for name in ("style", "input", "dataset") if getattr(args, name)]
    if len(given) != 1:
        raise InvalidParameter(
            "folds", args.folds, "with exactly one of --dataset, --style and --input"
        )
    if args.version or args.musical:
        raise InvalidParameter("folds", args.folds, "without --version and --musical")
    config = training_config(
        "crossvalidation",
        preset_name=args.preset,
        max_epochs=args.epochs,
        max_minutes=args.minutes,
        seed=args.seed,
    )
    fold_song_ids([str(n) for n in range(max(args.folds, 2))], args.folds)  # checks --folds
    if args.dataset:
        songs, selected = dataset_songs(args.dataset, args.cache_dir)
    else:
        dataset = build_dataset(
            args.style if args.style else None,
            input_dir=args.input,
            options=_read_options(args) if args.input else None,
            cache_dir=args.cache_dir,
            progress=not args.json,
        )
        songs, selected = dataset.songs, {"name": dataset.name, "songs": len(dataset.songs)}
    print(
        f"{selected['name']}: {len(songs)} songs, {args.folds} folds, preset {config.preset}",
        file=sys.stderr,
    )
    bar = tqdm(unit="epoch", disable=args.json, leave=False)

    def fold_starts(number: int, folds: int) -> None:
        bar.reset(total=config.max_epochs)
        bar.set_description(f"fold {number}/{folds}")

    def show(progress: TrainingProgress) -> None:
        bar.set_postfix(
            val=f"{progress.val_loss_bits:.3f}", best=f"{progress.best_val_loss_bits:.3f}"
        )
        bar.update(1)

    def fold_done(fold: Any) -> None:
        # On stderr, --json or not: a long run shows each fold as it ends.
        bar.write(
            f"fold {fold.fold}/{args.folds}: {fold.test_songs} songs, {fold.notes} notes: "
            f"model {_bits_text(fold.to_json())}; 9-gram "
            f"{_bits_text(fold.to_json(), 'ngram_')}; {fold.epochs} epochs "
            f"({fold.stopped_by}), {fold.seconds:.0f} s",
            file=sys.stderr,
        )

    with bar:
        report = cross_validate(
            songs,
            config,
            folds=args.folds,
            seed=args.seed,
            on_fold_start=fold_starts,
            on_progress=show,
            on_fold=fold_done,
        )
    report = {"dataset": selected, **report}
    if args.dataset == "idyom-chorales":
        report["idyom_pitch_bits_per_note"] = IDYOM_CHORALE_BITS
    if args.json:
        _print_json(args, report)
        return 0
    summary = report["summary"]
    print(f"{selected['name']}, {args.folds}-fold cross-validation, {len(songs)} songs:")
    print(f"  {'bits':<12} {'model: mean (sd, min-max)':<34} 9-gram: mean (sd, min-max)")
    for figure, label in (
        ("pitch_bits_per_note", "pitch/note"),
        ("bits_per_note", "joint/note"),
        ("bits_per_symbol", "per symbol"),
    ):
        model, ngram = _spread(summary[figure]), _spread(summary["ngram_" + figure])
        print(f"  {label:<12} {model:<34} {ngram}")
    for system, bits in report.get("idyom_pitch_bits_per_note", {}).items():
        print(f"  IDyOM, {system}: {bits} bits/note (pitch; Pearce 2005, dataset 2)")
    return 0


def _spread(figure: dict[str, float]) -> str:
    return f"{figure['mean']:.3f} ({figure['sd']:.3f}, {figure['min']:.3f}-{figure['max']:.3f})"


BASELINE_MEASURES = ("metric_alignment", "cadence", "repetition")


def _print_musical(musical: dict[str, Any]) -> None:
    """The --musical measures, generated next to the corpus and the n-gram's, one line each."""
    print(
        f"musical, {musical['melodies']} melodies per setting at temperature "
        f"{musical['temperature']:g} (corpus: {musical['corpus']['songs']} test songs):"
    )

    def shown(value: Any) -> Any:
        return f"{value:.2f}" if isinstance(value, float) else value

    baseline = musical.get("baseline")
    for setting in ("fixed_bars", "free_length"):
        print(f"  {setting.replace('_', ' ')}:")
        # The n-gram's melodies have the replies' meters, modes and bars: the rest is beside.
        beside = baseline["against_corpus"] if baseline and setting == "fixed_bars" else {}
        beside = {name: beside[name] for name in BASELINE_MEASURES if name in beside}
        for name, measure in musical[setting]["against_corpus"].items():
            distance = f", distance {measure['distance']:.3f}" if "distance" in measure else ""
            if name in beside and baseline is not None:
                distance += f"; {baseline['model']} {shown(beside[name]['generated'])}"
            verdict = "met" if measure["met"] else "NOT met"
            print(
                f"    {name}: {shown(measure.get('generated'))} (corpus "
                f"{shown(measure.get('corpus'))}{distance}); target {measure['target']}: {verdict}"
            )
    if "triplets" in musical:
        _print_triplets(musical["triplets"])
        if baseline:
            _print_triplets(baseline["triplets"], f"{baseline['model']}'s melodies (bars=8): ")
    if "form" in musical:
        _print_form(musical["form"])
    if "asked" in musical:
        asked = musical["asked"]
        print(
            f"  asked {asked['meter']} {asked['mode']}: {asked['share_in_meter']:.0%} in "
            f"{asked['meter']}, {asked['mean_share_of_pitches_in_mode']:.0%} of pitches in the "
            f"mode, {asked['tonic_endings']:.0%} end on the tonic"
        )


def _print_triplets(triplets: dict[str, Any], whose: str = "") -> None:
    """Bars with a triplet in reels and hornpipes, generated beside the corpus."""
    generated, corpus = triplets["generated"], triplets["corpus"]

    def share(figures: dict[str, Any]) -> str:
        if figures["share"] is None:
            return f"no {'/'.join(triplets['meters'])} bars"
        return (
            f"{figures['share']:.3f} ({figures['bars_with_triplets']} of {figures['bars']} bars,"
            f" {figures['melodies']} melodies)"
        )

    ratio = f"{triplets['ratio']:.2f}x" if triplets["ratio"] is not None else "no ratio"
    verdict = "met" if triplets["met"] else "NOT met"
    print(
        f"  {whose}bars with a triplet in {'/'.join(triplets['meters'])}: {share(generated)}; "
        f"corpus {share(corpus)}; {ratio}, target {triplets['target']}: {verdict}"
    )


def _print_form(form: dict[str, Any]) -> None:
    """The form figures: generated tunes in the style's forms, its corpus's, one line's."""
    generated, corpus = form["generated"], form["corpus"]
    print(
        f"  tunes in the style's forms ({generated['tunes']}; corpus: "
        f"{corpus['tunes_with_parts']} of {corpus['of_songs']} test songs in parts):"
    )
    if not generated["tunes"]:
        print(f"    none: {generated['why']}")
        return
    line = form["one_line"]
    print(f"    forms drawn: {', '.join(f'{k} {v}' for k, v in generated['forms'].items())}")
    print(f"    adherence (parts, repeats, endings): {generated['adherence']:.2f}")
    for name in ("contrast", "parts_end_on_bar_lines", "tonic_endings"):
        print(
            f"    {name.replace('_', ' ')}: {generated[name]:.2f} (corpus {corpus[name]:.2f}, "
            f"one line {line[name]:.2f})"
        )
    alone = form["network_alone"]

    def figure(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    for name in ("parts_close_on_tonic", "first_endings_on_tonic", "b_above_a_semitones"):
        print(
            f"    {name.replace('_', ' ')}: {figure(generated[name])} (network alone, one "
            f"candidate: {figure(alone[name])}; corpus {figure(corpus[name])})"
        )


def run_export_weights(args: argparse.Namespace) -> int:
    """Write ``weights.npz`` into each chosen bundle: once per bundle trained before the
    sampler read it (training writes it since), or after replacing a ``model.keras``."""
    from lstmuse_core.model.bundle import bundle_from_path, resolve_bundle, trained_styles, versions

    if args.style and _bundle_path(args.style) is not None:
        bundles = [bundle_from_path(args.style)]
    else:
        styles = [args.style] if args.style else trained_styles(args.models_dir)
        bundles = [
            resolve_bundle(style, args.models_dir, version)
            for style in styles
            for version in versions(style, args.models_dir)
        ]
    if not bundles:
        raise InvalidParameter(
            "style", args.style or "(every style)", "a style with trained versions"
        )
    for bundle in bundles:
        print(f"{bundle.export_weights()}")
    return 0


def run_calibrate(args: argparse.Namespace) -> int:
    """`triplet_calibration.calibrate_triplet_bias` of one bundle, kept in its config.json."""
    from lstmuse_core.model.bundle import bundle_from_path, record_calibration, resolve_bundle
    from lstmuse_core.model.generate import MelodyGenerator
    from lstmuse_core.model.held_out import trained_split
    from lstmuse_core.model.triplet_calibration import calibrate_triplet_bias

    if not 1 <= args.tunes <= 10_000:
        raise InvalidParameter("tunes", args.tunes, "a whole number from 1 to 10,000")
    bundle = (
        bundle_from_path(args.style)
        if _bundle_path(args.style) is not None
        else resolve_bundle(args.style, args.models_dir, args.version)
    )
    split = trained_split(bundle)
    if split is None:
        raise LstmuseError(f"{bundle.path}: its training songs cannot be read again")
    # A generator of its own: the process's cached one would keep the old offset.
    generator = MelodyGenerator.from_bundle(bundle)
    calibration = calibrate_triplet_bias(
        generator, split["train"], temperature=bundle.default_temperature, tunes=args.tunes
    )
    if calibration is None:
        print(f"{bundle.path}: nothing to calibrate (no triplet marker, reel meter or triplet)")
        return 0
    record_calibration(bundle, calibration)
    if args.json:
        _print_json(args, calibration)
        return 0
    print(
        f"{bundle.path}: triplet_bias {calibration['triplet_bias']:+.3f}: bars with a triplet "
        f"{calibration['reached']:.3f} (training songs {calibration['target']:.3f}; "
        + ", ".join(f"{r['share']:.3f} at {r['bias']:+.2f}" for r in calibration["rounds"])
        + ")"
    )
    return 0


def melody_request(args: argparse.Namespace, style: str) -> Any:
    """The `MelodyRequest` that ``lstmuse generate``'s flags ask for, in ``style`` (a name).

    Each table flag's text becomes the field's value as a chat option's does;
    a ``--seed-file`` (MIDI, MusicXML or ABC) brings its melody, key and tempo (the
    flags win).
    """
    from lstmuse_core.options import MELODY_OPTIONS, typed_values
    from lstmuse_core.request import MelodyRequest

    given = {
        spec.name: getattr(args, spec.field)
        for spec in MELODY_OPTIONS
        if spec.name != "style" and getattr(args, spec.field) is not None
    }
    if args.seed_file is not None and "seed" in given:
        raise InvalidParameter(
            "seed-file", str(args.seed_file), "give --seed-melody or --seed-file, not both"
        )
    request = MelodyRequest(style=style, **typed_values(MELODY_OPTIONS, given))
    if args.seed_file is None:
        return request
    from lstmuse_core.music.seed_file import read_seed_path

    return request.with_seed_file(
        read_seed_path(args.seed_file), {name for name in ("key", "bpm") if name in given}
    )


def run_generate(args: argparse.Namespace) -> int:
    from lstmuse_core.compose import compose
    from lstmuse_core.request import MelodyRequest

    # A bundle path is opened (JSON only, no Keras yet) for its style name; the
    # request is validated before the model loads, so a bad value answers at once.
    style = args.style or MelodyRequest.style
    bundle_path = _bundle_path(style)
    if bundle_path is not None:
        from lstmuse_core.model.bundle import bundle_from_path

        style = bundle_from_path(bundle_path).style
    request = melody_request(args, style)
    _writable_folder(args.out, "out")
    generator = None
    if bundle_path is not None:
        from lstmuse_core.model.generate import load_generator_from_path

        generator = load_generator_from_path(bundle_path)
    composed = compose(
        request, args.out, models_dir=args.models_dir, soundfont=args.soundfont, generator=generator
    )
    if args.json:
        first = composed[0]
        _print_json(
            args,
            {
                "style": first.style,
                "model_version": first.model_version,
                "random_seed": first.random_seed,
                "key": first.key,
                "bpm": first.tempo.quarter_bpm,
                "melodies": [c.to_json() for c in composed],
            },
        )
        return 0
    for melody in composed:
        files = ", ".join(str(p) for p in melody.files.paths)
        print(
            f"{melody.style} {melody.model_version} seed {melody.random_seed}: "
            f"{_length_text(request, melody)} in {melody.key} -> {files}"
        )
        for problem in melody.files.problems:
            print(f"  warning: {problem}", file=sys.stderr)
    return 0


def _harmonize_options() -> tuple[Any, ...]:
    """The harmonize job's option rows (`HARMONIZE_OPTIONS`), and the melody's ``backing``
    row where that table does not carry it yet: the CLI renders here and can play one."""
    from lstmuse_core.options import HARMONIZE_OPTIONS, MELODY_OPTIONS

    names = {spec.name for spec in HARMONIZE_OPTIONS}
    backing = tuple(spec for spec in MELODY_OPTIONS if spec.name == "backing")
    return HARMONIZE_OPTIONS + tuple(spec for spec in backing if spec.name not in names)


def run_harmonize(args: argparse.Namespace) -> int:
    """Read the tune (the limited reader the bot uses), harmonize it in its own key, meter,
    pickup and register, and write its files; the tempo is ``--bpm``, else the file's, else
    a song's for its meter."""
    import asyncio

    from lstmuse_core.file_names import new_short_id, tune_file_stem
    from lstmuse_core.harmonize_tune import harmonize_tune
    from lstmuse_core.music.harmony.chart import chord_chart
    from lstmuse_core.music.render import RenderOptions
    from lstmuse_core.music.tune_file import check_tune_file_size, read_tune_file
    from lstmuse_core.options import HARMONIZE_OPTIONS, option_fields
    from lstmuse_core.request import HarmonizeRequest

    given = {
        spec.name: getattr(args, spec.field)
        for spec in _harmonize_options()
        if getattr(args, spec.field) is not None
    }
    job_options = {spec.name for spec in HARMONIZE_OPTIONS}
    # A bad option answers before the file is read.
    request = HarmonizeRequest.from_options({k: v for k, v in given.items() if k in job_options})
    name = args.file.name
    try:
        check_tune_file_size(args.file.stat().st_size, name)
        data = args.file.read_bytes()
    except OSError as error:
        raise InvalidParameter(
            "tune", str(args.file), "a file that can be read", error.strerror or ""
        ) from None
    tune = asyncio.run(read_tune_file(data, name))
    request = request.with_tune(tune, name, option_fields(_harmonize_options(), given))
    _writable_folder(args.out, "out")
    options = RenderOptions(
        audio_format=request.audio,
        image=request.image,
        soundfont=args.soundfont,
        instrument=request.instrument,
        export=request.export,
        bpm=request.tempo.quarter_bpm,
        backing=given.get("backing", "none"),
    )
    title = f"{tune.title or args.file.stem}, harmonized by LSTMuse"
    harmonized = harmonize_tune(
        tune, args.out, stem=tune_file_stem(name, new_short_id()), title=title, options=options
    )
    if args.json:
        _print_json(args, harmonized.to_json())
        return 0
    files = ", ".join(str(path) for path in harmonized.files.paths)
    print(
        f"{name} ({tune.source}): {len(harmonized.chords)} chords in "
        f"{harmonized.melody.key_name}, {harmonized.melody.meter}, at "
        f"{harmonized.tempo.text} -> {files}"
    )
    chords = [(c.start, c.steps, c.symbol) for c in harmonized.chords]
    for line in chord_chart(chords, harmonized.melody.meter.bar_steps):
        print(f"  {line}")
    for problem in harmonized.files.problems:
        print(f"  warning: {problem}", file=sys.stderr)
    return 0


def _length_text(request: Any, melody: ComposedMelody) -> str:
    """``8 bars of 6/8 after a 2-bar seed, 20 s at dotted quarter = 110 (165 bpm)``
    (``--bars`` counts what follows the seed; the tempo in the meter's beat)."""
    from lstmuse_core.music.meter import describe_length, pickup_steps
    from lstmuse_core.music.midi import step_seconds

    steps, meter = len(melody.symbols), melody.melody.meter
    pickup = pickup_steps(melody.symbols, meter)
    bars = describe_length(steps, len(request.seed_melody), meter, pickup)
    seconds = steps * step_seconds(melody.tempo.quarter_bpm)
    form = f"; form {melody.form.summary(meter.text)}" if melody.form is not None else ""
    return f"{bars}, {seconds:.0f} s at {melody.tempo.text}{form}"


if __name__ == "__main__":
    sys.exit(main())
