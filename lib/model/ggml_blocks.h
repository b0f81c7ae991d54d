// ggml's element encodings, bit for bit as ggml writes them: float16 and bfloat16 (round to nearest even),
// and q8_0 blocks (32 int8 weights and one float16 scale), so an exported GGUF holds what llama.cpp's own
// converter and quantizer would write for the same float32 weights.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace af::model {

/// Weights per q8_0 block.
inline constexpr size_t kQ8Block = 32;
/// Bytes of one q8_0 block: a float16 scale, then 32 int8 values.
inline constexpr size_t kQ8BlockBytes = 2 + kQ8Block;

/// IEEE float16 of `f`, rounded to nearest even (ggml's GGML_FP32_TO_FP16).
uint16_t fp32_to_fp16(float f);
/// The float `h` stands for.
float fp16_to_fp32(uint16_t h);
/// bfloat16 of `f`, rounded to nearest even; NaN stays a quiet NaN (ggml's GGML_FP32_TO_BF16).
uint16_t fp32_to_bf16(float f);

/// `n` floats (a multiple of 32) as q8_0 blocks: per block d = max|x| / 127, q = roundf(x / d) computed as
/// x * (1/d) (ggml's quantize_row_q8_0_ref).
std::vector<uint8_t> quantize_q8_0(const float* x, size_t n);
/// The floats q8_0 blocks stand for (d * q).
std::vector<float> dequantize_q8_0(const uint8_t* blocks, size_t n);

}  // namespace af::model
