"""The README's tables of pre-trained styles, read from the committed bundles.

    python bench/styles_table.py [--musical [--melodies N]]

For each style's active bundle: songs (train/validation/test), held-out
bits per symbol, accuracy and onset accuracy of the LSTM on the test split
against the interpolated Kneser-Ney 9-gram on the same split, the preset,
epochs, training time and the machine it was trained on.

``--musical``: instead, each bundle's musical figures as ``lstmuse evaluate
--style NAME --musical`` measures them (N melodies of 8 bars as replies sample
them, at the style's temperature), each beside the same figure for its test
songs and, for the first three, for as many melodies of the 9-gram fitted on its
training songs (`baseline_melodies`: the same meters, modes, bars and choice):
long notes on strong beats, tonic endings where the tune ends, a figure
repeated a bar or two later (the test songs' first 8 bars), the distance of its
meters and modes from the style's, bars with a triplet in 4/4 and 2/2, and tunes
in the style's forms ending on the tonic; then, for the styles whose tunes come
in parts, the README's form table (adherence, contrast and tonic endings beside
the corpus's and one line's).
"""

from __future__ import annotations

import argparse
from typing import Any

from lstmuse_core.model.bundle import (
    active_version,
    default_models_dir,
    load_bundle,
    trained_styles,
)


def _beside(measure: dict[str, Any], baseline: dict[str, Any] | None = None) -> str:
    """A figure with its test songs' beside it, and the n-gram's melodies' where measured."""
    also = f"; {baseline['generated']:.2f}" if baseline is not None else ""
    return f"{measure['generated']:.2f} ({measure['corpus']:.2f}{also})"


def musical_table(melodies: int) -> None:
    from lstmuse_core.model.evaluate import evaluate_bundle

    root = default_models_dir()
    print(
        "| style | long notes on strong beats | tonic endings, bars=8 | repeated figure, bars=8 "
        "| meters, modes: distance | bars with a triplet (4/4, 2/2) | tunes in forms: "
        "tonic endings |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    form_rows = []
    for style in trained_styles(root):
        bundle = load_bundle(root / style / str(active_version(style, root)))
        musical = evaluate_bundle(bundle, musical_melodies=melodies)["musical"]
        fixed = musical["fixed_bars"]["against_corpus"]
        ngram = musical["baseline"]["against_corpus"]
        triplets = musical["triplets"]
        generated, corpus = triplets["generated"], triplets["corpus"]
        triplet_cell = (
            f"{generated['share']:.3f} ({corpus['share']:.3f})"
            if corpus["bars"] and generated["share"] is not None
            else "-"
        )
        form = musical["form"]
        form_cell = (
            f"{form['generated']['tonic_endings']:.2f} ({form['corpus']['tonic_endings']:.2f})"
            if form["generated"]["tunes"]
            else "- (one line)"
        )
        print(
            f"| {style} ({bundle.version}) | "
            f"{_beside(fixed['metric_alignment'], ngram['metric_alignment'])} | "
            f"{_beside(fixed['cadence'], ngram['cadence'])} | "
            f"{_beside(fixed['repetition'], ngram['repetition'])} | "
            f"{fixed['meters']['distance']:.2f}, {fixed['modes']['distance']:.2f} | "
            f"{triplet_cell} | {form_cell} |"
        )
        if form["generated"]["tunes"]:
            generated, corpus, line = form["generated"], form["corpus"], form["one_line"]
            form_rows.append(
                f"| {style} ({bundle.version}) | {generated['adherence']:.2f} | "
                f"{generated['contrast']:.2f} ({corpus['contrast']:.2f}, {line['contrast']:.2f}) | "
                f"{generated['tonic_endings']:.2f} ({corpus['tonic_endings']:.2f}, "
                f"{line['tonic_endings']:.2f}) |"
            )
    # The README's Form table, from the same run: the styles whose tunes come in parts.
    print()
    print("| style | adherence | contrast (corpus, one line) | tonic endings (corpus, one line) |")
    print("| --- | --- | --- | --- |")
    print("\n".join(form_rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--musical", action="store_true", help="the musical table instead")
    parser.add_argument("--melodies", type=int, default=100, help="melodies a style (--musical)")
    args = parser.parse_args()
    if args.musical:
        musical_table(args.melodies)
        return
    root = default_models_dir()
    print(
        "| style | songs (train/val/test) | LSTM bits/symbol | 9-gram bits/symbol | accuracy "
        "| onset accuracy | preset | epochs | training | machine |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- |")
    for style in trained_styles(root):
        bundle = load_bundle(root / style / str(active_version(style, root)))
        config, metrics = bundle.config_json, bundle.metrics
        split = config["dataset"]["split"]
        training = config["training"]
        test = metrics["test"]
        print(
            f"| {style} ({bundle.version}) | {split['train']}/{split['validation']}/"
            f"{split['test']} | {test['bits_per_symbol']:.3f} | "
            f"{metrics['ngram']['bits_per_symbol']:.3f} | {test['accuracy']:.3f} | "
            f"{test['onset_accuracy']:.3f} | {config['model']['preset']} | "
            f"{training['epochs']} ({training['stopped_by']}) | "
            f"{training['seconds'] / 60:.1f} min | {training['machine']} |"
        )


if __name__ == "__main__":
    main()
