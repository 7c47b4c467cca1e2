"""The proof with a real phone-side client: MediaPipe Tasks' ImageClassifier runs edgecnn exports with our labels
and picks the same class as ``edgecnn run`` on 500 Fashion-MNIST test images fed identically.

Two small models are trained here (a few epochs on a subset: the agreement criterion does not need a good model,
but it must not be an untrained one): a grey Fashion-MNIST MobileNetV2, exported with ``--input-rgb`` (MediaPipe
refuses 1-channel inputs), and an RGB one trained on colour-tinted Fashion-MNIST (random garment and background
colours per image, so colours reach the network), exported int8 and float32 (float inputs need the metadata's
normalisation options). The images are written at the model's input size, so neither client resizes.
MediaPipe runs in its own environment (``bash tools/interop/setup_envs.sh``).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from edgecnn.cli import app
from edgecnn.core.preprocessing import Preprocessing

FMNIST = Path("/usr/share/datasets/fashion-mnist")
REPO = Path(__file__).resolve().parents[3]
SIZE, EPOCHS, TRAIN_SAMPLES, TEST_IMAGES = 32, 3, 6000, 500

pytestmark = [
    pytest.mark.slow,
    pytest.mark.realdata,
    pytest.mark.skipif(not (FMNIST / "t10k-images-idx3-ubyte.gz").is_file(), reason="Fashion-MNIST IDX files missing"),
]
runner = CliRunner()


def tint(grey: np.ndarray, seed: int) -> np.ndarray:
    """Colour versions of grey images (``N x H x W x 1``): garment colour and background colour drawn per image."""
    rng = np.random.default_rng(seed)
    foreground = rng.integers(90, 256, (len(grey), 1, 1, 3))
    background = rng.integers(0, 90, (len(grey), 1, 1, 3))
    alpha = grey.astype(np.float32) / 255.0
    return np.round(background + alpha * (foreground - background)).astype(np.uint8)


def folder_name(label: str) -> str:
    """A class name as a folder name ("T-shirt/top" -> "T-shirt-top"); the folder names become the labels."""
    return label.replace("/", "-")


def write_pngs(folder: Path, rgb: np.ndarray, labels: np.ndarray | None = None, names: list[str] | None = None):
    """RGB images as PNG files: ``folder/NNNN.png``, or ``folder/<class>/NNNN.png`` with ``labels`` and ``names``."""
    import cv2

    for i, image in enumerate(rgb):
        target = folder / folder_name(names[labels[i]]) if labels is not None else folder
        target.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(target / f"{i:04d}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return folder


@pytest.fixture(scope="module")
def fmnist_test(tmp_path_factory) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """500 stratified test images at 32x32 (grey) with labels and class names."""
    from edgecnn.training.data import load_arrays

    return load_arrays(str(FMNIST), Preprocessing.for_model(SIZE, 1), "test", limit=TEST_IMAGES, seed=1)


def _train(data: str, out: Path, channels: int) -> Path:
    from edgecnn.training.train import train

    train(
        "mobilenet_v2",
        data,
        out,
        alpha=0.35,
        size=SIZE,
        channels=channels,
        epochs=EPOCHS,
        max_samples=TRAIN_SAMPLES,
        progress=False,
    )
    return out


def _export(run: Path, out: Path, *args: str) -> Path:
    result = runner.invoke(app, ["export", str(run), "-o", str(out), "--verify-samples", "300", *args])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def grey_model(tmp_path_factory) -> Path:
    run = _train(str(FMNIST), tmp_path_factory.mktemp("grey") / "run", 1)
    return _export(run, run / "grey_rgb_int8.tflite", "--quantize", "--input-rgb")


@pytest.fixture(scope="module")
def rgb_models(tmp_path_factory) -> dict[str, Path]:
    from edgecnn.training.data import load_arrays

    root = tmp_path_factory.mktemp("rgb")
    x, y, names = load_arrays(str(FMNIST), Preprocessing.for_model(SIZE, 1), "train", limit=TRAIN_SAMPLES, seed=0)
    data = write_pngs(root / "tinted", tint(x, seed=0), y, names)
    run = _train(str(data), root / "run", 3)
    return {
        "int8": _export(run, run / "rgb_int8.tflite", "--quantize"),
        "float32": _export(run, run / "rgb_float32.tflite"),
    }


def edgecnn_top1(model: Path, folder: Path) -> dict[str, str]:
    """File name -> top-1 label from ``edgecnn run`` (JSON lines)."""
    out = folder.parent / f"{model.stem}.jsonl"
    result = runner.invoke(app, ["run", str(model), "--source", str(folder), "--jsonl", str(out), "-q"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    return {r["file"]: r["top_k"][0]["label"] for r in records}


def mediapipe_results(python: Path, model: Path, folder: Path, *args: str) -> list[dict]:
    script = REPO / "tools" / "interop" / "mediapipe_classify.py"
    done = subprocess.run(
        [str(python), str(script), str(model), str(folder), *args], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines()]


def check_agreement(python: Path, model: Path, folder: Path, truth: list[str]) -> dict:
    """Asserts MediaPipe's category names are the labels in our file and its top-1 equals ``edgecnn run``'s on
    >= 99% of the images (``truth``: the class name of image ``i``, file ``folder/iiii.png``)."""
    from edgecnn.modelfile.metadata import read_metadata

    labels = read_metadata(model).labels
    ours = edgecnn_top1(model, folder)
    theirs = mediapipe_results(python, model, folder)
    assert len(theirs) == len(ours) == len(truth) == TEST_IMAGES
    for record in theirs:
        indexed = sorted((c["index"], c["name"]) for c in record["categories"])
        assert indexed == list(enumerate(labels))
    files = [Path(r["path"]).name for r in theirs]
    mp_top = [r["categories"][0]["name"] for r in theirs]
    agreement = float(np.mean([ours[f] == top for f, top in zip(files, mp_top, strict=True)]))
    accuracy = float(np.mean([top == truth[int(f[:4])] for f, top in zip(files, mp_top, strict=True)]))
    print(f"{model.name}: agreement {agreement:.4f}, MediaPipe top-1 accuracy {accuracy:.4f}")
    assert agreement >= 0.99, agreement
    assert accuracy >= 0.5, accuracy  # a trained model, not chance (0.1)
    return {"agreement": agreement, "accuracy": accuracy, "mediapipe_top1": mp_top, "files": files}


def test_mediapipe_agrees_on_a_grey_model_exported_with_input_rgb(mediapipe_python, grey_model, fmnist_test, tmp_path):
    x, y, names = fmnist_test
    folder = write_pngs(tmp_path / "images", np.repeat(x, 3, axis=-1))
    check_agreement(mediapipe_python, grey_model, folder, [names[i] for i in y])


def test_mediapipe_agrees_on_an_rgb_model(mediapipe_python, rgb_models, fmnist_test, tmp_path):
    x, y, names = fmnist_test
    folder = write_pngs(tmp_path / "images", tint(x, seed=1))
    truth = [folder_name(names[i]) for i in y]
    result = check_agreement(mediapipe_python, rgb_models["int8"], folder, truth)
    check_agreement(mediapipe_python, rgb_models["float32"], folder, truth)
    # The model sees colour: the same images with R and B swapped give other answers, so the agreement above
    # also proves that both clients feed RGB in the same order.
    swapped_run = mediapipe_results(mediapipe_python, rgb_models["int8"], folder, "--bgr")
    swapped = [r["categories"][0]["name"] for r in swapped_run]
    changed = float(np.mean(np.not_equal(swapped, result["mediapipe_top1"])))
    print(f"channels swapped: top-1 changed on {changed:.4f}")
    assert changed >= 0.02, changed
