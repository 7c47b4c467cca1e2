"""The model the device benchmarks measure: an int8 MobileNet V2 (alpha 1.0, 224x224x3, 1000 classes).

Built with the zoo (``edgecnn.training.zoo.build_model``; Keras' MobileNetV2 behind a Rescaling layer where the zoo is
missing), converted to full-int8 with uint8 I/O by TF's converter, calibrated on real photos where OpenCV's
samples are installed (else synthetic frames) with the input range pinned to 0..255, and given edgecnn metadata.
Weights are untrained: latency does not depend on them.

The build runs in a subprocess, so the benchmarking process never imports TensorFlow:

    python tools/bench_models.py [--output PATH]     # build (cached), print the path
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = Path("/tmp/device/bench/mobilenet_v2_a1.0_224_int8.tflite")
SAMPLES = Path("/usr/share/doc/opencv-doc/examples/data")


def ensure_model(path: str | Path | None = None) -> Path:
    """The benchmark model's path, building it in a subprocess (with TensorFlow) if it does not exist yet."""
    path = Path(path or DEFAULT_MODEL)
    if not path.exists():
        print(f"building {path} (TensorFlow, in a subprocess)...", file=sys.stderr)
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--output", str(path)], check=True, cwd=REPO)
    return path


def _calibration_images(count: int = 48):
    import numpy as np

    from edgecnn.core.preprocessing import Preprocessing, prepare
    from edgecnn.device.bench import synthetic_frames

    spec = Preprocessing.for_model(224, 3)
    images = []
    if SAMPLES.is_dir():
        import cv2

        for file in sorted(SAMPLES.glob("*.jpg"))[:count]:
            image = cv2.imread(str(file))
            if image is not None:
                images.append(prepare(image, spec))
    images += [prepare(frame, spec) for frame in synthetic_frames(count=max(0, count - len(images)))]
    batch = np.stack(images).astype(np.float32)
    batch[0, 0, 0, 0], batch[0, 0, 1, 0] = 0.0, 255.0  # pin the input range: scale 1.0, zero point 0
    return batch


def build(output: Path) -> Path:
    """Builds, converts and writes the model (imports TensorFlow)."""
    import numpy as np

    from edgecnn.core.files import write_bytes_atomic
    from edgecnn.core.preprocessing import Preprocessing
    from edgecnn.modelfile.metadata import ModelMetadata
    from edgecnn.modelfile.metadata_writer import embed_metadata
    from edgecnn.training._tf import import_tf

    tf, keras = import_tf()
    try:
        from edgecnn.training.zoo import build_model

        model = build_model("mobilenet_v2", alpha=1.0, size=224, channels=3, classes=1000)
    except ImportError:
        inputs = keras.Input((224, 224, 3))
        x = keras.layers.Rescaling(1 / 127.5, offset=-1.0)(inputs)
        model = keras.Model(inputs, keras.applications.MobileNetV2(input_shape=(224, 224, 3), weights=None)(x))
    calibration = _calibration_images()

    def representative():
        for image in calibration:
            yield [image[np.newaxis]]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.uint8
    converter.inference_output_type = tf.uint8
    metadata = ModelMetadata(
        labels=[f"class_{i}" for i in range(1000)],
        preprocessing=Preprocessing.for_model(224, 3),
        arch="mobilenet_v2",
        alpha=1.0,
        separable=True,
        quantization={"scheme": "int8", "input_dtype": "uint8", "output_dtype": "uint8"},
        extra={"note": "untrained weights, for benchmarks"},
    )
    write_bytes_atomic(output, embed_metadata(converter.convert(), metadata))
    return output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_MODEL)
    args = parser.parse_args()
    print(build(args.output) if not args.output.exists() else args.output)


if __name__ == "__main__":
    main()
