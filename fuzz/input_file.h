// The fuzzers' inputs as a file: the readers under test take paths, as the tools do.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace af::fuzz {

/// Writes `data` to this process's scratch file (the same path each call) and returns its path.
std::string as_file(const uint8_t* data, size_t size, const char* extension);

}  // namespace af::fuzz
