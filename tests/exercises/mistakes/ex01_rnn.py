"""Wrong answers to ex01_rnn, and what the feedback must say about each (see __init__)."""

MUTATIONS = [
    ('xh-order', 'rnn_step', '[h_prev, x_t]', '[x_t, h_prev]', '[x_t, h_prev] instead of [h_prev, x_t]'),
    ('sigmoid-state', 'rnn_step', 'np.tanh(z @ W_h.T + b_h)', '1 / (1 + np.exp(-(z @ W_h.T + b_h)))', 'a sigmoid where tanh belongs'),
    ('no-bias', 'rnn_step', 'W_h.T + b_h)', 'W_h.T)', 'the bias is missing'),
    ('state-not-carried', 'rnn_forward', """h = rnn_step(h, x[:, t], W_h, b_h)
        hs[:, t] = h""", 'hs[:, t] = rnn_step(h, x[:, t], W_h, b_h)', 'the state is not carried'),
    ('no-tanh-derivative', 'state_gradients', 'da = grads[:, k] * (1 - states[:, k] ** 2)', 'da = grads[:, k]', 'the derivative of tanh is missing'),
    ('derivative-wrong-step', 'state_gradients', '(1 - states[:, k] ** 2)', '(1 - states[:, k - 1] ** 2)', 'the tanh derivative is taken at the wrong step'),
    ('transposed-W', 'state_gradients', 'grads[:, k - 1] = da @ W_hh', 'grads[:, k - 1] = da @ W_hh.T', 'a transposed weight'),
]  # fmt: skip

REWRITES = [
    ('own-no-bias', 'rnn_step', """
def rnn_step(h_prev, x_t, W_h, b_h):
    H = h_prev.shape[1]
    return np.tanh(h_prev @ W_h[:, :H].T + x_t @ W_h[:, H:].T)
""", 'the bias is missing'),
]  # fmt: skip

HANDWRITTEN = [
    ('hw-hstack-x-first', 'rnn_step', """
def rnn_step(h_prev, x_t, W_h, b_h):
    inp = np.hstack((x_t, h_prev))
    return np.tanh(np.dot(inp, W_h.T) + b_h)
""", '[x_t, h_prev] instead of [h_prev, x_t]'),
    ('hw-no-tanh', 'rnn_step', """
def rnn_step(h_prev, x_t, W_h, b_h):
    H = h_prev.shape[1]
    Wh, Wx = W_h[:, :H], W_h[:, H:]
    a = h_prev @ Wh.T + x_t @ Wx.T + b_h
    return a
""", 'the activation is missing'),
    ('hw-sigmoid', 'rnn_step', """
def rnn_step(h_prev, x_t, W_h, b_h):
    pre = np.hstack([h_prev, x_t]).dot(W_h.T) + b_h
    return 1.0 / (1.0 + np.exp(-pre))
""", 'a sigmoid where tanh belongs'),
    ('hw-input-only', 'rnn_step', """
def rnn_step(h_prev, x_t, W_h, b_h):
    H = W_h.shape[0]
    W_x = W_h[:, H:]
    return np.tanh(x_t @ W_x.T + b_h)
""", 'h_prev is ignored'),
    ('hw-loop-rows-x-first', 'rnn_step', """
def rnn_step(h_prev, x_t, W_h, b_h):
    N, H = h_prev.shape
    out = np.empty((N, H))
    for n in range(N):
        v = np.concatenate([x_t[n], h_prev[n]])
        out[n] = np.tanh(W_h @ v + b_h)
    return out
""", '[x_t, h_prev] instead of [h_prev, x_t]'),
    ('hw-same-start', 'rnn_forward', """
def rnn_forward(x, W_h, b_h, h0=None):
    N, T, D = x.shape
    if h0 is None:
        h0 = np.zeros((N, len(b_h)))
    states = []
    for t in range(T):
        states.append(rnn_step(h0, x[:, t, :], W_h, b_h))
    return np.stack(states, axis=1)
""", 'the state is not carried'),
    ('hw-zero-start', 'rnn_forward', """
def rnn_forward(x, W_h, b_h, h0=None):
    N, T, D = x.shape
    H = W_h.shape[0]
    h = np.zeros((N, H))
    out = []
    for t in range(T):
        h = rnn_step(h, x[:, t, :], W_h, b_h)
        out.append(h)
    return np.stack(out, axis=1)
""", 'the initial state is ignored'),
    ('hw-no-derivative', 'state_gradients', """
def state_gradients(hs, h0, W_h, dh_T):
    N, T, H = hs.shape
    grads = np.zeros((N, T + 1, H))
    grads[:, T] = dh_T
    g = dh_T
    for t in reversed(range(T)):
        g = g @ W_h[:, :H]
        grads[:, t] = g
    return grads
""", 'the derivative of tanh is missing'),
    ('hw-transposed-Whh', 'state_gradients', """
def state_gradients(hs, h0, W_h, dh_T):
    N, T, H = hs.shape
    Whh = W_h[:, :H]
    out = [dh_T]
    g = dh_T
    for t in range(T - 1, -1, -1):
        g = (g * (1 - hs[:, t] ** 2)).dot(Whh.T)
        out.insert(0, g)
    return np.stack(out, axis=1)
""", 'a transposed weight'),
    ('hw-previous-state-derivative', 'state_gradients', """
def state_gradients(hs, h0, W_h, dh_T):
    N, T, H = hs.shape
    grads = np.zeros((N, T + 1, H))
    grads[:, -1] = dh_T
    for t in range(T, 0, -1):
        h_before = h0 if t == 1 else hs[:, t - 2]
        grads[:, t - 1] = (grads[:, t] * (1 - h_before**2)) @ W_h[:, :H]
    return grads
""", 'the tanh derivative is taken at the wrong step'),
]  # fmt: skip

CAUSES = [
    ('no-bias', 'Your rnn_step is wrong'),
]  # fmt: skip
