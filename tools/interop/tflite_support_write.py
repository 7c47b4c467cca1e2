"""Writes TFLite standard metadata into a model with tflite-support's own writer (another tool than edgecnn).

Runs in an environment that has ``tflite-support`` 0.4.4 (``bash tools/interop/setup_envs.sh``). Used by the tests
to check that edgecnn reads metadata other tools wrote, and handy for giving a plain ``.tflite`` labels and
normalisation that MediaPipe, the Task Library and ``edgecnn run`` understand::

    python tools/interop/tflite_support_write.py IN.tflite OUT.tflite --labels labels.txt --mean 127.5 --std 127.5
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("output")
    parser.add_argument("--labels", required=True, help="Label file, one class name per line.")
    parser.add_argument("--mean", type=float, nargs="+", default=[127.5], help="Normalisation mean (0..255 scale).")
    parser.add_argument("--std", type=float, nargs="+", default=[127.5], help="Normalisation standard deviation.")
    parser.add_argument("--grayscale", action="store_true", help="Say the input is GRAYSCALE (default RGB).")
    parser.add_argument("--name", default="ImageClassifier")
    args = parser.parse_args(argv)

    from tflite_support import metadata_schema_py_generated as metadata_fb
    from tflite_support.metadata_writers import image_classifier, metadata_info, writer_utils

    model = writer_utils.load_file(args.model)
    tensor_type = writer_utils.get_input_tensor_types(model)[0]
    input_md = metadata_info.InputImageTensorMd(
        name="image",
        description="Input image to be classified.",
        norm_mean=args.mean,
        norm_std=args.std,
        color_space_type=metadata_fb.ColorSpaceType.GRAYSCALE if args.grayscale else metadata_fb.ColorSpaceType.RGB,
        tensor_type=tensor_type,
    )
    output_md = metadata_info.ClassificationTensorMd(
        name="probability",
        description="Probabilities of the labels respectively.",
        label_files=[metadata_info.LabelFileMd(file_path=args.labels)],
        tensor_type=writer_utils.get_output_tensor_types(model)[0],
    )
    general_md = metadata_info.GeneralMd(name=args.name, description="Written by tflite-support's metadata writer.")
    writer = image_classifier.MetadataWriter.create_from_metadata_info(model, general_md, input_md, output_md)
    writer_utils.save_file(writer.populate(), args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
