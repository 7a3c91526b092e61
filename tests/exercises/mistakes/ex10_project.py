"""Wrong answers to ex10_project, and what the feedback must say about each (see __init__)."""

MUTATIONS = [
    ('target-in-window', 'make_windows', 'y = series[window:, None]', 'y = series[window - 1 : -1, None]', 'the target is the last value inside the window'),
    ('test-leak', 'prepare_data', 'scale = X[:n].std()', 'scale = X.std()', 'the test set leaks into training'),
    ('val-own-stats', 'prepare_data', 'X[n:] / scale, y[n:] / scale', 'X[n:] / X[n:].std(), y[n:] / X[n:].std()', 'the test part is scaled with its own statistics'),
    ('level-whole-window', 'prepare_data', 'level = X[:, -season:].mean(axis=1, keepdims=True)', 'level = X.mean(axis=1, keepdims=True)', 'the level is the mean of the whole window'),
    ('target-keeps-level', 'prepare_data', 'X, y = X - level, y - level[:, 0]', 'X, y = X - level, y', 'the target keeps its level'),
    ('naive-last-value', 'seasonal_naive', 'np.resize(last, horizon)', 'np.full(horizon, last[-1])', 'the baseline repeats the last value'),
    ('forecast-peeks', 'forecast', 'values.append(predictions[-1])', 'values.append(SALES[len(values)])', 'the forecast does not run free'),
]  # fmt: skip

REWRITES = [
    ('forecast-is-naive', 'forecast', """
def forecast(model, history, horizon):
    last_year = np.asarray(history)[-SEASON:]
    return np.array([last_year[k % SEASON] for k in range(horizon)])
""", 'the forecast is the seasonal-naive baseline itself'),
]  # fmt: skip

# Answers written by hand the way students write them (not edits of the solution), one mistake
# each: (student id, solution cell, the student's whole cell, what "Likely mistake:" must say).
HANDWRITTEN = [
    ('hw-windows-list-last-inside', 'make_windows', """
def make_windows(series, window):
    xs, ys = [], []
    for i in range(len(series) - window):
        chunk = series[i : i + window]
        xs.append(chunk)
        ys.append(chunk[-1])
    return np.array(xs).reshape(-1, window, 1), np.array(ys).reshape(-1, 1)
""", 'the target is the last value inside the window'),
    ('hw-prep-std-of-everything', 'prepare_data', """
def prepare_data(series, window, n_train, season=12):
    X, y = make_windows(series, window)
    lv = np.mean(X[:, len(X[0]) - season :, 0], axis=1).reshape(-1, 1)
    X = X - lv[:, :, None]
    y = y - lv
    s = np.std(X)
    cut = n_train - window
    return X[:cut] / s, y[:cut] / s, X[cut:] / s, y[cut:] / s, s
""", 'the test set leaks into training'),
    ('hw-prep-whole-window-mean', 'prepare_data', """
def prepare_data(series, window, n_train, season=12):
    X, y = make_windows(series, window)
    means = X.mean(axis=(1, 2))
    X = X - means[:, None, None]
    y = y - means[:, None]
    k = n_train - window
    sd = X[:k].std()
    return X[:k] / sd, y[:k] / sd, X[k:] / sd, y[k:] / sd, sd
""", 'the level is the mean of the whole window'),
    ('hw-prep-raw-target', 'prepare_data', """
def prepare_data(series, window, n_train, season=12):
    X, y = make_windows(series, window)
    for k in range(len(X)):
        X[k] = X[k] - X[k, -season:].mean()
    k = n_train - window
    sd = float(np.std(X[:k]))
    return X[:k] / sd, y[:k] / sd, X[k:] / sd, y[k:] / sd, sd
""", 'the target keeps its level'),
    ('hw-naive-first-year', 'seasonal_naive', """
def seasonal_naive(history, horizon, season=12):
    reps = horizon // season + 1
    return np.tile(history[:season], reps)[:horizon]
""", 'the baseline repeats the first season'),
    ('hw-naive-last-value', 'seasonal_naive', """
def seasonal_naive(history, horizon, season=12):
    return np.array([history[-1]] * horizon)
""", 'the baseline repeats the last value'),
    ('hw-naive-off-by-one', 'seasonal_naive', """
def seasonal_naive(history, horizon, season=12):
    n = len(history)
    last = history[n - season - 1 : n - 1]
    return np.array([last[i % season] for i in range(horizon)])
""", 'the season is shifted by one'),
    ('hw-forecast-teacher-forced', 'forecast', """
def forecast(model, history, horizon):
    out = []
    start = len(history)
    for t in range(horizon):
        seq = np.concatenate([history, SALES[start : start + t]])[-model.window :]
        lvl = seq[-SEASON:].mean()
        inp = torch.tensor((seq - lvl) / model.scale, dtype=torch.float32).view(1, -1, 1)
        with torch.no_grad():
            out.append(lvl + model(inp).item() * model.scale)
    return np.array(out)
""", 'the forecast does not run free'),
    ('hw-forecast-repeats-last-year', 'forecast', """
def forecast(model, history, horizon):
    return np.tile(history[-12:], horizon // 12 + 1)[:horizon]
""", 'the forecast is the seasonal-naive baseline itself'),
]  # fmt: skip
