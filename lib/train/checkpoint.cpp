#include "train/checkpoint.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <filesystem>

#include "core/atomic_dir.h"
#include "core/error.h"
#include "core/files.h"
#include "core/log.h"
#include "model/model_folder.h"
#include "model/weight_files.h"

namespace af::train {
namespace fs = std::filesystem;

std::string checkpoint_name(int64_t step) {
  return "checkpoint-" + std::to_string(step);
}

int64_t checkpoint_step(const std::string& name) {
  const std::string prefix = "checkpoint-";
  if (name.rfind(prefix, 0) != 0 || name.size() == prefix.size()) return -1;
  std::string digits = name.substr(prefix.size());
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return -1;
  return std::stoll(digits);
}

namespace {

void write_weights(const std::string& dir, const CheckpointParts& parts) {
  if (parts.lora->has_value())
    model::save_adapter(*parts.model, **parts.lora, dir);
  else
    model::save_model(*parts.model, dir, at::kFloat, "");
}

std::string to_hex(const at::Tensor& bytes) {
  static const char* digits = "0123456789abcdef";
  at::Tensor b = bytes.contiguous();
  const auto* p = b.data_ptr<uint8_t>();
  std::string out;
  for (int64_t i = 0; i < b.numel(); ++i) {
    out.push_back(digits[p[i] >> 4]);
    out.push_back(digits[p[i] & 15]);
  }
  return out;
}

at::Tensor from_hex(const std::string& hex) {
  at::Tensor out = at::empty({static_cast<int64_t>(hex.size() / 2)}, at::TensorOptions().dtype(at::kByte));
  auto* p = out.data_ptr<uint8_t>();
  auto nibble = [](char c) { return static_cast<uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10); };
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    p[i / 2] = static_cast<uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1]));
  return out;
}

}  // namespace

void save_checkpoint(const std::string& dir, const CheckpointParts& parts,
                     const nlohmann::json& trainer_state) {
  write_dir_atomic(dir, [&](const std::string& tmp) {
    write_weights(tmp, parts);
    parts.optimizer->save(tmp);
    at::Tensor rng = at::detail::getDefaultCPUGenerator().get_state();
    write_file_atomic((fs::path(tmp) / "rng_state.json").string(),
                      nlohmann::json{{"cpu", to_hex(rng)}}.dump() + "\n");
    // trainer_state.json last: its presence marks the folder complete.
    write_file_atomic((fs::path(tmp) / "trainer_state.json").string(), trainer_state.dump(2) + "\n");
  });
}

void save_final(const std::string& dir, const CheckpointParts& parts) {
  write_dir_atomic(dir, [&](const std::string& tmp) {
    write_weights(tmp, parts);
    if (!parts.tokenizer_dir.empty()) model::copy_tokenizer_files(parts.tokenizer_dir, tmp);
  });
}

bool checkpoint_valid(const std::string& dir) {
  fs::path d(dir);
  if (!fs::exists(d / "trainer_state.json") || !fs::exists(d / "optimizer.safetensors") ||
      !fs::exists(d / "rng_state.json"))
    return false;
  if (!fs::exists(d / "adapter_model.safetensors") && !fs::exists(d / "model.safetensors") &&
      !fs::exists(d / "model.safetensors.index.json"))
    return false;
  auto state = nlohmann::json::parse(read_file((d / "trainer_state.json").string()), nullptr, false);
  return !state.is_discarded() && state.contains("global_step");
}

std::string latest_checkpoint(const std::string& output_dir) {
  if (!fs::is_directory(output_dir)) return "";
  std::vector<std::pair<int64_t, std::string>> found;
  for (const auto& entry : fs::directory_iterator(output_dir)) {
    int64_t step = checkpoint_step(entry.path().filename().string());
    if (step >= 0 && entry.is_directory()) found.emplace_back(step, entry.path().string());
  }
  std::sort(found.rbegin(), found.rend());
  for (const auto& [step, path] : found) {
    if (checkpoint_valid(path)) return path;
    log_warn(path, " is incomplete (a save was interrupted); skipping it");
  }
  return "";
}

void load_checkpoint_weights(const std::string& dir, model::Gemma3& m,
                             const std::optional<model::LoraSettings>& lora) {
  if (lora) {
    model::load_adapter_weights(m, *lora, dir);  // the adapters exist already, with the same settings
    return;
  }
  model::load_weights(m, model::WeightFiles::open(dir), dir);
}

void load_rng_state(const std::string& dir) {
  auto doc = nlohmann::json::parse(read_file((fs::path(dir) / "rng_state.json").string()));
  at::Generator gen = at::detail::getDefaultCPUGenerator();  // a handle to the process-wide generator
  gen.set_state(from_hex(doc.at("cpu").get<std::string>()));
}

nlohmann::json read_trainer_state(const std::string& dir) {
  return nlohmann::json::parse(read_file((fs::path(dir) / "trainer_state.json").string()));
}

void rotate_checkpoints(const std::string& output_dir, int64_t limit, const std::string& keep_a,
                        const std::string& keep_b) {
  if (limit <= 0) return;
  std::vector<std::pair<int64_t, fs::path>> found;
  for (const auto& entry : fs::directory_iterator(output_dir)) {
    int64_t step = checkpoint_step(entry.path().filename().string());
    if (step >= 0 && entry.is_directory()) found.emplace_back(step, entry.path());
  }
  std::sort(found.begin(), found.end());
  auto excess = static_cast<int64_t>(found.size()) - limit;
  for (const auto& [step, path] : found) {
    if (excess <= 0) break;
    if (path == fs::path(keep_a) || path == fs::path(keep_b)) continue;
    fs::remove_all(path);
    --excess;
  }
}

}  // namespace af::train
