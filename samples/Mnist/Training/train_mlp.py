#!/usr/bin/env python3
"""Train the float MLP 784-128-10 used by the Mnist sample and calibrate its activations.

Network: fc1 = Linear(784, 128), ReLU, fc2 = Linear(128, 10); input x = pixel / 255.
Data:    ../Data/mnist-images.u8.gz and ../Data/mnist-labels.u8 (see ../Data/README.md);
         the first 8,000 digits train, the last 2,000 are held out.

Writes to ../Data:
  mnist_mlp.safetensors        float32 fc1.weight [128, 784], fc1.bias [128],
                               fc2.weight [10, 128], fc2.bias [10] (PyTorch Linear layout)
  mnist_mlp.calibration.txt    one line per activation: name scale zero_point min max

Calibration is max calibration over the training split: the observed min/max of the
input, of fc1's output after ReLU and of fc2's output (the logits). Each range is widened
to include 0 and turned into INT8 asymmetric parameters as TFLite does:
  scale = (max - min) / 255            (stored as float32)
  zero_point = round(-128 - min / scale), clamped to [-128, 127]

Training is deterministic (fixed seed, one thread), so re-running reproduces the same bytes
with the same PyTorch build.

Usage: python3 train_mlp.py [--epochs 30] [--data ../Data]
Requires PyTorch and NumPy (Debian: apt-get install python3-torch python3-numpy).
"""

import argparse
import gzip
import json
import math
import os
import struct

import numpy as np
import torch
from torch import nn

SEED = 1234
PIXELS = 28 * 28
TRAIN_COUNT = 8000
HIDDEN = 128
CLASSES = 10


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(PIXELS, HIDDEN)
        self.fc2 = nn.Linear(HIDDEN, CLASSES)

    def forward(self, x):
        h = torch.relu(self.fc1(x))
        return h, self.fc2(h)


def load_data(data_dir):
    with gzip.open(os.path.join(data_dir, "mnist-images.u8.gz"), "rb") as f:
        images = np.frombuffer(f.read(), dtype=np.uint8)
    with open(os.path.join(data_dir, "mnist-labels.u8"), "rb") as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8)
    images = images.reshape(-1, PIXELS)
    if images.shape[0] != labels.shape[0]:
        raise SystemExit("image count %d != label count %d" % (images.shape[0], labels.shape[0]))
    x = torch.from_numpy(images.astype(np.float32) / np.float32(255.0))
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


def write_safetensors(path, tensors):
    """Minimal safetensors writer: u64 LE header size, JSON header, raw little-endian data."""
    header = {}
    blobs = []
    offset = 0
    for name, t in tensors:
        a = np.ascontiguousarray(t.detach().cpu().numpy().astype("<f4"))
        raw = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)  # data section starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def round_half_away(v):
    return math.floor(v + 0.5) if v >= 0 else -math.floor(-v + 0.5)


def quant_params(lo, hi):
    """TFLite-style INT8 asymmetric parameters for the float range [lo, hi]."""
    lo = min(float(lo), 0.0)
    hi = max(float(hi), 0.0)
    scale = float(np.float32((hi - lo) / 255.0))
    if scale == 0.0:
        return np.float32(1.0), 0
    zero_point = round_half_away(-128.0 - lo / scale)
    zero_point = max(-128, min(127, zero_point))
    return np.float32(scale), int(zero_point)


def f32(v):
    """Shortest round-trip text of a float32 value."""
    return str(np.float32(v))


def accuracy(model, x, y):
    with torch.no_grad():
        _, logits = model(x)
    return (logits.argmax(dim=1) == y).float().mean().item()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description="Train and calibrate the Mnist sample MLP.")
    parser.add_argument("--data", default=os.path.join(here, "..", "Data"), help="data directory")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)

    x, y = load_data(args.data)
    x_train, y_train = x[:TRAIN_COUNT], y[:TRAIN_COUNT]
    x_test, y_test = x[TRAIN_COUNT:], y[TRAIN_COUNT:]

    model = Mlp()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(SEED)

    for epoch in range(1, args.epochs + 1):
        model.train()
        order = torch.randperm(TRAIN_COUNT, generator=generator)
        total = 0.0
        for start in range(0, TRAIN_COUNT, args.batch):
            idx = order[start:start + args.batch]
            _, logits = model(x_train[idx])
            loss = loss_fn(logits, y_train[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * idx.numel()
        if epoch % 5 == 0 or epoch == args.epochs:
            model.eval()
            print("epoch %3d  loss %.4f  train acc %.4f  held-out acc %.4f"
                  % (epoch, total / TRAIN_COUNT, accuracy(model, x_train, y_train),
                     accuracy(model, x_test, y_test)))

    model.eval()
    held_out = accuracy(model, x_test, y_test)

    weights_path = os.path.join(args.data, "mnist_mlp.safetensors")
    write_safetensors(weights_path, [
        ("fc1.weight", model.fc1.weight),
        ("fc1.bias", model.fc1.bias),
        ("fc2.weight", model.fc2.weight),
        ("fc2.bias", model.fc2.bias),
    ])

    # Max calibration on the training split.
    with torch.no_grad():
        hidden, logits = model(x_train)
    ranges = [
        ("input", x_train.min().item(), x_train.max().item()),
        ("fc1", hidden.min().item(), hidden.max().item()),
        ("fc2", logits.min().item(), logits.max().item()),
    ]
    lines = []
    params = []
    for name, lo, hi in ranges:
        scale, zero_point = quant_params(lo, hi)
        params.append((name, scale, zero_point))
        lines.append("%s %s %d %s %s" % (name, f32(scale), zero_point, f32(lo), f32(hi)))
    calibration_path = os.path.join(args.data, "mnist_mlp.calibration.txt")
    with open(calibration_path, "w", newline="\n") as f:
        f.write("\n".join(lines) + "\n")

    print()
    print("held-out float accuracy: %.4f (%d/%d)"
          % (held_out, round(held_out * len(y_test)), len(y_test)))
    print("wrote %s" % weights_path)
    print("wrote %s:" % calibration_path)
    print("  # name scale zero_point min max")
    for line in lines:
        print("  " + line)
    print()
    print("C#:")
    for name, scale, zero_point in params:
        prefix = name[0].upper() + name[1:]
        print("const float %sScale = %sf; const int %sZeroPoint = %d;"
              % (prefix, f32(scale), prefix, zero_point))


if __name__ == "__main__":
    main()
