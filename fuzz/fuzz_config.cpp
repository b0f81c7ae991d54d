// The config loader on any bytes: findings, never a crash, a hang or an unbounded allocation.
#include "config/config_file.h"
#include "input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  af::config::Findings findings;
  af::config::load_config_file(af::fuzz::as_file(data, size, ".yaml"), findings);
  for (const auto& f : findings.all()) (void)f.to_json().dump();
  return 0;
}
