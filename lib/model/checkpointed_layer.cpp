#include "model/checkpointed_layer.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include <mutex>

namespace af::model {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

at::Tensor cpu_rng_state() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_cpu_rng_state(const at::Tensor& state) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

// The layer's trained tensors are inputs of the node, so the engine hands their gradients to their
// accumulators; the model itself travels as a pointer because the node lives only within one step, while
// the model outlives it.
struct CheckpointedLayer : public torch::autograd::Function<CheckpointedLayer> {
  static at::Tensor forward(AutogradContext* ctx, const Gemma3* model, int64_t index, const at::Tensor& x,
                            const at::Tensor& cos, const at::Tensor& sin, const at::Tensor& bias,
                            at::TensorList trained) {
    (void)trained;
    ctx->save_for_backward({x});
    ctx->saved_data["model"] = reinterpret_cast<int64_t>(model);
    ctx->saved_data["index"] = index;
    ctx->saved_data["cos"] = cos;
    ctx->saved_data["sin"] = sin;
    ctx->saved_data["bias"] = bias;
    ctx->saved_data["autocast"] = at::autocast::is_cpu_enabled();
    // Dropout draws from the CPU generator; the recompute replays the same draws. (On CUDA the dropout
    // masks of the recompute differ; use lora_dropout 0 there.)
    ctx->saved_data["rng"] = cpu_rng_state();
    return model->layer_forward(static_cast<size_t>(index), x, {cos, sin, bias});
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto* model = reinterpret_cast<const Gemma3*>(ctx->saved_data["model"].toInt());
    auto index = static_cast<size_t>(ctx->saved_data["index"].toInt());
    at::Tensor x = ctx->get_saved_variables()[0];
    LayerInputs in{ctx->saved_data["cos"].toTensor(), ctx->saved_data["sin"].toTensor(),
                   ctx->saved_data["bias"].toTensor()};
    std::vector<at::Tensor> trained = model->layer_trained_tensors(index);
    bool need_x = ctx->needs_input_grad(0);  // counts tensor arguments only: x is the first

    at::Tensor rng_now = cpu_rng_state();
    set_cpu_rng_state(ctx->saved_data["rng"].toTensor());
    bool autocast_now = at::autocast::is_cpu_enabled();
    at::autocast::set_cpu_enabled(ctx->saved_data["autocast"].toBool());
    variable_list grads;
    {
      at::AutoGradMode grad_on(true);
      at::Tensor x_again = x.detach().requires_grad_(need_x);
      at::Tensor y = model->layer_forward(index, x_again, in);
      model->count_recomputed_layer();
      variable_list wrt;
      if (need_x) wrt.push_back(x_again);
      wrt.insert(wrt.end(), trained.begin(), trained.end());
      grads = torch::autograd::grad({y}, wrt, {grad_outputs[0]}, /*retain_graph=*/false,
                                    /*create_graph=*/false, /*allow_unused=*/true);
    }
    at::autocast::set_cpu_enabled(autocast_now);
    if (!autocast_now) at::autocast::clear_cache();
    set_cpu_rng_state(rng_now);

    // One gradient per forward argument, the tensor list flattened: model, index, x, cos, sin, bias,
    // trained...
    variable_list out(6 + trained.size());
    size_t g = 0;
    if (need_x) out[2] = grads[g++];
    for (size_t i = 0; i < trained.size(); ++i) out[6 + i] = grads[g++];
    return out;
  }
};

}  // namespace

at::Tensor checkpointed_layer(const Gemma3& model, size_t index, const at::Tensor& x, const LayerInputs& in) {
  std::vector<at::Tensor> trained = model.layer_trained_tensors(index);
  return CheckpointedLayer::apply(&model, static_cast<int64_t>(index), x, in.cos, in.sin, in.bias,
                                  at::TensorList(trained));
}

}  // namespace af::model
