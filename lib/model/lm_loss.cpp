#include "model/lm_loss.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

namespace af::model {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct ChunkLogits {
  at::Tensor capped;  // float32 logits after softcapping
  at::Tensor raw;     // float32 logits before it (only with softcapping)
};

ChunkLogits chunk_logits(const at::Tensor& h, const at::Tensor& weight, double softcap) {
  ChunkLogits out;
  out.raw = at::matmul(h, weight.t()).to(at::kFloat);
  out.capped = softcap > 0 ? at::tanh(out.raw / softcap) * softcap : out.raw;
  return out;
}

struct ChunkedCrossEntropy : public torch::autograd::Function<ChunkedCrossEntropy> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& hidden, const at::Tensor& weight,
                            const at::Tensor& labels, double smoothing, int64_t chunk, double softcap) {
    ctx->save_for_backward({hidden, weight, labels});
    ctx->saved_data["smoothing"] = smoothing;
    ctx->saved_data["chunk"] = chunk;
    ctx->saved_data["softcap"] = softcap;
    at::Tensor total = at::zeros({}, hidden.options().dtype(at::kFloat));
    for (int64_t begin = 0; begin < hidden.size(0); begin += chunk) {
      int64_t end = std::min(begin + chunk, hidden.size(0));
      at::Tensor lab = labels.slice(0, begin, end);
      at::Tensor valid = lab >= 0;
      ChunkLogits l = chunk_logits(hidden.slice(0, begin, end), weight, softcap);
      at::Tensor lse = at::logsumexp(l.capped, -1);
      at::Tensor target = l.capped.gather(1, lab.clamp_min(0).unsqueeze(1)).squeeze(1);
      at::Tensor loss = (1.0 - smoothing) * (lse - target);
      if (smoothing > 0) loss = loss + smoothing * (lse - l.capped.mean(-1));
      total = total + at::where(valid, loss, at::zeros_like(loss)).sum();
    }
    return total;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    auto saved = ctx->get_saved_variables();
    at::Tensor hidden = saved[0], weight = saved[1], labels = saved[2];
    double smoothing = ctx->saved_data["smoothing"].toDouble();
    int64_t chunk = ctx->saved_data["chunk"].toInt();
    double softcap = ctx->saved_data["softcap"].toDouble();
    at::Tensor g = grad_outputs[0].to(at::kFloat);
    bool need_hidden = ctx->needs_input_grad(0), need_weight = ctx->needs_input_grad(1);
    at::Tensor grad_hidden = need_hidden ? at::zeros_like(hidden) : at::Tensor();
    at::Tensor grad_weight =
        need_weight ? at::zeros(weight.sizes(), weight.options().dtype(at::kFloat)) : at::Tensor();
    int64_t V = weight.size(0);
    for (int64_t begin = 0; begin < hidden.size(0); begin += chunk) {
      int64_t end = std::min(begin + chunk, hidden.size(0));
      at::Tensor h = hidden.slice(0, begin, end);
      at::Tensor lab = labels.slice(0, begin, end);
      ChunkLogits l = chunk_logits(h, weight, softcap);
      // d loss / d logits = softmax - (1 - eps) onehot - eps / V, for rows that count.
      at::Tensor grad = at::softmax(l.capped, -1);
      grad.scatter_add_(1, lab.clamp_min(0).unsqueeze(1),
                        at::full({end - begin, 1}, -(1.0 - smoothing), grad.options()));
      if (smoothing > 0) grad = grad - smoothing / static_cast<double>(V);
      grad = grad * (lab >= 0).to(at::kFloat).unsqueeze(1) * g;
      if (softcap > 0) grad = grad * (1 - at::tanh(l.raw / softcap).pow(2));
      if (need_hidden)
        grad_hidden.slice(0, begin, end).copy_(at::matmul(grad.to(weight.scalar_type()), weight));
      if (need_weight) grad_weight.add_(at::matmul(grad.t(), h.to(at::kFloat)));
    }
    if (need_weight) grad_weight = grad_weight.to(weight.scalar_type());
    return {grad_hidden, grad_weight, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor chunked_lm_loss(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& labels,
                           double label_smoothing, int64_t chunk_rows, std::optional<double> softcap) {
  return ChunkedCrossEntropy::apply(hidden, weight, labels, label_smoothing, std::max<int64_t>(chunk_rows, 1),
                                    softcap.value_or(0.0));
}

}  // namespace af::model
