"""The LSTM's fast path: the same maths as ``lstm``, arranged for speed.

Three changes, none of which alters a single equation:
1. The four gates are stacked into one weight (4H, H + D), in the order of
   ``specs.GATE_ORDER["lstm"]`` (PyTorch's), so a step needs one matrix product instead of four.
2. The input part of every step, W_x · x_t, is computed for all T steps in one matrix product
   before the loop: only the recurrent part W_h · h_{t-1} has to wait for the previous step.
3. The arrays are time-major (T, N, ·) so each step reads contiguous memory, and the pointwise
   work runs in place in buffers allocated once: a fresh temporary per operation costs more
   than the arithmetic. σ(a) = (1 + tanh(a / 2)) / 2: the σ gates' rows of the weights are
   pre-scaled by 1/2 (exact in floating point), so one tanh call activates all four gates.
"""

from __future__ import annotations

import threading

import numpy as np

from lstm_ref._checks import Cache, open_cache
from lstm_ref.np_ref._common import check_sequence
from lstm_ref.params import stack_gates, unstack_gates
from lstm_ref.specs import gate_rows

_workspaces = threading.local()


def workspace(shape: tuple[int, ...], dtype) -> np.ndarray:
    """A scratch array reused from call to call (one per thread and dtype, grown when needed).

    A fresh 100 MB array costs a page fault per 4 KB the first time it is written, which took
    longer than the arithmetic in the backward pass; PyTorch's caching allocator avoids the same
    cost. Only for arrays that never leave the function that asks for them.
    """
    size = int(np.prod(shape))
    key = np.dtype(dtype).str
    buffer = getattr(_workspaces, key, None)
    if buffer is None or buffer.size < size:
        buffer = np.empty(size, dtype=dtype)
        setattr(_workspaces, key, buffer)
    return buffer[:size].reshape(shape)


def lstm_forward_fast(x, params, h0=None, c0=None):
    """Same inputs and outputs as ``lstm_forward``; the cache is for ``lstm_backward_fast``."""
    # no copies here: every array the cache keeps is new (x_tm, W) or a buffer (hs, cs)
    check, x, params, (h0, c0) = check_sequence("lstm", x, params, copy=False, h0=h0, c0=c0)
    N, T, D = x.shape
    H = h0.shape[1]
    W, b = stack_gates(params)
    rows = gate_rows("lstm", H)
    half = np.full((4 * H, 1), 0.5, dtype=x.dtype)  # σ(a) = (1 + tanh(a / 2)) / 2 for i, f, o
    half[rows["c"]] = 1  # the candidate is tanh(a) itself
    W_h = np.ascontiguousarray((W[:, :H] * half).T)  # (H, 4H)
    W_x = W[:, H:] * half  # (4H, D)
    x_tm = x.transpose(1, 0, 2).copy()  # (T, N, D); a copy even when N or T is 1
    # The input projection of all steps at once: (T * N, D) @ (D, 4H) -> (T, N, 4H)
    gates = (x_tm.reshape(T * N, D) @ W_x.T + b * half[:, 0]).reshape(T, N, 4 * H)
    hs = np.empty((T + 1, N, H), dtype=x.dtype)  # hs[t + 1] = h_t, hs[0] = h0
    cs = np.empty((T + 1, N, H), dtype=x.dtype)
    tanh_cs = np.empty((T, N, H), dtype=x.dtype)
    hs[0], cs[0] = h0, c0
    recurrent = np.empty((N, 4 * H), dtype=x.dtype)
    written = np.empty((N, H), dtype=x.dtype)
    for t in range(T):
        a = gates[t]  # (N, 4H), becomes the activated gates in place
        a += np.matmul(hs[t], W_h, out=recurrent)  # (N, H) @ (H, 4H) -> (N, 4H)
        np.tanh(a, out=a)
        i_t, f_t, g_t, o_t = (a[:, rows[gate]] for gate in ("i", "f", "c", "o"))
        for gate in (i_t, f_t, o_t):  # tanh(a / 2) -> σ(a)
            gate *= 0.5
            gate += 0.5
        c_t = cs[t + 1]
        np.multiply(f_t, cs[t], out=c_t)
        c_t += np.multiply(i_t, g_t, out=written)  # C_t = f_t * C_{t-1} + i_t * C̃_t
        np.tanh(c_t, out=tanh_cs[t])
        np.multiply(o_t, tanh_cs[t], out=hs[t + 1])  # h_t = o_t * tanh(C_t)
    out = hs[1:].transpose(1, 0, 2).copy()  # (N, T, H)
    cache = Cache("lstm_forward_fast", (check, x_tm, W, gates, hs, cs, tanh_cs))
    return out, (hs[T].copy(), cs[T].copy()), cache


def lstm_backward_fast(dhs, cache, dh_T=None, dc_T=None):
    """Same inputs and outputs as ``lstm_backward``, for the cache of ``lstm_forward_fast``."""
    cache = open_cache(cache, "lstm_forward_fast", "lstm_backward_fast")
    check, x_tm, W, gates, hs, cs, tanh_cs = cache
    dhs, dh, dc = check.for_backward().upstream(True, dhs=dhs, dh_T=dh_T, dc_T=dc_T)
    T, N, D = x_tm.shape
    H = hs.shape[2]
    rows = gate_rows("lstm", H)
    W_h = np.ascontiguousarray(W[:, :H])  # (4H, H); contiguous: BLAS is faster than on a view
    dhs_tm = dhs.transpose(1, 0, 2)  # (T, N, H)
    da = workspace((T, N, 4 * H), x_tm.dtype)  # gradients of the gate pre-activations
    dh, dc = dh.copy(), dc.copy()  # carried backwards through time, updated in place
    tmp = np.empty_like(dh)
    for t in reversed(range(T)):
        a = gates[t]
        i_t, f_t, g_t, o_t = (a[:, rows[gate]] for gate in ("i", "f", "c", "o"))
        d = da[t]
        da_i, da_f, da_g, da_o = (d[:, rows[gate]] for gate in ("i", "f", "c", "o"))
        tanh_c = tanh_cs[t]
        dh += dhs_tm[t]  # from the output at step t and from step t + 1
        # dC_t += dh_t * o_t * (1 - tanh²(C_t))
        np.multiply(tanh_c, tanh_c, out=tmp)
        np.subtract(1, tmp, out=tmp)
        tmp *= o_t
        tmp *= dh
        dc += tmp
        # da_o = dh_t * tanh(C_t) * o_t (1 - o_t)
        np.subtract(1, o_t, out=tmp)
        tmp *= o_t
        np.multiply(dh, tanh_c, out=da_o)
        da_o *= tmp
        # da_i = dC_t * C̃_t * i_t (1 - i_t)
        np.subtract(1, i_t, out=tmp)
        tmp *= i_t
        tmp *= g_t
        np.multiply(dc, tmp, out=da_i)
        # da_f = dC_t * C_{t-1} * f_t (1 - f_t)
        np.subtract(1, f_t, out=tmp)
        tmp *= f_t
        tmp *= cs[t]
        np.multiply(dc, tmp, out=da_f)
        # da_g = dC_t * i_t * (1 - C̃_t²)
        np.multiply(g_t, g_t, out=tmp)
        np.subtract(1, tmp, out=tmp)
        tmp *= i_t
        np.multiply(dc, tmp, out=da_g)
        dc *= f_t  # dC_{t-1} = dC_t * f_t
        np.matmul(d, W_h, out=dh)  # dh_{t-1}: (N, 4H) @ (4H, H) -> (N, H)
    da2 = da.reshape(T * N, 4 * H)
    dW = np.empty_like(W)
    dW[:, :H] = da2.T @ hs[:T].reshape(T * N, H)  # recurrent part, all steps in one product
    dW[:, H:] = da2.T @ x_tm.reshape(T * N, D)  # input part, all steps in one product
    dx = (da2 @ W[:, H:]).reshape(T, N, D).transpose(1, 0, 2).copy()  # (N, T, D)
    return dx, dh, dc, unstack_gates(dW, da2.sum(axis=0))
