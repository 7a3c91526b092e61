"""Wrong answers to ex03_forget_gate, and what the feedback must say about each (see __init__)."""

MUTATIONS = [
    ('xh-order', 'forget_gate', '[h_prev, x_t]', '[x_t, h_prev]', '[x_t, h_prev] instead of [h_prev, x_t]'),
    ('tanh-gate', 'forget_gate', 'return sigmoid(z', 'return np.tanh(z', 'tanh where a sigmoid belongs'),
    ('no-bias', 'forget_gate', 'W_f.T + b_f)', 'W_f.T)', 'the bias is missing'),
    ('bias-twice', 'forget_gate', 'W_f.T + b_f)', 'W_f.T + b_f + b_f)', 'the bias is added twice'),
    ('naive-sigmoid', 'sigmoid', 'return np.where(z >= 0, 1 / (1 + e), e / (1 + e))', 'return 1 / (1 + np.exp(-z))', 'an unstable sigmoid'),
    ('one-minus-f', 'forget', 'return f_t * c_prev', 'return (1 - f_t) * c_prev', '(1 - f_t) where f_t belongs'),
    ('matmul-forget', 'forget', 'return f_t * c_prev', 'return f_t @ c_prev.T', 'a matrix product where an element-wise product (*) belongs'),
    ('weight-untransposed', 'forget_gate', 'z @ W_f.T', 'z @ W_f', 'a transposed weight'),
]  # fmt: skip

REWRITES = [
]  # fmt: skip

IN_PLACE = [
    ('in-place-h-prev', 'forget_gate', """
def forget_gate(h_prev, x_t, W_f, b_f):
    z = np.concatenate([h_prev, x_t], axis=1)
    h_prev *= 0  # "free" the old state
    return sigmoid(z @ W_f.T + b_f)
""", 'Your forget_gate changed its argument h_prev in place'),
]  # fmt: skip

CAUSES = [
]  # fmt: skip
