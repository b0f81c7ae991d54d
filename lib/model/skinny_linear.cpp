#include "model/skinny_linear.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>

#include <cstring>
#include <type_traits>

#if defined(__AVX512BF16__)
#include <immintrin.h>
#endif

// GCC notes (-Wpsabi) that returning a 64-byte vector without AVX-512 has another ABI than with it. Every
// function here has internal linkage, so no other translation unit ever sees that ABI; without the pragma an
// AVX2-only CPU (-march=native) fails the -Werror build.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace af::model {
namespace {

// 16 floats: one AVX-512 register, or two AVX2 ones; GCC and clang lower these vector types to what the
// target has, so the kernel stays portable C++.
typedef float F16 __attribute__((vector_size(64)));
typedef uint16_t U16 __attribute__((vector_size(32)));
typedef uint32_t U32 __attribute__((vector_size(64)));
constexpr int64_t kLanes = 16;
// Weight rows read ahead by software prefetch. The hardware prefetcher alone left the LM head at 11-13 GB/s
// against 15-16 GB/s of plain streaming on this machine; asking for the rows 8 ahead closes the gap.
constexpr int64_t kPrefetchRows = 8;

inline F16 load16(const float* p) {
  F16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline F16 load16(const c10::BFloat16* p) {
  U16 half;
  std::memcpy(&half, p, sizeof half);
  U32 wide = __builtin_convertvector(half, U32) << 16;  // bfloat16 is the top half of a float32
  F16 v;
  std::memcpy(&v, &wide, sizeof v);
  return v;
}
typedef float F8 __attribute__((vector_size(32)));
typedef float F4 __attribute__((vector_size(16)));

// Sum of the 16 lanes by halving (two vector adds, then four scalars), far cheaper than 15 scalar adds.
inline float horizontal_sum(const F16& v) {
  F8 lo, hi;
  std::memcpy(&lo, &v, sizeof lo);
  std::memcpy(&hi, reinterpret_cast<const char*>(&v) + sizeof lo, sizeof hi);
  F8 s8 = lo + hi;
  F4 a, b;
  std::memcpy(&a, &s8, sizeof a);
  std::memcpy(&b, reinterpret_cast<const char*>(&s8) + sizeof a, sizeof b);
  F4 s4 = a + b;
  return (s4[0] + s4[1]) + (s4[2] + s4[3]);
}

inline float load1(const float* p) {
  return *p;
}
inline float load1(const c10::BFloat16* p) {
  return static_cast<float>(*p);
}

// out[r, j] = sum_k x[r, k] w[j, k] for R rows of x and output rows j in [begin, end): each 16-wide slice of
// a weight row is loaded once and used for all R rows, which sit in registers.
template <int R, typename W>
void rows_kernel(const float* x, int64_t in, const W* w, float* out, int64_t out_stride, int64_t begin,
                 int64_t end) {
  int64_t body = in - in % kLanes;
  for (int64_t j = begin; j < end; ++j) {
    const W* wj = w + j * in;
    const W* ahead = j + kPrefetchRows < end ? wj + kPrefetchRows * in : wj;
    F16 acc[R] = {};
    for (int64_t k = 0; k < body; k += kLanes) {
      __builtin_prefetch(ahead + k);
      F16 wv = load16(wj + k);
      for (int r = 0; r < R; ++r) acc[r] += wv * load16(x + r * in + k);
    }
    for (int r = 0; r < R; ++r) {
      float sum = horizontal_sum(acc[r]);
      for (int64_t k = body; k < in; ++k) sum += load1(wj + k) * x[r * in + k];
      out[r * out_stride + j] = sum;
    }
  }
}

// Calls kernel(r, std::integral_constant<int, R>{}) over rows [0, rows) in blocks of R rows, R the largest of
// the block sizes (descending, the last 1) that fits what is left: the input rows of a block sit in
// registers.
template <int R, int... Smaller, typename Kernel>
void row_blocks(int64_t rows, const Kernel& kernel) {
  for (int64_t r = 0; r < rows;) {
    if constexpr (sizeof...(Smaller) > 0) {
      if (rows - r < R) {
        row_blocks<Smaller...>(rows - r, [&](int64_t at, auto n) { kernel(r + at, n); });
        return;
      }
    }
    kernel(r, std::integral_constant<int, R>{});
    r += R;
  }
}

template <typename W>
void all_rows(const float* x, int64_t rows, int64_t in, const W* w, float* out, int64_t out_stride,
              int64_t begin, int64_t end) {
  row_blocks<8, 4, 2, 1>(rows, [&](int64_t r, auto n) {
    rows_kernel<decltype(n)::value>(x + r * in, in, w, out + r * out_stride, out_stride, begin, end);
  });
}

#if defined(__AVX512BF16__)
// bfloat16 weights and inputs on CPUs with AVX512-BF16: one vdpbf16ps multiplies 32 pairs and accumulates in
// float32, where the portable path spends three instructions widening each 16 weights to float32 first and
// stops short of the memory bandwidth (10 GB/s against 15 measured on the LM head).
inline __m512bh load_bh(const c10::BFloat16* p) {
  __m512bh v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// One input row against four weight rows at a time: four independent accumulation chains in flight, and one
// shared horizontal sum for the four.
#ifndef PF
#define PF 12
#endif
void row1_kernel_bf16(const c10::BFloat16* x, int64_t in, const c10::BFloat16* w, float* out, int64_t begin,
                      int64_t end) {
  constexpr int64_t kPairs = 32;
  int64_t body = in - in % kPairs;
  int64_t j = begin;
  for (; j + 4 <= end && body == in; j += 4) {
    const c10::BFloat16* w0 = w + j * in;
    const c10::BFloat16* ahead = j + kPrefetchRows + 4 <= end ? w0 + kPrefetchRows * in : w0;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t k = 0; k < in; k += kPairs) {
      for (int64_t r = 0; r < 4; ++r) __builtin_prefetch(ahead + r * in + k);
      __m512bh xv = load_bh(x + k);
      a0 = _mm512_dpbf16_ps(a0, load_bh(w0 + k), xv);
      a1 = _mm512_dpbf16_ps(a1, load_bh(w0 + in + k), xv);
      a2 = _mm512_dpbf16_ps(a2, load_bh(w0 + 2 * in + k), xv);
      a3 = _mm512_dpbf16_ps(a3, load_bh(w0 + 3 * in + k), xv);
    }
    const __m512* accs[4] = {&a0, &a1, &a2, &a3};
    for (int i = 0; i < 4; ++i) {
      F16 lanes;
      std::memcpy(&lanes, accs[i], sizeof lanes);
      out[j + i] = horizontal_sum(lanes);
    }
  }
  for (; j < end; ++j) {
    const c10::BFloat16* wj = w + j * in;
    __m512 acc = _mm512_setzero_ps();
    for (int64_t k = 0; k < body; k += kPairs) acc = _mm512_dpbf16_ps(acc, load_bh(wj + k), load_bh(x + k));
    F16 lanes;
    std::memcpy(&lanes, &acc, sizeof lanes);
    float sum = horizontal_sum(lanes);
    for (int64_t k = body; k < in; ++k) sum += static_cast<float>(wj[k]) * static_cast<float>(x[k]);
    out[j] = sum;
  }
}

template <int R>
void rows_kernel_bf16(const c10::BFloat16* x, int64_t in, const c10::BFloat16* w, float* out,
                      int64_t out_stride, int64_t begin, int64_t end) {
  constexpr int64_t kPairs = 32;
  int64_t body = in - in % kPairs;
  for (int64_t j = begin; j < end; ++j) {
    const c10::BFloat16* wj = w + j * in;
    __m512 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
    for (int64_t k = 0; k < body; k += kPairs) {
      __m512bh wv = load_bh(wj + k);
      for (int r = 0; r < R; ++r) acc[r] = _mm512_dpbf16_ps(acc[r], wv, load_bh(x + r * in + k));
    }
    for (int r = 0; r < R; ++r) {
      F16 lanes;
      std::memcpy(&lanes, &acc[r], sizeof lanes);
      float sum = horizontal_sum(lanes);
      for (int64_t k = body; k < in; ++k)
        sum += static_cast<float>(wj[k]) * static_cast<float>(x[r * in + k]);
      out[r * out_stride + j] = sum;
    }
  }
}

void all_rows_bf16(const c10::BFloat16* x, int64_t rows, int64_t in, const c10::BFloat16* w, float* out,
                   int64_t out_stride, int64_t begin, int64_t end) {
  row_blocks<4, 2, 1>(rows, [&](int64_t r, auto n) {
    if constexpr (decltype(n)::value == 1) {
      row1_kernel_bf16(x + r * in, in, w, out + r * out_stride, begin, end);
    } else {
      rows_kernel_bf16<decltype(n)::value>(x + r * in, in, w, out + r * out_stride, out_stride, begin, end);
    }
  });
}
#endif

}  // namespace

bool skinny_linear_applies(const at::Tensor& x, const at::Tensor& weight) {
  if (!x.device().is_cpu() || !weight.device().is_cpu() || !weight.is_contiguous()) return false;
  if (c10::GradMode::is_enabled() && (x.requires_grad() || weight.requires_grad())) return false;
  auto type = weight.scalar_type();
  if (type != at::kFloat && type != at::kBFloat16) return false;
  int64_t in = weight.size(1);
  if (x.size(-1) != in) return false;
  // Measured here (bench_model): oneDNN's bfloat16 kernels catch up from about 8 rows on.
  return x.numel() / in <= (type == at::kFloat ? kSkinnyMaxRows : 4);
}

at::Tensor skinny_linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  int64_t in = weight.size(1), out_features = weight.size(0);
#if defined(__AVX512BF16__)
  // bfloat16 times bfloat16 is exact in float32, so the dot-product instruction loses nothing here.
  if (weight.scalar_type() == at::kBFloat16 && x.scalar_type() == at::kBFloat16) {
    at::Tensor xb = x.reshape({-1, in}).contiguous();
    int64_t rows = xb.size(0);
    at::Tensor out = at::empty({rows, out_features}, xb.options().dtype(at::kFloat));
    const c10::BFloat16* xp = xb.data_ptr<c10::BFloat16>();
    float* op = out.data_ptr<float>();
    at::parallel_for(0, out_features, 64, [&](int64_t begin, int64_t end) {
      all_rows_bf16(xp, rows, in, weight.data_ptr<c10::BFloat16>(), op, out_features, begin, end);
    });
    if (bias.defined()) out.add_(bias.to(at::kFloat));
    std::vector<int64_t> shape = x.sizes().vec();
    shape.back() = out_features;
    return out.to(x.scalar_type()).view(shape);
  }
#endif
  at::Tensor xf = x.reshape({-1, in}).to(at::kFloat).contiguous();
  int64_t rows = xf.size(0);
  at::Tensor out = at::empty({rows, out_features}, xf.options());
  const float* xp = xf.data_ptr<float>();
  float* op = out.data_ptr<float>();
  // Grain of 64 output rows: enough work per task to hide the thread pool, many tasks for large layers.
  at::parallel_for(0, out_features, 64, [&](int64_t begin, int64_t end) {
    if (weight.scalar_type() == at::kFloat)
      all_rows(xp, rows, in, weight.data_ptr<float>(), op, out_features, begin, end);
    else
      all_rows(xp, rows, in, weight.data_ptr<c10::BFloat16>(), op, out_features, begin, end);
  });
  if (bias.defined()) out.add_(bias.to(at::kFloat));
  std::vector<int64_t> shape = x.sizes().vec();
  shape.back() = out_features;
  return out.to(x.scalar_type()).view(shape);
}

}  // namespace af::model
