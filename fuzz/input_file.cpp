#include "input_file.h"

#include <unistd.h>

#include <cstdio>

namespace af::fuzz {

std::string as_file(const uint8_t* data, size_t size, const char* extension) {
  const std::string path = "/tmp/astforge-fuzz-" + std::to_string(::getpid()) + extension;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return path;
  if (size > 0) std::fwrite(data, 1, size, f);
  std::fclose(f);
  return path;
}

}  // namespace af::fuzz
