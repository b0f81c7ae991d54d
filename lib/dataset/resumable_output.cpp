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

ResumableOutput::ResumableOutput(std::string path, std::string checkpoint_path, std::string fingerprint,
                                 bool resume)
    : path_(std::move(path)),
      checkpoint_path_(std::move(checkpoint_path)),
      fingerprint_(std::move(fingerprint)) {
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
      throw usage_error(path_ + " was made from other inputs or settings than this run's",
                        "run with --no-resume to start it over, or restore the inputs it was made from");
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
  json cp = {{"output", path_}, {"rows", rows_}, {"fingerprint", fingerprint_}, {"complete", complete}};
  write_file_atomic(checkpoint_path_, cp.dump(2) + "\n", durable);
}

}  // namespace af::dataset
