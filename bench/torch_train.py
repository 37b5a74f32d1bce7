#!/usr/bin/python3
"""PyTorch peer for gradscope's mlp training benchmark (DESIGN.md sections 1 and 7).

Trains the mlp family (stem Linear(784, W), D hidden Linear(W, W), head Linear(W, 10);
plain, post or pre residual blocks; optional BatchNorm) with SGD (lr 0.01, momentum 0.9)
and mean softmax cross-entropy on random data, and prints exactly one line on stdout:

    samples_per_s <float>

counting only the --steps steps after --warmup untimed ones. Everything else goes to stderr.

Run PyTorch at its best (see DESIGN.md section 7); bench/run.sh does this:

    OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 \
    MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 \
    /usr/bin/python3 bench/torch_train.py --depth 50 --width 256 --skip 0 --act sigmoid \
        --norm none --batch 128 --steps 200 --warmup 20 --threads 1

- OMP_WAIT_POLICY=PASSIVE: torch's OpenMP workers sleep instead of spinning, so they do not
  fight OpenBLAS's threads for the two cores.
- OPENBLAS_NUM_THREADS=1: Debian's torch calls OpenBLAS (pthread build) for every Linear;
  OpenBLAS keeps its own thread pool, separate from torch.set_num_threads.
- MALLOC_*_THRESHOLD_=1 GiB: keeps glibc from mmapping (and faulting in) every 128 KB
  activation each step.
- --threads sets torch.set_num_threads (intra-op OpenMP threads; default 1).
- OPENBLAS_CORETYPE (the environment sets Haswell, an AVX2 kernel) picks OpenBLAS's sgemm
  kernel; unset it (env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE) to get the AVX-512 one.

--probe collects, at every timed step, the PyTorch equivalents of gradscope's per-step instruments
(DESIGN.md section 2), done the way a PyTorch user would (hooks, then .item() into a dict as a
logger would): after backward, for every parameter p: p.grad.norm(), p.norm() and the update
ratio ||p_after - p_before|| / ||p_before|| (a copy of the parameters is kept before opt.step());
forward hooks on every activation module (the activations become nn.Sigmoid / nn.Tanh / nn.ReLU
modules under --probe, since forward hooks need modules) recording the output's mean, std and
saturated fraction (derivative below 5% of its maximum: sigmoid y(1-y) < 0.0125, tanh
1-y^2 < 0.05, relu y == 0), and tensor.register_hook on each activation output recording
||dL/dh||; for residual nets, register_hook on each block input (and the last block's output)
for the norm ratio ||dL/dx_b|| / ||dL/dx_{b+1}||. bench/probe_overhead.sh compares the cost with
gradscope's.

This script only reads the environment; it sets none of these variables itself, because
OpenBLAS and glibc read them before Python starts.
"""
import argparse
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ACTS = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": F.relu}
ACT_MODULES = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}


class MLP(nn.Module):
    """DESIGN.md section 1 mlp (same structure and names as tests/ref/gen_mlp.py)."""

    def __init__(self, in_features, classes, width, depth, skip, block, act, norm,
                 act_modules=False):
        super().__init__()
        self.skip, self.block, self.act = skip, block, ACTS[act]
        # act_modules (--probe): each activation is its own module, so forward hooks can see it.
        # Called in forward order, one per activation call.
        self.acts = None
        if act_modules:
            n_acts = 1 + depth + (1 if skip > 0 and block == "pre" else 0)
            self.acts = nn.ModuleList(ACT_MODULES[act]() for _ in range(n_acts))
        self.block_input_hook = None  # --probe: called with each residual block's input
        self.stem = nn.Linear(in_features, width)
        self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
        self.norms = (nn.ModuleList(nn.BatchNorm1d(width) for _ in range(depth))
                      if norm == "batch" else None)
        self.final_norm = (nn.BatchNorm1d(width)
                           if norm == "batch" and skip > 0 and block == "pre" else None)
        self.head = nn.Linear(width, classes)

    def N(self, i, x):
        return x if self.norms is None else self.norms[i](x)

    def forward(self, x):
        if self.acts is None:
            act = self.act
        else:
            it = iter(self.acts)

            def act(t):
                return next(it)(t)
        bh = self.block_input_hook
        h = act(self.stem(x))
        depth = len(self.layers)
        if self.skip == 0:
            for i in range(depth):
                h = act(self.N(i, self.layers[i](h)))
        elif self.block == "post":
            T = self.skip
            for i in range(0, depth, T):
                if bh is not None:
                    bh(h)
                z = h
                for j in range(i, i + T - 1):
                    z = act(self.N(j, self.layers[j](z)))
                j = i + T - 1
                h = act(h + self.N(j, self.layers[j](z)))
            if bh is not None:
                bh(h)
        else:
            T = self.skip
            for i in range(0, depth, T):
                if bh is not None:
                    bh(h)
                z = h
                for j in range(i, i + T):
                    z = self.layers[j](act(self.N(j, z)))
                h = h + z
            if bh is not None:
                bh(h)
            h = act(self.final_norm(h)) if self.final_norm is not None else act(h)
        return self.head(h)


class Probe:
    """The hook-based PyTorch equivalent of gradscope's per-step instruments (see --probe)."""

    def __init__(self, model, act):
        self.model = model
        self.named = list(model.named_parameters())
        self.sat = {"sigmoid": lambda y: y * (1 - y) < 0.0125,
                    "tanh": lambda y: 1 - y * y < 0.05,
                    "relu": lambda y: y == 0}[act]
        self.fwd = []        # (layer index, mean, std, saturated) tensors, this step
        self.act_grad = {}   # layer index -> ||dL/dh|| tensor
        self.block_grad = {} # block index -> ||dL/dx_b|| tensor
        self.n_block = 0
        self.log = {}
        for i, m in enumerate(model.acts):
            m.register_forward_hook(self._make_fwd_hook(i))
        if model.skip > 0:
            model.block_input_hook = self._block_input

    def _make_fwd_hook(self, i):
        def hook(module, inputs, out):
            y = out.detach()
            self.fwd.append((i, y.mean(), y.std(), self.sat(y).float().mean()))
            if out.requires_grad:
                def ghook(g):
                    self.act_grad[i] = g.norm()
                out.register_hook(ghook)
        return hook

    def _block_input(self, x):
        b = self.n_block
        self.n_block += 1
        if x.requires_grad:
            def ghook(g):
                self.block_grad[b] = g.norm()
            x.register_hook(ghook)

    def begin(self):
        self.fwd.clear()
        self.act_grad.clear()
        self.block_grad.clear()
        self.n_block = 0

    @torch.no_grad()
    def before_step(self):
        """After backward, before opt.step(): gradient and parameter norms, a copy of p."""
        self.grad_norm = [p.grad.norm() for _, p in self.named]
        self.param_norm = [p.norm() for _, p in self.named]
        self.before = [p.detach().clone() for _, p in self.named]

    @torch.no_grad()
    def after_step(self):
        """After opt.step(): update ratios, then everything to Python floats, as a logger would."""
        log = self.log
        log.clear()
        for (n, p), b, gn, pn in zip(self.named, self.before, self.grad_norm, self.param_norm):
            pn = pn.item()
            log["grad_norm/" + n] = gn.item()
            log["update_ratio/" + n] = (p - b).norm().item() / pn if pn > 0 else 0.0
        for i, mean, std, sat in self.fwd:
            log["act_mean/%d" % i] = mean.item()
            log["act_std/%d" % i] = std.item()
            log["saturated/%d" % i] = sat.item()
        for i, g in self.act_grad.items():
            log["act_grad_norm/%d" % i] = g.item()
        bg = self.block_grad
        for b in range(self.n_block - 1):
            if b in bg and b + 1 in bg:
                nxt = bg[b + 1].item()
                log["norm_ratio/block.%d" % b] = bg[b].item() / nxt if nxt > 0 else float("inf")
        return log


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=["mlp", "resnet", "plain"], default="mlp",
                    help="resnet/plain: He et al.'s CIFAR nets on 1x28x28 images, the module tree "
                         "of tests/ref/gen_resnet.py (BatchNorm, shortcut --shortcut, width 16)")
    ap.add_argument("--shortcut", choices=["A", "B"], default="A")
    ap.add_argument("--in-shape", default="1,28,28", help="resnet/plain input C,H,W")
    ap.add_argument("--depth", type=int, default=50)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--skip", type=int, default=0)
    ap.add_argument("--block", choices=["post", "pre"], default="post")
    ap.add_argument("--act", choices=sorted(ACTS), default="relu")
    ap.add_argument("--norm", choices=["none", "batch"], default="none")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--in-features", type=int, default=784)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--probe", type=int, choices=[0, 1], default=0,
                    help="1: collect the hook-based instruments at every step (see above)")
    ap.add_argument("--flush-denormal", action="store_true",
                    help="torch.set_flush_denormal(True) (changes the numerics; off by default)")
    args = ap.parse_args()
    if args.skip > 0 and args.depth % args.skip:
        ap.error("--depth must be a multiple of --skip")

    torch.set_num_threads(args.threads)
    if args.flush_denormal:
        torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)
    if args.model == "mlp":
        model = MLP(args.in_features, args.classes, args.width, args.depth, args.skip,
                    args.block, args.act, args.norm, act_modules=bool(args.probe))
        in_shape = (args.in_features,)
    else:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "ref"))
        from gen_resnet import CifarNet  # the same module tree the golden files check
        if args.probe:
            ap.error("--probe is for the mlp")
        in_shape = tuple(int(v) for v in args.in_shape.split(","))
        model = CifarNet(args.model, args.depth, args.shortcut, args.block, args.act, "batch",
                         in_shape[0], args.classes, 16 if args.width == 256 else args.width)
    model.train()
    probe = Probe(model, args.act) if args.probe else None
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    # A few fixed random batches, cycled: drawing data is not part of the step.
    n_pool = 4
    xs = torch.randn(n_pool, args.batch, *in_shape)
    ys = torch.randint(0, args.classes, (n_pool, args.batch))

    def step(k):
        opt.zero_grad(set_to_none=True)
        if probe is not None:
            probe.begin()
        loss = F.cross_entropy(model(xs[k % n_pool]), ys[k % n_pool])
        loss.backward()
        if probe is not None:
            probe.before_step()
        opt.step()
        if probe is not None:
            probe.after_step()
        return loss

    for k in range(args.warmup):
        step(k)
    t0 = time.perf_counter()
    for k in range(args.steps):
        loss = step(k)
    dt = time.perf_counter() - t0
    loss = loss.item()

    params = sum(p.numel() for p in model.parameters())
    sps = args.batch * args.steps / dt
    env = " ".join("%s=%s" % (k, os.environ.get(k, "-")) for k in (
        "OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_WAIT_POLICY",
        "MALLOC_MMAP_THRESHOLD_"))
    print("torch %s threads %d %s | params %d loss %.4f | %.3f s for %d steps | "
          "%.1f GFLOP/s (6*params*samples)%s"
          % (torch.__version__, torch.get_num_threads(), env, params, loss, dt,
             args.steps, 6.0 * params * sps / 1e9,
             " | probe: %d values per step" % len(probe.log) if probe else ""), file=sys.stderr)
    print("samples_per_s %.1f" % sps)


if __name__ == "__main__":
    main()
