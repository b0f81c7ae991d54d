#include "model/skinny_linear.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>

#include <cstring>

namespace af::model {
namespace {

// 16 floats: one AVX-512 register, or two AVX2 ones; GCC and clang lower these vector types to what the
// target has, so the kernel stays portable C++.
typedef float F16 __attribute__((vector_size(64)));
typedef uint16_t U16 __attribute__((vector_size(32)));
typedef uint32_t U32 __attribute__((vector_size(64)));
constexpr int64_t kLanes = 16;

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
    F16 acc[R] = {};
    for (int64_t k = 0; k < body; k += kLanes) {
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

template <typename W>
void all_rows(const float* x, int64_t rows, int64_t in, const W* w, float* out, int64_t out_stride,
              int64_t begin, int64_t end) {
  for (int64_t r = 0; r < rows;) {
    const float* xr = x + r * in;
    float* o = out + r * out_stride;
    int64_t left = rows - r;
    if (left >= 8) {
      rows_kernel<8>(xr, in, w, o, out_stride, begin, end);
      r += 8;
    } else if (left >= 4) {
      rows_kernel<4>(xr, in, w, o, out_stride, begin, end);
      r += 4;
    } else if (left >= 2) {
      rows_kernel<2>(xr, in, w, o, out_stride, begin, end);
      r += 2;
    } else {
      rows_kernel<1>(xr, in, w, o, out_stride, begin, end);
      r += 1;
    }
  }
}

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
