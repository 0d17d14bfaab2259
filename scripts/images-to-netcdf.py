#!/usr/bin/python3
"""Convert an image folder tree into peppp's NetCDF image-array format.

Input, either
    SRC/<class>/*.png|jpg|jpeg|bmp          (split here into train/test by --test-fraction)
or
    SRC/train/<class>/*   SRC/test/<class>/*  (or SRC/val/ for the test split; used as they are)
e.g. an ImageNet subtree or a Visual Domain Decathlon domain.

Output: OUT_DIR/train.nc and OUT_DIR/test.nc, each NetCDF-4 with
    images(n, channel, y, x)  ubyte   pixels 0..255, every image SIZE x SIZE
    labels(n)                 int     0..class-1, index into class_names
    class_names(class)        string  folder names, sorted
which a catalog uses as `[dataset NAME]  kind = netcdf  path = OUT_DIR`.

Each image is centre-cropped to a square (unless --no-crop), resized with
bilinear filtering and converted to grey (--channels 1) or RGB (3). The split
is deterministic: files sorted by name, shuffled per class with --seed.

Needs numpy, netCDF4 and PIL (Debian: python3-numpy python3-netcdf4 python3-pil).
Exit status: 0 done, 1 bad input (the message names the file or folder).
"""

import argparse
import datetime
import os
import sys

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp"}


def fail(message):
    print("error: " + message, file=sys.stderr)
    sys.exit(1)


def list_classes(root):
    if not os.path.isdir(root):
        fail(f"{root}: not a folder")
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    if not classes:
        fail(f"{root}: no class sub-folders; expected {root}/<class>/*.png|jpg")
    out = {}
    for c in classes:
        files = sorted(
            os.path.join(root, c, f)
            for f in os.listdir(os.path.join(root, c))
            if os.path.splitext(f)[1].lower() in EXTENSIONS
        )
        if not files:
            fail(f"{os.path.join(root, c)}: no image files (allowed: {', '.join(sorted(EXTENSIONS))})")
        out[c] = files
    return out


def load(path, size, channels, crop):
    from PIL import Image

    try:
        with Image.open(path) as im:
            im = im.convert("L" if channels == 1 else "RGB")
            if crop:
                w, h = im.size
                s = min(w, h)
                left, top = (w - s) // 2, (h - s) // 2
                im = im.crop((left, top, left + s, top + s))
            im = im.resize((size, size), Image.BILINEAR)
            import numpy as np

            a = np.asarray(im, dtype=np.uint8)
    except Exception as e:  # PIL raises many types for unreadable files
        fail(f"{path}: cannot read as an image ({e.__class__.__name__}: {e})")
    return a[None, :, :] if channels == 1 else a.transpose(2, 0, 1)


def write(path, items, class_names, size, channels, crop, source, command):
    import netCDF4
    import numpy as np

    n = len(items)
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        nc.createDimension("n", n)
        nc.createDimension("channel", channels)
        nc.createDimension("y", size)
        nc.createDimension("x", size)
        nc.createDimension("class", len(class_names))
        img = nc.createVariable("images", "u1", ("n", "channel", "y", "x"), zlib=True, complevel=1,
                                chunksizes=(min(max(n, 1), 256), channels, size, size))
        img.long_name = "image pixels, 0..255"
        lab = nc.createVariable("labels", "i4", ("n",))
        lab.long_name = "class index into class_names"
        names = nc.createVariable("class_names", str, ("class",))
        for i, c in enumerate(class_names):
            names[i] = c
        labels = np.zeros(n, dtype=np.int32)
        for i, (f, label) in enumerate(items):
            img[i] = load(f, size, channels, crop)
            labels[i] = label
        lab[:] = labels
        nc.peppp_format = "peppp-images-1"
        nc.source = os.path.abspath(source)
        nc.command_line = command
        nc.created = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("src", help="image folder tree (see --help text above)")
    p.add_argument("out_dir", help="output folder; train.nc and test.nc are written there")
    p.add_argument("--size", type=int, required=True, help="output height = width, pixels")
    p.add_argument("--channels", type=int, choices=(1, 3), default=3, help="1 grey or 3 RGB (default 3)")
    p.add_argument("--test-fraction", type=float, default=0.2,
                   help="fraction of each class for the test split when SRC has no train/test folders (default 0.2)")
    p.add_argument("--seed", type=int, default=0, help="seed of the per-class split (default 0)")
    p.add_argument("--no-crop", action="store_true", help="stretch to a square instead of centre-cropping")
    a = p.parse_args()
    if a.size < 1 or a.size > 4096:
        fail(f"--size {a.size}: allowed 1..4096")
    if not 0.0 < a.test_fraction < 1.0:
        fail(f"--test-fraction {a.test_fraction}: allowed strictly between 0 and 1")

    import numpy as np

    test_dir = next((os.path.join(a.src, d) for d in ("test", "val")
                     if os.path.isdir(os.path.join(a.src, d))), None)
    if os.path.isdir(os.path.join(a.src, "train")) and test_dir:
        train = list_classes(os.path.join(a.src, "train"))
        test = list_classes(test_dir)
        extra = sorted(set(test) - set(train))
        if extra:
            fail(f"{test_dir}: classes {', '.join(extra)} have no training folder")
        class_names = sorted(train)
    else:
        classes = list_classes(a.src)
        class_names = sorted(classes)
        train, test = {}, {}
        for k, c in enumerate(class_names):
            files = list(classes[c])
            if len(files) < 2:
                fail(f"{os.path.join(a.src, c)}: {len(files)} image(s); need at least 2 to split")
            rng = np.random.RandomState((a.seed * 1000003 + k) % (2**32))
            order = rng.permutation(len(files))
            n_test = min(len(files) - 1, max(1, int(round(a.test_fraction * len(files)))))
            test[c] = [files[i] for i in sorted(order[:n_test])]
            train[c] = [files[i] for i in sorted(order[n_test:])]

    os.makedirs(a.out_dir, exist_ok=True)
    command = " ".join(sys.argv)
    for split, groups in (("train", train), ("test", test)):
        items = [(f, class_names.index(c)) for c in class_names for f in groups.get(c, [])]
        path = os.path.join(a.out_dir, split + ".nc")
        tmp = path + ".tmp"
        write(tmp, items, class_names, a.size, a.channels, not a.no_crop, a.src, command)
        os.replace(tmp, path)
        print(f"{path}: {len(items)} images, {len(class_names)} classes, {a.channels} x {a.size} x {a.size}")


if __name__ == "__main__":
    main()
