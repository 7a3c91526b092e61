"""Wrong answers to ex09_training, and what the feedback must say about each (see __init__)."""

MUTATIONS = [
    ('clip-per-parameter', 'clip_grad_norm', """    if norm > max_norm:
        for g in grads:
            g.mul_(max_norm / norm)  # the same factor for all: the direction stays
""", """    for g in grads:
        g.mul_(min(1.0, max_norm / float(g.norm())))
""", 'each gradient is clipped on its own'),
    ('norm-after-clipping', 'clip_grad_norm', '    return norm', '    return min(norm, max_norm)', 'the norm after clipping is returned'),
    ('clip-when-below', 'clip_grad_norm', 'if norm > max_norm:', 'if norm < max_norm:', 'the comparison is inverted'),
    ('detach-only-h', 'detach_state', 'return tuple(s.detach() for s in state)', 'return state[0].detach(), state[1]', 'only h is detached'),
    ('not-detached', 'train_tbptt', """        state = detach_state(state)  # carried forward, cut from the previous chunk's graph
""", '', 'the state is not detached at the chunk boundary'),
    ('no-zero-grad', 'train_tbptt', """        optimizer.zero_grad()
""", '', 'the gradients accumulate across chunks'),
    ('state-not-carried', 'train_tbptt', 'out, state = lstm(x_chunk, state)', 'out, state = lstm(x_chunk)', 'the state is not carried'),
    ('clip-after-step', 'train_tbptt', """        norms.append(clip_grad_norm(params, math.inf if max_norm is None else max_norm))
        optimizer.step()
""", """        optimizer.step()
        norms.append(clip_grad_norm(params, math.inf if max_norm is None else max_norm))
""", 'the update is not clipped'),
    ('output-detached', 'train_tbptt', 'mse_loss(head(out), y_chunk)', 'mse_loss(head(out.detach()), y_chunk)', 'the wrong thing is detached'),
    ('free-run-true-input', 'free_run', 'out, state = lstm(nxt, state)', 'out, state = lstm(warmup[:, -1:], state)', 'the prediction is not fed back'),
    ('free-run-state-reset', 'free_run', 'out, state = lstm(nxt, state)', 'out, state = lstm(nxt)', 'the state is not carried through the free-running steps'),
]  # fmt: skip

HANDWRITTEN = [
    ('hw-norm-sum', 'clip_grad_norm', """
def clip_grad_norm(parameters, max_norm):
    total = 0.0
    params = [p for p in parameters if p.grad is not None]
    for p in params:
        total += p.grad.norm().item()
    if total > max_norm:
        scale = max_norm / total
        for p in params:
            p.grad *= scale
    return total
""", 'the norms of the gradients are added up'),
    ('hw-clip-each', 'clip_grad_norm', """
def clip_grad_norm(parameters, max_norm):
    norms = []
    for p in parameters:
        if p.grad is None:
            continue
        n = torch.linalg.norm(p.grad)
        norms.append(n)
        if n > max_norm:
            p.grad = p.grad * (max_norm / n)
    return torch.sqrt(sum(n ** 2 for n in norms)).item()
""", 'each gradient is clipped on its own'),
    ('hw-norm-after', 'clip_grad_norm', """
def clip_grad_norm(parameters, max_norm):
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = torch.norm(torch.stack([torch.norm(g) for g in grads]))
    clip_coef = max_norm / (total_norm + 1e-6)
    if clip_coef < 1:
        for g in grads:
            g.mul_(clip_coef)
        total_norm = torch.norm(torch.stack([torch.norm(g) for g in grads]))
    return total_norm.item()
""", 'the norm after clipping is returned'),
    ('hw-detach-h-only', 'detach_state', """
def detach_state(state):
    if state is None:
        return state
    h, c = state
    return (h.detach(), c)
""", 'only h is detached'),
    ('hw-clone', 'detach_state', """
def detach_state(state):
    if state is None:
        return None
    h, c = state
    return h.clone(), c.clone()
""", 'the state is not detached at the chunk boundary'),
    ('hw-no-zero-grad', 'train_tbptt', """
def train_tbptt(lstm, head, x, y, k, lr=0.1, max_norm=None):
    opt = torch.optim.SGD(list(lstm.parameters()) + list(head.parameters()), lr=lr)
    T = x.shape[1]
    hidden = None
    losses, norms = [], []
    t = 0
    while t < T:
        xb = x[:, t:t + k]
        yb = y[:, t:t + k]
        hidden = detach_state(hidden)
        output, hidden = lstm(xb, hidden)
        pred = head(output)
        loss = ((pred - yb) ** 2).mean()
        loss.backward()
        limit = max_norm if max_norm is not None else float("inf")
        g = clip_grad_norm(list(lstm.parameters()) + list(head.parameters()), limit)
        opt.step()
        losses.append(float(loss))
        norms.append(g)
        t += k
    return losses, norms
""", 'the gradients accumulate across chunks'),
    ('hw-fresh-state', 'train_tbptt', """
def train_tbptt(lstm, head, x, y, k, lr=0.1, max_norm=None):
    params = list(lstm.parameters()) + list(head.parameters())
    optimizer = torch.optim.SGD(params, lr)
    losses, norms = [], []
    n_chunks = math.ceil(x.shape[1] / k)
    for i in range(n_chunks):
        xc, yc = x[:, i * k:(i + 1) * k], y[:, i * k:(i + 1) * k]
        optimizer.zero_grad()
        out, _ = lstm(xc)
        loss = nn.MSELoss()(head(out), yc)
        loss.backward()
        norms.append(clip_grad_norm(params, max_norm or math.inf))
        optimizer.step()
        losses.append(loss.item())
    return losses, norms
""", 'the state is not carried'),
    ('hw-retain-graph', 'train_tbptt', """
def train_tbptt(lstm, head, x, y, k, lr=0.1, max_norm=None):
    opt = torch.optim.SGD([*lstm.parameters(), *head.parameters()], lr=lr)
    h = None
    losses, norms = [], []
    for s in range(0, x.size(1), k):
        opt.zero_grad()
        out, h = lstm(x[:, s:s + k], h)
        loss = nn.functional.mse_loss(head(out), y[:, s:s + k])
        loss.backward(retain_graph=True)
        if max_norm is None:
            norms.append(clip_grad_norm([*lstm.parameters(), *head.parameters()], math.inf))
        else:
            norms.append(clip_grad_norm([*lstm.parameters(), *head.parameters()], max_norm))
        opt.step()
        losses.append(loss.item())
    return losses, norms
""", 'the state is not detached at the chunk boundary'),
    ('hw-clip-before-backward', 'train_tbptt', """
def train_tbptt(lstm, head, x, y, k, lr=0.1, max_norm=None):
    params = [p for m in (lstm, head) for p in m.parameters()]
    sgd = torch.optim.SGD(params, lr=lr)
    state = None
    losses, norms = [], []
    for start in range(0, x.shape[1], k):
        state = detach_state(state)
        sgd.zero_grad()
        out, state = lstm(x[:, start:start + k], state)
        loss = nn.functional.mse_loss(head(out), y[:, start:start + k])
        norm = clip_grad_norm(params, max_norm if max_norm else math.inf)
        loss.backward()
        sgd.step()
        losses.append(loss.item())
        norms.append(norm)
    return losses, norms
""", 'clip_grad_norm is called before loss.backward()'),
    ('hw-detach-output', 'train_tbptt', """
def train_tbptt(lstm, head, x, y, k, lr=0.1, max_norm=None):
    parameters = list(lstm.parameters()) + list(head.parameters())
    optim = torch.optim.SGD(parameters, lr=lr)
    state = None
    losses = []
    norms = []
    for start in range(0, x.shape[1], k):
        optim.zero_grad()
        out, state = lstm(x[:, start:start + k], state)
        out = out.detach()
        state = detach_state(state)
        loss = nn.functional.mse_loss(head(out), y[:, start:start + k])
        loss.backward()
        norms.append(clip_grad_norm(parameters, math.inf if max_norm is None else max_norm))
        optim.step()
        losses.append(loss.item())
    return losses, norms
""", 'the wrong thing is detached'),
    ('hw-free-run-skips-first', 'free_run', """
def free_run(lstm, head, warmup, steps):
    preds = []
    with torch.no_grad():
        _, (h, c) = lstm(warmup)
        x_next = head(h[-1]).unsqueeze(1)
        for i in range(steps):
            out, (h, c) = lstm(x_next, (h, c))
            x_next = head(out)
            preds.append(x_next)
    return torch.cat(preds, dim=1)
""", 'the first prediction is skipped'),
    ('hw-free-run-fresh-state', 'free_run', """
def free_run(lstm, head, warmup, steps):
    with torch.no_grad():
        out, _ = lstm(warmup)
        y_hat = head(out[:, -1, :]).view(-1, 1, 1)
        forecast = [y_hat]
        state = None
        for _ in range(steps - 1):
            out, state = lstm(y_hat, state)
            y_hat = head(out)
            forecast.append(y_hat)
    return torch.cat(forecast, 1)
""", "the warm-up's state is dropped"),
]  # fmt: skip
