#include "model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/files.h"

namespace af::model {
namespace {

using nlohmann::json;

DType parse_dtype(const std::string& name, const std::string& where) {
  if (name == "F32") return DType::F32;
  if (name == "BF16") return DType::BF16;
  if (name == "F16") return DType::F16;
  throw runtime_error(where + ": dtype " + name + " is not supported (F32, BF16 and F16 are)");
}

uint64_t read_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32:
      return "F32";
    case DType::BF16:
      return "BF16";
    case DType::F16:
      return "F16";
  }
  return "?";
}

size_t dtype_size(DType dtype) {
  return dtype == DType::F32 ? 4 : 2;
}

uint64_t TensorInfo::numel() const {
  uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);
  return n;
}

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  std::shared_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw runtime_error(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw runtime_error(path + ": cannot stat: " + std::strerror(errno));
  }
  auto size = static_cast<uint64_t>(st.st_size);
  const std::string bad = path + ": not a valid safetensors file: ";
  if (size < 8) {
    ::close(fd);
    throw runtime_error(bad + "shorter than its 8-byte header length",
                        "the file is truncated; copy it again");
  }
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) throw runtime_error(path + ": cannot map: " + std::strerror(errno));
  file->map_ = map;
  file->map_size_ = size;
  const auto* bytes = static_cast<const uint8_t*>(map);
  uint64_t header_len = read_le64(bytes);
  if (header_len > kMaxSafetensorsHeader)
    throw runtime_error(bad + "header length " + std::to_string(header_len) + " exceeds the 100 MiB limit");
  if (header_len > size - 8)
    throw runtime_error(bad + "header length " + std::to_string(header_len) + " runs past the end of the " +
                            std::to_string(size) + "-byte file",
                        "the file is truncated; copy it again");
  std::string_view header(reinterpret_cast<const char*>(bytes + 8), header_len);
  if (header.empty() || header.front() != '{') throw runtime_error(bad + "the header is not a JSON object");
  json doc = json::parse(header, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) throw runtime_error(bad + "the header is not valid JSON");
  file->data_ = bytes + 8 + header_len;
  uint64_t data_size = size - 8 - header_len;

  for (auto& [name, entry] : doc.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) throw runtime_error(bad + "__metadata__ must be an object of strings");
      for (auto& [k, v] : entry.items())
        if (!v.is_string()) throw runtime_error(bad + "__metadata__." + k + " must be a string");
      file->metadata_ = entry;
      continue;
    }
    std::string where = bad + "tensor '" + name + "'";
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
        !entry.contains("data_offsets"))
      throw runtime_error(where + " needs dtype, shape and data_offsets");
    const json& dt = entry.at("dtype");
    const json& shape = entry.at("shape");
    const json& offs = entry.at("data_offsets");
    if (!dt.is_string()) throw runtime_error(where + ": dtype must be a string");
    TensorInfo info;
    info.name = name;
    info.dtype = parse_dtype(dt.get<std::string>(), path + ": tensor '" + name + "'");
    if (!shape.is_array()) throw runtime_error(where + ": shape must be an array");
    uint64_t numel = 1;
    for (const auto& d : shape) {
      if (!d.is_number_unsigned())
        throw runtime_error(where + ": shape entries must be non-negative integers");
      auto v = d.get<uint64_t>();
      if (v != 0 && numel > (uint64_t{1} << 48) / v) throw runtime_error(where + ": shape is too large");
      numel *= v;
      info.shape.push_back(static_cast<int64_t>(v));
    }
    if (!offs.is_array() || offs.size() != 2 || !offs[0].is_number_unsigned() ||
        !offs[1].is_number_unsigned())
      throw runtime_error(where + ": data_offsets must be [begin, end]");
    info.begin = offs[0].get<uint64_t>();
    info.end = offs[1].get<uint64_t>();
    if (info.end < info.begin) throw runtime_error(where + ": data_offsets end before they begin");
    if (info.end - info.begin != numel * dtype_size(info.dtype))
      throw runtime_error(where + ": " + std::to_string(info.end - info.begin) +
                          " bytes do not match shape (" + std::to_string(numel * dtype_size(info.dtype)) +
                          " bytes expected)");
    file->tensors_.push_back(std::move(info));
  }
  // The byte ranges must tile the data section exactly: no gaps, no overlaps, nothing past the end.
  std::vector<const TensorInfo*> by_offset;
  for (const auto& t : file->tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](const TensorInfo* a, const TensorInfo* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t expected = 0;
  for (const TensorInfo* t : by_offset) {
    if (t->begin != expected)
      throw runtime_error(bad + "tensor '" + t->name + "' starts at byte " + std::to_string(t->begin) +
                          ", expected " + std::to_string(expected) + " (offsets must be contiguous)");
    expected = t->end;
  }
  if (expected != data_size)
    throw runtime_error(bad + "the tensors cover " + std::to_string(expected) +
                            " bytes but the data section has " + std::to_string(data_size),
                        expected > data_size ? "the file is truncated; copy it again" : "");
  for (size_t i = 0; i < file->tensors_.size(); ++i) file->index_[file->tensors_[i].name] = i;
  return file;
}

SafetensorsFile::~SafetensorsFile() {
  if (map_ != nullptr) ::munmap(map_, map_size_);
}

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const uint8_t* SafetensorsFile::data(const TensorInfo& info) const {
  return data_ + info.begin;
}

void write_safetensors(const std::string& path, const std::vector<TensorBytes>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<const TensorBytes*> order;
  for (const auto& t : tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(),
            [](const TensorBytes* a, const TensorBytes* b) { return a->name < b->name; });
  json header = json::object();
  json meta = json::object();
  meta["format"] = "pt";
  for (const auto& [k, v] : metadata) meta[k] = v;
  header["__metadata__"] = meta;
  uint64_t offset = 0;
  for (const TensorBytes* t : order) {
    uint64_t numel = 1;
    for (int64_t d : t->shape) numel *= static_cast<uint64_t>(d);
    if (numel * dtype_size(t->dtype) != t->size)
      throw runtime_error("writing " + path + ": tensor '" + t->name + "' has " + std::to_string(t->size) +
                          " bytes for its shape");
    header[t->name] = {
        {"dtype", dtype_name(t->dtype)}, {"shape", t->shape}, {"data_offsets", {offset, offset + t->size}}};
    offset += t->size;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the data section starts 8-byte aligned
  ensure_parent_dir(path);
  std::string tmp = path + ".tmp";
  std::FILE* out = std::fopen(tmp.c_str(), "wb");
  if (out == nullptr) throw runtime_error(tmp + ": cannot write: " + std::strerror(errno));
  uint8_t len[8];
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(n >> (8 * i));
  bool ok = std::fwrite(len, 1, 8, out) == 8 && std::fwrite(text.data(), 1, text.size(), out) == text.size();
  for (const TensorBytes* t : order)
    ok = ok && (t->size == 0 || std::fwrite(t->data, 1, t->size, out) == t->size);
  ok = std::fflush(out) == 0 && ok && ::fsync(fileno(out)) == 0;
  ok = std::fclose(out) == 0 && ok;
  if (!ok) {
    std::filesystem::remove(tmp);
    throw runtime_error(path + ": writing failed: " + std::strerror(errno), "check the free disk space");
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace af::model
