// The safetensors format: an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
// shape and byte range, then the bytes. Reading maps the file and checks every range before it is used;
// writing pads the header to 8 bytes and replaces the file atomically.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace af::model {

/// Element types astforge reads and writes.
enum class DType { F32, BF16, F16 };

/// "F32", "BF16", "F16".
std::string_view dtype_name(DType dtype);
size_t dtype_size(DType dtype);

/// One tensor's entry in a safetensors header.
struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte range inside the data section
  uint64_t end = 0;
  uint64_t numel() const;
};

/// A memory-mapped safetensors file whose header has been checked against the file.
class SafetensorsFile {
 public:
  /// Opens and checks `path`: header size limit, JSON, dtypes, shapes, byte ranges (contiguous, in order,
  /// sized to their shapes) and the file length. Anything wrong is a runtime error naming the file and
  /// tensor.
  static std::shared_ptr<SafetensorsFile> open(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  /// The entry named `name`, or nullptr.
  const TensorInfo* find(std::string_view name) const;
  /// The bytes of `info` (inside the mapping; valid while this object lives).
  const uint8_t* data(const TensorInfo& info) const;
  const nlohmann::json& metadata() const { return metadata_; }

 private:
  SafetensorsFile() = default;
  std::string path_;
  void* map_ = nullptr;
  size_t map_size_ = 0;
  const uint8_t* data_ = nullptr;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> index_;
  nlohmann::json metadata_ = nlohmann::json::object();
};

/// A tensor to write: its bytes must stay alive until the write returns.
struct TensorBytes {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  size_t size = 0;
};

/// Writes `tensors` (sorted by name) to `path` atomically, with `__metadata__` {"format": "pt"} plus
/// `metadata`.
void write_safetensors(const std::string& path, const std::vector<TensorBytes>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

/// Largest header astforge accepts (the reference implementation's limit).
constexpr uint64_t kMaxSafetensorsHeader = 100u << 20;

}  // namespace af::model
