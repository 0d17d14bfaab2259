#!/usr/bin/env python3
"""Script a network of networks.py to TorchScript for `campaign.model = torchscript:PATH`.

    python3 examples/models/export.py vit --channels 1 --classes 10 --resolution 28 --out vit.pt
    peppp memory --config my.ini --campaign.model torchscript:vit.pt

Needs PyTorch (Debian: python3-torch, the same 1.13 as libtorch-dev). The
saved module takes images [N, channels, resolution, resolution] (float32)
and returns logits [N, classes]; peppp checks both before training. A task
of fewer classes uses the first logits, so one file with the largest class
count of a catalog serves all its tasks.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import networks  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("network", choices=sorted(networks.NETWORKS), help="which network")
    p.add_argument("--channels", type=int, default=1, help="image channels (the task's)")
    p.add_argument("--classes", type=int, default=10,
                   help="logits per image: the tasks' largest class count (a task of C classes uses the first C)")
    p.add_argument("--resolution", type=int, default=28, help="image height = width in pixels (the task's)")
    p.add_argument("--seed", type=int, default=0, help="torch seed of the initial weights")
    p.add_argument("--out", required=True, help="TorchScript file to write")
    a = p.parse_args()
    torch.manual_seed(a.seed)
    net = networks.build(a.network, a.channels, a.classes, a.resolution)
    scripted = torch.jit.script(net)
    logits = scripted(torch.zeros(2, a.channels, a.resolution, a.resolution))
    assert tuple(logits.shape) == (2, a.classes), logits.shape
    scripted.save(a.out)
    n = sum(t.numel() for t in net.parameters())
    print(f"{a.out}: {a.network}, {n} parameters, input [N, {a.channels}, {a.resolution}, {a.resolution}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
