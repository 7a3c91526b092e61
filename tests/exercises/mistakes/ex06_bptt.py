"""Wrong answers to ex06_bptt, and what the feedback must say about each (see __init__)."""

MUTATIONS = [
    # task 1: through h_t = o_t * tanh(C_t)
    ('do-from-c', 'hidden_state_backward', 'do_t = dh_t * tanh_c', 'do_t = dh_t * cache["c_t"]', 'do_t from dh_t * C_t'),
    ('dc-without-o', 'hidden_state_backward', 'dh_t * o_t * (1 - tanh_c**2)', 'dh_t * (1 - tanh_c**2)', 'dC_t without o_t'),
    ('dc-next-dropped', 'hidden_state_backward', 'dc_t = dc_next + dh_t', 'dc_t = dh_t', 'the two paths into C_t are not summed'),
    ('no-dh-into-dc', 'hidden_state_backward', 'dc_t = dc_next + dh_t * o_t * (1 - tanh_c**2)', 'dc_t = dc_next', 'the path through h_t into C_t is missing'),
    ('tanh-derivative-of-c', 'hidden_state_backward', '(1 - tanh_c**2)', '(1 - cache["c_t"] ** 2)', 'the derivative of tanh(C_t) is 1 - tanh(C_t)², not 1 - C_t²'),
    # task 2: through C_t = f_t * C_{t-1} + i_t * C̃_t
    ('df-with-c-t', 'cell_update_backward', 'return dc_t * c_prev,', 'return dc_t * cache["c_t"],', 'df_t computed with C_t instead of C_{t-1}'),
    ('dc-prev-missing-f', 'cell_update_backward', 'dc_t * c_prev, dc_t * f_t,', 'dc_t * c_prev, dc_t,', 'dC_{t-1} = dC_t * f_t'),
    # task 3: through the nonlinearities
    ('sigmoid-of-output', 'gates_backward', '"f": df_t * f_t * (1 - f_t)', '"f": df_t * sigmoid(f_t) * (1 - sigmoid(f_t))', "σ′ applied to the gate's output"),
    ('sigmoid-derivative', 'gates_backward', '"o": do_t * o_t * (1 - o_t)', '"o": do_t * o_t', 'the derivative of a sigmoid gate s is s * (1 - s) (in the output gate)'),
    ('candidate-tanh-c', 'gates_backward', '"c": dc_tilde * (1 - c_tilde**2)', '"c": dc_tilde * (1 - cache["tanh_c"] ** 2)', "the candidate's derivative taken with tanh(C_t)"),
    # task 4: through the weights
    ('dz-overwritten', 'affine_backward', 'dz += da_gate @', 'dz = da_gate @', '`dz =` instead of `dz +=`'),
    ('db-mean', 'affine_backward', 'da_gate.sum(axis=0)', 'da_gate.mean(axis=0)', 'db as a batch mean'),
    ('transposed-dW', 'affine_backward', 'da_gate.T @ z', 'z.T @ da_gate', 'a transposed weight'),
    # task 6: through time
    ('recurrent-grad-dropped', 'lstm_backward', 'dhs[:, t] + dh_next, dc_next, caches[t]', 'dhs[:, t], dc_next, caches[t]', 'the gradient coming back from step t + 1 is dropped'),
    ('params-not-summed', 'lstm_backward', 'dparams[key] += grads[key]', 'dparams[key] = grads[key]', 'the parameter gradients are overwritten'),
    ('forward-in-time', 'lstm_backward', 'for t in reversed(range(T)):', 'for t in range(T):', 'the loop runs forward in time'),
    ('last-step-only', 'lstm_backward', 'dhs[:, t] + dh_next, dc_next', '(dhs[:, t] if t == T - 1 else 0) + dh_next, dc_next', 'the loss is taken at the last step only'),
    # task 7: the gradient check
    ('forward-difference', 'numerical_gradient', """x[idx] = old - eps
        f_minus = f(x)
        x[idx] = old  # put it back
        grad[idx] = (f_plus - f_minus) / (2 * eps)""", """x[idx] = old  # put it back
        grad[idx] = (f_plus - f(x)) / eps""", 'a one-sided difference'),
    ('x-not-restored', 'numerical_gradient', """        x[idx] = old  # put it back
""", '', 'x is not restored'),
]  # fmt: skip

IN_PLACE = [
    ('in-place-dc-next', 'hidden_state_backward', """
def hidden_state_backward(dh_t, dc_next, cache):
    o, tc = cache["o_t"], cache["tanh_c"]
    dc_next += dh_t * o * (1 - tc**2)  # add the path through h_t
    return dh_t * tc, dc_next
""", 'Your hidden_state_backward changed its argument dc_next in place'),
]  # fmt: skip

# A wrong stage: the whole step's and the sequence's tests name that stage, not a mistake.
CAUSES = [
    ('do-from-c', 'Your hidden_state_backward is wrong'),
    ('df-with-c-t', 'Your cell_update_backward is wrong'),
    ('sigmoid-of-output', 'Your gates_backward is wrong'),
    ('db-mean', 'Your affine_backward is wrong'),
]  # fmt: skip

# Written by hand, the way students write backward passes; one mistake each.
HANDWRITTEN = [
    ('hw-do-from-cell', 'hidden_state_backward', """
def hidden_state_backward(dh_t, dc_next, cache):
    c = cache["c_t"]
    o = cache["o_t"]
    do = dh_t * c
    dc = dc_next + dh_t * o * (1 - np.tanh(c) ** 2)
    return do, dc
""", 'do_t from dh_t * C_t'),
    ('hw-dc-forgets-o', 'hidden_state_backward', """
def hidden_state_backward(dh_t, dc_next, cache):
    t = cache["tanh_c"]
    d_o = dh_t * t
    d_c = dh_t * (1.0 - t * t)
    d_c += dc_next
    return d_o, d_c
""", 'dC_t without o_t'),
    ('hw-df-uses-new-cell', 'cell_update_backward', """
def cell_update_backward(dc_t, cache):
    f, i, g = cache["f_t"], cache["i_t"], cache["c_tilde"]
    c = cache["c_t"]
    df = dc_t * c
    dc_prev = dc_t * f
    di = dc_t * g
    dg = dc_t * i
    return df, dc_prev, di, dg
""", 'df_t computed with C_t instead of C_{t-1}'),
    ('hw-dsigmoid-helper', 'gates_backward', """
def dsigmoid(y):
    s = 1 / (1 + np.exp(-y))
    return s * (1 - s)

def gates_backward(df_t, di_t, dc_tilde, do_t, cache):
    da = {}
    for name, grad, out in [("f", df_t, cache["f_t"]), ("i", di_t, cache["i_t"]),
                            ("o", do_t, cache["o_t"])]:
        da[name] = grad * dsigmoid(out)
    da["c"] = dc_tilde * (1 - cache["c_tilde"] ** 2)
    return da
""", "σ′ applied to the gate's output"),
    ('hw-candidate-slope-from-cell', 'gates_backward', """
def gates_backward(df_t, di_t, dc_tilde, do_t, cache):
    f, i, o = cache["f_t"], cache["i_t"], cache["o_t"]
    da_f = df_t * f * (1 - f)
    da_i = di_t * i * (1 - i)
    da_c = dc_tilde * (1 - np.tanh(cache["c_t"]) ** 2)
    da_o = do_t * o * (1 - o)
    return {"f": da_f, "i": da_i, "c": da_c, "o": da_o}
""", "the candidate's derivative taken with tanh(C_t)"),
    ('hw-dz-assigned-in-loop', 'affine_backward', """
def affine_backward(da, cache):
    z = cache["z"]
    params = cache["params"]
    H = da["f"].shape[1]
    grads = {}
    for g in ["f", "i", "c", "o"]:
        W = params["W_" + g]
        grads["W_" + g] = np.dot(da[g].T, z)
        grads["b_" + g] = np.sum(da[g], axis=0)
        dz = np.dot(da[g], W)
    return dz[:, :H], dz[:, H:], grads
""", '`dz =` instead of `dz +=`'),
    ('hw-db-averaged', 'affine_backward', """
def affine_backward(da, cache):
    z, p = cache["z"], cache["params"]
    H = da["f"].shape[1]
    dparams = {}
    dh_prev = 0
    dx_t = 0
    for g in "fico":
        dparams["W_" + g] = da[g].T @ z
        dparams["b_" + g] = np.mean(da[g], axis=0)
        dh_prev = dh_prev + da[g] @ p["W_" + g][:, :H]
        dx_t = dx_t + da[g] @ p["W_" + g][:, H:]
    return dh_prev, dx_t, dparams
""", 'db as a batch mean'),
    ('hw-inline-cell-no-carousel-sum', 'lstm_cell_backward', """
def lstm_cell_backward(dh_t, dc_next, cache):
    z, p = cache["z"], cache["params"]
    f, i, g, o = cache["f_t"], cache["i_t"], cache["c_tilde"], cache["o_t"]
    tc = cache["tanh_c"]
    H = f.shape[1]
    do = dh_t * tc
    dc = dh_t * o * (1 - tc**2)
    dc_prev = dc * f
    da = {"f": dc * cache["c_prev"] * f * (1 - f), "i": dc * g * i * (1 - i),
          "c": dc * i * (1 - g**2), "o": do * o * (1 - o)}
    grads = {}
    dz = np.zeros_like(z)
    for k in "fico":
        grads["W_" + k] = da[k].T @ z
        grads["b_" + k] = da[k].sum(axis=0)
        dz += da[k] @ p["W_" + k]
    return dz[:, H:], dz[:, :H], dc_prev, grads
""", 'the two paths into C_t are not summed'),
    ('hw-inline-cell-df-new-cell', 'lstm_cell_backward', """
def lstm_cell_backward(dh_t, dc_next, cache):
    p = cache["params"]
    z = cache["z"]
    H = dh_t.shape[1]
    dC = dc_next + dh_t * cache["o_t"] * (1 - cache["tanh_c"] ** 2)
    grads_out = {
        "f": dC * cache["c_t"],
        "i": dC * cache["c_tilde"],
        "c": dC * cache["i_t"],
        "o": dh_t * cache["tanh_c"],
    }
    dparams = {}
    dz = 0
    for gate in ["f", "i", "c", "o"]:
        y = cache["c_tilde"] if gate == "c" else cache[gate + "_t"]
        slope = 1 - y**2 if gate == "c" else y * (1 - y)
        da = grads_out[gate] * slope
        dparams["W_" + gate] = da.T @ z
        dparams["b_" + gate] = da.sum(0)
        dz = dz + da @ p["W_" + gate]
    return dz[:, H:], dz[:, :H], dC * cache["f_t"], dparams
""", 'df_t computed with C_t instead of C_{t-1}'),
    ('hw-loop-forward', 'lstm_backward', """
def lstm_backward(dhs, caches):
    N, T, H = dhs.shape
    grads = {k: np.zeros_like(v) for k, v in caches[0]["params"].items()}
    dxs = []
    dh = np.zeros((N, H))
    dc = np.zeros((N, H))
    for t in range(T):
        dx_t, dh, dc, g = lstm_cell_backward(dhs[:, t] + dh, dc, caches[t])
        dxs.append(dx_t)
        for k in grads:
            grads[k] += g[k]
    return np.stack(dxs, axis=1), dh, dc, grads
""", 'the loop runs forward in time'),
    ('hw-last-step-loss', 'lstm_backward', """
def lstm_backward(dhs, caches):
    N, T, H = dhs.shape
    D = caches[0]["z"].shape[1] - H
    dx = np.zeros((N, T, D))
    total = {k: 0 for k in caches[0]["params"]}
    dh = dhs[:, -1]
    dc = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        dx[:, t], dh, dc, g = lstm_cell_backward(dh, dc, caches[t])
        for k in total:
            total[k] = total[k] + g[k]
    return dx, dh, dc, total
""", 'the loss is taken at the last step only'),
    ('hw-grads-overwritten', 'lstm_backward', """
def lstm_backward(dhs, caches):
    N, T, H = dhs.shape
    dx = []
    dh_next = np.zeros((N, H))
    dc_next = np.zeros((N, H))
    for t in reversed(range(T)):
        dx_t, dh_next, dc_next, dparams = lstm_cell_backward(dhs[:, t] + dh_next, dc_next, caches[t])
        dx.insert(0, dx_t)
    return np.stack(dx, axis=1), dh_next, dc_next, dparams
""", 'the parameter gradients are overwritten'),
    ('hw-one-sided-nditer', 'numerical_gradient', """
def numerical_gradient(f, x, eps=1e-5):
    g = np.zeros(x.shape)
    base = f(x)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        i = it.multi_index
        keep = x[i]
        x[i] = keep + eps
        g[i] = (f(x) - base) / eps
        x[i] = keep
        it.iternext()
    return g
""", 'a one-sided difference'),
]  # fmt: skip
