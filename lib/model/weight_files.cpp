#include "model/weight_files.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/files.h"
#include "core/hash.h"

namespace af::model {

WeightFiles WeightFiles::open(const std::string& dir, const std::string& stem) {
  namespace fs = std::filesystem;
  WeightFiles out;
  fs::path single = fs::path(dir) / (stem + ".safetensors");
  fs::path index = fs::path(dir) / (stem + ".safetensors.index.json");
  std::vector<std::string> paths;
  if (fs::exists(single)) {
    paths.push_back(single.string());
  } else if (fs::exists(index)) {
    auto doc = nlohmann::json::parse(read_file_limited(index.string(), 64u << 20, "index"), nullptr, false);
    if (doc.is_discarded() || !doc.contains("weight_map") || !doc.at("weight_map").is_object())
      throw runtime_error(index.string() + ": not a safetensors index (needs a \"weight_map\" object)");
    std::map<std::string, bool> seen;
    for (auto& [name, file] : doc.at("weight_map").items()) {
      if (!file.is_string() || file.get<std::string>().find('/') != std::string::npos)
        throw runtime_error(index.string() + ": weight_map[\"" + name + "\"] must name a file in the folder");
      if (!seen[file.get<std::string>()]) paths.push_back((fs::path(dir) / file.get<std::string>()).string());
      seen[file.get<std::string>()] = true;
    }
  } else {
    throw usage_error(dir + ": no " + single.filename().string() + " or " + index.filename().string(),
                      "astforge reads safetensors weights; convert .bin checkpoints with Hugging Face first");
  }
  for (const auto& p : paths) {
    auto file = SafetensorsFile::open(p);
    for (const auto& t : file->tensors()) {
      if (out.index_.count(t.name) != 0)
        throw runtime_error(p + ": tensor '" + t.name + "' is in two weight files");
      out.index_[t.name] = {file.get(), &t};
    }
    out.files_.push_back(std::move(file));
  }
  return out;
}

FoundTensor WeightFiles::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? FoundTensor{} : it->second;
}

std::vector<std::string> WeightFiles::names() const {
  std::vector<std::string> out;
  for (const auto& [name, found] : index_) out.push_back(name);
  return out;
}

void write_weight_files(const std::string& dir, const std::vector<TensorBytes>& tensors,
                        uint64_t max_shard_bytes) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  uint64_t total = 0;
  for (const auto& t : tensors) total += t.size;
  // Files of an earlier save with another layout would be read as part of this one: remove them.
  fs::remove(fs::path(dir) / "model.safetensors.index.json");
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name.starts_with("model-") && name.ends_with(".safetensors") &&
        name.find("-of-") != std::string::npos)
      fs::remove(entry.path());
  }
  if (total <= max_shard_bytes) {
    write_safetensors((fs::path(dir) / "model.safetensors").string(), tensors);
    return;
  }
  std::vector<std::vector<TensorBytes>> shards(1);
  uint64_t in_shard = 0;
  for (const auto& t : tensors) {
    if (in_shard > 0 && in_shard + t.size > max_shard_bytes) {
      shards.emplace_back();
      in_shard = 0;
    }
    shards.back().push_back(t);
    in_shard += t.size;
  }
  nlohmann::json map = nlohmann::json::object();
  for (size_t i = 0; i < shards.size(); ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", i + 1, shards.size());
    write_safetensors((fs::path(dir) / name).string(), shards[i]);
    for (const auto& t : shards[i]) map[t.name] = name;
  }
  fs::remove(fs::path(dir) / "model.safetensors");
  nlohmann::json index = {{"metadata", {{"total_size", total}}}, {"weight_map", map}};
  write_file_atomic((fs::path(dir) / "model.safetensors.index.json").string(), index.dump(2) + "\n");
}

nlohmann::json weights_identity(const std::string& dir) {
  namespace fs = std::filesystem;
  nlohmann::json out = nlohmann::json::object();
  if (dir.empty() || !fs::is_directory(dir)) return out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".safetensors") continue;
    // By content: a checkpoint rewritten with the same weights (a finished run resumed) keeps its identity.
    std::ifstream in(entry.path(), std::ios::binary);
    std::string chunk(1 << 20, '\0');
    uint64_t h = kFnvOffset;
    while (in.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || in.gcount() > 0)
      h = fnv1a64(std::string_view(chunk.data(), static_cast<size_t>(in.gcount())), h);
    out[entry.path().filename().string()] = {entry.file_size(), h};
  }
  return out;
}

}  // namespace af::model
