#include "dataset/resumable_output.h"

#include <filesystem>

#include "core/canonical_json.h"
#include "core/error.h"
#include "core/files.h"
#include "core/hash.h"
#include "core/jsonl_reader.h"
#include "core/log.h"

namespace af::dataset {

using json = nlohmann::json;

std::string fingerprint_of(const json& inputs) {
  uint64_t h = fnv1a64(canonical_json(inputs));
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

namespace {

// The inputs as the checkpoint keeps them: settings as they are, each list (the samples, the schemas) as its
// fingerprint, so the file stays small and a difference can still be named.
json settings_of(const json& inputs) {
  if (inputs.is_array()) return "list " + fingerprint_of(inputs);
  if (!inputs.is_object()) return inputs;
  json out = json::object();
  for (const auto& [k, v] : inputs.items()) out[k] = settings_of(v);
  return out;
}

// "generation.temperature is 0.2 now, 0.7 then" for each leaf that differs (at most a few).
void differences(const json& then, const json& now, const std::string& at, std::vector<std::string>& out) {
  if (out.size() >= 5 || then == now) return;
  if (then.is_object() && now.is_object()) {
    for (const auto& [k, v] : now.items())
      differences(then.contains(k) ? then[k] : json(), v, at.empty() ? k : at + "." + k, out);
    return;
  }
  out.push_back(at + " is " + now.dump() + " now, " + (then.is_null() ? "unset" : then.dump()) + " then");
}

}  // namespace

ResumableOutput::ResumableOutput(std::string path, std::string checkpoint_path, const json& inputs,
                                 bool resume)
    : path_(std::move(path)),
      checkpoint_path_(std::move(checkpoint_path)),
      fingerprint_(fingerprint_of(inputs)),
      settings_(settings_of(inputs)) {
  namespace fs = std::filesystem;
  bool have_checkpoint = resume && fs::exists(checkpoint_path_);
  if (have_checkpoint) {
    json cp;
    try {
      cp = parse_json_strict(read_file(checkpoint_path_));
    } catch (const Error& e) {
      throw runtime_error(checkpoint_path_ + ": unreadable checkpoint: " + e.what(),
                          "delete it and " + path_ + " to start over");
    }
    if (cp.value("fingerprint", "") != fingerprint_) {
      std::vector<std::string> changed;
      if (cp.contains("settings")) differences(cp["settings"], settings_, "", changed);
      std::string what;
      for (const auto& c : changed) what += (what.empty() ? ": " : "; ") + c;
      throw usage_error(
          path_ + " was made from other inputs or settings than this run's" + what,
          "run with --no-resume to start it over, or restore the inputs and settings it was made "
          "from");
    }
    complete_ = cp.value("complete", false);
    writer_ = std::make_unique<JsonlWriter>(path_, JsonlWriter::Mode::Append);
    if (writer_->repaired_bytes() > 0) {
      log_warn("cut ", writer_->repaired_bytes(), " bytes of a torn last line from ", path_);
    }
    // The file may hold a few rows more than the checkpoint (killed between fsync and checkpoint): they are
    // complete rows of the same inputs, so they count.
    done_ = fs::exists(path_) ? read_jsonl(path_).size() : 0;
    uint64_t recorded = cp.value("rows", uint64_t{0});
    if (done_ < recorded) {
      // Only after a machine crash (rows not yet fsynced) or a hand edit: the missing rows are made again.
      log_warn(path_, " has ", done_, " rows but its checkpoint recorded ", recorded, "; continuing from ",
               done_);
    }
    if (done_ > 0) log_info("resuming ", path_, " after ", done_, " rows");
  } else {
    writer_ = std::make_unique<JsonlWriter>(path_, JsonlWriter::Mode::Truncate);
    write_checkpoint(false, false);
  }
  rows_ = done_;
}

void ResumableOutput::require_at_most(uint64_t total) const {
  if (done_ <= total) return;
  throw runtime_error(path_ + " holds " + std::to_string(done_) + " rows, more than the " +
                          std::to_string(total) +
                          " these settings make: two writers ran on it, or it was edited",
                      "start it over with --no-resume");
}

void ResumableOutput::append(const json& row) {
  writer_->write(row);
  ++rows_;
}

void ResumableOutput::commit() {
  writer_->flush();
  write_checkpoint(false, false);
  log_debug("checkpoint: ", rows_, " rows of ", path_, " saved");
}

void ResumableOutput::finish() {
  writer_->sync();
  write_checkpoint(true, true);
  complete_ = true;
}

void ResumableOutput::write_checkpoint(bool complete, bool durable) {
  json cp = {{"output", path_},
             {"rows", rows_},
             {"fingerprint", fingerprint_},
             {"settings", settings_},
             {"complete", complete}};
  write_file_atomic(checkpoint_path_, cp.dump(2) + "\n", durable);
}

}  // namespace af::dataset
