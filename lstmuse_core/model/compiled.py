"""The compiled loops: one step of the network, and the sampling loop around it.

Why compiled (numba). For one melody a step is a few dozen tiny array
operations, and NumPy's per-call overhead (1-3 us each) was most of the cost;
for a batch, ``np.tanh`` over the gates was (NumPy's float32 tanh is not
vectorised on AVX2). Here a whole melody is one call: `sample_rows` feeds the
network (`advance_layers`) and draws one symbol per row and step (`pick`),
with a rational ``tanh`` and a polynomial ``exp`` that compile to SIMD code,
and matrix products that keep their weights in cache (`matmul`).
`lstmuse_core.model.generate` prepares every input that does not depend on
what is sampled; ``bench/generation_bench.py`` measures it.

Everything compiled lives in this one module on purpose: numba's on-disk cache
is checked against the source file of the function called, not against the
files of the functions it calls, so a compiled caller in another module could
run a stale copy of an edited callee.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar, cast

import numba
import numpy as np

from lstmuse_core.music.encoding import TRIPLET_STEPS

_F = np.float32  # float32 constants: a float64 one would widen the arithmetic

# Compiled once per machine and cached next to this file (the first call in a
# fresh checkout takes ~20 s; workers make it while warming up). fastmath without
# "no infinities / no NaNs": the sampler's logic never relies on them, but an
# overflow must stay an overflow.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}
# error_model="numpy": no division-by-zero check, which would stop vectorisation.
_njit = numba.njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")
_Function = TypeVar("_Function", bound=Callable[..., Any])


def compiled(function: _Function) -> _Function:
    """Compile ``function`` with the settings above (its signature kept for type checks)."""
    return cast(_Function, _njit(function))


class Network(NamedTuple):
    """A network's weights as the compiled loops read them (made by `LstmStepper`).

    The first layer's input projection is three table rows a step (symbol,
    lookback pair, context: see `lstmuse_core.model.stepper`); ``kernels[l]``
    multiplies layer ``l``'s inputs and ``dense_kernel`` the top layer's
    hidden vector, both transposed, one row per output unit, as `matmul` reads them.
    """

    symbol_table: np.ndarray
    pair_table: np.ndarray  # (never read without the metrical inputs)
    context_table: np.ndarray
    metrical: bool
    kernels: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]  # layer 0's is zero: its bias comes with the lookups
    dense_kernel: np.ndarray
    dense_bias: np.ndarray


class State(NamedTuple):
    """A batch's LSTM state and step buffers, float32, one row per melody, updated in place.

    ``inputs[l]`` is what multiplies layer ``l``'s kernel: layer 0's own hidden
    vector, ``[hidden of l-1, own hidden]`` above it; ``top`` is the last
    layer's hidden vector again, contiguous; ``looked_up`` the first layer's
    input projection of the step.
    """

    inputs: tuple[np.ndarray, ...]
    cells: tuple[np.ndarray, ...]
    gates: tuple[np.ndarray, ...]
    top: np.ndarray
    looked_up: np.ndarray


def initial_state(rows: int, units: list[int]) -> State:
    """The all-zero state of ``rows`` melodies for LSTM layers of these sizes."""
    below = [0, *units[:-1]]
    return State(
        tuple(np.zeros((rows, b + u), np.float32) for b, u in zip(below, units, strict=True)),
        tuple(np.zeros((rows, u), np.float32) for u in units),
        tuple(np.empty((rows, 4 * u), np.float32) for u in units),
        np.zeros((rows, units[-1]), np.float32),
        np.empty((rows, 4 * units[0]), np.float32),
    )


# Weights of a `matmul` tile: 16 KB, half of L1, so a tile stays there while
# every block of 4 rows passes over it and each weight comes from L2/L3 once a step.
TILE_FLOATS = 4096


@compiled
def fast_tanh(x: np.float32) -> np.float32:
    """tanh within 3e-7 (Eigen's rational approximation for float32); unlike ``math.tanh``
    it has no call in it, so a loop over it compiles to SIMD code."""
    x = min(max(x, _F(-7.90531110763549805)), _F(7.90531110763549805))
    x2 = x * x
    p = x2 * _F(-2.76076847742355e-16) + _F(2.00018790482477e-13)
    p = x2 * p + _F(-8.60467152213735e-11)
    p = x2 * p + _F(5.12229709037114e-08)
    p = x2 * p + _F(1.48572235717979e-05)
    p = x2 * p + _F(6.37261928875436e-04)
    p = x2 * p + _F(4.89352455891786e-03)
    q = x2 * _F(1.19825839466702e-06) + _F(1.18534705686654e-04)
    q = x2 * q + _F(2.26843463243900e-03)
    q = x2 * q + _F(4.89352518554385e-03)
    return x * p / q


@compiled
def fast_sigmoid(x: np.float32) -> np.float32:
    return _F(0.5) * fast_tanh(_F(0.5) * x) + _F(0.5)


@compiled
def fast_exp(x: np.float32) -> np.float32:
    """exp(x) for x <= 0, within 4e-5 of it (0 below -88); no call in it, so it compiles to
    SIMD code: ``exp(x / 64) ** 64``, a degree-7 fit on [-88/64, 0] squared six times."""
    u = max(x, _F(-88.0)) * _F(1.0 / 64.0)
    p = u * _F(1.0125159e-04) + _F(1.1975276e-03)
    p = u * p + _F(8.1245368e-03)
    p = u * p + _F(4.1537173e-02)
    p = u * p + _F(1.6662249e-01)
    p = u * p + _F(4.9999255e-01)
    p = u * p + _F(9.9999952e-01)
    p = u * p + _F(1.0)
    for _ in range(6):
        p *= p
    return p if x > _F(-88.0) else _F(0.0)


@compiled
def matvec(x: np.ndarray, w_t: np.ndarray, out: np.ndarray) -> None:
    """``out = w_t @ x`` for one row ``x`` (a 1-D float32 vector), 8 outputs at a time.

    The 8 dot products share each load of ``x``; fastmath lets LLVM split each
    sum across SIMD lanes. The weights stream through once, as in BLAS's sgemv.
    """
    outputs, inner = w_t.shape
    j = 0
    while j < outputs:
        # Outputs j..j+7; a last block short of 8 repeats the last output (written twice).
        last = outputs - 1
        k1, k2, k3 = min(j + 1, last), min(j + 2, last), min(j + 3, last)
        k4, k5, k6, k7 = min(j + 4, last), min(j + 5, last), min(j + 6, last), min(j + 7, last)
        w0, w1, w2, w3 = w_t[j], w_t[k1], w_t[k2], w_t[k3]
        w4, w5, w6, w7 = w_t[k4], w_t[k5], w_t[k6], w_t[k7]
        a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = _F(0.0)
        for i in range(inner):
            v = x[i]
            a0 += v * w0[i]
            a1 += v * w1[i]
            a2 += v * w2[i]
            a3 += v * w3[i]
            a4 += v * w4[i]
            a5 += v * w5[i]
            a6 += v * w6[i]
            a7 += v * w7[i]
        out[j], out[k1], out[k2], out[k3] = a0, a1, a2, a3
        out[k4], out[k5], out[k6], out[k7] = a4, a5, a6, a7
        j += 8


@compiled
def matmul(x: np.ndarray, w_t: np.ndarray, out: np.ndarray, rows: int) -> None:
    """``out[:rows] = x[:rows] @ w_t.T`` for C-contiguous float32 arrays (weights stored
    transposed); the rows past ``rows`` are left as they are.

    No BLAS: every product is computed here, so the sampler needs no SciPy
    (numba's route to BLAS) and a process that only generates never loads it.
    One row goes to `matvec`, 8 outputs at a time; one melody of one candidate
    is bound by reading the weights either way (measured, 512 steps, medians of
    3 x 21 runs alternated: 5.29 ms against 5.30 through BLAS's matrix-vector
    product, the same melodies). More rows go 4 rows x 2 outputs at a time with
    their 8 dot products in registers (6 loads for 8 multiply-adds), over a
    tile of weight rows that stays in L1 (`TILE_FLOATS`). That beat OpenBLAS's
    sgemm at every batch size the sampler runs: sgemm packs the weights again
    on every call, and a step's products are small (measured, whole sampler, 64
    melodies of 512 steps in two parts: 2.9-3.3 ms a melody against 3.5-3.7
    through sgemm; a reply's 4 candidates 30-32 ms against 30-35 with the
    untiled 4-row loop before it).
    """
    inner = x.shape[1]
    if x.shape[0] == 1:
        # One row of one: a batch whose live rows fall to one stays in the loop below, so a
        # row's products never depend on how many rows are still being sampled.
        matvec(x[0], w_t, out[0])
        return
    outputs = w_t.shape[0]
    tile = max(2, TILE_FLOATS // inner)
    for first in range(0, outputs, tile):
        end = min(first + tile, outputs)
        r = 0
        while r < rows:
            # Rows r..r+3 and outputs j, j+1; a last block short of rows or outputs
            # repeats the last one (written twice, the same).
            r1, r2, r3 = min(r + 1, rows - 1), min(r + 2, rows - 1), min(r + 3, rows - 1)
            x0, x1, x2, x3 = x[r], x[r1], x[r2], x[r3]
            j = first
            while j < end:
                k = min(j + 1, end - 1)
                wj, wk = w_t[j], w_t[k]
                a0 = a1 = a2 = a3 = b0 = b1 = b2 = b3 = _F(0.0)
                for i in range(inner):
                    w, v = wj[i], wk[i]
                    a0 += x0[i] * w
                    a1 += x1[i] * w
                    a2 += x2[i] * w
                    a3 += x3[i] * w
                    b0 += x0[i] * v
                    b1 += x1[i] * v
                    b2 += x2[i] * v
                    b3 += x3[i] * v
                out[r, j], out[r1, j], out[r2, j], out[r3, j] = a0, a1, a2, a3
                out[r, k], out[r1, k], out[r2, k], out[r3, k] = b0, b1, b2, b3
                j += 2
            r += 4


@compiled
def advance_layers(state: State, network: Network, rows: int) -> None:
    """One step of every LSTM layer for the first ``rows`` rows, in place (Keras' gate
    order i, f, c, o).

    One matrix product per layer (`State.inputs`); each new hidden vector is
    written where it is read next. Layer 0 adds ``state.looked_up`` (its input
    projection and bias), deeper layers their biases.
    """
    inputs, cells, gates = state.inputs, state.cells, state.gates
    layers = len(network.kernels)
    for layer in range(layers):
        x, cell, g = inputs[layer], cells[layer], gates[layer]
        matmul(x, network.kernels[layer], g, rows)
        units = cell.shape[1]
        own = x.shape[1] - units
        for r in range(rows):
            extra = state.looked_up[r] if layer == 0 else network.biases[layer]
            # One slice per gate, read-only, and the outputs apart: the loop vectorises.
            gi, gf = g[r, :units], g[r, units : 2 * units]
            gc, go = g[r, 2 * units : 3 * units], g[r, 3 * units :]
            ei, ef = extra[:units], extra[units : 2 * units]
            ec, eo = extra[2 * units : 3 * units], extra[3 * units :]
            c, h = cell[r], x[r, own:]
            for j in range(units):
                new_cell = fast_sigmoid(gf[j] + ef[j]) * c[j] + fast_sigmoid(
                    gi[j] + ei[j]
                ) * fast_tanh(gc[j] + ec[j])
                c[j] = new_cell
                h[j] = fast_sigmoid(go[j] + eo[j]) * fast_tanh(new_cell)
            if layer + 1 < layers:
                inputs[layer + 1][r, :units] = h
            else:
                state.top[r] = h


@compiled
def pick(
    logits: np.ndarray,
    bias: np.ndarray,
    allowed: np.ndarray,
    uniform: float,
    top_k: int,
    top_p: float,
    weights: np.ndarray,
    untempered: int,
    temperature: float,
) -> int:
    """One symbol by the inverse CDF of ``uniform``, among the ``allowed`` symbols.

    ``logits + bias`` are the output layer's, already divided by the
    temperature. ``top_k`` (0: off) keeps the k highest scores (ties kept),
    ``top_p`` (1: off) the likeliest symbols whose mass reaches it. Symbol
    ``untempered`` (-1: none) keeps the probability it has at temperature 1
    (the rest share what is left, as tempered): see `sample_rows`.
    """
    symbols = logits.shape[0]
    for j in range(symbols):
        weights[j] = logits[j] + bias[j]
    peak = _F(-np.inf)  # float32 throughout: a float64 would widen the loop below
    for j in range(symbols):
        if allowed[j] and weights[j] > peak:
            peak = weights[j]
    floor = _F(-np.inf)
    if 0 < top_k < symbols:
        ranked = np.sort(weights[allowed])
        if top_k < ranked.size:
            floor = ranked[ranked.size - top_k]
    for j in range(symbols):
        keep = allowed[j] and weights[j] >= floor
        weights[j] = fast_exp(weights[j] - peak) if keep else _F(0.0)
    if top_p < 1.0:
        order = np.argsort(-weights, kind="mergesort")
        mass = top_p * np.float64(weights.sum())
        before = 0.0
        for j in order:
            if before >= mass:
                weights[j] = 0.0
            else:
                before += weights[j]
    if untempered >= 0 and weights[untempered] > 0.0 and temperature != 1.0:
        raw_peak = peak * temperature
        spread = 0.0
        for j in range(symbols):
            if allowed[j]:
                spread += math.exp((logits[j] + bias[j]) * temperature - raw_peak)
        own = math.exp((logits[untempered] + bias[untempered]) * temperature - raw_peak)
        chance = own / spread
        others = 0.0
        for j in range(symbols):
            if j != untempered:
                others += weights[j]
        if chance < 1.0 and others > 0.0:
            weights[untempered] = _F(others * chance / (1.0 - chance))
    total = 0.0
    for j in range(symbols):
        total += weights[j]
    threshold = uniform * total
    cumulative = 0.0
    last = 0
    for j in range(symbols):
        if weights[j] > 0.0:
            cumulative += weights[j]
            last = j
            if cumulative > threshold:
                return j
    return last  # rounding left the threshold at the very top


@compiled
def sample_rows(
    song: np.ndarray,
    width: int,
    primer_lengths: np.ndarray,
    last: np.ndarray,
    previous: np.ndarray,
    lookbacks: np.ndarray,
    earlier: np.ndarray,
    context: np.ndarray,
    end_allowed: np.ndarray,
    marker_room: np.ndarray,
    uniforms: np.ndarray,
    constant: np.ndarray,
    fixed_rows: np.ndarray,
    state: State,
    network: Network,
    top_k: int,
    top_p: float,
    hold: int,
    end: int,
    marker: int,
    untempered: bool,
    temperature: float,
) -> np.ndarray:
    """Sample every row to its end; returns each row's new symbols (delimiter excluded).

    ``song`` is the flat history (row ``r`` at ``r * width``) holding the
    primers; sampled symbols are written after them. At song step ``t`` each
    live row is fed the symbol at ``previous[t, r]`` (a flat index), its
    lookbacks ``lookbacks[:, t, r]`` and the repeat tests at ``earlier[:, t,
    r]``; a row past its primer then draws its ``k``-th new symbol with
    ``uniforms[k, r]``. ``end_allowed[t, r]``: the delimiter may be drawn.
    ``constant``: each row's meter, mode, form part and bias rows, row
    ``r`` reading ``constant[fixed_rows[t, r]]``; ``network``'s output layer
    already divided by ``temperature``.

    ``marker``: the triplet marker's index (-1: the vocabulary has none). It
    may be drawn where its group fits (``marker_room[t, r]``: the group's 4
    steps inside the bar and the melody) and not among the three slots of the
    group before it: a group over a bar line has no written form (the ABC
    and MusicXML writers split it into notes of no length, which music21
    cannot read). ``untempered``: it is drawn at its temperature-1 chance: a
    temperature below 1 sharpens the choice of *pitch*, and took the rare,
    regular triplet with it (irish at 0.8: triplets in 0.39x the corpus's bars).
    """
    rows = song.shape[0] // width
    symbols = network.dense_bias.shape[0]
    logits = np.empty((rows, symbols), np.float32)
    lengths = last - primer_lengths
    alive = np.ones(rows, np.bool_)
    allowed = np.ones(symbols, np.bool_)
    weights = np.empty(symbols, np.float32)
    live = computed = rows
    for t in range(previous.shape[0]):
        for r in range(rows):
            if not alive[r]:
                continue
            symbol = song[previous[t, r]]
            row, fixed = state.looked_up[r], constant[fixed_rows[t, r]]
            played = network.symbol_table[symbol]
            if not network.metrical:
                for j in range(row.shape[0]):
                    row[j] = fixed[j] + played[j]
                continue
            pair = song[lookbacks[0, t, r]] * symbols + song[lookbacks[1, t, r]]
            repeats = int(symbol == song[earlier[0, t, r]])
            repeats += 2 * int(symbol == song[earlier[1, t, r]])
            back = network.pair_table[pair]
            where = network.context_table[context[t, r] + repeats]
            for j in range(row.shape[0]):
                row[j] = fixed[j] + played[j] + back[j] + where[j]
        # Rows past the last live one are not stepped: with rows ordered longest first
        # (`MelodyGenerator._sample_part`), those are the melodies already done.
        while not alive[computed - 1]:
            computed -= 1
        advance_layers(state, network, computed)
        matmul(state.top, network.dense_kernel, logits, computed)
        for r in range(rows):
            if not alive[r] or t < primer_lengths[r]:
                continue
            k = t - primer_lengths[r]
            allowed[end] = end_allowed[t, r]
            allowed[hold] = t > 0  # nothing to hold at the start of a song
            if marker >= 0:
                in_slots = False
                for back in range(1, TRIPLET_STEPS):
                    if t - back >= 0 and song[r * width + t - back] == marker:
                        in_slots = True
                allowed[marker] = marker_room[t, r] and not in_slots
            chosen = pick(
                logits[r],
                network.dense_bias,
                allowed,
                uniforms[k, r],
                top_k,
                top_p,
                weights,
                marker if untempered else -1,
                temperature,
            )
            song[r * width + t] = chosen
            if chosen == end:
                lengths[r] = k
            if chosen == end or t + 1 >= last[r]:
                alive[r] = False
                live -= 1
        if live == 0:
            break
    return lengths
