#include "core/jsonl_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "core/error.h"
#include "core/limits.h"
#include "core/log.h"

namespace af {
namespace {

constexpr size_t kChunk = size_t{8} << 20;  // read 8 MiB at a time
constexpr size_t kMaxReasons = 100;

bool is_blank(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\r') return false;
  return true;
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

nlohmann::json to_json(simdjson::ondemand::value value) {
  using simdjson::ondemand::json_type;
  switch (value.type().value()) {
    case json_type::object: {
      nlohmann::json obj = nlohmann::json::object();
      for (auto field : value.get_object()) {
        std::string key(field.unescaped_key().value());
        if (obj.contains(key)) throw BadLine("duplicate key \"" + key + "\"");
        obj[key] = to_json(field.value().value());
      }
      return obj;
    }
    case json_type::array: {
      nlohmann::json arr = nlohmann::json::array();
      for (auto element : value.get_array()) arr.push_back(to_json(element.value()));
      return arr;
    }
    case json_type::string:
      return std::string(value.get_string().value());
    case json_type::boolean:
      return value.get_bool().value();
    case json_type::null:
      if (!value.is_null()) throw BadLine("invalid literal");
      return nullptr;
    case json_type::number: {
      switch (value.get_number_type().value()) {
        case simdjson::ondemand::number_type::signed_integer:
          return value.get_int64().value();
        case simdjson::ondemand::number_type::unsigned_integer:
          return value.get_uint64().value();
        default:
          return value.get_double().value();
      }
    }
  }
  throw BadLine("unknown JSON value type");
}

nlohmann::json to_json(simdjson::ondemand::document& doc) {
  using simdjson::ondemand::json_type;
  // Scalars at the document root need the document accessors.
  switch (doc.type().value()) {
    case json_type::object:
    case json_type::array:
      return to_json(doc.get_value().value());
    case json_type::string:
      return std::string(doc.get_string().value());
    case json_type::boolean:
      return doc.get_bool().value();
    case json_type::null:
      if (!doc.is_null()) throw BadLine("invalid literal");
      return nullptr;
    case json_type::number:
      switch (doc.get_number_type().value()) {
        case simdjson::ondemand::number_type::signed_integer:
          return doc.get_int64().value();
        case simdjson::ondemand::number_type::unsigned_integer:
          return doc.get_uint64().value();
        default:
          return doc.get_double().value();
      }
  }
  throw BadLine("unknown JSON value type");
}

nlohmann::json to_json(simdjson::dom::element element) {
  switch (element.type()) {
    case simdjson::dom::element_type::OBJECT: {
      nlohmann::json obj = nlohmann::json::object();
      simdjson::dom::object object = element.get_object().value_unsafe();  // a copy: iterate no temporary
      for (auto field : object) {
        std::string key(field.key);
        if (obj.contains(key)) throw BadLine("duplicate key \"" + key + "\"");
        obj[key] = to_json(field.value);
      }
      return obj;
    }
    case simdjson::dom::element_type::ARRAY: {
      nlohmann::json arr = nlohmann::json::array();
      simdjson::dom::array array = element.get_array().value_unsafe();
      for (auto item : array) arr.push_back(to_json(item));
      return arr;
    }
    case simdjson::dom::element_type::STRING:
      return std::string(element.get_string().value_unsafe());
    case simdjson::dom::element_type::INT64:
      return element.get_int64().value_unsafe();
    case simdjson::dom::element_type::UINT64:
      return element.get_uint64().value_unsafe();
    case simdjson::dom::element_type::DOUBLE:
      return element.get_double().value_unsafe();
    case simdjson::dom::element_type::BOOL:
      return element.get_bool().value_unsafe();
    case simdjson::dom::element_type::NULL_VALUE:
      return nullptr;
  }
  throw BadLine("unknown JSON value type");
}

namespace {

// Splits `path` into lines without copying them and calls `parse(line, room)` for each non-blank line, where
// `room` is the readable bytes from the line start (always > line length + SIMDJSON_PADDING). `parse` returns
// an empty string when the line was accepted, or the reason it is malformed.
using LineParser = std::function<std::string(const JsonlLine&, size_t room)>;

JsonlStats scan_lines(const std::string& path, OnBadLine policy, const LineParser& parse) {
  Fd file;
  file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (file.fd < 0) {
    throw runtime_error(path + ": cannot open: " + std::strerror(errno),
                        "check the path, or run the stage that writes it first");
  }
  JsonlStats stats;
  // The buffer always keeps SIMDJSON_PADDING spare bytes after the data, as On-Demand requires.
  size_t capacity = kChunk;
  std::unique_ptr<char[]> buf(new char[capacity + simdjson::SIMDJSON_PADDING]);
  size_t filled = 0;
  bool eof = false;
  uint64_t line_no = 0;

  auto handle = [&](const char* begin, size_t len) {
    ++line_no;
    ++stats.lines;
    std::string_view text(begin, len);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (is_blank(text)) {
      ++stats.blank;
      return;
    }
    size_t room = static_cast<size_t>(buf.get() + capacity + simdjson::SIMDJSON_PADDING - begin);
    std::string reason;
    try {
      reason = parse(JsonlLine{line_no, text}, room);
    } catch (const simdjson::simdjson_error& e) {
      reason = e.what();
    } catch (const BadLine& e) {
      reason = e.what();
    }
    if (reason.empty()) {
      ++stats.records;
      return;
    }
    std::string message = path + ":" + std::to_string(line_no) + ": " + reason;
    if (policy == OnBadLine::Fail) {
      throw runtime_error(message, "fix or remove that line, then run again");
    }
    ++stats.bad;
    if (stats.bad_reasons.size() < kMaxReasons) {
      log_warn("skipped ", message);
      stats.bad_reasons.push_back(message);
    }
  };

  while (true) {
    if (!eof && filled < capacity) {
      ssize_t n = ::read(file.fd, buf.get() + filled, capacity - filled);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw runtime_error(path + ": read failed: " + std::strerror(errno));
      }
      if (n == 0) eof = true;
      filled += static_cast<size_t>(n);
      stats.bytes += static_cast<uint64_t>(n);
    }
    std::memset(buf.get() + filled, 0, simdjson::SIMDJSON_PADDING);
    const char* start = buf.get();
    const char* end = buf.get() + filled;
    while (true) {
      const char* nl = static_cast<const char*>(std::memchr(start, '\n', static_cast<size_t>(end - start)));
      if (!nl) break;
      handle(start, static_cast<size_t>(nl - start));
      start = nl + 1;
    }
    size_t rest = static_cast<size_t>(end - start);
    if (eof) {
      if (rest > 0) handle(start, rest);
      break;
    }
    if (rest == capacity) {
      // One line longer than the buffer: grow, up to the most one record may hold.
      if (capacity >= kMaxLineBytes) {
        throw usage_error(path + ":" + std::to_string(line_no + 1) + ": a line longer than " +
                              std::to_string(kMaxLineBytes) + " bytes, the most one record may hold",
                          "one JSON record per line; is this the right file?");
      }
      capacity *= 2;
      std::unique_ptr<char[]> bigger(new char[capacity + simdjson::SIMDJSON_PADDING]);
      std::memcpy(bigger.get(), buf.get(), rest);
      buf = std::move(bigger);
    } else if (rest > 0 && start != buf.get()) {
      std::memmove(buf.get(), start, rest);
    }
    filled = rest;
  }
  return stats;
}

}  // namespace

JsonlStats for_each_jsonl(const std::string& path, OnBadLine policy, const OnDemandVisitor& visit) {
  simdjson::ondemand::parser parser;
  return scan_lines(path, policy, [&](const JsonlLine& line, size_t room) -> std::string {
    auto doc = parser.iterate(line.text.data(), line.text.size(), room);
    if (doc.error()) return simdjson::error_message(doc.error());
    visit(line, doc.value_unsafe());
    return {};
  });
}

std::vector<JsonlRecord> read_jsonl_records(const std::string& path, OnBadLine policy, JsonlStats* stats) {
  // Every record is kept: the file's size is checked before reading (and counted while reading, for a pipe).
  auto too_big = [&](uint64_t line) {
    return usage_error(path + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": more than " +
                           std::to_string(kMaxJsonlFileBytes >> 20) +
                           " MiB, the most a JSONL file read whole may hold",
                       "split it into smaller files, or keep only the rows this step needs");
  };
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec) && std::filesystem::file_size(path, ec) > kMaxJsonlFileBytes)
    throw too_big(0);
  uint64_t read = 0;
  // The DOM parser validates every byte of the line, so a malformed line can never pass as a record.
  simdjson::dom::parser parser;
  std::vector<JsonlRecord> rows;
  JsonlStats s = scan_lines(path, policy, [&](const JsonlLine& line, size_t) -> std::string {
    read += line.text.size() + 1;
    if (read > kMaxJsonlFileBytes) throw too_big(line.number);
    auto element = parser.parse(line.text.data(), line.text.size(), false);
    if (element.error()) return simdjson::error_message(element.error());
    rows.push_back({line.number, to_json(element.value_unsafe())});
    return {};
  });
  if (stats) *stats = std::move(s);
  return rows;
}

std::vector<nlohmann::json> read_jsonl(const std::string& path, OnBadLine policy, JsonlStats* stats) {
  std::vector<nlohmann::json> rows;
  for (auto& r : read_jsonl_records(path, policy, stats)) rows.push_back(std::move(r.value));
  return rows;
}

}  // namespace af
