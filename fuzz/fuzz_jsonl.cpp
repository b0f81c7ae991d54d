// The JSONL reader on any bytes, skipping and counting bad lines.
#include "core/jsonl_reader.h"
#include "core/log.h"
#include "input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  af::set_log_level(af::LogLevel::Error);  // each skipped line is a warning
  af::JsonlStats stats;
  auto rows =
      af::read_jsonl_records(af::fuzz::as_file(data, size, ".jsonl"), af::OnBadLine::SkipAndCount, &stats);
  for (const auto& r : rows) (void)r.value.dump();
  return 0;
}
