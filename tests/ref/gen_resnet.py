#!/usr/bin/python3
"""Golden files for gradscope's resnet / plain family (DESIGN.md section 1), by PyTorch.

The parameters of resnet-8/14 (75-200K numbers) are NOT stored: both this
script and tests/test_golden_conv.c draw every parameter, buffer, input and
label from one exact integer hash (below), so the files hold only what PyTorch
computes: train-mode logits, loss, d loss / d input, every parameter gradient
(in full when it has at most 2048 elements, else as a float64 signature), the
running statistics after that one train forward, and the eval-mode logits and
loss.  See tests/ref/README.md for the exact contents.

Run with Debian's interpreter, from anywhere:
    /usr/bin/python3 tests/ref/gen_resnet.py            # writes next to this script
    /usr/bin/python3 tests/ref/gen_resnet.py --out DIR  # or into DIR

Deterministic: nothing random, one CPU thread, float32.
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

N_BATCH = 4
WIDTH = 16
FULL_MAX = 2048          # gradients up to this many elements are stored in full
N_PICK = 8               # elements of a signature: i = k * numel // 8, k = 0..7
SIG_SEED = 777           # the hash vector a signature dots the gradient with

# name, family, depth, shortcut, block, act, norm, (C, H, W), classes
CONFIGS = [
    ("resnet8_A_post",        "resnet", 8,  "A", "post", "relu", "batch", (1, 12, 12), 10),
    ("resnet8_B_post",        "resnet", 8,  "B", "post", "relu", "batch", (1, 12, 12), 10),
    ("resnet8_A_pre",         "resnet", 8,  "A", "pre",  "relu", "batch", (3, 10, 10), 5),
    ("resnet8_B_pre",         "resnet", 8,  "B", "pre",  "relu", "batch", (1, 12, 12), 10),
    ("resnet14_A_post",       "resnet", 14, "A", "post", "relu", "batch", (1, 12, 12), 10),
    ("resnet14_B_pre",        "resnet", 14, "B", "pre",  "relu", "batch", (1, 12, 12), 10),
    ("plain8_post",           "plain",  8,  "A", "post", "relu", "batch", (1, 12, 12), 10),
    ("plain8_pre",            "plain",  8,  "A", "pre",  "relu", "batch", (1, 12, 12), 10),
    ("resnet8_A_post_nonorm", "resnet", 8,  "A", "post", "relu", "none",  (1, 12, 12), 10),
    ("resnet8_A_post_tanh",   "resnet", 8,  "A", "post", "tanh", "batch", (1, 12, 12), 10),
]


def param_seed(idx):
    return 100 + idx


def input_seed(idx):
    return 500 + idx


# ---------------------------------------------------------------------------
# The shared hash.  tests/test_golden_conv.c has the same functions in C.
#   mix64(z): splitmix64's step: z += 0x9E3779B97F4A7C15, then the finaliser
#   hash(seed, t, i) = mix64(mix64(mix64(seed) ^ t) ^ i)      (all mod 2^64)
#   u(seed, t, i) = (hash >> 40) / 2^24                        in [0, 1), exact
# ---------------------------------------------------------------------------
M64 = 0xFFFFFFFFFFFFFFFF
GOLDEN = 0x9E3779B97F4A7C15
MUL1 = 0xBF58476D1CE4E5B9
MUL2 = 0x94D049BB133111EB


def mix64(z):
    z = (z + GOLDEN) & M64
    z = ((z ^ (z >> 30)) * MUL1) & M64
    z = ((z ^ (z >> 27)) * MUL2) & M64
    return z ^ (z >> 31)


def hash64(seed, t, i):
    return mix64(mix64(mix64(seed) ^ t) ^ i)


# splitmix64's first output for state 0, as published with the algorithm
assert mix64(0) == 0xE220A8397B1DCDAF


def mix64_np(z):
    """Same as mix64 on a uint64 array (numpy's uint64 arithmetic wraps mod 2^64)."""
    z = z + np.uint64(GOLDEN)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(MUL1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(MUL2)
    return z ^ (z >> np.uint64(31))


def hash_np(seed, t, n):
    """hash64(seed, t, i) for i = 0..n-1, as uint64."""
    with np.errstate(over="ignore"):
        base = np.uint64(mix64(mix64(seed) ^ t))
        return mix64_np(base ^ np.arange(n, dtype=np.uint64))


def uniform(seed, t, n):
    """u in [0, 1), float64 (24 bits: exact)."""
    h = hash_np(seed, t, n)
    u = (h >> np.uint64(40)).astype(np.float64) / 16777216.0
    # the vectorised hash must equal the scalar definition
    for i in {0, 1, n // 2, n - 1}:
        assert int(h[i]) == hash64(seed, t, i), (seed, t, i)
    return u


def role_value(name, shape, u):
    """The value of every element from u (float64), rounded to float32 at the end.
    Roles: conv/fc weight: (2u-1) sqrt(3 / fan_in); conv/fc bias: 0.1 (2u-1);
    norm weight: 1 + 0.2 (2u-1); norm bias: 0.1 (2u-1); running_mean: 0.1 (2u-1);
    running_var: 1 + 0.3 u.  fan_in = prod(shape[1:])."""
    leaf = name.rsplit(".", 1)[1]
    module = name.rsplit(".", 1)[0].rsplit(".", 1)[-1]
    is_norm = module in ("bn", "b1", "b2", "proj_bn", "bn_final")
    s = 2.0 * u - 1.0
    if leaf == "running_mean":
        v = 0.1 * s
    elif leaf == "running_var":
        v = 1.0 + 0.3 * u
    elif is_norm and leaf == "weight":
        v = 1.0 + 0.2 * s
    elif is_norm and leaf == "bias":
        v = 0.1 * s
    elif leaf == "weight":
        fan_in = int(np.prod(shape[1:]))
        v = s * math.sqrt(3.0 / fan_in)
    elif leaf == "bias":
        v = 0.1 * s
    else:
        raise ValueError(name)
    return v.astype(np.float32).reshape(shape)


# ---------------------------------------------------------------------------
# The model, DESIGN.md section 1 literally.
# ---------------------------------------------------------------------------
def act_fn(name):
    return {"relu": F.relu, "tanh": torch.tanh}[name]


class Block(nn.Module):
    """Registration order = forward order: post c1 b1 c2 b2 [proj proj_bn];
    pre b1 c1 b2 c2 [proj proj_bn] (as a PyTorch pre-activation block is written)."""

    def __init__(self, cin, cout, stride, pre, bn, residual, shortcut):
        super().__init__()
        self.pre, self.residual, self.shortcut = pre, residual, shortcut
        self.stride, self.cin, self.cout = stride, cin, cout
        bias = not bn
        if pre:
            self.b1 = nn.BatchNorm2d(cin) if bn else None
            self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=bias)
            self.b2 = nn.BatchNorm2d(cout) if bn else None
            self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=bias)
        else:
            self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=bias)
            self.b1 = nn.BatchNorm2d(cout) if bn else None
            self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=bias)
            self.b2 = nn.BatchNorm2d(cout) if bn else None
        self.change = cin != cout or stride != 1
        if residual and self.change and shortcut == "B":
            self.proj = nn.Conv2d(cin, cout, 1, stride, 0, bias=False)
            self.proj_bn = nn.BatchNorm2d(cout)

    def S(self, h):
        if not self.change:
            return h
        if self.shortcut == "B":
            return self.proj_bn(self.proj(h))
        h = h[:, :, ::self.stride, ::self.stride]
        p = (self.cout - self.cin) // 2
        assert 2 * p == self.cout - self.cin
        return F.pad(h, (0, 0, 0, 0, p, p))

    def forward(self, h, act):
        N = (lambda m, x: x if m is None else m(x))
        if self.pre:
            z = self.c2(act(N(self.b2, self.c1(act(N(self.b1, h))))))
            return z + self.S(h) if self.residual else z
        z = N(self.b2, self.c2(act(N(self.b1, self.c1(h)))))
        return act(z + self.S(h)) if self.residual else act(z)


class CifarNet(nn.Module):
    def __init__(self, family, depth, shortcut, block, act, norm, in_ch, classes, width):
        super().__init__()
        assert (depth - 2) % 6 == 0
        n = (depth - 2) // 6
        bn = norm == "batch"
        self.pre = block == "pre"
        self.act = act_fn(act)
        self.conv = nn.Conv2d(in_ch, width, 3, 1, 1, bias=not bn)
        self.bn = nn.BatchNorm2d(width) if bn and not self.pre else None
        blocks = []
        c = width
        for stage in range(3):
            for i in range(n):
                o = width << stage
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(Block(c, o, stride, self.pre, bn, family == "resnet", shortcut))
                c = o
        self.blocks = nn.ModuleList(blocks)
        self.bn_final = nn.BatchNorm2d(c) if bn and self.pre else None
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        act = self.act
        h = self.conv(x)
        if not self.pre:
            h = act(self.bn(h) if self.bn is not None else h)
        for b in self.blocks:
            h = b(h, act)
        if self.pre:
            h = act(self.bn_final(h) if self.bn_final is not None else h)
        return self.fc(h.mean(dim=(2, 3)))


# ---------------------------------------------------------------------------
def signature(g, t):
    """float64 [sum, sum of squares, dot with hash vector (seed 777, tensor t, 2u-1),
    sum |g|, max |g|, g[k * numel // 8] for k = 0..7] of a float32 gradient."""
    g = g.reshape(-1).astype(np.float64)
    n = g.size
    hv = 2.0 * uniform(SIG_SEED, t, n) - 1.0
    picks = [g[k * n // N_PICK] for k in range(N_PICK)]
    return np.array([g.sum(), (g * g).sum(), (g * hv).sum(), np.abs(g).sum(),
                     np.abs(g).max()] + picks, dtype=np.float64)


def fill(model, seed, order):
    state = model.state_dict()
    with torch.no_grad():
        for t, name in enumerate(order):
            shape = tuple(state[name].shape)
            n = int(np.prod(shape))
            state[name].copy_(torch.from_numpy(role_value(name, shape, uniform(seed, t, n))))


def run(model, x0, y, dtype):
    """Train-mode forward/backward; returns logits, loss, grad input, grads, buffers."""
    model.train()
    x = x0.clone().to(dtype).requires_grad_(True)
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    model.zero_grad(set_to_none=True)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    return logits.detach(), loss.detach(), x.grad.detach(), grads


def generate(idx, cfg):
    name, family, depth, shortcut, block, act, norm, (C, H, W), classes = cfg
    model = CifarNet(family, depth, shortcut, block, act, norm, C, classes, WIDTH)
    # gradscope keeps no num_batches_tracked: the order (and the hash's tensor index) skips it
    order = [k for k in model.state_dict() if not k.endswith("num_batches_tracked")]
    pseed, xseed = param_seed(idx), input_seed(idx)
    fill(model, pseed, order)
    init = {k: v.detach().clone() for k, v in model.state_dict().items()}
    n_in = N_BATCH * C * H * W
    x0 = torch.from_numpy((2.0 * uniform(xseed, 0, n_in) - 1.0).astype(np.float32)
                          .reshape(N_BATCH, C, H, W))
    yh = hash_np(xseed, 1, N_BATCH)
    y = torch.from_numpy(((yh >> np.uint64(40)) % np.uint64(classes)).astype(np.int64))
    for i in range(N_BATCH):
        assert int(y[i]) == (hash64(xseed, 1, i) >> 40) % classes

    out = {"input": x0, "labels": y}
    logits, loss, gx, grads = run(model, x0, y, torch.float32)
    out["logits"] = logits.clone()
    out["loss"] = loss.reshape(1).clone()
    out["grad.input"] = gx.clone()
    trainable = [n for n, _ in model.named_parameters()]
    t_of = {n: t for t, n in enumerate(order)}
    nfull = nsig = 0
    for n in trainable:
        g = grads[n]
        if g.numel() <= FULL_MAX:
            out["grad." + n] = g.clone()
            nfull += 1
        else:
            out["gsig." + n] = torch.from_numpy(signature(g.numpy(), t_of[n]))
            nsig += 1
    state = model.state_dict()
    for n in order:
        if n.endswith(("running_mean", "running_var")):
            out["train_fwd." + n] = state[n].detach().clone()
    out["init.sum"] = torch.tensor([float(init[n].double().sum()) for n in order],
                                   dtype=torch.float64)

    model.load_state_dict(init)
    model.eval()
    with torch.no_grad():
        el = model(x0)
        out["eval.logits"] = el.clone()
        out["eval.loss"] = F.cross_entropy(el, y).reshape(1).clone()

    # float64 twin: how far float32 PyTorch is from the exact answer (printed only)
    m64 = CifarNet(family, depth, shortcut, block, act, norm, C, classes, WIDTH).double()
    m64.load_state_dict({k: (v.double() if v.is_floating_point() else v) for k, v in init.items()})
    l64, _, gx64, g64 = run(m64, x0, y, torch.float64)
    # worst |float32 - float64|, relative to the largest |value| of the tensor (gradients:
    # of all gradients, since some are exactly zero in exact arithmetic, e.g. a proj_bn.bias
    # whose every consumer is a batch norm)
    gmax = max(float(g.abs().max()) for g in g64.values())
    err = lambda a, b, s: float((a.double() - b).abs().max()) / s
    worst = max([err(logits, l64, float(l64.abs().max())), err(gx, gx64, float(gx64.abs().max()))]
                + [err(grads[n], g64[n], gmax) for n in trainable])

    config = {"family": family, "depth": depth, "width": WIDTH, "classes": classes,
              "in_channels": C, "in_height": H, "in_width": W, "shortcut": shortcut,
              "block": block, "act": act, "norm": norm, "loss": "ce"}
    meta = {
        "config": json.dumps(config),
        "param_order": json.dumps(order),
        "hash": json.dumps({
            "mix64": "z += 0x9E3779B97F4A7C15; z = (z ^ z>>30) * 0xBF58476D1CE4E5B9; "
                     "z = (z ^ z>>27) * 0x94D049BB133111EB; z ^= z>>31 (mod 2^64)",
            "hash": "h(seed, t, i) = mix64(mix64(mix64(seed) ^ t) ^ i); u = (h >> 40) / 2^24",
            "params": "seed %d, t = index in param_order, i = flat C-order index; "
                      "value (double, then rounded to float32): conv/fc weight (2u-1)*sqrt(3/fan_in), "
                      "conv/fc bias 0.1(2u-1), norm weight 1+0.2(2u-1), norm bias 0.1(2u-1), "
                      "running_mean 0.1(2u-1), running_var 1+0.3u" % pseed,
            "param_seed": pseed, "input_seed": xseed,
            "input": "x[i] = float32(2u-1) with seed %d, t = 0, i = flat (N,C,H,W) index" % xseed,
            "labels": "y[i] = (h(%d, 1, i) >> 40) %% classes" % xseed,
            "signature": "gsig.<p> F64 [sum, sum g^2, sum g*(2u-1) with seed %d and t = index of p, "
                         "sum |g|, max |g|, g[k*numel//8] k=0..7]" % SIG_SEED,
        }),
        "batch": str(N_BATCH),
        "full_max": str(FULL_MAX),
        "generator": "tests/ref/gen_resnet.py",
        "torch_version": torch.__version__,
    }
    return name, out, meta, (nfull, nsig, worst)


DTYPES = {torch.float32: ("F32", "<f4"), torch.float64: ("F64", "<f8"),
          torch.int64: ("I64", "<i8")}


def write_safetensors(path, tensors, metadata):
    """8-byte LE header length, JSON header padded with spaces to a multiple
    of 8, then raw little-endian data in insertion order."""
    header = {}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        dtype, npdt = DTYPES[t.dtype]
        data = np.ascontiguousarray(t.detach().cpu().numpy()).astype(npdt).tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = metadata
    hj = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hj += b" " * ((-len(hj)) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__")
    base = 8 + n
    out = {}
    for name, h in header.items():
        npdt = {"F32": "<f4", "F64": "<f8", "I64": "<i8"}[h["dtype"]]
        b, e = h["data_offsets"]
        out[name] = np.frombuffer(raw[base + b:base + e], dtype=npdt).reshape(h["shape"])
    return out, meta


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    for idx, cfg in enumerate(CONFIGS):
        name, tensors, meta, (nfull, nsig, worst) = generate(idx, cfg)
        path = os.path.join(args.out, "resnet_%s.safetensors" % name)
        write_safetensors(path, tensors, meta)
        back, meta_back = read_safetensors(path)
        for k, t in tensors.items():
            if not np.array_equal(back[k], t.numpy()):
                sys.exit("read-back mismatch in %s: %s" % (path, k))
        assert meta_back == meta
        size = os.path.getsize(path)
        if size >= 40 * 1024:
            sys.exit("%s is %d bytes, over the 40 KB budget" % (path, size))
        print("%-40s %6d bytes  %3d tensors  %2d full grads  %2d signatures  loss %.6f  "
              "eval %.6f  float32 vs float64 worst %.2g"
              % (os.path.basename(path), size, len(tensors), nfull, nsig,
                 tensors["loss"].item(), tensors["eval.loss"].item(), worst), file=sys.stderr)


if __name__ == "__main__":
    main()
