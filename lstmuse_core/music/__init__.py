"""The music half: melodies as symbols, keys, seeds, MIDI, corpora, datasets, rendering.

- `encoding`: the symbols (one per 16th note) and the vocabulary;
  `melody`: the one `Melody` value (symbols, meter, key); `keys`: key names.
- `seed_melody`, `seed_file`: seeds typed by people or uploaded as MIDI.
- `midi`: melodies to and from MIDI; `render`, `formats`: audio and pictures.
- `corpus`, `dataset`, `uploads`: real music read into training songs.
- `melody_stats`: how generated melodies compare with real ones.
"""
