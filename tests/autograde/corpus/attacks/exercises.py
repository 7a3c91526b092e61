"""Attacks on the rules and the reference in ex02, ex06 and ex07, and on the new design's
handling of torch modules (issue 10)."""

from __future__ import annotations

from attacks import (
    attack,
    replace_answer,
    with_answers,
)


# == 13. exercise rules and the reference in ex02, ex06, ex07 =====================================
@attack("reaching the reference through a helper the release gives (ex02)",
        assignment="ex02_lstm_cell", flagged=True)  # fmt: skip
def atk_helper_globals(ctx):
    """ex02's setup imports sigmoid from the reference; the answers reach the whole reference
    package through sigmoid.__module__ and call it."""
    prelude = (
        "import importlib\n\n"
        "_ref = importlib.import_module(sigmoid.__module__.rsplit('.', 1)[0])\n\n\n"
        "def _call(name, *args):\n"
        "    value = getattr(_ref, name)(*args)\n"
        "    if isinstance(value, tuple) and len(value) > 2:\n"
        "        value = value[:2]\n"
        "    return value"
    )
    return ctx.nb(with_answers(ctx, lambda n, p: f"return _call({n!r}, {', '.join(p)})", prelude))


STACK_WITH_PARAMS = '''
def stack_params(params):
    """The answer borrowed from lstm_ref.params, which the sandbox keeps for init_params."""
    from lstm_ref import params as layouts

    return layouts.stack_gates(params)
'''


# stack_params's one test (1 point) follows lstm_cell_forward_fast's answer cell: "less:1".
@attack("exercise rules: ex02's stack_params answered by lstm_ref.params.stack_gates",
        assignment="ex02_lstm_cell", most="less:1", flagged=True)  # fmt: skip
def atk_params_stack_gates(ctx):
    """The solved notebook, but stack_params calls the course's own layout conversion."""
    return ctx.nb(replace_answer(ctx.solved(), "stack_params", STACK_WITH_PARAMS))


WINDOWS_FROM_DATA = '''
def make_windows(series, window):
    """The course's own windows, renamed on import so that no name gives it away."""
    from lstm_ref import data as course_data

    return getattr(course_data, "make_" + "windows")(series, window)
'''


# make_windows's one test (1 point) follows its answer cell; its hidden test is the only other.
@attack("exercise rules: ex10's make_windows answered by lstm_ref.data.make_windows",
        assignment="ex10_project", most="task:make_windows", flagged=True)  # fmt: skip
def atk_data_make_windows(ctx):
    """The solved project, but make_windows calls the course's data module."""
    return ctx.nb(replace_answer(ctx.solved(), "make_windows", WINDOWS_FROM_DATA))


AUTOGRAD_BACKWARD = '''
def lstm_cell_backward(dh_t, dc_t, cache):
    """The gradients by torch's autograd, in a NumPy-only exercise."""
    import torch

    t = lambda a: torch.tensor(a, dtype=torch.float64, requires_grad=True)  # noqa: E731
    p = {k: t(v) for k, v in cache["params"].items()}
    z, c_prev = t(cache["z"]), t(cache["c_prev"])
    a = {g: z @ p["W_" + g].T + p["b_" + g] for g in "fico"}
    c_t = torch.sigmoid(a["f"]) * c_prev + torch.sigmoid(a["i"]) * torch.tanh(a["c"])
    h_t = torch.sigmoid(a["o"]) * torch.tanh(c_t)
    ((h_t * torch.from_numpy(dh_t)).sum() + (c_t * torch.from_numpy(dc_t)).sum()).backward()
    H = c_prev.shape[1]
    dz = z.grad.numpy()
    return dz[:, H:], dz[:, :H], c_prev.grad.numpy(), {k: v.grad.numpy() for k, v in p.items()}
'''


@attack("exercise rules: torch autograd in NumPy-only ex06", assignment="ex06_bptt",
        most="task:lstm_cell_backward", flagged=True)  # fmt: skip
def atk_autograd_backward(ctx):
    """The solved notebook, but lstm_cell_backward is computed by torch autograd."""
    return ctx.nb(replace_answer(ctx.solved(), "lstm_cell_backward", AUTOGRAD_BACKWARD))


WRAP_LSTMCELL = '''
    def forward(self, x, state=None):
        """nn.LSTMCell inside, sharing this cell's parameters."""
        cell = nn.LSTMCell(self.input_size, self.hidden_size).to(x.dtype)
        cell.weight_ih, cell.weight_hh = self.weight_ih, self.weight_hh
        cell.bias_ih, cell.bias_hh = self.bias_ih, self.bias_hh
        return cell(x, state)
'''

VF_LSTM_CELL = '''
    def forward(self, x, state=None):
        """torch's own LSTM kernel, its name built at run time."""
        if state is None:
            zeros = x.new_zeros(x.shape[0], self.hidden_size)
            state = (zeros, zeros)
        kernel = getattr(getattr(torch, "_" + "VF"), "lstm" + "_cell")
        return kernel(x, state, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
'''


def _swap_forward(ctx, forward: str):
    nb = ctx.solved()
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "lstm_cell_module":
            head, _sep, _rest = cell.source.partition("    def forward(")
            cell.source = head + forward.lstrip("\n")
    return nb


@attack("exercise rules: nn.LSTMCell inside the answer (ex07)", assignment="ex07_pytorch",
        most="task:lstm_cell_module", flagged=True)  # fmt: skip
def atk_wraps_lstmcell(ctx):
    """LSTMCellScratch.forward builds an nn.LSTMCell sharing the cell's parameters and calls it."""
    return ctx.nb(_swap_forward(ctx, WRAP_LSTMCELL))


@attack("exercise rules: torch._VF.lstm_cell by a built name (ex07)", assignment="ex07_pytorch",
        most="task:lstm_cell_module", flagged=True)  # fmt: skip
def atk_vf_lstm_cell(ctx):
    """LSTMCellScratch.forward calls torch._VF.lstm_cell, found with getattr on built strings."""
    return ctx.nb(_swap_forward(ctx, VF_LSTM_CELL))


C_LSTM_CELL = '''
    def forward(self, x, state=None):
        """torch's LSTM kernel reached through torch._C, not through torch or torch._VF."""
        if state is None:
            zeros = x.new_zeros(x.shape[0], self.hidden_size)
            state = (zeros, zeros)
        kernels = getattr(getattr(torch, "_" + "C"), "_Variable" + "Functions")
        kernel = getattr(kernels, "ls" + "tm_cell")
        return kernel(x, state, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
'''


@attack("exercise rules: torch._C._VariableFunctions.lstm_cell (ex07)",
        assignment="ex07_pytorch", most="task:lstm_cell_module", flagged=True)  # fmt: skip
def atk_c_lstm_cell(ctx):
    """LSTMCellScratch.forward calls the same kernel as torch.lstm_cell, found on
    torch._C._VariableFunctions by built names (the trap wraps torch.lstm_cell and torch._VF)."""
    return ctx.nb(_swap_forward(ctx, C_LSTM_CELL))


ATEN_LSTM_CELL = '''
    def forward(self, x, state=None):
        """The aten operator behind torch.lstm_cell, through torch.ops by built names."""
        if state is None:
            zeros = x.new_zeros(x.shape[0], self.hidden_size)
            state = (zeros, zeros)
        kernel = getattr(getattr(torch.ops, "at" + "en"), "ls" + "tm_cell")
        return tuple(kernel(x, list(state), self.weight_ih, self.weight_hh, self.bias_ih,
                            self.bias_hh))
'''


@attack("exercise rules: torch.ops.aten.lstm_cell (ex07)", assignment="ex07_pytorch",
        most="task:lstm_cell_module", flagged=True)  # fmt: skip
def atk_aten_lstm_cell(ctx):
    """LSTMCellScratch.forward calls the aten operator lstm_cell through torch.ops, by built
    names: a trap on Python attributes misses it, one on the operators (a dispatch mode) not."""
    return ctx.nb(_swap_forward(ctx, ATEN_LSTM_CELL))


SMUGGLE = '''
import importlib

_transport = importlib.import_module("l" + "stm_course.autograde._transport")
_encode = _transport.Codec.encode
_Torch_cell = getattr(nn, "L" + "STMCell")  # no name the static rule check reads


def _as_torch_cell(self, value, depth=0):
    """The student's cell leaves this process as torch's own cell class, with its parameters:
    on the other side it is rebuilt as a real one, whose forward runs there."""
    if isinstance(value, LSTMCellScratch):
        shadow = _Torch_cell(value.input_size, value.hidden_size)
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            setattr(shadow, name, getattr(value, name))
        return _transport.Codec._module(self, torch, shadow, depth)
    return _encode(self, value, depth)


_transport.Codec.encode = _as_torch_cell
'''


@attack("attacks on the new design: a student object sent as a torch.nn module (ex07)",
        assignment="ex07_pytorch", most="task:lstm_cell_module", flagged=True)  # fmt: skip
def atk_module_smuggle(ctx):
    """LSTMCellScratch without a forward of its own (it raises), and A's encoder patched so that
    the cell crosses as the structure and state of a torch.nn.LSTMCell: rebuilt in the verifier,
    the real nn.LSTMCell runs there, where the no-nn.LSTMCell trap is not."""
    nb = _swap_forward(
        ctx,
        """
    def forward(self, x, state=None):
        raise NotImplementedError("write the body of this function")
""",
    )
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "lstm_cell_module":
            cell.source += "\n\n" + SMUGGLE.strip("\n")
    return ctx.nb(nb)


POISON = '''
    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Zero the tensors the test hands over, in place: they are the test's own reference's
        weights (a state_dict shares their storage), and an edit is written back to them."""
        with torch.no_grad():
            for value in state_dict.values():
                value.zero_()
        return super().load_state_dict(state_dict, strict)

    def forward(self, x, state=None):
        """What every LSTM cell computes when all its weights and biases are zero."""
        c = x.new_zeros(x.shape[0], self.hidden_size) if state is None else state[1]
        c_t = 0.5 * c
        return 0.5 * torch.tanh(c_t), c_t
'''


@attack("attacks on the new design: in-place edits written back into the test's reference (ex07)",
        assignment="ex07_pytorch", most="task:lstm_cell_module", flagged=None)  # fmt: skip
def atk_poison_reference(ctx):
    """load_state_dict zeroes the state dict the test passes (the reference nn.LSTMCell's own
    tensors: tensors are not copied by grading.run, and A's in-place edits are written back into
    V); forward then returns what a cell with zero weights gives, without any LSTM."""
    return ctx.nb(_swap_forward(ctx, POISON))
