#include "train/adamw.h"

#include <ATen/ATen.h>

#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "core/files.h"
#include "model/model_folder.h"
#include "model/safetensors.h"
#include "model/weight_files.h"

namespace af::train {

bool decays(const std::string& name) {
  return !(name.ends_with("norm.weight") || name.ends_with(".bias"));
}

AdamW::AdamW(std::vector<TrainedTensor> params, AdamWSettings settings)
    : params_(std::move(params)), settings_(settings) {
  for (const auto& p : params_) {
    exp_avg_.push_back(at::zeros_like(*p.tensor, p.tensor->options().dtype(at::kFloat)));
    exp_avg_sq_.push_back(at::zeros_like(*p.tensor, p.tensor->options().dtype(at::kFloat)));
  }
}

void AdamW::step(double lr) {
  at::NoGradGuard no_grad;
  ++steps_;
  const auto& s = settings_;
  double bias1 = 1.0 - std::pow(s.beta1, static_cast<double>(steps_));
  double bias2 = 1.0 - std::pow(s.beta2, static_cast<double>(steps_));
  for (size_t i = 0; i < params_.size(); ++i) {
    at::Tensor& p = *params_[i].tensor;
    if (!p.grad().defined()) continue;
    at::Tensor g = p.grad().to(at::kFloat);
    at::Tensor master = p.to(at::kFloat);
    if (params_[i].decay && s.weight_decay > 0) master.mul_(1.0 - lr * s.weight_decay);
    exp_avg_[i].mul_(s.beta1).add_(g, 1.0 - s.beta1);
    exp_avg_sq_[i].mul_(s.beta2).addcmul_(g, g, 1.0 - s.beta2);
    at::Tensor denom = (exp_avg_sq_[i].sqrt() / std::sqrt(bias2)).add_(s.epsilon);
    master.addcdiv_(exp_avg_[i], denom, -lr / bias1);
    if (master.data_ptr() != p.data_ptr()) p.copy_(master);
  }
}

void AdamW::zero_grad() {
  for (auto& p : params_)
    if (p.tensor->grad().defined()) p.tensor->mutable_grad() = at::Tensor();
}

void AdamW::save(const std::string& dir) const {
  std::vector<at::Tensor> keep;
  std::vector<model::TensorBytes> tensors;
  for (size_t i = 0; i < params_.size(); ++i) {
    keep.push_back(exp_avg_[i].to(at::kCPU).contiguous());
    tensors.push_back(model::tensor_bytes(params_[i].name + ".exp_avg", keep.back()));
    keep.push_back(exp_avg_sq_[i].to(at::kCPU).contiguous());
    tensors.push_back(model::tensor_bytes(params_[i].name + ".exp_avg_sq", keep.back()));
  }
  model::write_safetensors((std::filesystem::path(dir) / "optimizer.safetensors").string(), tensors);
  nlohmann::json state = {{"type", "adamw"},
                          {"steps", steps_},
                          {"beta1", settings_.beta1},
                          {"beta2", settings_.beta2},
                          {"epsilon", settings_.epsilon},
                          {"weight_decay", settings_.weight_decay}};
  write_file_atomic((std::filesystem::path(dir) / "optimizer.json").string(), state.dump(2) + "\n");
}

void AdamW::load(const std::string& dir) {
  auto state = nlohmann::json::parse(read_file((std::filesystem::path(dir) / "optimizer.json").string()));
  steps_ = state.at("steps").get<int64_t>();
  model::WeightFiles files = model::WeightFiles::open(dir, "optimizer");
  at::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    for (auto [suffix, target] :
         {std::pair{".exp_avg", &exp_avg_[i]}, std::pair{".exp_avg_sq", &exp_avg_sq_[i]}}) {
      model::FoundTensor found = files.find(params_[i].name + suffix);
      if (found.info == nullptr)
        throw runtime_error(dir + "/optimizer.safetensors: no state for '" + params_[i].name + "'",
                            "the checkpoint was written by a run with other trained tensors");
      at::Tensor stored = model::read_tensor(found);
      if (stored.sizes() != target->sizes())
        throw runtime_error(dir + "/optimizer.safetensors: state of '" + params_[i].name +
                            "' has another shape");
      target->copy_(stored);
    }
  }
}

}  // namespace af::train
