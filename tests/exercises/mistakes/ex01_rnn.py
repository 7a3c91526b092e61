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

IN_PLACE = [
]  # fmt: skip

CAUSES = [
    ('no-bias', 'Your rnn_step is wrong'),
]  # fmt: skip
