"""Wrong answers to ex06_bptt, and what the feedback must say about each (see __init__)."""

MUTATIONS = [
    ('no-dh-into-dc', 'lstm_cell_backward', 'dc = dc_t + dh_t * o_t * (1 - tanh_c**2)', 'dc = dc_t', 'the path through h_t into C_t is missing'),
    ('tanh-derivative-of-c', 'lstm_cell_backward', '(1 - tanh_c**2)', '(1 - cache["c_t"] ** 2)', 'the derivative of tanh(C_t) is 1 - tanh(C_t)², not 1 - C_t²'),
    ('dc-prev-missing-f', 'lstm_cell_backward', 'dc_prev = dc * f_t', 'dc_prev = dc', 'dC_{t-1} = dC_t * f_t'),
    ('sigmoid-derivative', 'lstm_cell_backward', '"o": do_t * o_t * (1 - o_t)', '"o": do_t * o_t', 'the derivative of a sigmoid gate s is s * (1 - s) (in the output gate)'),
    ('transposed-dW', 'lstm_cell_backward', 'da_gate.T @ z', 'z.T @ da_gate', 'a transposed weight'),
    ('recurrent-grad-dropped', 'lstm_backward', 'dhs[:, t] + dh_next, dc_next, caches[t]', 'dhs[:, t], dc_next, caches[t]', 'the gradient coming back from step t + 1 is dropped'),
    ('params-not-summed', 'lstm_backward', 'dparams[key] += grads[key]', 'dparams[key] = grads[key]', 'the parameter gradients are overwritten'),
    ('forward-difference', 'numerical_gradient', """x[idx] = old - eps
        f_minus = f(x)
        x[idx] = old  # put it back
        grad[idx] = (f_plus - f_minus) / (2 * eps)""", """x[idx] = old  # put it back
        grad[idx] = (f_plus - f(x)) / eps""", 'a one-sided difference'),
    ('x-not-restored', 'numerical_gradient', """        x[idx] = old  # put it back
""", '', 'x is not restored'),
]  # fmt: skip

REWRITES = [
]  # fmt: skip

IN_PLACE = [
]  # fmt: skip

CAUSES = [
    ('dc-prev-missing-f', 'Your lstm_cell_backward is wrong'),
]  # fmt: skip
