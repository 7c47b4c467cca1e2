// Example firmware entry point for the shipped TFLite Micro model (models/fmnist_micro*).
//
// NOT BUILT OR RUN HERE: edgecnn's tests compile the generated model array and op-resolver header, but this
// file needs a board's toolchain, TFLM built for it (with CMSIS-NN or ESP-NN kernels where they exist) and a
// camera driver. No figure in edgecnn comes from a real microcontroller. See docs/micro.md.
//
// Build: add fmnist_micro_data.cc to the project, put models/ on the include path, link TFLite Micro.

#include <cstdint>
#include <cstring>

#include "fmnist_micro_data.h"  // g_fmnist_micro_data (16-byte aligned), g_fmnist_micro_data_len
#include "fmnist_micro_ops.h"   // FmnistMicroOpResolver, RegisterFmnistMicroOps(): exactly the model's operators
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_log.h"
#include "tensorflow/lite/schema/schema_generated.h"

namespace {

// The smallest arena the model runs in, measured on a 64-bit host (`edgecnn inspect --micro`), plus a margin for
// optimised kernels' scratch buffers. A 32-bit board needs a little less (half-size pointer records).
constexpr int kTensorArenaSize = 52 * 1024;
alignas(16) uint8_t tensor_arena[kTensorArenaSize];

constexpr int kSide = 32;      // input: 32x32x1, one grey byte per pixel
constexpr int kClasses = 10;
const char* const kLabels[kClasses] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                       "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

const tflite::Model* model = nullptr;
tflite::MicroInterpreter* interpreter = nullptr;

}  // namespace

// Call once at boot.
bool SetupClassifier() {
  model = tflite::GetModel(g_fmnist_micro_data);
  if (model->version() != TFLITE_SCHEMA_VERSION) {
    MicroPrintf("model schema %d, TFLM expects %d", model->version(), TFLITE_SCHEMA_VERSION);
    return false;
  }
  static FmnistMicroOpResolver resolver;
  if (RegisterFmnistMicroOps(resolver) != kTfLiteOk) return false;
  static tflite::MicroInterpreter static_interpreter(model, resolver, tensor_arena, kTensorArenaSize);
  interpreter = &static_interpreter;
  if (interpreter->AllocateTensors() != kTfLiteOk) {
    MicroPrintf("arena too small: kTensorArenaSize = %d", kTensorArenaSize);
    return false;
  }
  MicroPrintf("arena used: %d bytes", static_cast<int>(interpreter->arena_used_bytes()));
  return true;
}

// The input contract (the same as edgecnn's prepare() and the model's metadata, `edgecnn inspect`):
//   - 32x32 pixels, one channel, grey (for a colour camera: 0.299 R + 0.587 G + 0.114 B), resized from the
//     frame by stretching it (no crop) to 32x32;
//   - row-major, top row first, left to right (NHWC with N = 1, C = 1);
//   - int8 values: pixel - 128 (input scale 1, zero point -128). The model normalises inside, so no float
//     arithmetic is needed on the board. The training images are white garments on black (Fashion-MNIST).
// Returns the top class, or -1; writes its probability (0..1) to *probability.
int Classify(const uint8_t grey[kSide * kSide], float* probability) {
  TfLiteTensor* input = interpreter->input(0);
  for (int i = 0; i < kSide * kSide; ++i) {
    input->data.int8[i] = static_cast<int8_t>(static_cast<int>(grey[i]) - 128);
  }
  if (interpreter->Invoke() != kTfLiteOk) return -1;
  // The output: 10 int8 softmax probabilities, scale 1/256, zero point -128: p = (q + 128) / 256.
  const TfLiteTensor* output = interpreter->output(0);
  int best = 0;
  for (int c = 1; c < kClasses; ++c) {
    if (output->data.int8[c] > output->data.int8[best]) best = c;  // ties go to the lower class index
  }
  *probability = (output->data.int8[best] - output->params.zero_point) * output->params.scale;
  return best;
}

// A board's main loop would capture a frame, convert it to 32x32 grey and call Classify():
//
//   uint8_t grey[32 * 32];
//   CaptureGrey32x32(grey);  // camera driver, not part of this example
//   float p;
//   int top = Classify(grey, &p);
//   if (top >= 0) MicroPrintf("%s (%d%%)", kLabels[top], static_cast<int>(100 * p));
