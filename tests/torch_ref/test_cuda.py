"""The same checks on a GPU: float32 against cuDNN, bfloat16, and nothing on the CPU."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch_testing import assert_close, distinct_biases, flatten_outputs, loss_of

import lstm_ref.torch_ref as tr
from lstm_ref.params import init_params

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


@pytest.fixture(autouse=True)
def exact_matmuls():
    """cuDNN and our matmuls both in full float32 (no TF32) for the comparisons."""
    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before


@pytest.mark.parametrize("impl", ["fast", "eager"])
@pytest.mark.parametrize(
    ("ref_cls", "ours_cls"), [(torch.nn.LSTM, tr.LSTM), (torch.nn.GRU, tr.GRU)]
)
@pytest.mark.parametrize("batch_first", [False, True])
def test_matches_cudnn_in_float32(impl, ref_cls, ours_cls, batch_first):
    torch.manual_seed(0)
    ref = ref_cls(12, 20, num_layers=2, batch_first=batch_first, device="cuda")
    distinct_biases(ref, torch.Generator().manual_seed(0))
    extra = {"impl": impl} if ours_cls is tr.LSTM else {}
    ours = ours_cls(12, 20, num_layers=2, batch_first=batch_first, device="cuda", **extra)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(7, 5, 12, device="cuda", requires_grad=True)
    mine, theirs = flatten_outputs(ours(x)), flatten_outputs(ref(x))
    for k, (a, b) in enumerate(zip(mine, theirs, strict=True)):
        assert a.device.type == "cuda"
        assert_close(f"output {k}", a, b, tol=1e-5)
    g1 = torch.autograd.grad(
        loss_of(mine, torch.Generator().manual_seed(1)), [x, *ours.parameters()]
    )
    g2 = torch.autograd.grad(
        loss_of(theirs, torch.Generator().manual_seed(1)), [x, *ref.parameters()]
    )
    for k, (a, b) in enumerate(zip(g1, g2, strict=True)):
        assert a.device.type == "cuda"
        assert_close(f"gradient {k}", a, b, tol=1e-4)


@pytest.mark.parametrize("fusion", ["none", "compile"])
def test_fast_path_on_cuda_in_bfloat16(fusion):
    torch.manual_seed(1)
    module = tr.LSTM(16, 32, num_layers=2, device="cuda")
    reference = tr.LSTM(16, 32, num_layers=2, device="cuda", impl="eager")
    reference.load_state_dict(module.state_dict())
    module = module.to(torch.bfloat16)
    x = torch.randn(9, 4, 16, device="cuda")
    before = tr.speed.get_fusion()
    tr.speed.set_fusion(fusion)
    try:
        out, (h, c) = module(x.to(torch.bfloat16))
        out.float().sum().backward()
    finally:
        tr.speed.set_fusion(before)
    assert out.dtype == torch.bfloat16 and out.device.type == "cuda"
    assert all(
        p.grad.device.type == "cuda" and p.grad.dtype == torch.bfloat16 for p in module.parameters()
    )
    assert_close("bfloat16 output vs float32", out.float(), reference(x)[0], tol=5e-2)


def test_functions_run_on_cuda_and_agree_with_the_cpu():
    params = {k: torch.from_numpy(v) for k, v in init_params("lstm", 4, 5).items()}
    x = torch.randn(2, 3, 4, dtype=torch.float64)
    cpu = tr.lstm_forward_fast(x, params)[0]
    gpu = tr.lstm_forward_fast(x.cuda(), {k: v.cuda() for k, v in params.items()})[0]
    assert gpu.device.type == "cuda"
    assert_close("hs", gpu.cpu(), cpu, tol=1e-12)


def test_mismatched_devices_cpu_and_cuda():
    with pytest.raises(ValueError, match="input is on cpu but the parameters are on cuda"):
        tr.LSTM(4, 5, device="cuda")(torch.randn(3, 2, 4))


def test_cuda_graphs_agree_with_the_plain_fast_path():
    torch.manual_seed(2)
    module = tr.LSTM(16, 32, num_layers=2, device="cuda")
    x = torch.randn(9, 4, 16, device="cuda")
    out_plain, _ = module(x)
    out_plain.sum().backward()
    grads_plain = [p.grad.clone() for p in module.parameters()]
    module.zero_grad()
    tr.speed.set_cuda_graphs(True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # no silent fallback
            for _ in range(2):  # the second call replays the recorded graphs
                module.zero_grad()
                out_graphed, _ = module(x)
                out_graphed.sum().backward()
    finally:
        tr.speed.set_cuda_graphs(False)
    assert_close("output", out_graphed, out_plain, tol=1e-5)
    for k, (p, g) in enumerate(zip(module.parameters(), grads_plain, strict=True)):
        assert_close(f"gradient {k}", p.grad, g, tol=1e-4)
