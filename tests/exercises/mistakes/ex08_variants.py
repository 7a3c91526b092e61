"""Wrong answers to ex08_variants, and what the feedback must say about each (see __init__)."""

MUTATIONS = [
    ('gru-update-swapped', 'gru_cell_forward', 'return (1 - z_t) * n_t + z_t * h_prev', 'return z_t * n_t + (1 - z_t) * h_prev', 'z_t and 1 - z_t are swapped'),
    ('gru-reset-inside', 'gru_cell_forward', 'r_t * (h_prev @ p["W_hn"].T + p["b_hn"])', '(r_t * h_prev) @ p["W_hn"].T + p["b_hn"]', 'the reset gate is applied before W_hn'),
    ('gru-bias-outside', 'gru_cell_forward', 'r_t * (h_prev @ p["W_hn"].T + p["b_hn"])', 'r_t * (h_prev @ p["W_hn"].T) + p["b_hn"]', 'b_hn is outside the reset gate'),
    ('gru-xh-order', 'gru_cell_forward', '[h_prev, x_t]', '[x_t, h_prev]', '[x_t, h_prev] instead of [h_prev, x_t]'),
    ('peephole-o-c-prev', 'peephole_cell_forward', 'p["p_o"] * c_t', 'p["p_o"] * c_prev', 'the output gate peeks at C_{t-1}'),
    ('peephole-missing-f', 'peephole_cell_forward', ' + p["p_f"] * c_prev', '', 'a peephole term is missing'),
    ('peephole-c-not-tanh-c', 'peephole_cell_forward', 'h_t = o_t * np.tanh(c_t)', 'h_t = o_t * c_t', 'c_t where tanh(c_t) belongs'),
]  # fmt: skip

REWRITES = [
]  # fmt: skip

IN_PLACE = [
]  # fmt: skip

CAUSES = [
]  # fmt: skip
