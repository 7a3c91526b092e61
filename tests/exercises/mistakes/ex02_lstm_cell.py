"""Wrong answers to ex02_lstm_cell, and what the feedback must say about each (see __init__)."""

MUTATIONS = [
    ('xh-order', 'lstm_cell_forward', '[h_prev, x_t]', '[x_t, h_prev]', '[x_t, h_prev] instead of [h_prev, x_t]'),
    ('sigmoid-candidate', 'lstm_cell_forward', 'c_tilde = np.tanh(', 'c_tilde = sigmoid(', 'a sigmoid where tanh belongs'),
    ('c-not-tanh-c', 'lstm_cell_forward', 'h_t = o_t * np.tanh(c_t)', 'h_t = o_t * c_t', 'c_t where tanh(c_t) belongs'),
    ('c-not-carried', 'lstm_forward', 'h, c = lstm_cell_forward(', 'h, _ = lstm_cell_forward(', 'the state is not carried'),
    ('initial-state-ignored', 'lstm_forward', """h = np.zeros((N, H)) if h0 is None else h0
    c = np.zeros((N, H)) if c0 is None else c0""", """h = np.zeros((N, H))
    c = np.zeros((N, H))""", 'the initial state is ignored'),
    ('stack-order', 'stack_params', 'params["W_i"], params["W_f"]', 'params["W_f"], params["W_i"]', 'gates in the wrong order'),
    ('split-order', 'lstm_cell_forward_fast', 'a_i, a_f, a_g, a_o = np.split', 'a_f, a_i, a_g, a_o = np.split', 'gates in the wrong order'),
    ('c0-tied-to-h0', 'lstm_forward', 'c = np.zeros((N, H)) if c0 is None else c0', 'c = np.zeros((N, H)) if h0 is None else c0', 'h0 and c0 fall back to zeros together'),
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

IN_PLACE = [
]  # fmt: skip

CAUSES = [
    ('xh-order', 'Your lstm_cell_forward is wrong'),
]  # fmt: skip
