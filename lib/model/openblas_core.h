// OpenBLAS picks its kernels by CPU model when it loads. OpenBLAS 0.3.21 (Debian 12) does not know Intel's
// newer server CPUs (Emerald Rapids, family 6 model 207) and falls back to its generic SSE3 "Prescott"
// kernels: float32 matmul then runs ~5x slower (31 against 166 GFLOPS here), and so does every training step.
// Loading libastforge_model checks for that and re-runs the process with OPENBLAS_CORETYPE naming the kernels
// the CPU can run, noting the core it replaced in ASTFORGE_OPENBLAS_REPLACED. A value the user set
// (OPENBLAS_CORETYPE, even empty) is kept and nothing is re-run.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace af::model {

/// The vector instructions that decide which OpenBLAS kernels a CPU can run (cpuid and OS support).
struct CpuVectorSupport {
  bool avx2_fma = false;  ///< AVX2 and FMA3: OpenBLAS's Haswell kernels
  bool avx512 = false;    ///< AVX-512 F, BW, DQ, VL and CD: its SkylakeX kernels
  bool avx512_bf16 =
      false;  ///< AVX-512 BF16 besides: its Cooperlake kernels (what it picks on Sapphire Rapids)
};

/// This CPU's vector support.
CpuVectorSupport host_cpu_vector_support();

/// The kernel set OpenBLAS runs ("Cooperlake", "Haswell", ...), or "" when libtorch uses another BLAS.
std::string active_openblas_core();

/// The OpenBLAS core the process was re-run from (the generic fallback it replaced), or "" when it was not.
std::string replaced_openblas_core();

/// The OPENBLAS_CORETYPE to ask for when OpenBLAS chose `current_core` on a CPU with `cpu`: a better kernel
/// set when `current_core` is one of its generic pre-AVX fallbacks and the CPU can run more; nullopt
/// otherwise.
std::optional<std::string> better_openblas_core(std::string_view current_core, const CpuVectorSupport& cpu);

}  // namespace af::model
