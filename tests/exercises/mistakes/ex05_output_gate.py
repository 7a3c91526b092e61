"""Wrong answers to ex05_output_gate, and what the feedback must say about each (see __init__)."""

MUTATIONS = [
    ('xh-order', 'output_gate', '[h_prev, x_t]', '[x_t, h_prev]', '[x_t, h_prev] instead of [h_prev, x_t]'),
    ('tanh-gate', 'output_gate', 'return sigmoid(', 'return np.tanh(', 'tanh where a sigmoid belongs'),
    ('c-not-tanh-c', 'hidden_state', 'o_t * np.tanh(c_t)', 'o_t * c_t', 'c_t where tanh(c_t) belongs'),
    ('tanh-of-product', 'hidden_state', 'o_t * np.tanh(c_t)', 'np.tanh(o_t * c_t)', 'tanh(o_t * c_t) instead of o_t * tanh(c_t)'),
    ('head-no-bias', 'linear_head', 'h @ W_y.T + b_y', 'h @ W_y.T', 'the bias is missing'),
    ('head-transposed', 'linear_head', 'h @ W_y.T + b_y', 'W_y @ h.T + b_y[:, None]', 'a transposed weight'),
    ('head-activation', 'linear_head', 'h @ W_y.T + b_y', 'np.tanh(h @ W_y.T + b_y)', 'an activation on the linear head'),
]  # fmt: skip

REWRITES = [
]  # fmt: skip

IN_PLACE = [
]  # fmt: skip

CAUSES = [
]  # fmt: skip
