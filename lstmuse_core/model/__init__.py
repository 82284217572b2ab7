"""The model half: the LSTM network, its training, sampling, evaluation and bundles.

- `network`: the Keras model and its named presets; `batches`: whole songs as batches.
- `train`: fit a style and write a bundle; `bundle`: versioned bundles and promotion.
- `generate`: the stateful NumPy sampler; `evaluate`, `ngram`: held-out scores
  against an n-gram baseline.
"""
