"""Runs the same edgecnn commands on x86 and on an emulated aarch64 userland and compares every ``top_k``.

Driven by ``tools/check_aarch64.sh``, which builds the userland (Debian arm64 packages), fetches qemu-user 10 and
installs ``edgecnn[device]`` from aarch64 wheels into SITE; usable alone with those paths:

    python tools/check_aarch64.py --qemu QEMU --root ROOT --site SITE --guest-python /usr/bin/python3.11 \\
        --name bookworm --cpus cortex-a72 cortex-a76 --work .aarch64/work

The guest runs as ``QEMU_CPU=CPU qemu-aarch64 -L ROOT ROOT/usr/bin/pythonX.Y -m edgecnn ...`` (no binfmt, no
chroot) with SITE on its path. Inputs, made once on x86 under WORK/inputs:

- ``fmnist28/``: 100 held-out Fashion-MNIST test images as 28x28 grey PNGs (resized up to the model's 32x32);
- ``photos/``: colour, grey and BGRA PNGs of 61x97 to 1280x720 pixels (OpenCV's sample photos where
  opencv-doc is installed, plus synthetic ones), for the shrinking path and the colour conversions;
- ``heldout.avi``: the demo's video of 300 held-out test images (``tools/make_demo_video.py``, FFV1 where the
  OpenCV build can, else MJPG).

Models: the shipped int8 model as it is (written by edgecnn 0.1.0: preprocessing version 1, kept for
compatibility, so its resized inputs may differ: reported, not required), the same model with its metadata
stamped version 2 (what a new export records), and the device tests' colour fixtures (int8 and float).

Required (exit 1 otherwise): identical ``edgecnn inspect --json``; for int8 models with version-2 preprocessing,
identical ``top_k`` (indices, labels and scores) on every lossless input and top-1 agreement >= 99% on the
video; identical ``prepare()`` bytes for version 2; ``edgecnn bench`` runs. Float models and version-1
preprocessing are reported only. Timings under emulation are never shown: they are not performance figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "models" / "fmnist_mobilenet_v2_0.25_32_int8.tflite"
FIXTURES = REPO / "tests" / "device" / "fixtures"
FMNIST = Path("/usr/share/datasets/fashion-mnist")
OPENCV_SAMPLES = Path("/usr/share/doc/opencv-doc/examples/data")
VIDEO_TOP1_REQUIRED = 0.99
INPUTS_VERSION = "1"  # bump when the inputs change, so cached ones are rebuilt


@dataclass
class Job:
    """One edgecnn command, run on x86 and in the guest.

    Attributes:
        name: Short name, also the output file's stem.
        kind: "inspect", "run", "bench" or "prepare" (prepare() bytes of every input image, per spec).
        args: The command's arguments after ``edgecnn`` (paths are absolute: the same on both sides).
        inputs: What ``run`` reads: "lossless PNG" or "video".
        required: Whether the agreement is a pass/fail condition (else reported only).
    """

    name: str
    kind: str
    args: list[str]
    inputs: str = ""
    required: bool = True


@dataclass
class Row:
    """The agreement of one job on one guest CPU."""

    job: str
    cpu: str
    inputs: str
    required: bool
    frames: int = 0
    identical: int = 0
    top1: int = 0
    max_score_diff: float = 0.0
    ok: bool = False
    note: str = ""
    detail: dict = field(default_factory=dict)

    def passed(self) -> bool:
        return self.ok or not self.required


# --- inputs (x86 side) ---------------------------------------------------------------------------------------


def _synthetic(height: int, width: int, seed: int):
    """A colour image with smooth gradients, edges and texture: fine detail where bilinear variants round apart."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.stack([127 + 120 * np.sin(x / (7 + 3 * c) + y / (11 + c) + seed) for c in range(3)], axis=-1)
    image += rng.normal(0, 18, image.shape)
    for _ in range(6):
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.circle(image, centre, int(rng.integers(3, max(4, min(height, width) // 3))), rng.uniform(0, 255, 3), -1)
    return np.clip(image, 0, 255).astype(np.uint8)


def make_inputs(work: Path, python: str) -> Path:
    """Writes (once per INPUTS_VERSION) the PNG folders, the video and the version-2 copy of the shipped model."""
    import cv2
    import numpy as np

    from edgecnn.modelfile.metadata import read_metadata
    from edgecnn.modelfile.metadata_writer import embed_metadata
    from edgecnn.training.data.idx import read_idx

    inputs = work / "inputs"
    stamp = inputs / f".complete-{INPUTS_VERSION}"
    if stamp.is_file():
        return inputs
    shutil.rmtree(inputs, ignore_errors=True)
    (inputs / "fmnist28").mkdir(parents=True)
    (inputs / "photos").mkdir()
    images_file = FMNIST / "t10k-images-idx3-ubyte.gz"
    if not images_file.is_file():
        raise SystemExit(f"error: {images_file} missing: apt-get install dataset-fashion-mnist")
    for i, image in enumerate(read_idx(images_file)[:100]):
        cv2.imwrite(str(inputs / "fmnist28" / f"{i:03d}.png"), image)
    sizes = [(480, 640), (240, 320), (720, 1280), (375, 500), (224, 224), (61, 97), (300, 299)]
    samples = sorted(OPENCV_SAMPLES.glob("*.jpg"))[:12] if OPENCV_SAMPLES.is_dir() else []
    for i, size in enumerate(sizes):
        cv2.imwrite(str(inputs / "photos" / f"synthetic_{i}_{size[1]}x{size[0]}.png"), _synthetic(*size, seed=i))
    for i, path in enumerate(samples):  # decoded once here: the PNG is what both sides read
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is not None:
            height, width = sizes[i % len(sizes)]
            cv2.imwrite(str(inputs / "photos" / f"sample_{path.stem}.png"), image)
            crop = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
            cv2.imwrite(str(inputs / "photos" / f"sample_{path.stem}_{width}x{height}.png"), crop)
    grey = cv2.cvtColor(_synthetic(480, 640, seed=99), cv2.COLOR_BGR2GRAY)
    cv2.imwrite(str(inputs / "photos" / "grey_640x480.png"), grey)
    bgra = np.dstack([_synthetic(360, 480, seed=98), np.full((360, 480), 200, np.uint8)])
    cv2.imwrite(str(inputs / "photos" / "bgra_480x360.png"), bgra)

    metadata = read_metadata(SHIPPED)
    metadata.preprocessing = replace(metadata.preprocessing, version=2)
    (inputs / "shipped_v2.tflite").write_bytes(embed_metadata(SHIPPED.read_bytes(), metadata))
    subprocess.run(
        [python, str(REPO / "tools" / "make_demo_video.py"), "--count", "300", "--out", str(inputs / "heldout.avi")],
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    stamp.touch()
    return inputs


def jobs(inputs: Path) -> list[Job]:
    """The commands compared, with what each requires."""
    shipped_v1, shipped_v2 = str(SHIPPED), str(inputs / "shipped_v2.tflite")
    colour_int8, colour_float = str(FIXTURES / "colour_int8.tflite"), str(FIXTURES / "colour_float.tflite")
    fmnist, photos, video = str(inputs / "fmnist28"), str(inputs / "photos"), str(inputs / "heldout.avi")
    return [
        Job("inspect", "inspect", ["inspect", shipped_v1, "--json"]),
        Job("prepare_bytes", "prepare", [fmnist, photos, video], "PNG + video"),
        Job("shipped_v2_fmnist", "run", ["run", shipped_v2, "--source", fmnist, "--top-k", "5"], "lossless PNG"),
        Job("shipped_v2_photos", "run", ["run", shipped_v2, "--source", photos, "--top-k", "5"], "lossless PNG"),
        Job("shipped_v2_video", "run", ["run", shipped_v2, "--source", video, "--top-k", "5"], "video"),
        Job("colour_int8_photos", "run", ["run", colour_int8, "--source", photos, "--top-k", "3"], "lossless PNG"),
        Job("shipped_v1_fmnist", "run", ["run", shipped_v1, "--source", fmnist, "--top-k", "5"], "lossless PNG", False),
        Job(
            "colour_float_photos",
            "run",
            ["run", colour_float, "--source", photos, "--top-k", "3"],
            "lossless PNG",
            False,
        ),
        Job("bench", "bench", ["bench", shipped_v2, "--runs", "20", "--warmup", "2", "--json"]),
    ]


# --- running ---------------------------------------------------------------------------------------------------


@dataclass
class Side:
    """Where commands run: the x86 Python, or the guest Python under qemu with one CPU model."""

    name: str
    command: list[str]
    env: dict


def x86_side(python: str) -> Side:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    return Side("x86_64", [python], env)


def guest_side(args, cpu: str) -> Side:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(args.site),
        "PYTHONNOUSERSITE": "1",
        "PYTHONUNBUFFERED": "1",
        "QEMU_CPU": cpu,
    }
    return Side(f"{args.name}/{cpu}", [str(args.qemu), "-L", str(args.root), str(args.root) + args.guest_python], env)


def execute(side: Side, job: Job, out: Path) -> Path:
    """Runs ``job`` on ``side``; returns the file holding what is compared (JSON lines or a JSON document)."""
    out.mkdir(parents=True, exist_ok=True)
    result = out / f"{job.name}.{'jsonl' if job.kind == 'run' else 'json'}"
    result.unlink(missing_ok=True)  # --jsonl appends
    if job.kind == "prepare":
        command = [*side.command, str(Path(__file__).resolve()), "prepare-hashes", *job.args]
    else:
        command = [*side.command, "-m", "edgecnn", *job.args]
        if job.kind == "run":
            command += ["--jsonl", str(result)]
    # Run from the output folder (paths are absolute): from the checkout, `-m edgecnn` would import its tree
    # instead of the installed wheel.
    proc = subprocess.run(command, env=side.env, cwd=out, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"{side.name}: {' '.join(job.args[:2])} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    if job.kind != "run":
        result.write_text(proc.stdout)
    return result


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def compare(job: Job, reference: Path, guest: Path, cpu: str) -> Row:
    row = Row(job.name, cpu, job.inputs or job.kind, job.required, detail={"kind": job.kind})
    if job.kind == "inspect":
        ours, theirs = json.loads(reference.read_text()), json.loads(guest.read_text())
        row.frames, row.identical = 1, int(ours == theirs)
        row.ok = ours == theirs
    elif job.kind == "bench":
        results = json.loads(guest.read_text())
        row.ok = bool(results) and all(r.get("latency") for r in results)
        row.note = "ran (timings under emulation are not performance figures: not shown)"
    elif job.kind == "prepare":
        ours, theirs = json.loads(reference.read_text()), json.loads(guest.read_text())
        row.identical, row.frames = _agreement(ours, theirs, lambda key: key.endswith("/v2"))
        decoded = _agreement(ours, theirs, lambda key: key.endswith("|decoded"))
        version1 = _agreement(ours, theirs, lambda key: key.endswith("/v1"))
        row.detail.update(decoded=decoded, version1=version1)
        row.ok = row.identical == row.frames > 0 and decoded[0] == decoded[1] and set(ours) == set(theirs)
        row.note = (
            f"identical: decoded images and video frames {decoded[0]}/{decoded[1]}, prepare() version 2 "
            f"{row.identical}/{row.frames}, version 1 {version1[0]}/{version1[1]}"
        )
    else:
        ours, theirs = _lines(reference), _lines(guest)
        row.frames = len(ours)
        for a, b in zip(ours, theirs, strict=False):
            row.identical += a["top_k"] == b["top_k"]
            row.top1 += bool(a["top_k"]) and bool(b["top_k"]) and a["top_k"][0]["index"] == b["top_k"][0]["index"]
            scores = {t["index"]: t["score"] for t in b["top_k"]}
            for t in a["top_k"]:
                if t["index"] in scores:
                    row.max_score_diff = max(row.max_score_diff, abs(t["score"] - scores[t["index"]]))
        complete = len(ours) == len(theirs) > 0
        if job.inputs == "video":
            row.ok = complete and row.top1 >= VIDEO_TOP1_REQUIRED * row.frames
        else:
            row.ok = complete and row.identical == row.frames
    return row


def _images(paths: list[str]):
    """``(name, image)`` for every PNG in the folders and every frame of the videos among ``paths``."""
    import cv2

    for path in map(Path, paths):
        if path.is_dir():
            for file in sorted(path.glob("*.png")):
                yield f"{path.name}/{file.name}", cv2.imread(str(file), cv2.IMREAD_UNCHANGED)
        else:
            capture = cv2.VideoCapture(str(path))
            ok, frame = capture.read()
            index = 0
            while ok:
                yield f"{path.name}#{index}", frame
                ok, frame = capture.read()
                index += 1
            capture.release()


def prepare_hashes(paths: list[str]) -> None:
    """Prints ``{"NAME|decoded": sha256, "NAME|SPEC/vN": sha256 of prepare()}`` for every image and video frame
    in ``paths`` (runs on either side)."""
    from edgecnn.core.preprocessing import Preprocessing, prepare

    specs = {
        "32x32_gray": Preprocessing.for_model(32, 1),
        "224x224_rgb": Preprocessing.for_model(224, 3),
        "96x128_rgb_crop": Preprocessing.for_model((96, 128), 3, resize_mode="crop"),
        "160x160_bgr": Preprocessing(height=160, width=160, channels=3, color_order="BGR"),
        "300x300_gray_crop": Preprocessing.for_model(300, 1, resize_mode="crop"),
    }
    hashes = {}
    for name, image in _images(paths):
        hashes[f"{name}|decoded"] = hashlib.sha256(image.tobytes()).hexdigest()
        for spec_name, spec in specs.items():
            for version in (1, 2):
                pixels = prepare(image, Preprocessing.from_dict({**spec.to_dict(), "version": version}))
                hashes[f"{name}|{spec_name}/v{version}"] = hashlib.sha256(pixels.tobytes()).hexdigest()
    print(json.dumps(hashes, sort_keys=True))


def _agreement(ours: dict, theirs: dict, predicate) -> tuple[int, int]:
    keys = [key for key in ours if predicate(key)]
    return sum(ours[key] == theirs.get(key) for key in keys), len(keys)


def report(rows: list[Row], name: str) -> bool:
    """Prints the agreement table; returns whether every required agreement holds."""
    print(f"\naarch64 parity: {name} vs x86_64 (same commands, same inputs; top_k compared as JSON)")
    print(
        f"{'check':<22} {'cpu':<11} {'inputs':<13} {'frames':>6} {'identical':>10} {'top-1':>8} "
        f"{'max|dscore|':>11}  {'required':<8} result"
    )
    for r in rows:
        scored = r.frames and r.detail.get("kind") == "run"
        identical = f"{r.identical / r.frames:.1%}" if r.frames else "-"
        top1 = f"{r.top1 / r.frames:.1%}" if scored else "-"
        diff = f"{r.max_score_diff:.6f}" if scored else "-"
        result = "pass" if r.ok else ("FAIL" if r.required else "differs")
        print(
            f"{r.job:<22} {r.cpu:<11} {r.inputs:<13} {r.frames:>6} {identical:>10} {top1:>8} {diff:>11}  "
            f"{'yes' if r.required else 'report':<8} {result}{'  ' + r.note if r.note else ''}"
        )
    failed = [r for r in rows if not r.passed()]
    passed = len(rows) - len(failed)
    print(f"{name.split()[0]}: {passed} passed, {len(failed)} failed")
    return not failed


def run_guest(args, cpu: str, job_list: list[Job], reference: dict[str, Path]) -> list[Row]:
    """Every job in the guest with one emulated CPU model, compared with the x86 reference."""
    guest = guest_side(args, cpu)
    start = time.monotonic()
    where = subprocess.run(
        [*guest.command, "-c", "import edgecnn; print(edgecnn.__file__)"],
        env=guest.env,
        cwd=args.work,
        capture_output=True,
        text=True,
        timeout=600,
    ).stdout.strip()
    if not where.startswith(str(args.site)):
        raise RuntimeError(f"{guest.name}: edgecnn imports from {where!r}, not from the aarch64 install {args.site}")
    rows = [
        compare(job, reference[job.name], execute(guest, job, args.work / args.name / cpu), cpu) for job in job_list
    ]
    print(
        f"[aarch64] {guest.name}: {len(job_list)} commands in {time.monotonic() - start:.0f} s (emulated)",
        file=sys.stderr,
    )
    return rows


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "prepare-hashes":
        prepare_hashes(sys.argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qemu", type=Path, required=True, help="qemu-aarch64 (10.x)")
    parser.add_argument("--root", type=Path, required=True, help="the arm64 userland (qemu's -L)")
    parser.add_argument("--site", type=Path, required=True, help="edgecnn[device] installed with --target")
    parser.add_argument("--guest-python", required=True, help="the guest's Python, e.g. /usr/bin/python3.11")
    parser.add_argument("--name", default="aarch64", help="name of the userland in the report")
    parser.add_argument("--cpus", nargs="+", default=["cortex-a72", "cortex-a76"], help="QEMU_CPU values")
    parser.add_argument("--work", type=Path, default=REPO / ".aarch64" / "work")
    parser.add_argument("--python", default=sys.executable, help="the x86 Python (with edgecnn[device])")
    parser.add_argument(
        "--parallel", type=int, default=os.cpu_count() or 1, help="CPU models emulated at once (default: host cores)"
    )
    args = parser.parse_args()

    inputs = make_inputs(args.work, args.python)
    job_list = jobs(inputs)
    x86 = x86_side(args.python)
    reference = {}
    for job in job_list:  # the x86 reference: once per work folder and checkout state is enough, but it is cheap
        reference[job.name] = execute(x86, job, args.work / "x86_64")
    with ThreadPoolExecutor(max_workers=max(1, args.parallel)) as pool:
        per_cpu = list(pool.map(lambda cpu: run_guest(args, cpu, job_list, reference), args.cpus))
    rows = [row for cpu_rows in per_cpu for row in cpu_rows]
    summary = [r.__dict__ for r in rows]
    (args.work / f"report-{args.name}.json").write_text(json.dumps(summary, indent=1))
    return 0 if report(rows, f"{args.name} ({Path(args.guest_python).name})") else 1


if __name__ == "__main__":
    sys.exit(main())
