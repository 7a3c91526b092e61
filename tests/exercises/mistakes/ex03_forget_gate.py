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
    ('cue-bias-small', 'forget_on_cue', 'b_f = np.full(H, 5.0)', 'b_f = np.full(H, 1.0)', 'the bias is too small'),
    ('cue-in-h-column', 'forget_on_cue', 'W_f[:, H + cue] = -10.0', 'W_f[:, cue] = -10.0', '[x_t, h_prev] instead of [h_prev, x_t]'),
    ('half-life-sign', 'half_life', 'np.log(0.5) / np.log(f)', 'np.log(2) / np.log(f)', 'the half-life has the wrong sign'),
]  # fmt: skip

# Written by hand, the way students write them (own names, np.hstack, loops), one mistake each.
HANDWRITTEN = [
    ('hw-sigmoid-sign', 'sigmoid', """
def sigmoid(z):
    z = np.asarray(z, dtype=float)
    small = np.exp(-np.abs(z))
    # pick the safe formula for each sign
    return np.where(z >= 0, small / (1 + small), 1 / (1 + small))
""", 'the sign is flipped'),
    ('hw-hstack-xh', 'forget_gate', """
def forget_gate(h_prev, x_t, W_f, b_f):
    inp = np.hstack([x_t, h_prev])
    return sigmoid(inp.dot(W_f.T) + b_f)
""", '[x_t, h_prev] instead of [h_prev, x_t]'),
    ('hw-no-bias', 'forget_gate', """
def forget_gate(h_prev, x_t, W_f, b_f):
    hx = np.hstack((h_prev, x_t))
    return sigmoid(np.dot(hx, W_f.T))
""", 'the bias is missing'),
    ('hw-tanh-gate', 'forget_gate', """
def forget_gate(h_prev, x_t, W_f, b_f):
    a = np.concatenate((h_prev, x_t), axis=1) @ W_f.T + b_f
    return np.tanh(a)
""", 'tanh where a sigmoid belongs'),
    ('hw-bias-outside', 'forget_gate', """
def forget_gate(h_prev, x_t, W_f, b_f):
    stacked = np.hstack([h_prev, x_t])
    return sigmoid(stacked @ W_f.T) + b_f
""", 'the bias is added after the activation'),
    ('hw-one-minus-f', 'forget', """
def forget(f_t, c_prev):
    kept = (1 - f_t) * c_prev
    return kept
""", '(1 - f_t) where f_t belongs'),
    ('hw-np-dot', 'forget', """
def forget(f_t, c_prev):
    return np.dot(f_t, c_prev.T)
""", 'a matrix product where an element-wise product (*) belongs'),
    ('hw-cue-in-h-column', 'forget_on_cue', """
def forget_on_cue(H, D, cue):
    W = np.zeros((H, H + D))
    W[:, cue] = -12
    b = 6 * np.ones(H)
    return W, b
""", '[x_t, h_prev] instead of [h_prev, x_t]'),
    ('hw-cue-inverted', 'forget_on_cue', """
def forget_on_cue(H, D, cue):
    W_f = np.zeros((H, H + D))
    W_f[:, H + cue] = 10.0   # open the gate on the cue
    b_f = -5.0 * np.ones(H)
    return W_f, b_f
""", 'the gate is the wrong way round'),
    ('hw-cue-no-bias', 'forget_on_cue', """
def forget_on_cue(H, D, cue):
    W_f = np.zeros((H, H + D))
    W_f[:, H + cue] = -20
    return W_f, np.zeros(H)
""", 'the bias is too small'),
    ('hw-cue-weak', 'forget_on_cue', """
def forget_on_cue(H, D, cue):
    W_f = np.zeros((H, H + D))
    for unit in range(H):
        W_f[unit, H + cue] = -4
    b_f = np.full(H, 4.0)
    return W_f, b_f
""", "the cue's weight does not pull the gate down enough"),
    ('hw-cue-all-inputs', 'forget_on_cue', """
def forget_on_cue(H, D, cue):
    W_f = np.full((H, H + D), -10.0)   # every input pushes the gate shut
    b_f = np.full(H, 5.0)
    return W_f, b_f
""", 'the gate listens to more than the cue'),
    ('hw-half-life-ln2', 'half_life', """
def half_life(f):
    return np.log(2) / np.log(f)
""", 'the half-life has the wrong sign'),
    ('hw-half-life-loop', 'half_life', """
def half_life(f):
    f = np.array(f, dtype=float)
    n = np.zeros_like(f)
    m = np.ones_like(f)
    while np.any(m > 0.5):
        alive = m > 0.5
        m[alive] = m[alive] * f[alive]
        n[alive] += 1
    return n
""", 'the half-life is rounded to whole steps'),
    ('hw-half-life-tau', 'half_life', """
def half_life(f):
    return 1.0 / (1.0 - np.asarray(f))
""", '1 / (1 - f) is the memory'),
    ('hw-half-life-log10', 'half_life', """
import math
def half_life(f):
    return np.log10(0.5) / np.log(f)
""", 'the two logarithms have different bases'),
]  # fmt: skip

IN_PLACE = [
    ('in-place-h-prev', 'forget_gate', """
def forget_gate(h_prev, x_t, W_f, b_f):
    z = np.concatenate([h_prev, x_t], axis=1)
    h_prev *= 0  # "free" the old state
    return sigmoid(z @ W_f.T + b_f)
""", 'Your forget_gate changed its argument h_prev in place'),
]  # fmt: skip
