#include "model/ggml_blocks.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace af::model {

uint16_t fp32_to_fp16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7fffffffu;
  if (abs > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);   // NaN: a quiet NaN
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds past 65504: infinity
  if (abs < 0x38800000u) {
    // A float16 subnormal (or zero): the value in units of 2^-24, rounded to nearest even.
    if (abs < 0x33000000u) return static_cast<uint16_t>(sign);  // below half the smallest subnormal
    const uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
    const int shift = 126 - static_cast<int>(abs >> 23);  // 14 .. 24
    const uint32_t q = mant >> shift;
    const uint32_t rest = mant & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    const uint32_t r = q + ((rest > half || (rest == half && (q & 1))) ? 1 : 0);
    return static_cast<uint16_t>(sign | r);
  }
  // Normal: rebias the exponent and round the 23-bit mantissa to 10 bits, nearest even (a carry into the
  // exponent is the right result).
  const uint32_t rebased = abs - ((127u - 15u) << 23);
  const uint32_t r = (rebased + 0xfffu + ((rebased >> 13) & 1u)) >> 13;
  return static_cast<uint16_t>(sign | r);
}

float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    float v = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -v : v;
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));
  return std::bit_cast<float>(sign | ((exp + 112u) << 23) | (mant << 13));
}

uint16_t fp32_to_bf16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 64u);
  return static_cast<uint16_t>((x + (0x7fffu + ((x >> 16) & 1u))) >> 16);
}

std::vector<uint8_t> quantize_q8_0(const float* x, size_t n) {
  std::vector<uint8_t> out(n / kQ8Block * kQ8BlockBytes);
  for (size_t b = 0; b < n / kQ8Block; ++b) {
    const float* v = x + b * kQ8Block;
    float amax = 0.0f;
    for (size_t j = 0; j < kQ8Block; ++j) amax = std::max(amax, std::fabs(v[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    uint8_t* block = out.data() + b * kQ8BlockBytes;
    const uint16_t dh = fp32_to_fp16(d);
    std::memcpy(block, &dh, 2);
    for (size_t j = 0; j < kQ8Block; ++j)
      block[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(std::roundf(v[j] * id)));
  }
  return out;
}

std::vector<float> dequantize_q8_0(const uint8_t* blocks, size_t n) {
  std::vector<float> out(n);
  for (size_t b = 0; b < n / kQ8Block; ++b) {
    const uint8_t* block = blocks + b * kQ8BlockBytes;
    uint16_t dh = 0;
    std::memcpy(&dh, block, 2);
    const float d = fp16_to_fp32(dh);
    for (size_t j = 0; j < kQ8Block; ++j)
      out[b * kQ8Block + j] = d * static_cast<float>(static_cast<int8_t>(block[2 + j]));
  }
  return out;
}

}  // namespace af::model
