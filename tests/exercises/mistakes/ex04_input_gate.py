"""Wrong answers to ex04_input_gate, and what the feedback must say about each (see __init__)."""

MUTATIONS = [
    ('xh-order', 'candidate', '[h_prev, x_t]', '[x_t, h_prev]', '[x_t, h_prev] instead of [h_prev, x_t]'),
    ('sigmoid-candidate', 'candidate', 'return np.tanh(', 'return sigmoid(', 'a sigmoid where tanh belongs'),
    ('no-bias', 'candidate', 'W_c.T + b_c)', 'W_c.T)', 'the bias is missing'),
    ('swap-f-i', 'cell_update', 'f_t * c_prev + i_t * c_tilde', 'i_t * c_prev + f_t * c_tilde', 'f_t and i_t are swapped'),
    ('no-forget', 'cell_update', 'f_t * c_prev + i_t * c_tilde', 'i_t * c_tilde', 'the old memory is dropped'),
    ('no-input-gate', 'cell_update', 'f_t * c_prev + i_t * c_tilde', 'f_t * c_prev + c_tilde', 'the input gate is missing'),
    ('store-keeps-old', 'store_on_cue', 'W_f = np.array([[0.0, 0.0, -20.0]])', 'W_f = np.array([[0.0, 0.0, 0.0]])', 'the old memory is not erased when writing'),
    ('store-writes-always', 'store_on_cue', 'b_i = np.array([-10.0])', 'b_i = np.array([10.0])', 'the cell writes at every step'),
]  # fmt: skip

REWRITES = [
    ('own-sigmoid-candidate', 'candidate', """
def candidate(h_prev, x_t, W_c, b_c):
    a = np.hstack((h_prev, x_t)).dot(W_c.T) + b_c
    return 1 / (1 + np.exp(-a))
""", 'a sigmoid where tanh belongs'),
]  # fmt: skip

# Written by hand, the way students write them (own names, np.hstack, dicts), one mistake each.
HANDWRITTEN = [
    ('hw-candidate-sigmoid', 'candidate', """
def candidate(h_prev, x_t, W_c, b_c):
    both = np.hstack([h_prev, x_t])
    return sigmoid(both @ W_c.T + b_c)
""", 'a sigmoid where tanh belongs'),
    ('hw-candidate-xh', 'candidate', """
def candidate(h_prev, x_t, W_c, b_c):
    joined = np.concatenate((x_t, h_prev), axis=-1)
    return np.tanh(joined.dot(W_c.T) + b_c)
""", '[x_t, h_prev] instead of [h_prev, x_t]'),
    ('hw-candidate-no-tanh', 'candidate', """
def candidate(h_prev, x_t, W_c, b_c):
    z = np.hstack((h_prev, x_t))
    pre = z @ W_c.T + b_c
    return pre
""", 'the activation is missing'),
    ('hw-candidate-no-bias', 'candidate', """
def candidate(h_prev, x_t, W_c, b_c):
    return np.tanh(np.dot(np.hstack([h_prev, x_t]), W_c.T))
""", 'the bias is missing'),
    ('hw-update-one-minus-f', 'cell_update', """
def cell_update(f_t, c_prev, i_t, c_tilde):
    old = (1 - f_t) * c_prev
    new = i_t * c_tilde
    return old + new
""", '(1 - f_t) where f_t belongs'),
    ('hw-update-swapped', 'cell_update', """
def cell_update(f_t, c_prev, i_t, c_tilde):
    return c_prev * i_t + c_tilde * f_t
""", 'f_t and i_t are swapped'),
    ('hw-update-no-old', 'cell_update', """
def cell_update(f_t, c_prev, i_t, c_tilde):
    c_t = i_t * c_tilde
    return c_t
""", 'the old memory is dropped'),
    ('hw-update-no-input-gate', 'cell_update', """
def cell_update(f_t, c_prev, i_t, c_tilde):
    return f_t * c_prev + c_tilde
""", 'the input gate is missing'),
    ('hw-update-no-forget-gate', 'cell_update', """
def cell_update(f_t, c_prev, i_t, c_tilde):
    return c_prev + np.multiply(i_t, c_tilde)
""", 'the forget gate is missing'),
    ('hw-store-keeps-old', 'store_on_cue', """
def store_on_cue():
    params = {}
    params["W_f"], params["b_f"] = np.zeros((1, 3)), np.array([8.0])
    params["W_i"], params["b_i"] = np.array([[0.0, 0.0, 16.0]]), np.array([-8.0])
    params["W_c"], params["b_c"] = np.array([[0.0, 1.0, 0.0]]), np.zeros(1)
    return params
""", 'the old memory is not erased when writing'),
    ('hw-store-always-writes', 'store_on_cue', """
def store_on_cue():
    return dict(
        W_f=np.array([[0.0, 0.0, -20.0]]), b_f=np.array([10.0]),
        W_i=np.zeros((1, 3)), b_i=np.array([10.0]),
        W_c=np.array([[0.0, 1.0, 0.0]]), b_c=np.array([0.0]),
    )
""", 'the cell writes at every step'),
    ('hw-store-swapped', 'store_on_cue', """
def store_on_cue():
    W_f = np.array([[0, 0, 20.0]])
    b_f = np.array([-10.0])
    W_i = np.array([[0, 0, -20.0]])
    b_i = np.array([10.0])
    W_c = np.array([[0, 1.0, 0]])
    b_c = np.array([0.0])
    return {"W_f": W_f, "b_f": b_f, "W_i": W_i, "b_i": b_i, "W_c": W_c, "b_c": b_c}
""", 'f_t and i_t are swapped'),
    ('hw-store-x-first', 'store_on_cue', """
def store_on_cue():
    # columns: value, flag, h
    W_f = np.array([[0.0, -20.0, 0.0]]); b_f = np.array([10.0])
    W_i = np.array([[0.0, 20.0, 0.0]]); b_i = np.array([-10.0])
    W_c = np.array([[1.0, 0.0, 0.0]]); b_c = np.array([0.0])
    return {"W_f": W_f, "b_f": b_f, "W_i": W_i, "b_i": b_i, "W_c": W_c, "b_c": b_c}
""", '[x_t, h_prev] instead of [h_prev, x_t]'),
    ('hw-store-saturated', 'store_on_cue', """
def store_on_cue():
    return {
        "W_f": np.array([[0.0, 0.0, -30.0]]), "b_f": np.array([15.0]),
        "W_i": np.array([[0.0, 0.0, 30.0]]), "b_i": np.array([-15.0]),
        "W_c": np.array([[0.0, 10.0, 0.0]]), "b_c": np.array([0.0]),   # strong signal
    }
""", 'the candidate does not give back the value'),
    ('hw-store-leaky', 'store_on_cue', """
def store_on_cue():
    W_f = np.array([[0.0, 0.0, -6.0]])
    b_f = np.array([2.0])
    W_i = np.array([[0.0, 0.0, 20.0]])
    b_i = np.array([-10.0])
    W_c = np.array([[0.0, 1.0, 0.0]])
    b_c = np.zeros(1)
    return {"W_f": W_f, "b_f": b_f, "W_i": W_i, "b_i": b_i, "W_c": W_c, "b_c": b_c}
""", 'the memory leaks while it is held'),
]  # fmt: skip
