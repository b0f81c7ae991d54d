// Which OpenBLAS kernels libastforge_model asks for when OpenBLAS did not recognise the CPU.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "model/openblas_core.h"

using af::model::better_openblas_core;
using af::model::CpuVectorSupport;

TEST_CASE("a generic fallback core is replaced by the best kernel set the CPU can run") {
  CpuVectorSupport emerald_rapids{true, true, true};
  CHECK(better_openblas_core("Prescott", emerald_rapids) == "Cooperlake");
  CHECK(better_openblas_core("Core2", emerald_rapids) == "Cooperlake");
  CHECK(better_openblas_core("Nehalem", emerald_rapids) == "Cooperlake");
  CHECK(better_openblas_core("Prescott", CpuVectorSupport{true, true, false}) == "SkylakeX");
  CHECK(better_openblas_core("Prescott", CpuVectorSupport{true, false, false}) == "Haswell");
}

TEST_CASE("a recognised core, or a CPU without AVX2, is left alone") {
  CpuVectorSupport avx512{true, true, true};
  CHECK_FALSE(better_openblas_core("Cooperlake", avx512).has_value());
  CHECK_FALSE(better_openblas_core("SkylakeX", avx512).has_value());
  CHECK_FALSE(better_openblas_core("Haswell", avx512).has_value());
  CHECK_FALSE(better_openblas_core("Zen", avx512).has_value());
  CHECK_FALSE(better_openblas_core("Prescott", CpuVectorSupport{}).has_value());
  CHECK_FALSE(better_openblas_core("", avx512).has_value());
}

TEST_CASE("this process runs the OpenBLAS kernels its CPU can (re-run on load when OpenBLAS fell back)") {
  std::string active = af::model::active_openblas_core();
  if (active.empty()) {
    MESSAGE("libtorch does not use OpenBLAS here: nothing to check");
    return;
  }
  // A kernel set the environment chose (OPENBLAS_CORETYPE set before this process) is the user's to keep.
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr && af::model::replaced_openblas_core().empty()) {
    MESSAGE("OPENBLAS_CORETYPE was set outside astforge: kept as it is");
    return;
  }
  CHECK_FALSE(better_openblas_core(active, af::model::host_cpu_vector_support()).has_value());
  MESSAGE("OpenBLAS core: " << active << " (replaced: '" << af::model::replaced_openblas_core() << "')");
}
