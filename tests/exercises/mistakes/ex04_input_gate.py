"""Wrong answers to ex04_input_gate, and what the feedback must say about each (see __init__)."""

MUTATIONS = [
    ('xh-order', 'input_gate', '[h_prev, x_t]', '[x_t, h_prev]', '[x_t, h_prev] instead of [h_prev, x_t]'),
    ('tanh-gate', 'input_gate', 'return sigmoid(', 'return np.tanh(', 'tanh where a sigmoid belongs'),
    ('sigmoid-candidate', 'candidate', 'return np.tanh(', 'return sigmoid(', 'a sigmoid where tanh belongs'),
    ('no-bias', 'candidate', 'W_c.T + b_c)', 'W_c.T)', 'the bias is missing'),
    ('swap-f-i', 'cell_update', 'f_t * c_prev + i_t * c_tilde', 'i_t * c_prev + f_t * c_tilde', 'f_t and i_t are swapped'),
    ('no-forget', 'cell_update', 'f_t * c_prev + i_t * c_tilde', 'i_t * c_tilde', 'the old memory is dropped'),
]  # fmt: skip

REWRITES = [
    ('own-sigmoid-candidate', 'candidate', """
def candidate(h_prev, x_t, W_c, b_c):
    a = np.hstack((h_prev, x_t)).dot(W_c.T) + b_c
    return 1 / (1 + np.exp(-a))
""", 'a sigmoid where tanh belongs'),
]  # fmt: skip

IN_PLACE = [
]  # fmt: skip

CAUSES = [
]  # fmt: skip
