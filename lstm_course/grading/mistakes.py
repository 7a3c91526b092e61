"""The classic mistakes, by name: the sentences a failed check shows after "Likely mistake:".

A key of :data:`MISTAKES` names one mistake; ``lstm_course.grading.planted`` recomputes each one on
the same inputs as a test, so that :func:`lstm_course.grading.compare` can name the one a student
made. A key may carry a detail after a colon ("gate_order:you stacked them f, i, g, o"), shown in
brackets after the sentence.
"""

from __future__ import annotations

# The classic mistakes, by name. Each sentence completes "Likely mistake: ...".
MISTAKES: dict[str, str] = {
    "order_xh": (
        "[x_t, h_prev] instead of [h_prev, x_t]: the course concatenates the hidden state first, "
        "so W[:, :H] multiplies h_prev and W[:, H:] multiplies x_t"
    ),
    "tanh_for_sigmoid": "tanh where a sigmoid belongs: a gate is σ(...), between 0 and 1",
    "sigmoid_for_tanh": (
        "a sigmoid where tanh belongs: the candidate (and the RNN's state) is tanh(...), "
        "between -1 and 1"
    ),
    "no_activation": "the activation is missing: the pre-activation was returned as it is",
    "no_bias": "the bias is missing: add b after the matrix product",
    "bias_twice": "the bias is added twice",
    "wrong_sign": "the sign is flipped: you computed σ(-a) = 1 - σ(a) instead of σ(a)",
    "transposed_weight": (
        "a transposed weight: W is (out, in) and acts on a row batch as z @ W.T "
        "(in the backward pass, dz = da @ W and dW = da.T @ z)"
    ),
    "ignores_h": "h_prev is ignored: the gate must see [h_prev, x_t], not x_t alone",
    "ignores_x": "x_t is ignored: the gate must see [h_prev, x_t], not h_prev alone",
    "c_for_tanh_c": "c_t where tanh(c_t) belongs: h_t = o_t * tanh(c_t)",
    "tanh_of_product": "tanh(o_t * c_t) instead of o_t * tanh(c_t): squash c_t first, then gate it",
    "outputs_swapped": "h_t and c_t are returned in the wrong order: return (h_t, c_t)",
    "swap_f_i": "f_t and i_t are swapped: C_t = f_t * C_{t-1} + i_t * C̃_t",
    "no_forget": "the old memory is dropped: C_t = f_t * C_{t-1} + i_t * C̃_t keeps f_t * C_{t-1}",
    "no_forget_gate": (
        "the forget gate is missing: C_t = f_t * C_{t-1} + i_t * C̃_t, not C_{t-1} + i_t * C̃_t "
        "(f_t decides how much of the old memory stays)"
    ),
    "no_input_gate": (
        "the input gate is missing: C_t = f_t * C_{t-1} + i_t * C̃_t, not f_t * C_{t-1} + C̃_t "
        "(i_t decides how much of the candidate is written)"
    ),
    "tanh_c_prev": (
        "tanh(c_prev) where tanh(c_t) belongs: h_t = o_t * tanh(C_t) shows the cell state just "
        "updated, not the previous one"
    ),
    "wrong_bias": (
        "a gate with another gate's bias: each gate adds its own b (b_f in f_t, b_i in i_t, ...)"
    ),
    "gate_order": (
        "gates in the wrong order: PyTorch stacks the four gates as i, f, g, o "
        "(input, forget, candidate, output) along the first axis"
    ),
    "one_bias": (
        "one of the two biases is missing: PyTorch adds both bias_ih and bias_hh to every gate"
    ),
    "activation_on_head": (
        "an activation on the linear head: y = W_y · h + b_y has none, a prediction can be any "
        "number"
    ),
    "matmul_for_elementwise": "a matrix product where an element-wise product (*) belongs",
    "one_minus_f": "(1 - f_t) where f_t belongs: f_t near 1 keeps the memory, near 0 forgets it",
    "state_not_carried": (
        "the state is not carried: each step must start from the previous step's state, "
        "not from the initial one"
    ),
    "initial_state_ignored": "the initial state is ignored: the first step must start from h0, c0",
    "hs_before_step": (
        "hs[:, t] holds the state before step t: store h_t after the step that makes it, so "
        "hs[:, -1] is h_T"
    ),
    "hs_holds_c": "hs holds the cell states: stack every hidden state h_t, not c_t",
    "own_step": (
        "the loop steps with a cell of its own, and that cell is wrong: call the given "
        "lstm_cell_forward(x[:, t], h, c, params) at each step"
    ),
    "initial_state_tied": (
        "h0 and c0 fall back to zeros together: each is zeros only when it is None itself "
        "(h0 given with c0 = None starts from (h0, 0), and h0 = None with c0 given from (0, c0))"
    ),
    "missing_tanh_derivative": (
        "the derivative of tanh is missing: multiply by 1 - h_t² before going back through W"
    ),
    "derivative_wrong_step": (
        "the tanh derivative is taken at the wrong step: going back from h_t it is 1 - h_t², "
        "the output of that step's tanh, not 1 - h_{t-1}²"
    ),
    "gru_update_swapped": (
        "z_t and 1 - z_t are swapped: PyTorch's GRU keeps the old state where z_t is near 1, "
        "h_t = (1 - z_t) * n_t + z_t * h_{t-1}"
    ),
    "gru_reset_inside": (
        "the reset gate is applied before W_hn: PyTorch computes r_t * (W_hn h_{t-1} + b_hn), "
        "not W_hn (r_t * h_{t-1})"
    ),
    "gru_bias_outside_reset": (
        "b_hn is outside the reset gate: PyTorch computes r_t * (W_hn h_{t-1} + b_hn)"
    ),
    "peephole_o_uses_c_prev": (
        "the output gate peeks at C_{t-1}: it must see the new cell state C_t (f_t and i_t see "
        "C_{t-1})"
    ),
    "peephole_missing": "a peephole term is missing: a gate's p * C is not added",
    "peephole_on_h": (
        "a peephole on h instead of C: f_t and i_t add p * C_{t-1}, o_t adds p_o * C_t, "
        "never p * h_{t-1}"
    ),
    "gru_w_hn_untransposed": (
        "W_hn used untransposed: it is square (H, H), so h_prev @ W_hn runs, but a weight "
        "(out, in) acts on a row batch as h_prev @ W_hn.T"
    ),
    "gru_reset_uses_w_z": (
        "the reset gate is computed with W_z: r_t = σ(W_r · [h_{t-1}, x_t] + b_r) has its own "
        "weights"
    ),
    "gru_update_uses_w_r": (
        "the update gate is computed with W_r: z_t = σ(W_z · [h_{t-1}, x_t] + b_z) has its own "
        "weights"
    ),
    "bptt_no_dh_into_dc": (
        "the path through h_t into C_t is missing: dC_t = dc_t + dh_t * o_t * (1 - tanh(C_t)²)"
    ),
    "tanh_derivative_of_c": "the derivative of tanh(C_t) is 1 - tanh(C_t)², not 1 - C_t²",
    "sigmoid_derivative": "the derivative of a sigmoid gate s is s * (1 - s)",
    "dc_prev_missing_f": "dC_{t-1} = dC_t * f_t: the forget gate scales the memory's gradient too",
    "bptt_recurrent_grad_dropped": (
        "the gradient coming back from step t + 1 is dropped: at step t the upstream gradient is "
        "dhs[:, t] + the dh_prev that step t + 1 returned"
    ),
    "bptt_dc_not_carried": (
        "the cell state's gradient is not carried back: dc_prev of step t is the dc_t of step t - 1"
    ),
    "bptt_params_not_summed": (
        "the parameter gradients are overwritten: the same weights act at every step, so their "
        "gradients add up over the steps"
    ),
    # exercise 6, stage by stage (lstm_course.grading.planted_backward)
    "do_with_c_t": "do_t from dh_t * C_t: h_t = o_t * tanh(C_t), so do_t = dh_t * tanh(C_t)",
    "dc_without_o": (
        "dC_t without o_t: the path through h_t = o_t * tanh(C_t) is dh_t * o_t * (1 - tanh²(C_t))"
    ),
    "bptt_dc_next_dropped": (
        "the two paths into C_t are not summed (`=` where `+=` belongs): dC_t = dc_next "
        "(from step t + 1, along the cell state) + dh_t * o_t * (1 - tanh(C_t)²)"
    ),
    "df_with_c_t": (
        "df_t computed with C_t instead of C_{t-1}: C_t = f_t * C_{t-1} + i_t * C̃_t, "
        "so df_t = dC_t * C_{t-1}"
    ),
    "product_rule_swapped": (
        "the factors of i_t * C̃_t are swapped: each gets dC_t times the other one, "
        "di_t = dC_t * C̃_t and dC̃_t = dC_t * i_t"
    ),
    "sigmoid_of_output": (
        "σ′ applied to the gate's output: the cache holds f_t = σ(a_f) already, so the "
        "derivative is f_t * (1 - f_t), not σ(f_t) * (1 - σ(f_t))"
    ),
    "candidate_derivative_tanh_c": (
        "the candidate's derivative taken with tanh(C_t): C̃_t = tanh(a_c), so "
        "da_c = dC̃_t * (1 - C̃_t²), not 1 - tanh(C_t)²"
    ),
    "tanh_of_output": (
        "tanh′ applied to the candidate's output: C̃_t = tanh(a_c) already, so the derivative "
        "is 1 - C̃_t², not 1 - tanh(C̃_t)²"
    ),
    "dz_overwritten": (
        "`dz =` instead of `dz +=`: each of the four gates sends a part of the gradient back to "
        "z = [h_{t-1}, x_t], and the parts add up"
    ),
    "db_mean": (
        "db as a batch mean: the loss sums over the batch, so db = da.sum(axis=0), not the mean"
    ),
    "bptt_forward_in_time": (
        "the loop runs forward in time: step t needs what step t + 1 sent back, so go from the "
        "last step to the first, for t in reversed(range(T))"
    ),
    "bptt_last_step_only": (
        "the loss is taken at the last step only: every step's dhs[:, t] is added to its upstream "
        "gradient, not only dhs[:, -1]"
    ),
    "central_difference_halved": (
        "the centred difference divided by eps instead of 2 * eps (the result is twice too big)"
    ),
    "x_not_restored": "x is not restored: put each entry back after evaluating f around it",
    "init_not_uniform": (
        "the initialisation is not PyTorch's: nn.LSTMCell draws every parameter from "
        "U(-1/√H, 1/√H), e.g. nn.init.uniform_(p, -bound, bound) with bound = 1 / math.sqrt(H)"
    ),
    "test_leak": (
        "the test set leaks into training: compute the mean and std of the training part only, "
        "then apply them to both parts"
    ),
    "test_own_stats": (
        "the test part is scaled with its own statistics: use the training part's mean and std "
        "for both parts"
    ),
    "target_in_window": (
        "the target is the last value inside the window; it must be the value right after it, "
        "series[k + window]"
    ),
    "first_step_output": (
        "the prediction uses the first step's hidden state; the forecast comes from the last "
        "step, out[:, -1]"
    ),
    "batch_first_missing": (
        "the batch was read as time: nn.LSTM expects (T, N, D) unless it is built with "
        "batch_first=True"
    ),
    "no_zero_grad": (
        "the gradients accumulate across epochs: call optimizer.zero_grad() before loss.backward()"
    ),
    "loss_sum": "the loss is summed, not averaged: the MSE is the mean of the squared errors",
    "rmse_without_sqrt": "the square root is missing: RMSE = sqrt(mean((y_hat - y)²))",
    # exercise 10, the project: level-free windows, the baseline, a free-running forecast
    "level_whole_window": (
        "the level is the mean of the whole window; it is the mean of the window's last season, "
        "X[:, -season:]"
    ),
    "target_keeps_level": "the target keeps its level: subtract the window's level from y too",
    "naive_last_value": (
        "the baseline repeats the last value; seasonal naive repeats the last season, "
        "history[-season:]"
    ),
    "naive_first_season": (
        "the baseline repeats the first season; seasonal naive repeats the last one, "
        "history[-season:]"
    ),
    "naive_shifted": (
        "the season is shifted by one: the last season is history[-season:], not "
        "history[-season - 1 : -1]"
    ),
    "forecast_not_free": (
        "the forecast does not run free: feed each prediction back as the next input, and read "
        "nothing after the history (no true future values, no separate guess of later steps)"
    ),
    "forecast_is_naive": (
        "the forecast is the seasonal-naive baseline itself: the project asks for a model that "
        "beats it"
    ),
    "unstable_sigmoid": (
        "an unstable sigmoid: np.exp overflowed. Compute exp only of -|z| (never of a large "
        "positive number) and pick the formula by the sign of z"
    ),
    "forward_difference": (
        "a one-sided difference (f(x + eps) - f(x)) / eps: use the centred difference "
        "(f(x + eps) - f(x - eps)) / (2 * eps), whose error is eps² instead of eps"
    ),
    # exercises 3 and 4: hand-set gates and the half-life (lstm_course.grading.planted_gates)
    "bias_outside_activation": (
        "the bias is added after the activation: it belongs inside, act(W · [h_prev, x_t] + b)"
    ),
    "cue_inverted": (
        "the gate is the wrong way round: f_t near 1 keeps the memory, so without the cue f_t "
        "must be near 1 (a large positive b_f) and the cue must pull it near 0 (a large negative "
        "weight on the cue's column)"
    ),
    "cue_bias_small": (
        "the bias is too small: without the cue only b_f sets the gate, so σ(b_f) must be at "
        "least 0.95 (b_f of about 3 or more)"
    ),
    "cue_weight_weak": (
        "the cue's weight does not pull the gate down enough: at the cue the pre-activation "
        "b_f + w must be about -3 or lower, so w must be negative and larger than b_f + 3"
    ),
    "cue_listens_to_others": (
        "the gate listens to more than the cue: weights on h_prev or on the other features of "
        "x_t move it; leave them at 0"
    ),
    "half_life_sign": (
        "the half-life has the wrong sign: ln f < 0 for f in (0, 1), so k = ln 0.5 / ln f "
        "(= -ln 2 / ln f), not ln 2 / ln f"
    ),
    "half_life_time_constant": (
        "1 / (1 - f) is the memory's time constant (about the steps to fall to 1/e when f is "
        "near 1), not its half-life: solve f^k = 0.5, k = ln 0.5 / ln f"
    ),
    "half_life_rounded": (
        "the half-life is rounded to whole steps: return the exact k = ln 0.5 / ln f, a real "
        "number (a loop that counts steps gives ceil(k))"
    ),
    "half_life_log_bases": (
        "the two logarithms have different bases: k = log 0.5 / log f holds in any base, but "
        "the same base above and below"
    ),
    "half_life_inverted": (
        "the fraction is upside down: f^k = 0.5 gives k = ln 0.5 / ln f, not ln f / ln 0.5"
    ),
    "store_leaks": (
        "the memory leaks while it is held: when the flag is 0 the forget gate must be near 1, "
        "σ(b_f) ≥ 0.99 (b_f of about 5 or more)"
    ),
    "store_keeps_old": (
        "the old memory is not erased when writing: when the flag is 1 the forget gate must be "
        "near 0 (a negative weight on the flag, larger than b_f), or the new value is added to "
        "the old one"
    ),
    "store_writes_always": (
        "the cell writes at every step: when the flag is 0 the input gate must be closed, "
        "σ(b_i) near 0 (a negative b_i, with a positive weight on the flag to open it)"
    ),
    "store_write_weak": (
        "the write is too weak: when the flag is 1 the input gate must be near 1 "
        "(b_i + the flag's weight of about 5 or more)"
    ),
    "store_candidate": (
        "the candidate does not give back the value: C̃_t = tanh(W_c · [h_prev, x_t] + b_c) must "
        "be close to the value, so a weight of about 1 on the value's column (tanh(v) ≈ v for "
        "|v| ≤ 0.5) and 0 on the flag, on h_prev and in b_c"
    ),
    "store_listens_to_h": (
        "the gates or the candidate listen to h_prev: this memory must not depend on it, so "
        "the first column of every W (the one h_prev meets) stays 0"
    ),
    # Exercise 11: temperature, sampling, the loss of a language model on a text.
    "temperature_ignored": (
        "the temperature is not used: divide the logits by it before the softmax, softmax(z / τ)"
    ),
    "temperature_multiplied": (
        "the logits are multiplied by the temperature: divide them, softmax(z / τ), so that "
        "τ < 1 sharpens the distribution"
    ),
    "softmax_no_shift": (
        "a softmax without the max-shift: np.exp overflowed. Subtract the largest logit first "
        "(softmax(z) = softmax(z - max z)), which keeps every exp at most 1"
    ),
    "temperature_zero": (
        "temperature 0 is not handled: τ → 0 is the argmax, so return the most likely "
        "character before dividing by τ"
    ),
    "sample_greedy": (
        "the most likely character is always taken: draw at random from the distribution "
        "(rng.choice(V, p=p)); the argmax is for temperature 0 only"
    ),
    "lm_targets_not_shifted": (
        "the targets are not shifted: the logits after reading character t predict character "
        "t + 1, so compare logits[:-1] with ids[1:]"
    ),
    "lm_first_char": (
        "the first character is predicted too: nothing comes before it, so there are n - 1 "
        "predictions, logits[:-1] against ids[1:] (np.roll wraps the last step round to it)"
    ),
    "lm_log2_for_ln": (
        "log2 where the natural logarithm belongs: the loss in nats uses ln (as F.cross_entropy "
        "does), and bits = nats / ln 2"
    ),
    "lm_bits_conversion": "the conversion to bits is wrong: bits = nats / ln 2 (1 bit = 0.693 nats)",
    "lm_sum": (
        "the loss is summed over the characters, not averaged: take the mean over the n - 1 "
        "predictions"
    ),
    "lm_divided_by_n": "the sum is divided by n, the text's length, not by the n - 1 predictions",
    "lm_softmax_twice": (
        "a softmax before cross_entropy: F.cross_entropy takes the logits and applies "
        "log_softmax itself"
    ),
    # Exercise 12: stacked and bidirectional LSTMs.
    "stacked_reads_x": "every layer reads x: layer 2 must read layer 1's hidden states, not x",
    "stacked_first_layer_only": (
        "the first layer's hidden states are returned: return those of the last layer"
    ),
    "stacked_shared_weights": (
        "every layer uses the first layer's parameters: layer k has its own, layers[k]"
    ),
    "stacked_state_passed": (
        "layer 2 starts from layer 1's final state: every layer starts from zeros"
    ),
    "bidir_not_flipped_back": (
        "the backward outputs are not flipped back: its run on the reversed sequence gives "
        "step t at position T - 1 - t, so flip it along time before concatenating"
    ),
    "bidir_concat_order": (
        "[backward, forward] instead of [forward, backward]: PyTorch puts the forward "
        "direction's H units first"
    ),
    "bidir_not_reversed": (
        "the backward direction does not read the sequence in reverse time: flip x along "
        "axis 1 (time), not axis 0 (batch)"
    ),
    "bidir_shared_weights": (
        "both directions use params_fwd: the backward direction has its own, params_bwd"
    ),
    "bidir_backward_final": (
        "the backward direction's final state is taken after its first step: it ends after "
        "reading x_1, so its final (h, c) is its last state, the one at position 0"
    ),
    # exercise 9: clipping and truncated BPTT (lstm_course.grading.planted_training)
    "clip_norm_after": (
        "the norm after clipping is returned: return the norm measured before clipping "
        "(what clip_grad_norm_ returns, and what you log to choose the threshold)"
    ),
    "grad_norm_sum": (
        "the norms of the gradients are added up: the total norm is the L2 norm of all of them "
        "as one vector, sqrt(sum of their squared norms)"
    ),
    "grad_norm_squared": "the square root is missing: the total norm is sqrt(sum of squares)",
    "grad_norm_largest": (
        "only the largest gradient's norm is taken: the total norm covers all the gradients "
        "together, sqrt(sum of their squared norms)"
    ),
    "clip_per_parameter": (
        "each gradient is clipped on its own: measure one norm over all the gradients together "
        "and scale them all by the same factor max_norm / norm (clipping each tensor apart "
        "changes the direction of the update)"
    ),
    "clip_when_below": (
        "the comparison is inverted: scale the gradients only when their norm is above max_norm"
    ),
    "clip_not_applied": (
        "the update is not clipped: clip after loss.backward() and before optimizer.step(), "
        "in place (p.grad.mul_), so the step uses the clipped gradients"
    ),
    "state_not_detached": (
        "the state is not detached at the chunk boundary: the next chunk's backward pass runs "
        "into the previous chunk's graph (.clone() or a new tuple keeps the graph; .detach() "
        "cuts it)"
    ),
    "detach_only_h": "only h is detached: C still carries the graph, detach both h and C",
    "detach_only_c": "only C is detached: h still carries the graph, detach both h and C",
    "output_detached": (
        "the wrong thing is detached: the loss must keep its graph to the weights; detach only "
        "the state carried into the next chunk"
    ),
    "tbptt_state_not_carried": (
        "the state is not carried: each chunk starts from zeros instead of the (detached) state "
        "the previous chunk ended with"
    ),
    "clip_before_backward": (
        "clip_grad_norm is called before loss.backward(): there are no gradients to measure or "
        "clip yet; call it after backward and before optimizer.step()"
    ),
    "free_run_true_input": (
        "the prediction is not fed back: in free running each step's input is the previous "
        "step's prediction, not a true value"
    ),
    "free_run_state_reset": (
        "the state is not carried through the free-running steps: each step goes on from the "
        "state the previous step ended with"
    ),
    "warmup_state_dropped": (
        "the warm-up's state is dropped: free running goes on from the state the warm-up ended "
        "with (that is what the warm-up is for)"
    ),
    "free_run_off_by_one": (
        "the first prediction is skipped: the warm-up's last output already predicts x_{W+1}, "
        "the first value to return"
    ),
    "no_zero_grad_chunks": (
        "the gradients accumulate across chunks: call optimizer.zero_grad() before each "
        "chunk's loss.backward()"
    ),
}


def describe(key: str) -> str:
    """The sentence for a mistake key; "name:detail" keys add the detail in brackets."""
    name, _, detail = key.partition(":")
    if name in MISTAKES:
        return MISTAKES[name] + (f" ({detail})" if detail else "")
    return key
