"""Wrong answers to ex02_lstm_cell, and what the feedback must say about each (see __init__)."""

MUTATIONS = [
    ('xh-order', 'lstm_cell_forward', '[h_prev, x_t]', '[x_t, h_prev]', '[x_t, h_prev] instead of [h_prev, x_t]'),
    ('sigmoid-candidate', 'lstm_cell_forward', 'c_tilde = np.tanh(', 'c_tilde = sigmoid(', 'a sigmoid where tanh belongs'),
    ('c-not-tanh-c', 'lstm_cell_forward', 'h_t = o_t * np.tanh(c_t)', 'h_t = o_t * c_t', 'c_t where tanh(c_t) belongs'),
    ('no-forget-gate', 'lstm_cell_forward', 'c_t = f_t * c_prev + i_t * c_tilde', 'c_t = c_prev + i_t * c_tilde', 'the forget gate is missing'),
    ('no-input-gate', 'lstm_cell_forward', 'c_t = f_t * c_prev + i_t * c_tilde', 'c_t = f_t * c_prev + c_tilde', 'the input gate is missing'),
    ('tanh-c-prev', 'lstm_cell_forward', 'h_t = o_t * np.tanh(c_t)', 'h_t = o_t * np.tanh(c_prev)', 'tanh(c_prev) where tanh(c_t) belongs'),
    ('input-gate-b_f', 'lstm_cell_forward', 'p["W_i"].T + p["b_i"]', 'p["W_i"].T + p["b_f"]', "a gate with another gate's bias"),
    ('stack-order', 'stack_params', 'params["W_i"], params["W_f"]', 'params["W_f"], params["W_i"]', 'gates in the wrong order'),
    ('split-order', 'lstm_cell_forward_fast', 'a_i, a_f, a_g, a_o = np.split', 'a_f, a_i, a_g, a_o = np.split', 'gates in the wrong order'),
]  # fmt: skip

REWRITES = [
    ('own-swapped-outputs', 'lstm_cell_forward', """
def lstm_cell_forward(x_t, h_prev, c_prev, params):
    z = np.hstack([h_prev, x_t])
    gate = {k: z @ params["W_" + k].T + params["b_" + k] for k in "fico"}
    c_t = sigmoid(gate["f"]) * c_prev + sigmoid(gate["i"]) * np.tanh(gate["c"])
    return c_t, sigmoid(gate["o"]) * np.tanh(c_t)
""", 'h_t and c_t are returned in the wrong order'),
    ('own-candidate-from-W_i', 'lstm_cell_forward', """
def lstm_cell_forward(x_t, h_prev, c_prev, params):
    z = np.hstack([h_prev, x_t])
    f = sigmoid(z @ params["W_f"].T + params["b_f"])
    i = sigmoid(z @ params["W_i"].T + params["b_i"])
    g = np.tanh(z @ params["W_i"].T + params["b_i"])
    o = sigmoid(z @ params["W_o"].T + params["b_o"])
    c_t = f * c_prev + i * g
    return o * np.tanh(c_t), c_t
""", 'gates in the wrong order'),
]  # fmt: skip

# Written by hand, the way students write the cell: their own names, np.hstack or np.dot,
# unpacked weights, a loop over the gates; one mistake each.
HANDWRITTEN = [
    ('hw-forgets-f', 'lstm_cell_forward', """
def lstm_cell_forward(x_t, h_prev, c_prev, params):
    hx = np.hstack((h_prev, x_t))
    forget = sigmoid(np.dot(hx, params["W_f"].T) + params["b_f"])
    inp = sigmoid(np.dot(hx, params["W_i"].T) + params["b_i"])
    cand = np.tanh(np.dot(hx, params["W_c"].T) + params["b_c"])
    out = sigmoid(np.dot(hx, params["W_o"].T) + params["b_o"])
    c_new = c_prev + inp * cand
    h_new = out * np.tanh(c_new)
    return h_new, c_new
""", 'the forget gate is missing'),
    ('hw-adds-whole-candidate', 'lstm_cell_forward', """
def lstm_cell_forward(x_t, h_prev, c_prev, params):
    W_f, W_i, W_c, W_o = params["W_f"], params["W_i"], params["W_c"], params["W_o"]
    b_f, b_i, b_c, b_o = params["b_f"], params["b_i"], params["b_c"], params["b_o"]
    concat = np.concatenate((h_prev, x_t), axis=-1)
    ft = sigmoid(concat @ W_f.T + b_f)
    it = sigmoid(concat @ W_i.T + b_i)
    ct_hat = np.tanh(concat @ W_c.T + b_c)
    ot = sigmoid(concat @ W_o.T + b_o)
    ct = ft * c_prev + ct_hat
    return ot * np.tanh(ct), ct
""", 'the input gate is missing'),
    ('hw-shows-old-memory', 'lstm_cell_forward', """
def lstm_cell_forward(x_t, h_prev, c_prev, params):
    v = np.hstack([h_prev, x_t])
    a = {}
    for k in ["f", "i", "c", "o"]:
        a[k] = v @ params["W_" + k].T + params["b_" + k]
    c_t = sigmoid(a["f"]) * c_prev + sigmoid(a["i"]) * np.tanh(a["c"])
    h_t = sigmoid(a["o"]) * np.tanh(c_prev)
    return h_t, c_t
""", 'tanh(c_prev) where tanh(c_t) belongs'),
    ('hw-copy-paste-bias', 'lstm_cell_forward', """
def lstm_cell_forward(x_t, h_prev, c_prev, params):
    z = np.hstack([h_prev, x_t])
    f = sigmoid(z.dot(params["W_f"].T) + params["b_f"])
    i = sigmoid(z.dot(params["W_i"].T) + params["b_f"])
    g = np.tanh(z.dot(params["W_c"].T) + params["b_c"])
    o = sigmoid(z.dot(params["W_o"].T) + params["b_o"])
    c = f * c_prev + i * g
    h = o * np.tanh(c)
    return h, c
""", "a gate with another gate's bias"),
    ('hw-x-first', 'lstm_cell_forward', """
def lstm_cell_forward(x_t, h_prev, c_prev, params):
    xh = np.hstack((x_t, h_prev))
    gates = [xh @ params[w].T + params[b] for w, b in
             [("W_f", "b_f"), ("W_i", "b_i"), ("W_c", "b_c"), ("W_o", "b_o")]]
    f, i, o = sigmoid(gates[0]), sigmoid(gates[1]), sigmoid(gates[3])
    c_t = f * c_prev + i * np.tanh(gates[2])
    return o * np.tanh(c_t), c_t
""", '[x_t, h_prev] instead of [h_prev, x_t]'),
    ('hw-sigmoid-by-hand-candidate', 'lstm_cell_forward', """
def lstm_cell_forward(x_t, h_prev, c_prev, params):
    H = h_prev.shape[1]
    def layer(name):
        W, b = params["W_" + name], params["b_" + name]
        return h_prev @ W[:, :H].T + x_t @ W[:, H:].T + b
    f_t = sigmoid(layer("f"))
    i_t = sigmoid(layer("i"))
    c_tilde = 1 / (1 + np.exp(-layer("c")))
    o_t = sigmoid(layer("o"))
    c_t = f_t * c_prev + i_t * c_tilde
    return o_t * np.tanh(c_t), c_t
""", 'a sigmoid where tanh belongs'),
    ('hw-h-is-gated-memory', 'lstm_cell_forward', """
def lstm_cell_forward(x_t, h_prev, c_prev, params):
    inputs = np.concatenate([h_prev, x_t], 1)
    forget_gate = sigmoid(inputs @ params["W_f"].T + params["b_f"])
    input_gate = sigmoid(inputs @ params["W_i"].T + params["b_i"])
    candidate = np.tanh(inputs @ params["W_c"].T + params["b_c"])
    output_gate = sigmoid(inputs @ params["W_o"].T + params["b_o"])
    cell = forget_gate * c_prev + input_gate * candidate
    hidden = output_gate * cell
    return hidden, cell
""", 'c_t where tanh(c_t) belongs'),
    ('hw-candidate-no-bias', 'lstm_cell_forward', """
def lstm_cell_forward(x_t, h_prev, c_prev, params):
    z = np.hstack([h_prev, x_t])
    f = sigmoid(z @ params["W_f"].T + params["b_f"])
    i = sigmoid(z @ params["W_i"].T + params["b_i"])
    c_bar = np.tanh(z @ params["W_c"].T)
    o = sigmoid(z @ params["W_o"].T + params["b_o"])
    c_next = f * c_prev + i * c_bar
    return o * np.tanh(c_next), c_next
""", 'the bias is missing'),
    ('hw-tanh-gates', 'lstm_cell_forward', """
def lstm_cell_forward(x_t, h_prev, c_prev, params):
    z = np.hstack([h_prev, x_t])
    f, i, g, o = (np.tanh(z @ params["W_" + k].T + params["b_" + k]) for k in "fico")
    c_t = f * c_prev + i * g
    h_t = o * np.tanh(c_t)
    return h_t, c_t
""", 'tanh where a sigmoid belongs'),
    ('hw-stacks-f-first', 'stack_params', """
def stack_params(params):
    W = np.vstack([params["W_f"], params["W_i"], params["W_c"], params["W_o"]])
    b = np.hstack([params["b_f"], params["b_i"], params["b_c"], params["b_o"]])
    return W, b
""", 'gates in the wrong order'),
    ('hw-slices-f-first', 'lstm_cell_forward_fast', """
def lstm_cell_forward_fast(x_t, h_prev, c_prev, W, b):
    H = h_prev.shape[1]
    a = np.hstack([h_prev, x_t]) @ W.T + b
    f = sigmoid(a[:, :H])
    i = sigmoid(a[:, H:2 * H])
    g = np.tanh(a[:, 2 * H:3 * H])
    o = sigmoid(a[:, 3 * H:])
    c = f * c_prev + i * g
    return o * np.tanh(c), c
""", 'gates in the wrong order'),
    ('hw-one-minus-forget', 'lstm_cell_forward', """
def lstm_cell_forward(x_t, h_prev, c_prev, params):
    z = np.concatenate([h_prev, x_t], axis=1)
    f = sigmoid(z @ params["W_f"].T + params["b_f"])
    i = sigmoid(z @ params["W_i"].T + params["b_i"])
    g = np.tanh(z @ params["W_c"].T + params["b_c"])
    o = sigmoid(z @ params["W_o"].T + params["b_o"])
    c = (1 - f) * c_prev + i * g
    return o * np.tanh(c), c
""", '(1 - f_t) where f_t belongs'),
]  # fmt: skip

# ex02 has no sequence any more (chapter 5's exercise loops over the given cell): no CAUSES.
