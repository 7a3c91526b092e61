"""Wrong answers to ex12_beyond, and what the feedback must say about each (see __init__)."""

MUTATIONS = [
    ('layer2-reads-x', 'stacked_forward', 'lstm_forward(inputs, params)', 'lstm_forward(x, params)', 'every layer reads x'),
    ('layers-share-weights', 'stacked_forward', 'lstm_forward(inputs, params)', 'lstm_forward(inputs, layers[0])', "every layer uses the first layer's parameters"),
    ('not-flipped-back', 'bidirectional_forward', 'np.concatenate([hs_f, hs_b[:, ::-1]], axis=2)', 'np.concatenate([hs_f, hs_b], axis=2)', 'the backward outputs are not flipped back'),
    ('concat-bwd-fwd', 'bidirectional_forward', 'np.concatenate([hs_f, hs_b[:, ::-1]], axis=2)', 'np.concatenate([hs_b[:, ::-1], hs_f], axis=2)', '[backward, forward] instead of [forward, backward]'),
    ('reversed-batch-axis', 'bidirectional_forward', 'lstm_forward(x[:, ::-1], params_bwd)  # reversed in time (axis 1)\n    hs = np.concatenate([hs_f, hs_b[:, ::-1]], axis=2)', 'lstm_forward(x[::-1], params_bwd)\n    hs = np.concatenate([hs_f, hs_b[::-1]], axis=2)', 'the backward direction does not read the sequence in reverse time'),
    ('directions-share-weights', 'bidirectional_forward', 'lstm_forward(x[:, ::-1], params_bwd)', 'lstm_forward(x[:, ::-1], params_fwd)', 'both directions use params_fwd'),
    ('backward-final-first-step', 'bidirectional_forward', 'np.stack([h_f, h_b])', 'np.stack([h_f, hs_b[:, 0]])', "the backward direction's final state is taken after its first step"),
]  # fmt: skip

# Written by hand the way students write them (not edits of the solution), one mistake each.
HANDWRITTEN = [
    ('hw-stack-reads-x', 'stacked_forward', '''
def stacked_forward(x, layers):
    finals_h, finals_c = [], []
    out = None
    for layer in layers:
        out, (h, c) = lstm_forward(x, layer)
        finals_h.append(h)
        finals_c.append(c)
    return out, (np.array(finals_h), np.array(finals_c))
''', 'every layer reads x'),
    ('hw-stack-first-layer', 'stacked_forward', '''
def stacked_forward(x, layers):
    h_list, c_list, outputs = [], [], []
    current = x
    for p in layers:
        current, (h_T, c_T) = lstm_forward(current, p)
        outputs.append(current)
        h_list.append(h_T)
        c_list.append(c_T)
    return outputs[0], (np.stack(h_list), np.stack(c_list))
''', "the first layer's hidden states are returned"),
    ('hw-stack-state-passed', 'stacked_forward', '''
def stacked_forward(x, layers):
    N, T, _ = x.shape
    H = layers[0]["b_f"].shape[0]
    h = np.zeros((N, H))
    c = np.zeros((N, H))
    seq = x
    hn, cn = [], []
    for params in layers:
        outs = []
        for t in range(T):
            h, c = lstm_cell_forward(seq[:, t], h, c, params)
            outs.append(h)
        seq = np.stack(outs, axis=1)
        hn.append(h)
        cn.append(c)
    return seq, (np.stack(hn), np.stack(cn))
''', "layer 2 starts from layer 1's final state"),
    ('hw-stack-shared', 'stacked_forward', '''
def stacked_forward(x, layers):
    hs = x
    h_n = np.zeros((len(layers), x.shape[0], layers[0]["b_f"].shape[0]))
    c_n = np.zeros_like(h_n)
    for l in range(len(layers)):
        hs, (h_n[l], c_n[l]) = lstm_forward(hs, layers[0])
    return hs, (h_n, c_n)
''', "every layer uses the first layer's parameters"),
    ('hw-bidir-no-flip', 'bidirectional_forward', '''
def bidirectional_forward(x, params_fwd, params_bwd):
    out_f, (hf, cf) = lstm_forward(x, params_fwd)
    x_rev = np.flip(x, axis=1)
    out_b, (hb, cb) = lstm_forward(x_rev, params_bwd)
    hs = np.dstack([out_f, out_b])
    return hs, (np.array([hf, hb]), np.array([cf, cb]))
''', 'the backward outputs are not flipped back'),
    ('hw-bidir-order', 'bidirectional_forward', '''
def bidirectional_forward(x, params_fwd, params_bwd):
    fwd, (h1, c1) = lstm_forward(x, params_fwd)
    bwd, (h2, c2) = lstm_forward(x[:, ::-1, :], params_bwd)
    bwd = bwd[:, ::-1, :]
    return np.concatenate((bwd, fwd), axis=-1), (np.stack((h1, h2)), np.stack((c1, c2)))
''', '[backward, forward] instead of [forward, backward]'),
    ('hw-bidir-batch-axis', 'bidirectional_forward', '''
def bidirectional_forward(x, params_fwd, params_bwd):
    forward_hs, (h_fwd, c_fwd) = lstm_forward(x, params_fwd)
    backward_hs, (h_bwd, c_bwd) = lstm_forward(np.flip(x, axis=0), params_bwd)
    backward_hs = np.flip(backward_hs, axis=0)
    hs = np.concatenate([forward_hs, backward_hs], axis=2)
    h_n = np.stack([h_fwd, np.flip(h_bwd, axis=0)])
    c_n = np.stack([c_fwd, np.flip(c_bwd, axis=0)])
    return hs, (h_n, c_n)
''', 'the backward direction does not read the sequence in reverse time'),
    ('hw-bidir-shared', 'bidirectional_forward', '''
def bidirectional_forward(x, params_fwd, params_bwd):
    N, T, D = x.shape
    H = params_fwd["b_f"].shape[0]
    hs_f, (h_f, c_f) = lstm_forward(x, params_fwd)
    h, c = np.zeros((N, H)), np.zeros((N, H))
    hs_b = np.zeros((N, T, H))
    for t in reversed(range(T)):
        h, c = lstm_cell_forward(x[:, t], h, c, params_fwd)
        hs_b[:, t] = h
    return np.concatenate([hs_f, hs_b], axis=2), (np.stack([h_f, h]), np.stack([c_f, c]))
''', 'both directions use params_fwd'),
    ('hw-bidir-final', 'bidirectional_forward', '''
def bidirectional_forward(x, params_fwd, params_bwd):
    H = params_fwd["b_f"].shape[0]
    f_out, (f_h, f_c) = lstm_forward(x, params_fwd)
    b_out, (b_h, b_c) = lstm_forward(x[:, ::-1], params_bwd)
    hs = np.concatenate([f_out, b_out[:, ::-1]], axis=2)
    h_n = np.stack([hs[:, -1, :H], hs[:, -1, H:]])  # the last step of each direction
    return hs, (h_n, np.stack([f_c, b_c]))
''', "the backward direction's final state is taken after its first step"),
]  # fmt: skip
