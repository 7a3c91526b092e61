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

IN_PLACE = [
]  # fmt: skip

CAUSES = [
]  # fmt: skip
