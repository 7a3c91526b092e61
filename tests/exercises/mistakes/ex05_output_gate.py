"""Wrong answers to ex05_output_gate, and what the feedback must say about each (see __init__)."""

MUTATIONS = [
    ('c-not-tanh-c', 'hidden_state', 'o_t * np.tanh(c_t)', 'o_t * c_t', 'c_t where tanh(c_t) belongs'),
    ('tanh-of-product', 'hidden_state', 'o_t * np.tanh(c_t)', 'np.tanh(o_t * c_t)', 'tanh(o_t * c_t) instead of o_t * tanh(c_t)'),
    ('c-not-carried', 'lstm_forward', 'h, c = lstm_cell_forward(', 'h, _ = lstm_cell_forward(', 'the state is not carried'),
    ('initial-state-ignored', 'lstm_forward', """h = np.zeros((N, H)) if h0 is None else h0
    c = np.zeros((N, H)) if c0 is None else c0""", """h = np.zeros((N, H))
    c = np.zeros((N, H))""", 'the initial state is ignored'),
    ('c0-tied-to-h0', 'lstm_forward', 'c = np.zeros((N, H)) if c0 is None else c0', 'c = np.zeros((N, H)) if h0 is None else c0', 'h0 and c0 fall back to zeros together'),
    ('head-no-bias', 'linear_head', 'h @ W_y.T + b_y', 'h @ W_y.T', 'the bias is missing'),
    ('head-transposed', 'linear_head', 'h @ W_y.T + b_y', 'W_y @ h.T + b_y[:, None]', 'a transposed weight'),
    ('head-activation', 'linear_head', 'h @ W_y.T + b_y', 'np.tanh(h @ W_y.T + b_y)', 'an activation on the linear head'),
]  # fmt: skip

# Written by hand, the way students write them: lists appended then stacked, h and c named their
# own way, the step inlined; one mistake each.
HANDWRITTEN = [
    ('hw-squash-after-gating', 'hidden_state', """
def hidden_state(o_t, c_t):
    gated = o_t * c_t
    return np.tanh(gated)
""", 'tanh(o_t * c_t) instead of o_t * tanh(c_t)'),
    ('hw-no-squash', 'hidden_state', """
def hidden_state(o_t, c_t):
    h = np.multiply(o_t, c_t)
    return h
""", 'c_t where tanh(c_t) belongs'),
    ('hw-restarts-each-step', 'lstm_forward', """
def lstm_forward(x, params, h0=None, c0=None):
    N, T, D = x.shape
    H = params["W_f"].shape[0]
    if h0 is None:
        h0 = np.zeros((N, H))
    if c0 is None:
        c0 = np.zeros((N, H))
    outputs = []
    for t in range(T):
        h, c = lstm_cell_forward(x[:, t, :], h0, c0, params)
        outputs.append(h)
    return np.stack(outputs, axis=1), (h, c)
""", 'the state is not carried'),
    ('hw-always-zeros', 'lstm_forward', """
def lstm_forward(x, params, h0=None, c0=None):
    n, steps, _ = x.shape
    hidden = params["b_o"].shape[0]
    h, c = np.zeros((n, hidden)), np.zeros((n, hidden))
    hs = np.empty((n, steps, hidden))
    for t in range(steps):
        h, c = lstm_cell_forward(x[:, t], h, c, params)
        hs[:, t, :] = h
    return hs, (h, c)
""", 'the initial state is ignored'),
    ('hw-both-or-neither', 'lstm_forward', """
def lstm_forward(x, params, h0=None, c0=None):
    N, T, _ = x.shape
    H = len(params["b_f"])
    if h0 is None or c0 is None:
        h0 = np.zeros((N, H))
        c0 = np.zeros((N, H))
    h, c = h0, c0
    hs = []
    for t in range(T):
        h, c = lstm_cell_forward(x[:, t], h, c, params)
        hs.append(h)
    return np.stack(hs, 1), (h, c)
""", 'h0 and c0 fall back to zeros together'),
    ('hw-stores-before-step', 'lstm_forward', """
def lstm_forward(x, params, h0=None, c0=None):
    N, T, D = x.shape
    H = params["b_f"].size
    h = h0 if h0 is not None else np.zeros((N, H))
    c = c0 if c0 is not None else np.zeros((N, H))
    hs = np.zeros((N, T, H))
    for t in range(T):
        hs[:, t] = h
        h, c = lstm_cell_forward(x[:, t], h, c, params)
    return hs, (h, c)
""", 'hs[:, t] holds the state before step t'),
    ('hw-stacks-cell-states', 'lstm_forward', """
def lstm_forward(x, params, h0=None, c0=None):
    N, T, _ = x.shape
    H = params["b_f"].shape[0]
    h = np.zeros((N, H)) if h0 is None else h0
    c = np.zeros((N, H)) if c0 is None else c0
    states = []
    for t in range(T):
        h, c = lstm_cell_forward(x[:, t], h, c, params)
        states.append(c)
    return np.stack(states, axis=1), (h, c)
""", 'hs holds the cell states'),
    ('hw-own-step-no-input-gate', 'lstm_forward', """
def lstm_forward(x, params, h0=None, c0=None):
    N, T, _ = x.shape
    H = params["b_f"].shape[0]
    h = np.zeros((N, H)) if h0 is None else h0
    c = np.zeros((N, H)) if c0 is None else c0
    hs = []
    for t in range(T):
        z = np.hstack([h, x[:, t]])
        f = sigmoid(z @ params["W_f"].T + params["b_f"])
        g = np.tanh(z @ params["W_c"].T + params["b_c"])
        o = sigmoid(z @ params["W_o"].T + params["b_o"])
        c = f * c + g
        h = o * np.tanh(c)
        hs.append(h)
    return np.stack(hs, axis=1), (h, c)
""", 'the loop steps with a cell of its own, and that cell is wrong'),
    ('hw-head-no-bias', 'linear_head', """
def linear_head(h, W_y, b_y):
    return np.dot(h, W_y.T)
""", 'the bias is missing'),
    ('hw-head-squashed', 'linear_head', """
def linear_head(h, W_y, b_y):
    y = h.dot(W_y.T) + b_y
    return np.tanh(y)
""", 'an activation on the linear head'),
]  # fmt: skip

# The cell is given (a locked cell, restored at grading), so the loop is graded around a correct
# cell: a loop that steps with a wrong cell of its own is named by lstm_sequence_mistakes
# ("own_step"), not blamed on a cell of the student's. No CAUSES.
