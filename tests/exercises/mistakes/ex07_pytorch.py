"""Wrong answers to ex07_pytorch, and what the feedback must say about each (see __init__)."""

MUTATIONS = [
    ('gate-order', 'lstm_cell_module', 'i, f, g, o = gates.chunk(4, dim=1)', 'f, i, g, o = gates.chunk(4, dim=1)', 'gates in the wrong order'),
    ('one-bias', 'lstm_cell_module', ' + h @ self.weight_hh.T + self.bias_hh', ' + h @ self.weight_hh.T', 'one of the two biases is missing'),
    ('sigmoid-candidate', 'lstm_cell_module', 'torch.tanh(g)', 'torch.sigmoid(g)', 'a sigmoid where tanh belongs'),
    ('c-not-tanh-c', 'lstm_cell_module', 'h_t = o * torch.tanh(c_t)', 'h_t = o * c_t', 'c_t where tanh(c_t) belongs'),
    ('normal-init', 'lstm_cell_module', 'nn.init.uniform_(p, -bound, bound)', 'nn.init.normal_(p)', "the initialisation is not PyTorch's"),
    ('state-not-carried', 'run_sequence', """state = cell(x[:, t], state)
        hs.append(state[0])""", """h_t, c_t = cell(x[:, t], state)
        hs.append(h_t)""", 'the state is not carried'),
]  # fmt: skip

REWRITES = [
    ('own-one-bias', 'lstm_cell_module', """
class LSTMCellScratch(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        k = 1 / math.sqrt(hidden_size)
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size).uniform_(-k, k))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size).uniform_(-k, k))
        self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size).uniform_(-k, k))
        self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size).uniform_(-k, k))

    def forward(self, x, state=None):
        if state is None:
            state = (x.new_zeros(len(x), self.hidden_size), x.new_zeros(len(x), self.hidden_size))
        h, c = state
        a = nn.functional.linear(x, self.weight_ih, self.bias_ih) + nn.functional.linear(h, self.weight_hh)
        i, f, g, o = a.chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c
""", 'one of the two biases is missing'),
]  # fmt: skip

HANDWRITTEN = [
    ('hw-slices-f-first', 'lstm_cell_module', '''
class LSTMCellScratch(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.weight_ih = nn.Parameter(torch.zeros(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.zeros(4 * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.zeros(4 * hidden_size))
        self.bias_hh = nn.Parameter(torch.zeros(4 * hidden_size))
        self.reset_parameters()

    def reset_parameters(self):
        std = 1.0 / math.sqrt(self.hidden_size)
        for w in self.parameters():
            w.data.uniform_(-std, std)

    def forward(self, x, state=None):
        H = self.hidden_size
        if state is None:
            h = torch.zeros(x.size(0), H, dtype=x.dtype, device=x.device)
            c = torch.zeros(x.size(0), H, dtype=x.dtype, device=x.device)
        else:
            h, c = state
        a = torch.mm(x, self.weight_ih.t()) + torch.mm(h, self.weight_hh.t()) + self.bias_ih + self.bias_hh
        f = torch.sigmoid(a[:, :H])
        i = torch.sigmoid(a[:, H:2 * H])
        g = torch.tanh(a[:, 2 * H:3 * H])
        o = torch.sigmoid(a[:, 3 * H:])
        c_new = f * c + i * g
        return o * torch.tanh(c_new), c_new
''', 'gates in the wrong order'),
    ('hw-addmm-one-bias', 'lstm_cell_module', '''
class LSTMCellScratch(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.weight_ih = nn.Parameter(torch.Tensor(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.Tensor(4 * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.Tensor(4 * hidden_size))
        self.bias_hh = nn.Parameter(torch.Tensor(4 * hidden_size))
        self.reset_parameters()

    def reset_parameters(self):
        k = math.sqrt(1 / self.hidden_size)
        for param in self.parameters():
            nn.init.uniform_(param, -k, k)

    def forward(self, x, state=None):
        if state is None:
            z = torch.zeros(x.shape[0], self.hidden_size, dtype=x.dtype)
            state = (z, z.clone())
        h, c = state
        pre = torch.addmm(self.bias_ih, x, self.weight_ih.t()) + h @ self.weight_hh.t()
        i, f, g, o = torch.split(pre, self.hidden_size, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c
''', 'one of the two biases is missing'),
    ('hw-all-sigmoid', 'lstm_cell_module', '''
import torch.nn.functional as F

class LSTMCellScratch(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        H, D = hidden_size, input_size
        self.weight_ih = nn.Parameter(torch.empty(4 * H, D))
        self.weight_hh = nn.Parameter(torch.empty(4 * H, H))
        self.bias_ih = nn.Parameter(torch.empty(4 * H))
        self.bias_hh = nn.Parameter(torch.empty(4 * H))
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-bound, bound)

    def forward(self, x, state=None):
        N = x.shape[0]
        h, c = state if state is not None else (x.new_zeros(N, self.hidden_size), x.new_zeros(N, self.hidden_size))
        acts = torch.sigmoid(F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh))
        i, f, g, o = acts.chunk(4, dim=1)
        c_next = f * c + i * g
        h_next = o * torch.tanh(c_next)
        return h_next, c_next
''', 'a sigmoid where tanh belongs'),
    ('hw-h-is-o-times-c', 'lstm_cell_module', '''
class LSTMCellScratch(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size))
        self.reset_parameters()

    def reset_parameters(self):
        for weight in self.parameters():
            nn.init.uniform_(weight, -self.hidden_size ** -0.5, self.hidden_size ** -0.5)

    def forward(self, x, state=None):
        if state is None:
            state = (torch.zeros(len(x), self.hidden_size).to(x), torch.zeros(len(x), self.hidden_size).to(x))
        h_prev, c_prev = state
        gates = x @ self.weight_ih.T + h_prev @ self.weight_hh.T + self.bias_ih + self.bias_hh
        in_gate, forget_gate, cell_gate, out_gate = gates.chunk(4, 1)
        c_t = torch.sigmoid(forget_gate) * c_prev + torch.sigmoid(in_gate) * torch.tanh(cell_gate)
        h_t = torch.sigmoid(out_gate) * c_t
        return h_t, c_t
''', 'c_t where tanh(c_t) belongs'),
    ('hw-xavier-init', 'lstm_cell_module', '''
class LSTMCellScratch(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size))
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.xavier_uniform_(self.weight_ih)
        nn.init.xavier_uniform_(self.weight_hh)
        nn.init.zeros_(self.bias_ih)
        nn.init.zeros_(self.bias_hh)

    def forward(self, x, state=None):
        if state is None:
            zeros = x.new_zeros(x.shape[0], self.hidden_size)
            state = (zeros, zeros)
        h, c = state
        z = x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh
        i, f, g, o = z.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c
''', "the initialisation is not PyTorch's"),
    ('hw-loop-same-state', 'run_sequence', '''
def run_sequence(cell, x, state=None):
    outputs = []
    for t in range(x.size(1)):
        h, c = cell(x[:, t, :], state)
        outputs.append(h)
    return torch.stack(outputs, 1), (h, c)
''', 'the state is not carried'),
    ('hw-loop-starts-from-zero', 'run_sequence', '''
def run_sequence(cell, x, state=None):
    N, T, _ = x.shape
    hs = []
    current = None
    for t in range(T):
        current = cell(x[:, t], current)
        hs.append(current[0])
    return torch.stack(hs, dim=1), current
''', 'the initial state is ignored'),
]  # fmt: skip

CAUSES = [
    ('gate-order', 'Your LSTMCellScratch is wrong'),
    ('c-not-tanh-c', 'Your LSTMCellScratch is wrong'),
]  # fmt: skip
