#include "core/jsonl_writer.h"

#include <filesystem>

#include "core/error.h"
#include "core/files.h"

namespace af {

std::string to_json_line(const nlohmann::json& value) {
  try {
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
  } catch (const nlohmann::json::type_error& e) {
    throw runtime_error(std::string("cannot write JSON: ") + e.what(), "strings must be valid UTF-8");
  }
}

JsonlWriter::JsonlWriter(const std::string& path, Mode mode) : file_(path, mode == Mode::Truncate) {}

void JsonlWriter::write(const nlohmann::json& value) {
  file_.write_line(to_json_line(value));
  ++written_;
}

void write_jsonl_atomic(const std::string& path, const std::vector<nlohmann::json>& rows) {
  std::string text;
  for (const auto& row : rows) {
    text += to_json_line(row);
    text += '\n';
  }
  // An unchanged stage output keeps its file (and mtime): a re-run leaves finished stages as they were.
  std::error_code ec;
  if (std::filesystem::file_size(path, ec) == text.size() && !ec && read_file(path) == text) return;
  write_file_atomic(path, text);
}

}  // namespace af
