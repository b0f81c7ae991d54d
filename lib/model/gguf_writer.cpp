#include "model/gguf_writer.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/files.h"
#include "model/ggml_blocks.h"

namespace af::model {
namespace {

constexpr uint64_t kAlignment = 32;  // general.alignment's default: astforge never writes another

// GGUF value type ids.
enum : uint32_t { U32 = 4, I32 = 5, F32 = 6, BOOL = 7, STRING = 8, ARRAY = 9 };

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void put_string(std::string& out, const std::string& s) {
  put_u64(out, s.size());
  out += s;
}
template <typename T>
void put_raw(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

void put_value(std::string& out, const GgufValue& value) {
  struct Visitor {
    std::string& out;
    void operator()(uint32_t v) const { put_u32(out, U32), put_u32(out, v); }
    void operator()(int32_t v) const { put_u32(out, I32), put_raw(out, v); }
    void operator()(float v) const { put_u32(out, F32), put_raw(out, v); }
    void operator()(bool v) const { put_u32(out, BOOL), out.push_back(v ? 1 : 0); }
    void operator()(const std::string& v) const { put_u32(out, STRING), put_string(out, v); }
    void operator()(const std::vector<std::string>& v) const {
      put_u32(out, ARRAY), put_u32(out, STRING), put_u64(out, v.size());
      for (const auto& s : v) put_string(out, s);
    }
    void operator()(const std::vector<float>& v) const {
      put_u32(out, ARRAY), put_u32(out, F32), put_u64(out, v.size());
      for (float f : v) put_raw(out, f);
    }
    void operator()(const std::vector<int32_t>& v) const {
      put_u32(out, ARRAY), put_u32(out, I32), put_u64(out, v.size());
      for (int32_t i : v) put_raw(out, i);
    }
  };
  std::visit(Visitor{out}, value);
}

uint64_t padded(uint64_t n) {
  return (n + kAlignment - 1) / kAlignment * kAlignment;
}

}  // namespace

uint64_t ggml_bytes(GgmlType type, uint64_t n) {
  switch (type) {
    case GgmlType::F32:
      return n * 4;
    case GgmlType::F16:
    case GgmlType::BF16:
      return n * 2;
    case GgmlType::Q8_0:
      return n / kQ8Block * kQ8BlockBytes;
  }
  return 0;
}

std::string ggml_type_name(GgmlType type) {
  switch (type) {
    case GgmlType::F32:
      return "f32";
    case GgmlType::F16:
      return "f16";
    case GgmlType::Q8_0:
      return "q8_0";
    case GgmlType::BF16:
      return "bf16";
  }
  return "?";
}

void GgufWriter::set(const std::string& key, GgufValue value) {
  for (auto& [k, v] : kv_)
    if (k == key) return void(v = std::move(value));
  kv_.emplace_back(key, std::move(value));
}

void GgufWriter::add_tensor(const std::string& name, std::vector<int64_t> shape, GgmlType type,
                            std::function<std::vector<uint8_t>()> bytes) {
  tensors_.push_back({name, std::move(shape), type, std::move(bytes)});
}

void GgufWriter::write(const std::string& path) const {
  std::string head = "GGUF";
  put_u32(head, 3);
  put_u64(head, tensors_.size());
  put_u64(head, kv_.size());
  for (const auto& [key, value] : kv_) {
    put_string(head, key);
    put_value(head, value);
  }
  std::vector<uint64_t> sizes;
  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    put_string(head, t.name);
    put_u32(head, static_cast<uint32_t>(t.shape.size()));
    uint64_t n = 1;
    for (auto d = t.shape.rbegin(); d != t.shape.rend(); ++d) {  // ggml's ne[0] is the innermost dimension
      put_u64(head, static_cast<uint64_t>(*d));
      n *= static_cast<uint64_t>(*d);
    }
    put_u32(head, static_cast<uint32_t>(t.type));
    put_u64(head, offset);
    sizes.push_back(ggml_bytes(t.type, n));
    offset += padded(sizes.back());
  }
  head.append(padded(head.size()) - head.size(), '\0');

  ensure_parent_dir(path);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* out = std::fopen(tmp.c_str(), "wb");
  if (out == nullptr) throw runtime_error(tmp + ": cannot write: " + std::strerror(errno));
  auto fail = [&](const std::string& why, const std::string& hint) {
    std::fclose(out);
    std::filesystem::remove(tmp);
    throw runtime_error(path + ": " + why, hint);
  };
  if (std::fwrite(head.data(), 1, head.size(), out) != head.size())
    fail(std::string("writing failed: ") + std::strerror(errno), "check the free disk space");
  static const char zeros[kAlignment] = {};
  for (size_t i = 0; i < tensors_.size(); ++i) {
    std::vector<uint8_t> bytes = tensors_[i].bytes();
    if (bytes.size() != sizes[i])
      fail("tensor '" + tensors_[i].name + "' came out as " + std::to_string(bytes.size()) + " bytes, not " +
               std::to_string(sizes[i]),
           "this is a bug in astforge's GGUF export");
    const size_t pad = padded(bytes.size()) - bytes.size();
    if (std::fwrite(bytes.data(), 1, bytes.size(), out) != bytes.size() ||
        std::fwrite(zeros, 1, pad, out) != pad)
      fail(std::string("writing failed: ") + std::strerror(errno), "check the free disk space");
  }
  bool ok = std::fflush(out) == 0 && ::fsync(fileno(out)) == 0;
  ok = std::fclose(out) == 0 && ok;
  if (!ok) {
    std::filesystem::remove(tmp);
    throw runtime_error(path + ": writing failed: " + std::strerror(errno), "check the free disk space");
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace af::model
