#!/usr/bin/env python3
"""Train the float vision transformer (ViT) used by the MnistVit sample.

Network (pre-LayerNorm ViT, the shape Gen.Runtime.TransformerShape describes):
  embed    Conv2d(1, 64, kernel = stride = 7) on the 28 x 28 image: 16 tokens of 64 features,
           plus a learned position embedding embed.position [16, 64]
  blocks.0, blocks.1   encoder layers, each
           x = x + attn.out(attention(attn.q, attn.k, attn.v of norm1(x)))   4 heads of 16
           x = x + ffn.fc2(GELU(ffn.fc1(norm2(x))))                          64 -> 128 -> 64
  norm     final LayerNorm, then the mean over the 16 tokens
  head     Linear(64, 10)
LayerNorm is nn.LayerNorm (eps 1e-5); GELU is the exact erf form. Input x = pixel / 255 in [0, 1],
no mean/std normalisation.

Data:    ../../Mnist/Data/mnist-images.u8.gz and mnist-labels.u8 (see ../../Mnist/Data/README.md);
         the first 8,000 digits train, the last 2,000 are held out.

Writes to ../Data:
  mnist_vit.safetensors       float32 weights, named as the module attributes below (the state_dict keys)
  mnist_vit.reference.txt     the first 8 held-out digits: dataset index, label and the 10 logits
                              PyTorch computes (repr of the float32 values), for the C# float model's test

Training: AdamW with a linear warm-up and cosine decay, label smoothing, and random shifts of up to
2 pixels as augmentation. Deterministic (fixed seed, two threads, deterministic algorithms), so
re-running reproduces the same bytes with the same PyTorch build.

Usage: /usr/bin/python3 train_vit.py [--epochs 60] [--data ../Data] [--mnist ../../Mnist/Data]
Requires PyTorch and NumPy (Debian: apt-get install python3-torch python3-numpy).
"""

import argparse
import math
import os
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

# The digit reader and the safetensors writer are the MLP sample's (samples/Mnist/Training/train_mlp.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Mnist", "Training"))
from train_mlp import load_data as load_flat_data, write_safetensors  # noqa: E402

SEED = 1234
SIDE = 28
PIXELS = SIDE * SIDE
TRAIN_COUNT = 8000
PATCH = 7
TOKENS = (SIDE // PATCH) ** 2
WIDTH = 64
HEADS = 4
FEED_FORWARD = 128
LAYERS = 2
CLASSES = 10
SHIFT = 2
REFERENCE_COUNT = 8


class Linear(nn.Linear):
    """nn.Linear computed as a 1x1 convolution. Debian's PyTorch links the reference (netlib) BLAS, which
    makes addmm about ten times slower than oneDNN's convolution on these small matrices; the parameters,
    their names and the function are those of nn.Linear."""

    def forward(self, x):
        shape = x.shape
        y = F.conv2d(x.reshape(-1, self.in_features, 1, 1), self.weight.view(self.out_features, self.in_features, 1, 1), self.bias)
        return y.view(*shape[:-1], self.out_features)


class PatchEmbedding(nn.Conv2d):
    """Conv2d(kernel = stride = PATCH) plus the position embedding, so the tensors are embed.weight,
    embed.bias and embed.position."""

    def __init__(self):
        super().__init__(1, WIDTH, kernel_size=PATCH, stride=PATCH)
        self.position = nn.Parameter(torch.zeros(TOKENS, WIDTH))
        nn.init.trunc_normal_(self.position, std=0.02)

    def forward(self, x):
        patches = super().forward(x).flatten(2).transpose(1, 2)   # [B, tokens, width], token = row * 4 + col
        return patches + self.position


class Attention(nn.Module):
    """Multi-head self-attention with separate q, k, v and out projections; head h uses features
    h * head_size .. (h + 1) * head_size - 1."""

    def __init__(self):
        super().__init__()
        self.q = Linear(WIDTH, WIDTH)
        self.k = Linear(WIDTH, WIDTH)
        self.v = Linear(WIDTH, WIDTH)
        self.out = Linear(WIDTH, WIDTH)

    def forward(self, x):
        b, t, w = x.shape
        hs = w // HEADS

        def split(y):
            return y.view(b, t, HEADS, hs).transpose(1, 2)        # [B, heads, tokens, head size]

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        scores = q @ k.transpose(-2, -1) / math.sqrt(hs)
        context = (scores.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, t, w)
        return self.out(context)


class FeedForward(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = Linear(WIDTH, FEED_FORWARD)
        self.fc2 = Linear(FEED_FORWARD, WIDTH)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))                      # exact erf GELU (approximate='none')


class EncoderLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1 = nn.LayerNorm(WIDTH, eps=1e-5)
        self.attn = Attention()
        self.norm2 = nn.LayerNorm(WIDTH, eps=1e-5)
        self.ffn = FeedForward()

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.ffn(self.norm2(x))


class Vit(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = PatchEmbedding()
        self.blocks = nn.ModuleList([EncoderLayer() for _ in range(LAYERS)])
        self.norm = nn.LayerNorm(WIDTH, eps=1e-5)
        self.head = Linear(WIDTH, CLASSES)

    def forward(self, x):
        x = self.embed(x.view(-1, 1, SIDE, SIDE))
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x).mean(dim=1))


def load_data(data_dir):
    """The digits as [N, 28, 28] floats in [0, 1] and their labels (the MLP script's reader, reshaped)."""
    x, y = load_flat_data(data_dir)
    return x.reshape(-1, SIDE, SIDE), y


def shift_batch(x, generator):
    """Moves each image by up to SHIFT pixels in each direction, filling with background (0)."""
    padded = F.pad(x, (SHIFT, SHIFT, SHIFT, SHIFT))
    offsets = torch.randint(0, 2 * SHIFT + 1, (x.shape[0], 2), generator=generator)
    out = torch.empty_like(x)
    for i in range(x.shape[0]):
        r, c = offsets[i, 0].item(), offsets[i, 1].item()
        out[i] = padded[i, r:r + SIDE, c:c + SIDE]
    return out


def correct(model, x, y):
    with torch.no_grad():
        return int((model(x).argmax(dim=1) == y).sum().item())


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description="Train the MnistVit sample's float vision transformer.")
    parser.add_argument("--data", default=os.path.join(here, "..", "Data"), help="output directory")
    parser.add_argument("--mnist", default=os.path.join(here, "..", "..", "Mnist", "Data"), help="MNIST data directory")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=3, help="epochs of linear learning-rate warm-up")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--weight-decay", type=float, default=0.05)
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    args = parser.parse_args()

    torch.set_num_threads(2)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)

    x, y = load_data(args.mnist)
    x_train, y_train = x[:TRAIN_COUNT], y[:TRAIN_COUNT]
    x_test, y_test = x[TRAIN_COUNT:], y[TRAIN_COUNT:]

    model = Vit()
    # Decay only the matrices: LayerNorm parameters, biases and the position embedding keep their scale.
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and not n.endswith("position")]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2 or n.endswith("position")]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)
    steps_per_epoch = (TRAIN_COUNT + args.batch - 1) // args.batch
    total_steps = args.epochs * steps_per_epoch
    warmup_steps = args.warmup * steps_per_epoch

    def lr_factor(step):
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        return 0.5 * (1 + math.cos(math.pi * (step - warmup_steps) / max(1, total_steps - warmup_steps)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
    generator = torch.Generator().manual_seed(SEED)

    started = time.time()
    for epoch in range(1, args.epochs + 1):
        model.train()
        order = torch.randperm(TRAIN_COUNT, generator=generator)
        total = 0.0
        for start in range(0, TRAIN_COUNT, args.batch):
            idx = order[start:start + args.batch]
            logits = model(shift_batch(x_train[idx], generator))
            loss = loss_fn(logits, y_train[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item() * idx.numel()
        if epoch % 5 == 0 or epoch == args.epochs:
            model.eval()
            print("epoch %3d  loss %.4f  train acc %.4f  held-out acc %.4f  (%.0f s)"
                  % (epoch, total / TRAIN_COUNT, correct(model, x_train, y_train) / TRAIN_COUNT,
                     correct(model, x_test, y_test) / len(y_test), time.time() - started), flush=True)

    model.eval()
    held_out = correct(model, x_test, y_test)

    os.makedirs(args.data, exist_ok=True)
    weights_path = os.path.join(args.data, "mnist_vit.safetensors")
    write_safetensors(weights_path, list(model.state_dict().items()))

    with torch.no_grad():
        reference = model(x_test[:REFERENCE_COUNT])
    reference_path = os.path.join(args.data, "mnist_vit.reference.txt")
    with open(reference_path, "w", newline="\n") as f:
        f.write("# PyTorch float32 logits of the first %d held-out digits of mnist_vit.safetensors\n" % REFERENCE_COUNT)
        f.write("# index label logit0 .. logit9 (index into mnist-images.u8.gz; input pixel / 255)\n")
        for i in range(REFERENCE_COUNT):
            values = " ".join(repr(float(v)) for v in reference[i])
            f.write("%d %d %s\n" % (TRAIN_COUNT + i, int(y_test[i]), values))

    print()
    print("held-out float accuracy: %.4f (%d/%d)" % (held_out / len(y_test), held_out, len(y_test)))
    print("parameters: %d" % sum(p.numel() for p in model.parameters()))
    print("wrote %s" % weights_path)
    print("wrote %s" % reference_path)


if __name__ == "__main__":
    main()
