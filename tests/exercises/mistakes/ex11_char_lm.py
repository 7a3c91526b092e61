"""Wrong answers to ex11_char_lm, and what the feedback must say about each (see __init__)."""

MUTATIONS = [
    ('no-temperature', 'softmax_temperature', 'z = z / temperature', 'z = z', 'the temperature is not used'),
    ('temperature-multiplied', 'softmax_temperature', 'z = z / temperature', 'z = z * temperature', 'the logits are multiplied by the temperature'),
    ('softmax-no-shift', 'softmax_temperature', 'e = np.exp(z - z.max())', 'e = np.exp(z)', 'a softmax without the max-shift'),
    ('greedy-sampler', 'sample_next', 'return int(rng.choice(len(p), p=p))', 'return int(np.argmax(p))', 'the most likely character is always taken'),
    ('targets-not-shifted', 'text_loss', 'F.cross_entropy(logits[0], ids[1:])', 'F.cross_entropy(logits[0], ids[:-1])', 'the targets are not shifted'),
    ('first-char-predicted', 'text_loss', 'logits, _ = model(ids[None, :-1])  # (1, n - 1, V)\n        nats = F.cross_entropy(logits[0], ids[1:]).item()', 'logits, _ = model(ids[None])\n        nats = F.cross_entropy(logits[0], ids.roll(-1)).item()', 'the first character is predicted too'),
    ('log2-for-ln', 'text_loss', 'nats = F.cross_entropy(logits[0], ids[1:]).item()', 'nats = F.cross_entropy(logits[0], ids[1:]).item() / math.log(2)', 'log2 where the natural logarithm belongs'),
    ('loss-summed', 'text_loss', 'F.cross_entropy(logits[0], ids[1:])', 'F.cross_entropy(logits[0], ids[1:], reduction="sum")', 'the loss is summed over the characters'),
    ('bits-multiplied', 'text_loss', 'return nats, nats / math.log(2)', 'return nats, nats * math.log(2)', 'the conversion to bits is wrong'),
]  # fmt: skip

# Written by hand the way students write them (not edits of the solution), one mistake each.
HANDWRITTEN = [
    ('hw-softmax-no-tau', 'softmax_temperature', '''
def softmax_temperature(logits, temperature):
    if temperature < 0 or np.isnan(temperature):
        raise ValueError("temperature must be >= 0")
    if temperature == 0:
        out = np.zeros(len(logits))
        out[logits.argmax()] = 1
        return out
    shifted = logits - np.max(logits)
    exps = np.exp(shifted)
    return exps / np.sum(exps)
''', 'the temperature is not used'),
    ('hw-softmax-overflow', 'softmax_temperature', '''
def softmax_temperature(logits, temperature):
    if not (temperature >= 0):
        raise ValueError(f"bad temperature: {temperature}")
    if temperature == 0:
        return np.eye(len(logits))[np.argmax(logits)]
    scaled = np.exp(np.asarray(logits) / temperature)
    return scaled / scaled.sum()
''', 'a softmax without the max-shift'),
    ('hw-softmax-times-tau', 'softmax_temperature', '''
def softmax_temperature(logits, temperature):
    if temperature < 0 or temperature != temperature:
        raise ValueError("temperature must be non-negative")
    if temperature == 0:
        probs = np.zeros_like(logits, dtype=float)
        probs[np.argmax(logits)] = 1.0
        return probs
    z = logits * temperature
    z = z - z.max()
    return np.exp(z) / np.exp(z).sum()
''', 'the logits are multiplied by the temperature'),
    ('hw-softmax-zero', 'softmax_temperature', '''
def softmax_temperature(logits, temperature):
    if temperature < 0 or np.isnan(temperature):
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    z = np.array(logits, dtype=float) / temperature
    z -= z.max()
    p = np.exp(z)
    return p / p.sum()
''', 'temperature 0 is not handled'),
    ('hw-sample-greedy', 'sample_next', '''
def sample_next(logits, temperature, rng):
    probs = softmax_temperature(logits, temperature)
    best = np.argmax(probs)
    return int(best)
''', 'the most likely character is always taken'),
    ('hw-loss-sum', 'text_loss', '''
def text_loss(model, text, vocab):
    x = torch.tensor(encode(text, vocab), dtype=torch.long)
    logits, _ = model(x[:-1].unsqueeze(0))
    logp = torch.log_softmax(logits[0], dim=-1)
    total = 0.0
    for t in range(len(x) - 1):
        total -= logp[t, x[t + 1]].item()
    return total, total / math.log(2)
''', 'the loss is summed over the characters'),
    ('hw-loss-roll', 'text_loss', '''
def text_loss(model, text, vocab):
    ids = torch.from_numpy(encode(text, vocab))
    targets = torch.roll(ids, -1)
    with torch.no_grad():
        out, _ = model(ids.unsqueeze(0))
    loss = F.cross_entropy(out.squeeze(0), targets)
    return loss.item(), loss.item() / np.log(2)
''', 'the first character is predicted too'),
    ('hw-loss-log2', 'text_loss', '''
def text_loss(model, text, vocab):
    ids = encode(text, vocab)
    with torch.no_grad():
        logits = model(torch.tensor(ids[:-1]).view(1, -1))[0][0].numpy()
    logits = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    p_next = probs[np.arange(len(ids) - 1), ids[1:]]
    nats = float(-np.mean(np.log2(p_next)))
    return nats, float(nats / np.log(2))
''', 'log2 where the natural logarithm belongs'),
    ('hw-loss-softmax-twice', 'text_loss', '''
def text_loss(model, text, vocab):
    ids = torch.tensor(encode(text, vocab))
    logits, _ = model(ids[None, :-1])
    probs = torch.softmax(logits[0], dim=1)
    loss = F.cross_entropy(probs, ids[1:])
    return float(loss), float(loss) / math.log(2)
''', 'a softmax before cross_entropy'),
    ('hw-loss-not-shifted', 'text_loss', '''
def text_loss(model, text, vocab):
    ids = encode(text, vocab)
    inp = torch.tensor(ids).unsqueeze(0)
    with torch.no_grad():
        logits, _ = model(inp)
    nats = F.cross_entropy(logits[0, 1:], inp[0, 1:]).item()
    return nats, nats / math.log(2)
''', 'the targets are not shifted'),
    ('hw-loss-char-by-char', 'text_loss', '''
def text_loss(model, text, vocab):
    ids = encode(text, vocab)
    losses = []
    for t in range(len(ids) - 1):
        logits, _ = model(torch.tensor([[ids[t]]]))
        losses.append(F.cross_entropy(logits[0], torch.tensor([ids[t + 1]])).item())
    nats = sum(losses) / len(losses)
    return nats, nats / math.log(2)
''', 'the state is not carried'),
]  # fmt: skip
