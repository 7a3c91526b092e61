"""Wrong answers to ex10_project, and what the feedback must say about each (see __init__)."""

MUTATIONS = [
    ('target-in-window', 'make_windows', 'y = series[window:, None]', 'y = series[window - 1 : -1, None]', 'the target is the last value inside the window'),
    ('test-leak', 'prepare_data', 'mean, std = train.mean(), train.std()', 'mean, std = series.mean(), series.std()', 'the test set leaks into training'),
    ('first-step', 'forecaster', 'self.head(out[:, -1])', 'self.head(out[:, 0])', "the prediction uses the first step's hidden state"),
    ('batch-first-missing', 'forecaster', 'nn.LSTM(1, hidden_size, batch_first=True)', 'nn.LSTM(1, hidden_size)', 'the batch was read as time'),
    ('no-zero-grad', 'train', """        optimizer.zero_grad()
""", '', 'the gradients accumulate across epochs'),
    ('loss-sum', 'train', 'nn.functional.mse_loss(model(X), y)', 'nn.functional.mse_loss(model(X), y, reduction="sum")', 'the loss is summed, not averaged'),
    ('rmse-no-sqrt', 'rmse', 'float(torch.sqrt(nn.functional.mse_loss(model(X), y)))', 'float(nn.functional.mse_loss(model(X), y))', 'the square root is missing'),
]  # fmt: skip

REWRITES = [
    ('own-test-own-stats', 'prepare_data', """
def prepare_data(series, window, train_fraction=0.8):
    s = int(len(series) * train_fraction)
    train, test = series[:s], series[s:]
    X_train, y_train = make_windows((train - train.mean()) / train.std(), window)
    X_test, y_test = make_windows((test - test.mean()) / test.std(), window)
    return X_train, y_train, X_test, y_test, (train.mean(), train.std())
""", 'the test part is scaled with its own statistics'),
]  # fmt: skip

IN_PLACE = [
]  # fmt: skip

CAUSES = [
]  # fmt: skip
