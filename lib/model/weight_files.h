// The weights of a model folder: one model.safetensors, or shards listed by model.safetensors.index.json.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/safetensors.h"

namespace af::model {

/// A tensor found in one of a folder's weight files.
struct FoundTensor {
  const SafetensorsFile* file = nullptr;
  const TensorInfo* info = nullptr;
};

/// Every tensor of a folder's weight files, by name.
class WeightFiles {
 public:
  /// Opens `<dir>/<stem>.safetensors` or the shards named by `<dir>/<stem>.safetensors.index.json`.
  static WeightFiles open(const std::string& dir, const std::string& stem = "model");
  /// The tensor called `name`, or {nullptr, nullptr}.
  FoundTensor find(const std::string& name) const;
  /// Every tensor name, sorted.
  std::vector<std::string> names() const;

 private:
  std::vector<std::shared_ptr<SafetensorsFile>> files_;
  std::map<std::string, FoundTensor> index_;
};

/// Writes `tensors` as `<dir>/model.safetensors`, or, when they exceed `max_shard_bytes`, as
/// model-0000i-of-0000n.safetensors shards plus model.safetensors.index.json (Hugging Face's layout).
void write_weight_files(const std::string& dir, const std::vector<TensorBytes>& tensors,
                        uint64_t max_shard_bytes);

/// What identifies a folder's weights, for fingerprints of what a result was computed from: each .safetensors
/// file's size and content hash ({} for no folder).
nlohmann::json weights_identity(const std::string& dir);

}  // namespace af::model
