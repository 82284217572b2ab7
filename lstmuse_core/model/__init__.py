"""The model half: the LSTM network, its training, sampling, evaluation and bundles.

- `network`: the Keras model and its named presets; `batches`: whole songs as batches.
- `train`: fit a style and write a bundle; `bundle`: versioned bundles and promotion.
- `generate`: the stateful sampler (`stepper`: the network as float32 arrays;
  `compiled`: its step and the sampling loop, compiled with numba); `evaluate`,
  `ngram`: held-out scores against an n-gram baseline.
"""
