"""The README's table of pre-trained styles, read from the committed bundles.

    python bench/styles_table.py

For each style's active bundle: songs (train/validation/test), held-out
bits per symbol, accuracy and onset accuracy of the LSTM on the test split
against the interpolated Kneser-Ney 9-gram on the same split, the preset,
epochs, training time and the machine it was trained on.
"""

from __future__ import annotations

from lstmuse_core.model.bundle import (
    active_version,
    default_models_dir,
    load_bundle,
    trained_styles,
)


def main() -> None:
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
