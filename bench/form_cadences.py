"""How generated parts close, bundle beside bundle and beside the corpus, in one run.

A network trained with the form input (which part, first or later ending, bars
left in the part: `lstmuse_core.model.conditioning.form_inputs`) against one
trained before it, which a form reaches only through the bars-left countdown and
the choice among candidates. For each bundle, ``--tunes`` tunes in forms drawn
from the style's own tunes (`lstmuse_core.model.form_evaluation.evaluate_forms`),
by the network alone (one candidate) and as replies are (best of 6), beside the
tunes in parts among the first bundle's recorded test songs:

* parts closing on the tonic, as played the last time (body, then last ending);
* first endings on the tonic (a first ending usually leads back);
* B's mean pitch above A's, in semitones;
* adherence and the tune ending on the tonic (replies only).

    .venv/bin/python bench/form_cadences.py trained_models/irish/v002 trained_models/irish/v001
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lstmuse_core.model.bundle import bundle_from_path
from lstmuse_core.model.form_evaluation import evaluate_forms
from lstmuse_core.model.generate import load_generator_from_path
from lstmuse_core.model.held_out import trained_split

COLUMNS = ("parts_close_on_tonic", "first_endings_on_tonic", "b_above_a_semitones")


def _cells(figures: dict[str, Any]) -> list[str]:
    return ["-" if figures.get(c) is None else f"{figures[c]:.2f}" for c in COLUMNS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundles", type=Path, nargs="+", help="bundle folders of one style")
    parser.add_argument("--tunes", type=int, default=100)
    args = parser.parse_args()
    split = trained_split(bundle_from_path(args.bundles[0]))
    if split is None:
        raise SystemExit(f"{args.bundles[0]}: its corpus cannot be read here")
    print("| tunes | parts close on the tonic | first endings on the tonic | B above A |")
    print("| --- | ---: | ---: | ---: |")
    corpus: dict[str, Any] = {}
    for folder in args.bundles:
        generator = load_generator_from_path(folder)
        form_input = "part" in generator.conditioning.inputs
        figures = evaluate_forms(generator, split["test"], count=args.tunes)
        corpus = figures["corpus"]
        told = "with" if form_input else "no"
        name = f"{generator.style} {generator.version} ({told} form input)"
        alone, reply = figures["network_alone"], figures["generated"]
        print(f"| {name}, network alone | {' | '.join(_cells(alone))} |")
        print(
            f"| {name}, replies (best of 6; adherence {reply['adherence']:.2f}, "
            f"tune ends on the tonic {reply['tonic_endings']:.2f}) | {' | '.join(_cells(reply))} |"
        )
    print(
        f"| corpus: {corpus['tunes_with_parts']} test tunes in parts "
        f"({corpus['first_endings']} first endings; ends on the tonic "
        f"{corpus['tonic_endings']:.2f}) | {' | '.join(_cells(corpus))} |"
    )


if __name__ == "__main__":
    main()
