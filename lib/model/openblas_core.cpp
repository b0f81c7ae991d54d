#include "model/openblas_core.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <exception>
#include <vector>

#include "core/files.h"

namespace af::model {

CpuVectorSupport host_cpu_vector_support() {
  CpuVectorSupport cpu;
#if defined(__x86_64__)
  __builtin_cpu_init();
  cpu.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  cpu.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512cd");
  cpu.avx512_bf16 = cpu.avx512 && __builtin_cpu_supports("avx512bf16");
#endif
  return cpu;
}

std::optional<std::string> better_openblas_core(std::string_view current_core, const CpuVectorSupport& cpu) {
  // OpenBLAS's names for its x86-64 kernel sets older than AVX: the fallbacks of a CPU it does not recognise.
  constexpr std::array<std::string_view, 6> kGeneric{"Prescott",   "Core2",   "Penryn",
                                                     "Dunnington", "Nehalem", "Atom"};
  if (std::find(kGeneric.begin(), kGeneric.end(), current_core) == kGeneric.end()) return std::nullopt;
  if (cpu.avx512_bf16) return "Cooperlake";
  if (cpu.avx512) return "SkylakeX";
  if (cpu.avx2_fma) return "Haswell";
  return std::nullopt;
}

std::string active_openblas_core() {
  using GetCorename = const char* (*)();
  auto get_corename = reinterpret_cast<GetCorename>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  const char* name = get_corename != nullptr ? get_corename() : nullptr;
  return name != nullptr ? name : "";
}

namespace {

// The process's own arguments, as it was started; none when /proc cannot be read.
std::vector<std::string> own_arguments() {
  std::string all;
  try {
    all = read_file("/proc/self/cmdline");
  } catch (const std::exception&) {
    return {};  // before main an exception would end the process: go on without the re-run
  }
  std::vector<std::string> args;
  std::string::size_type start = 0;
  while (start < all.size()) {
    std::string::size_type end = all.find('\0', start);
    if (end == std::string::npos) end = all.size();
    args.push_back(all.substr(start, end - start));
    start = end + 1;
  }
  return args;
}

// Runs when the library loads, before main and before any tensor exists: OpenBLAS reads OPENBLAS_CORETYPE
// only while it loads, so the one way to change its kernels is to start the process again with it set. A
// libtorch without OpenBLAS (MKL, CUDA builds) has no openblas_get_corename and is left alone.
bool rerun_with_better_openblas_core() {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return false;
  std::string current = active_openblas_core();
  if (current.empty()) return false;
  std::optional<std::string> better = better_openblas_core(current, host_cpu_vector_support());
  if (!better) return false;
  std::vector<std::string> args = own_arguments();
  if (args.empty()) return false;
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  // Set before exec: the new process keeps it, and so does every process it starts.
  setenv("OPENBLAS_CORETYPE", better->c_str(), 1);
  setenv("ASTFORGE_OPENBLAS_REPLACED", current.c_str(), 1);
  execv("/proc/self/exe", argv.data());
  unsetenv("OPENBLAS_CORETYPE");
  unsetenv("ASTFORGE_OPENBLAS_REPLACED");  // exec failed: go on with the slow kernels rather than not at all
  return false;
}

[[maybe_unused]] const bool kRerunChecked = rerun_with_better_openblas_core();

}  // namespace

std::string replaced_openblas_core() {
  const char* replaced = std::getenv("ASTFORGE_OPENBLAS_REPLACED");
  return replaced != nullptr ? replaced : "";
}

}  // namespace af::model
