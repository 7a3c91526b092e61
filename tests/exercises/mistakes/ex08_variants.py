"""Wrong answers to ex08_variants, and what the feedback must say about each (see __init__)."""

MUTATIONS = [
    ('gru-update-swapped', 'gru_cell_forward', 'return (1 - z_t) * n_t + z_t * h_prev', 'return z_t * n_t + (1 - z_t) * h_prev', 'z_t and 1 - z_t are swapped'),
    ('gru-reset-inside', 'gru_cell_forward', 'r_t * (h_prev @ p["W_hn"].T + p["b_hn"])', '(r_t * h_prev) @ p["W_hn"].T + p["b_hn"]', 'the reset gate is applied before W_hn'),
    ('gru-bias-outside', 'gru_cell_forward', 'r_t * (h_prev @ p["W_hn"].T + p["b_hn"])', 'r_t * (h_prev @ p["W_hn"].T) + p["b_hn"]', 'b_hn is outside the reset gate'),
    ('gru-xh-order', 'gru_cell_forward', '[h_prev, x_t]', '[x_t, h_prev]', '[x_t, h_prev] instead of [h_prev, x_t]'),
    ('peephole-o-c-prev', 'peephole_cell_forward', 'p["p_o"] * c_t', 'p["p_o"] * c_prev', 'the output gate peeks at C_{t-1}'),
    ('peephole-missing-f', 'peephole_cell_forward', ' + p["p_f"] * c_prev', '', 'a peephole term is missing'),
    ('peephole-c-not-tanh-c', 'peephole_cell_forward', 'h_t = o_t * np.tanh(c_t)', 'h_t = o_t * c_t', 'c_t where tanh(c_t) belongs'),
    ('gru-w-hn-untransposed', 'gru_cell_forward', 'h_prev @ p["W_hn"].T', 'h_prev @ p["W_hn"]', 'W_hn used untransposed'),
    ('gru-reset-w-z', 'gru_cell_forward', 'sigmoid(hx @ p["W_r"].T', 'sigmoid(hx @ p["W_z"].T', 'the reset gate is computed with W_z'),
    ('peephole-on-h', 'peephole_cell_forward', 'p["p_f"] * c_prev + p["b_f"])\n    i_t = sigmoid(hx @ p["W_i"].T + p["p_i"] * c_prev', 'p["p_f"] * h_prev + p["b_f"])\n    i_t = sigmoid(hx @ p["W_i"].T + p["p_i"] * h_prev', 'a peephole on h instead of C'),
]  # fmt: skip

HANDWRITTEN = [
    ('hw-gru-dot-w-hn', 'gru_cell_forward', '''
def gru_cell_forward(x_t, h_prev, params):
    hx = np.hstack([h_prev, x_t])
    r = sigmoid(np.dot(hx, params["W_r"].T) + params["b_r"])
    z = sigmoid(np.dot(hx, params["W_z"].T) + params["b_z"])
    hn = np.dot(h_prev, params["W_hn"]) + params["b_hn"]
    n = np.tanh(np.dot(x_t, params["W_xn"].T) + params["b_xn"] + r * hn)
    return (1 - z) * n + z * h_prev
''', 'W_hn used untransposed'),
    ('hw-gru-copy-paste-w-z', 'gru_cell_forward', '''
def gru_cell_forward(x_t, h_prev, params):
    concat = np.concatenate((h_prev, x_t), axis=1)
    reset = sigmoid(concat @ params["W_z"].T + params["b_r"])
    update = sigmoid(concat @ params["W_z"].T + params["b_z"])
    new = np.tanh(x_t @ params["W_xn"].T + params["b_xn"]
                  + reset * (h_prev @ params["W_hn"].T + params["b_hn"]))
    return (1 - update) * new + update * h_prev
''', 'the reset gate is computed with W_z'),
    ('hw-gru-keeps-new', 'gru_cell_forward', '''
def gru_cell_forward(x_t, h_prev, params):
    H = h_prev.shape[1]
    W_r, W_z = params["W_r"], params["W_z"]
    r = sigmoid(h_prev @ W_r[:, :H].T + x_t @ W_r[:, H:].T + params["b_r"])
    z = sigmoid(h_prev @ W_z[:, :H].T + x_t @ W_z[:, H:].T + params["b_z"])
    cand = np.tanh(x_t @ params["W_xn"].T + params["b_xn"] + r * (h_prev @ params["W_hn"].T + params["b_hn"]))
    return z * cand + (1 - z) * h_prev
''', 'z_t and 1 - z_t are swapped'),
    ('hw-gru-reset-first', 'gru_cell_forward', '''
def gru_cell_forward(x_t, h_prev, params):
    P = params
    hx = np.hstack((h_prev, x_t))
    r_t = sigmoid(hx.dot(P["W_r"].T) + P["b_r"])
    z_t = sigmoid(hx.dot(P["W_z"].T) + P["b_z"])
    gated = r_t * h_prev
    n_t = np.tanh(x_t.dot(P["W_xn"].T) + P["b_xn"] + gated.dot(P["W_hn"].T) + P["b_hn"])
    return (1 - z_t) * n_t + z_t * h_prev
''', 'the reset gate is applied before W_hn'),
    ('hw-gru-b-hn-outside', 'gru_cell_forward', '''
def gru_cell_forward(x_t, h_prev, params):
    hx = np.concatenate([h_prev, x_t], axis=1)
    r = sigmoid(hx @ params["W_r"].T + params["b_r"])
    z = sigmoid(hx @ params["W_z"].T + params["b_z"])
    n = np.tanh(x_t @ params["W_xn"].T + params["b_xn"] + params["b_hn"] + r * (h_prev @ params["W_hn"].T))
    return (1 - z) * n + z * h_prev
''', 'b_hn is outside the reset gate'),
    ('hw-gru-x-first', 'gru_cell_forward', '''
def gru_cell_forward(x_t, h_prev, params):
    xh = np.hstack([x_t, h_prev])
    r = sigmoid(xh @ params["W_r"].T + params["b_r"])
    z = sigmoid(xh @ params["W_z"].T + params["b_z"])
    n = np.tanh(x_t @ params["W_xn"].T + params["b_xn"] + r * (h_prev @ params["W_hn"].T + params["b_hn"]))
    return (1 - z) * n + z * h_prev
''', '[x_t, h_prev] instead of [h_prev, x_t]'),
    ('hw-peephole-on-h', 'peephole_cell_forward', '''
def peephole_cell_forward(x_t, h_prev, c_prev, params):
    W = params
    z = np.concatenate((h_prev, x_t), axis=1)
    f = sigmoid(z @ W["W_f"].T + W["b_f"] + W["p_f"] * h_prev)
    i = sigmoid(z @ W["W_i"].T + W["b_i"] + W["p_i"] * h_prev)
    g = np.tanh(z @ W["W_c"].T + W["b_c"])
    c = f * c_prev + i * g
    o = sigmoid(z @ W["W_o"].T + W["b_o"] + W["p_o"] * h_prev)
    return o * np.tanh(c), c
''', 'a peephole on h instead of C'),
    ('hw-peephole-o-old-c', 'peephole_cell_forward', '''
def peephole_cell_forward(x_t, h_prev, c_prev, params):
    hx = np.hstack([h_prev, x_t])
    gates = {}
    for g in "fio":
        gates[g] = sigmoid(hx @ params["W_" + g].T + params["p_" + g] * c_prev + params["b_" + g])
    c_t = gates["f"] * c_prev + gates["i"] * np.tanh(hx @ params["W_c"].T + params["b_c"])
    h_t = gates["o"] * np.tanh(c_t)
    return h_t, c_t
''', 'the output gate peeks at C_{t-1}'),
    ('hw-peephole-no-p-i', 'peephole_cell_forward', '''
def peephole_cell_forward(x_t, h_prev, c_prev, params):
    z = np.concatenate([h_prev, x_t], axis=1)
    f_t = sigmoid(z @ params["W_f"].T + params["b_f"] + params["p_f"] * c_prev)
    i_t = sigmoid(z @ params["W_i"].T + params["b_i"])
    c_hat = np.tanh(z @ params["W_c"].T + params["b_c"])
    c_t = f_t * c_prev + i_t * c_hat
    o_t = sigmoid(z @ params["W_o"].T + params["b_o"] + params["p_o"] * c_t)
    return o_t * np.tanh(c_t), c_t
''', 'a peephole term is missing'),
    ('hw-peephole-no-tanh-c', 'peephole_cell_forward', '''
def peephole_cell_forward(x_t, h_prev, c_prev, params):
    H = h_prev.shape[1]
    def gate(name, peek):
        W = params["W_" + name]
        return sigmoid(h_prev @ W[:, :H].T + x_t @ W[:, H:].T + params["b_" + name] + params["p_" + name] * peek)
    f, i = gate("f", c_prev), gate("i", c_prev)
    W_c = params["W_c"]
    c_t = f * c_prev + i * np.tanh(h_prev @ W_c[:, :H].T + x_t @ W_c[:, H:].T + params["b_c"])
    o = gate("o", c_t)
    return o * c_t, c_t
''', 'c_t where tanh(c_t) belongs'),
]  # fmt: skip
