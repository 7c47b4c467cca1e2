"""The TFLite Micro C++ sources: the model array compiles with the system compiler and holds exactly the file's
bytes; the op-resolver header registers exactly the model's operators (and compiles against TFLM's own headers
when a tflite-micro source tree is available: set ``TFLM_SOURCE_DIR``, see tools/tflm_headers.sh).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edgecnn.core.errors import EdgeCNNError
from edgecnn.modelfile.inspect import inspect_model
from edgecnn.modelfile.micro_sources import (
    c_identifier,
    camel_case,
    resolver_header,
    resolver_method,
    write_micro_sources,
)

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "models" / "fmnist_mobilenet_v2_0.25_32_int8.tflite"
CXX = shutil.which("g++") or shutil.which("c++")
needs_cxx = pytest.mark.skipif(CXX is None, reason="no system C++ compiler (g++/c++) on PATH")

DUMP_MAIN = r"""
#include <cstdint>
#include <cstdio>
#include "{header}"
#include "{header}"  // the include guard makes a second include harmless
int main(int argc, char** argv) {{
  if (reinterpret_cast<std::uintptr_t>(g_{ident}_data) % 16 != 0) return 3;
  std::FILE* out = std::fopen(argv[1], "wb");
  if (!out) return 2;
  std::fwrite(g_{ident}_data, 1, g_{ident}_data_len, out);
  return std::fclose(out);
}}
"""


def _tflm_include_dirs() -> list[Path] | None:
    root = os.environ.get("TFLM_SOURCE_DIR")
    if not root:
        return None
    dirs = [Path(root) / "tflite-micro", Path(root) / "flatbuffers" / "include", Path(root) / "gemmlowp"]
    return dirs if all(d.is_dir() for d in dirs) else None


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("micro_sources")
    model = folder / "fmnist.v2-int8.tflite"  # a name that is not a C identifier
    shutil.copyfile(SHIPPED, model)
    return {"model": model, **write_micro_sources(model)}


def test_file_names_and_identifiers(sources):
    assert sources["source"].name == "fmnist.v2-int8_data.cc"
    assert sources["header"].name == "fmnist.v2-int8_data.h"
    assert sources["resolver"].name == "fmnist.v2-int8_ops.h"
    assert c_identifier("fmnist.v2-int8") == "fmnist_v2_int8"
    assert c_identifier("8bit model") == "m_8bit_model"
    assert camel_case("fmnist_v2_int8") == "FmnistV2Int8"
    header = sources["header"].read_text()
    assert "#ifndef EDGECNN_FMNIST_V2_INT8_DATA_H_" in header and header.rstrip().endswith("_DATA_H_")
    assert "extern const unsigned char g_fmnist_v2_int8_data[];" in header
    source = sources["source"].read_text()
    assert "alignas(16) const unsigned char g_fmnist_v2_int8_data[] = {" in source
    assert f"const unsigned int g_fmnist_v2_int8_data_len = {SHIPPED.stat().st_size};" in source


@needs_cxx
def test_array_compiles_and_holds_the_file_bytes(sources, tmp_path):
    main = tmp_path / "dump.cc"
    main.write_text(DUMP_MAIN.format(header=sources["header"].name, ident="fmnist_v2_int8"))
    obj = tmp_path / "data.o"
    compile_only = subprocess.run(
        [CXX, "-std=c++17", "-Wall", "-Werror", "-c", str(sources["source"]), "-o", str(obj)],
        capture_output=True,
        text=True,
    )
    assert compile_only.returncode == 0, compile_only.stderr
    exe = tmp_path / "dump"
    built = subprocess.run(
        [CXX, "-std=c++17", "-I", str(sources["header"].parent), str(main), str(obj), "-o", str(exe)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    dumped = tmp_path / "dumped.tflite"
    ran = subprocess.run([str(exe), str(dumped)], capture_output=True)
    assert ran.returncode == 0, f"exit {ran.returncode} (3: array not 16-byte aligned)"
    assert dumped.read_bytes() == sources["model"].read_bytes()


def _expected_method(op: str) -> str:
    """TFLM's naming of resolver methods, derived independently of edgecnn's table: CONV_2D -> AddConv2D."""
    return "Add" + "".join(part.capitalize() for part in op.split("_")).replace("2d", "2D")


def test_resolver_registers_exactly_the_models_operators(sources):
    text = sources["resolver"].read_text()
    operators = inspect_model(sources["model"])["operators"]
    calls = re.findall(r"resolver\.(Add\w+)\(\)", text)
    assert sorted(calls) == sorted(_expected_method(op) for op in operators)
    assert len(calls) == len(set(calls)) == len(operators) == 8
    assert re.search(rf"constexpr unsigned int kFmnistV2Int8OpCount = {len(operators)};", text)
    assert "tflite::MicroMutableOpResolver<kFmnistV2Int8OpCount>" in text
    assert '#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"' in text


def test_an_operator_tflm_lacks_is_a_clear_error():
    with pytest.raises(EdgeCNNError, match="TFLite Micro has no kernel for operator GELU"):
        resolver_method("GELU")
    with pytest.raises(EdgeCNNError, match="no kernel for operator CUSTOM:MyOp"):
        resolver_method("CUSTOM:MyOp")
    assert resolver_method("CUSTOM:TFLite_Detection_PostProcess") == "AddDetectionPostprocess"
    with pytest.raises(EdgeCNNError, match="not a TFLite model"):
        resolver_header(b"not a model at all", "x")


@needs_cxx
@pytest.mark.skipif(_tflm_include_dirs() is None, reason="TFLM_SOURCE_DIR (tflite-micro, flatbuffers, gemmlowp) unset")
def test_resolver_compiles_against_tflm_headers(sources, tmp_path):
    use = tmp_path / "use.cc"
    use.write_text(
        f'#include "{sources["resolver"].name}"\n'
        "TfLiteStatus Register() {\n"
        "  static FmnistV2Int8OpResolver resolver;\n"
        "  return RegisterFmnistV2Int8Ops(resolver);\n"
        "}\n"
    )
    includes = [f"-I{d}" for d in [sources["resolver"].parent, *_tflm_include_dirs()]]
    built = subprocess.run(
        [CXX, "-std=c++17", "-c", str(use), "-o", str(tmp_path / "use.o"), *includes], capture_output=True, text=True
    )
    assert built.returncode == 0, built.stderr[-3000:]


@pytest.mark.skipif(_tflm_include_dirs() is None, reason="TFLM_SOURCE_DIR (a tflite-micro source tree) unset")
def test_method_table_matches_tflm_header():
    sys.path.insert(0, str(REPO / "tools"))
    try:
        from gen_tflm_ops import HEADER, parse_header
    finally:
        sys.path.pop(0)
    from edgecnn.modelfile.tflm_ops import BUILTIN_METHODS, CUSTOM_METHODS

    builtins, customs = parse_header((_tflm_include_dirs()[0] / HEADER).read_text())
    assert builtins == BUILTIN_METHODS and customs == CUSTOM_METHODS


def test_shipped_micro_sources_match_the_shipped_model():
    models = REPO / "models"
    model_bytes = (models / "fmnist_micro.tflite").read_bytes()
    source = (models / "fmnist_micro_data.cc").read_text()
    array = source.split("g_fmnist_micro_data[] = {", 1)[1].split("};", 1)[0]
    assert bytes(int(h, 16) for h in re.findall(r"0x([0-9a-f]{2})", array)) == model_bytes
    assert f"g_fmnist_micro_data_len = {len(model_bytes)};" in source
    committed = re.findall(r"resolver\.(Add\w+)\(\)", (models / "fmnist_micro_ops.h").read_text())
    assert committed == re.findall(r"resolver\.(Add\w+)\(\)", resolver_header(model_bytes, "fmnist_micro"))
    assert len(model_bytes) <= 128 * 1024
