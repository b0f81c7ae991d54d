// The GGUF v3 container (llama.cpp's model file): a header, typed key/value metadata, tensor descriptions,
// then each tensor's bytes aligned to general.alignment (32). Tensor bytes are produced one tensor at a time
// while the file is written, so a large model is never held twice in memory.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

namespace af::model {

/// ggml tensor element types astforge writes (ggml's numbering).
enum class GgmlType : uint32_t { F32 = 0, F16 = 1, Q8_0 = 8, BF16 = 30 };

/// Bytes of `n` elements of `type` (n a multiple of the block size for q8_0).
uint64_t ggml_bytes(GgmlType type, uint64_t n);
/// "f32", "f16", "q8_0", "bf16".
std::string ggml_type_name(GgmlType type);

/// One metadata value: the GGUF types astforge needs.
using GgufValue = std::variant<uint32_t, int32_t, float, bool, std::string, std::vector<std::string>,
                               std::vector<float>, std::vector<int32_t>>;

/// A GGUF file being assembled.
class GgufWriter {
 public:
  /// Adds a key (in the order written); a second value for a key replaces the first.
  void set(const std::string& key, GgufValue value);
  /// Adds a tensor: `shape` in PyTorch's order (outermost first; GGUF stores it reversed), its element type,
  /// and a function giving its bytes when the file is written.
  void add_tensor(const std::string& name, std::vector<int64_t> shape, GgmlType type,
                  std::function<std::vector<uint8_t>()> bytes);
  /// Writes the file atomically (temporary name, fsync, rename); a producer giving the wrong number of bytes
  /// is an error and leaves no file.
  void write(const std::string& path) const;

 private:
  struct Tensor {
    std::string name;
    std::vector<int64_t> shape;
    GgmlType type;
    std::function<std::vector<uint8_t>()> bytes;
  };
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<Tensor> tensors_;
};

}  // namespace af::model
