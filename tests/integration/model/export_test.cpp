// export, checked by an implementation nobody here wrote: llama.cpp (node-llama-cpp 3.21.1's prebuilt CPU
// build) loads the GGUF files and must give astforge's next-token distribution for the same token ids; its
// greedy continuation must equal astforge's generate(); its LoRA on the base GGUF must equal the merged
// model; q8_0, float16 and bfloat16 must be bit-exact to ggml's own encoders (libggml-base.so, loaded with
// dlopen); the hf folder must load back to identical logits.
#include "support/torch_doctest.h"

#include <ATen/ATen.h>
#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "model/generate.h"
#include "model/ggml_blocks.h"
#include "model/lora.h"
#include "model/model_folder.h"
#include "model/scratch.h"
#include "support/json_lines.h"
#include "support/llama_reference.h"
#include "support/run_tool.h"
#include "support/temp_dir.h"
#include "text/chat_template.h"
#include "text/load_tokenizer.h"

using af::test::run_tool;
using af::test::TempDir;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A Gemma-3-shaped student where every layout mistake shows: 8 layers (sliding and global: pattern 4, not
// llama.cpp's default 6), a sliding window of 16 (the test sequences are longer), head_dim 24 != hidden /
// heads (16), grouped KV heads, RoPE bases other than llama.cpp's defaults (a missing key would show), and
// every weight, norms included, random and non-zero (a fresh scratch model's norms are all 0, which would
// hide a missing 1 + w).
struct Student {
  std::string base;  // the folder
  int64_t vocab = 0;
};

Student make_student(const TempDir& dir) {
  std::vector<std::string> texts;
  for (int i = 0; i < 150; ++i)
    texts.push_back("{\"filter\":{\"field\":\"total\",\"op\":\"above\",\"value\":" + std::to_string(i) +
                    "}} montre les commandes au-dessus de " + std::to_string(i) + " Schema: Request:");
  af::model::ScratchSpec spec;
  spec.vocab_size = 360;
  spec.hidden_size = 64;
  spec.num_layers = 8;
  spec.num_heads = 4;
  spec.num_kv_heads = 2;
  spec.head_dim = 24;
  spec.intermediate_size = 96;
  spec.sliding_window = 16;
  spec.sliding_window_pattern = 4;
  af::model::build_scratch_model(spec, texts, dir.file("scratch"), 11);
  json config = json::parse(af::test::slurp(dir.file("scratch/config.json")));
  config["rope_theta"] = 50000.0;
  config["rope_local_base_freq"] = 2000.0;
  std::ofstream(dir.file("scratch/config.json")) << config.dump();
  auto m = af::model::load_model(dir.file("scratch"), at::TensorOptions().dtype(at::kFloat));
  at::manual_seed(23);
  at::NoGradGuard no_grad;
  for (auto& nt : m->named_weights()) {
    const bool norm = nt.tensor->dim() == 1;
    *nt.tensor = *nt.tensor + at::randn_like(*nt.tensor) * (norm ? 0.3 : 0.04);
  }
  af::model::save_model(*m, dir.file("base"), at::kFloat, dir.file("scratch"));
  return {dir.file("base"), m->config().vocab_size};
}

// Token ids of a text longer than the sliding window, as the chat template gives them.
std::vector<int32_t> prompt_ids(const std::string& folder) {
  auto tok = af::text::load_tokenizer(folder);
  auto ids = af::text::tokenize_prompt(
      *tok, "montre les commandes au-dessus de 42 Schema: {\"filter\":{\"field\":\"total\"}} Request: 17");
  REQUIRE(ids.size() > 40);
  return ids;
}

// astforge's next-token probabilities after each position, float64.
std::vector<std::vector<double>> our_probabilities(const af::model::Gemma3& m,
                                                   const std::vector<int32_t>& ids) {
  at::NoGradGuard no_grad;
  auto input = at::tensor(std::vector<int64_t>(ids.begin(), ids.end()), at::kLong).unsqueeze(0);
  auto hidden = m.forward(input, at::ones_like(input));
  auto probs = at::softmax(m.logits(hidden).to(at::kDouble), -1)[0].contiguous();
  std::vector<std::vector<double>> out(ids.size());
  for (size_t t = 0; t < ids.size(); ++t) {
    const double* row = probs[static_cast<int64_t>(t)].data_ptr<double>();
    out[t].assign(row, row + probs.size(1));
  }
  return out;
}

struct Agreement {
  double max_kl = 0, mean_kl = 0;
  size_t argmax_checked = 0, argmax_equal = 0;
};

// KL(ours || llama.cpp) per position, and argmax agreement where our top two are not a near-tie (their logits
// 0.01 or more apart, ten times the differences llama.cpp's float16 GELU table makes).
Agreement compare(const std::vector<std::vector<double>>& ours,
                  const std::vector<std::vector<double>>& theirs, int64_t vocab) {
  REQUIRE(ours.size() == theirs.size());
  Agreement a;
  for (size_t t = 0; t < ours.size(); ++t) {
    REQUIRE(theirs[t].size() == static_cast<size_t>(vocab));
    double kl = 0;
    for (int64_t v = 0; v < vocab; ++v) {
      const double p = ours[t][static_cast<size_t>(v)],
                   q = std::max(theirs[t][static_cast<size_t>(v)], 1e-30);
      if (p > 0) kl += p * std::log(p / q);
    }
    a.max_kl = std::max(a.max_kl, kl);
    a.mean_kl += kl / static_cast<double>(ours.size());
    std::vector<double> sorted(ours[t].begin(), ours[t].begin() + vocab);
    std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<>());
    if (std::log(sorted[0] / sorted[1]) < 1e-2) continue;
    auto argmax = [&](const std::vector<double>& row) {
      return std::max_element(row.begin(), row.begin() + vocab) - row.begin();
    };
    ++a.argmax_checked;
    a.argmax_equal += argmax(ours[t]) == argmax(theirs[t]) ? 1 : 0;
  }
  return a;
}

std::string export_gguf(const std::string& base, const std::string& adapter, const std::string& out,
                        const std::string& format, const std::string& type) {
  auto r = run_tool("export", {"--model", base, "--adapter", adapter, "--format", format, "--gguf-type", type,
                               "--output-dir", out, "--name", "student"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return out;
}

}  // namespace

TEST_CASE("llama.cpp runs the f32 GGUF export with astforge's next-token distribution") {
  TempDir dir;
  Student s = make_student(dir);
  std::string out = export_gguf(s.base, "null", dir.file("gguf"), "gguf", "f32");
  const std::string gguf = out + "/student-f32.gguf";
  REQUIRE(fs::exists(gguf));
  auto m = af::model::load_model(s.base, at::TensorOptions().dtype(at::kFloat));
  const auto ids = prompt_ids(s.base);
  Agreement a =
      compare(our_probabilities(*m, ids), af::test::llama_probabilities(gguf, ids, s.vocab), s.vocab);
  MESSAGE("f32: max KL " << a.max_kl << ", mean KL " << a.mean_kl << ", argmax " << a.argmax_equal << "/"
                         << a.argmax_checked);
  // llama.cpp computes GELU through a float16 table: logits differ near 1e-3, so KL stays near 1e-6.
  CHECK(a.max_kl < 1e-4);
  CHECK(a.argmax_checked > ids.size() / 2);
  CHECK(a.argmax_equal == a.argmax_checked);
  // scripts/make-llama-golden.sh keeps this student, its prompt and llama.cpp's probabilities as a fixture,
  // so the forward is compared with llama.cpp even where node-llama-cpp is not installed (next test).
  if (const char* golden = std::getenv("ASTFORGE_WRITE_LLAMA_GOLDEN")) {
    fs::remove_all(golden);
    fs::create_directories(golden);
    fs::copy(s.base, std::string(golden) + "/model", fs::copy_options::recursive);
    auto probs = af::test::llama_probabilities(gguf, ids, s.vocab);
    for (auto& row : probs)
      for (double& p : row) p = std::stod(json(static_cast<float>(p)).dump());  // shortest float text
    std::ofstream(std::string(golden) + "/llama_probabilities.json")
        << json{{"tokens", ids},
                {"probabilities", probs},
                {"llama_cpp", "node-llama-cpp 3.21.1 (llama.cpp v0.4.0 prebuilt, CPU)"}}
               .dump()
        << "\n";
  }
  // The Modelfile and README say how to run it.
  std::string modelfile = af::test::slurp(out + "/Modelfile");
  CHECK(modelfile.find("FROM ./student-f32.gguf\n") == 0);
  CHECK(modelfile.find("PARAMETER stop \"<end_of_turn>\"") != std::string::npos);
  CHECK(modelfile.find("TEMPLATE \"\"\"") != std::string::npos);
  CHECK(af::test::slurp(out + "/README.md").find("ollama create student -f Modelfile") != std::string::npos);
}

TEST_CASE("the forward matches llama.cpp's probabilities kept in tests/fixtures/llama_forward") {
  // Made by scripts/make-llama-golden.sh from the test above: this check needs no node-llama-cpp.
  const std::string dir = std::string(ASTFORGE_SOURCE_DIR) + "/tests/fixtures/llama_forward";
  json golden = json::parse(af::test::slurp(dir + "/llama_probabilities.json"));
  auto m = af::model::load_model(dir + "/model", at::TensorOptions().dtype(at::kFloat));
  const auto ids = golden["tokens"].get<std::vector<int32_t>>();
  REQUIRE(ids.size() > static_cast<size_t>(m->config().sliding_window));
  const auto theirs = golden["probabilities"].get<std::vector<std::vector<double>>>();
  Agreement a = compare(our_probabilities(*m, ids), theirs, m->config().vocab_size);
  MESSAGE("golden: max KL " << a.max_kl << ", argmax " << a.argmax_equal << "/" << a.argmax_checked);
  CHECK(a.max_kl < 1e-4);
  CHECK(a.argmax_checked > ids.size() / 2);
  CHECK(a.argmax_equal == a.argmax_checked);
}

TEST_CASE("llama.cpp tokenizes and detokenizes the GGUF's vocabulary as the student's tokenizer does") {
  TempDir dir;
  Student s = make_student(dir);
  const std::string gguf = export_gguf(s.base, "null", dir.file("gguf"), "gguf", "f32") + "/student-f32.gguf";
  auto tok = af::text::load_tokenizer(s.base);
  for (const std::string& text :
       {std::string("montre les commandes au-dessus de 42"), std::string("{\"filter\":{\"op\":\"above\"}}"),
        std::string("  two  spaces, a tab\tand a newline\n"), std::string("élève à Noël: déjà vu"),
        std::string("<start_of_turn>user\nSchema: x<end_of_turn>\n"),
        std::string("emoji \xf0\x9f\x99\x82 1234567")}) {
    CAPTURE(text);
    const auto ours = tok->encode(text, false);
    af::test::LlamaText theirs = af::test::llama_tokenize(gguf, text, ours);
    CHECK(theirs.tokens == ours);
    CHECK(theirs.text == text);
  }
}

TEST_CASE("llama.cpp's greedy continuation of the f32 GGUF equals astforge's, and q8_0 stays close") {
  TempDir dir;
  Student s = make_student(dir);
  auto m = af::model::load_model(s.base, at::TensorOptions().dtype(at::kFloat));
  const auto ids = prompt_ids(s.base);
  auto tok = af::text::load_tokenizer(s.base);
  af::model::GenerationSettings g;
  g.max_new_tokens = 24;
  g.stop_tokens = af::text::stop_tokens(*tok);
  auto ours = af::model::generate(*m, {ids}, g)[0].tokens;
  std::string f32 = export_gguf(s.base, "null", dir.file("f32"), "gguf", "f32") + "/student-f32.gguf";
  CHECK(af::test::llama_greedy(f32, ids, 24) == ours);

  std::string q8 = export_gguf(s.base, "null", dir.file("q8"), "gguf", "q8_0") + "/student-q8_0.gguf";
  CHECK(fs::file_size(q8) < fs::file_size(f32) / 3);
  Agreement a = compare(our_probabilities(*m, ids), af::test::llama_probabilities(q8, ids, s.vocab), s.vocab);
  MESSAGE("q8_0: max KL " << a.max_kl << ", mean KL " << a.mean_kl << ", argmax " << a.argmax_equal << "/"
                          << a.argmax_checked);
  CHECK(a.mean_kl < 1e-2);
  CHECK(a.argmax_equal * 10 >= a.argmax_checked * 9);
}

TEST_CASE("llama.cpp applying the LoRA GGUF to the base GGUF gives the merged model's distribution") {
  TempDir dir;
  Student s = make_student(dir);
  auto m = af::model::load_model(s.base, at::TensorOptions().dtype(at::kFloat));
  af::model::LoraSettings ls;
  ls.r = 4;
  ls.lora_alpha = 8;
  ls.use_rslora = true;  // llama.cpp scales by alpha / r: the export must turn rsLoRA's scale into that
  ls.init_lora_weights = "false";
  ls.target_modules = {"q_proj", "v_proj", "o_proj", "down_proj"};
  af::model::add_lora(*m, ls, 5);
  af::model::save_adapter(*m, ls, dir.file("adapter"));
  af::model::merge_lora(*m);
  std::string out = export_gguf(s.base, dir.file("adapter"), dir.file("lora"), "gguf-lora", "f32");
  CHECK(af::test::slurp(out + "/Modelfile")
            .find("FROM ./student-base-f32.gguf\nADAPTER ./student-lora.gguf\n") == 0);
  const auto ids = prompt_ids(s.base);
  auto ours = our_probabilities(*m, ids);
  Agreement a = compare(
      ours,
      af::test::llama_probabilities(out + "/student-base-f32.gguf", ids, s.vocab, out + "/student-lora.gguf"),
      s.vocab);
  MESSAGE("LoRA: max KL " << a.max_kl << ", argmax " << a.argmax_equal << "/" << a.argmax_checked);
  CHECK(a.max_kl < 1e-4);
  CHECK(a.argmax_equal == a.argmax_checked);
  // Without the adapter, llama.cpp's base is not the merged model: the adapter is what made them agree.
  Agreement base =
      compare(ours, af::test::llama_probabilities(out + "/student-base-f32.gguf", ids, s.vocab), s.vocab);
  CHECK(base.max_kl > 100 * a.max_kl);
}

TEST_CASE("the hf export loads back to the merged model's logits, with both stops and the architecture") {
  TempDir dir;
  Student s = make_student(dir);
  auto m = af::model::load_model(s.base, at::TensorOptions().dtype(at::kFloat));
  af::model::LoraSettings ls;
  ls.r = 4;
  ls.init_lora_weights = "false";
  af::model::add_lora(*m, ls, 6);
  af::model::save_adapter(*m, ls, dir.file("adapter"));
  af::model::merge_lora(*m);
  auto r = run_tool("export", {"--model", s.base, "--adapter", dir.file("adapter"), "--format", "hf",
                               "--output-dir", dir.file("hf")});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto back = af::model::load_model(dir.file("hf"), at::TensorOptions().dtype(at::kFloat));
  const auto ids = prompt_ids(dir.file("hf"));
  auto input = at::tensor(std::vector<int64_t>(ids.begin(), ids.end()), at::kLong).unsqueeze(0);
  at::NoGradGuard no_grad;
  CHECK(at::equal(back->logits(back->forward(input, at::ones_like(input))),
                  m->logits(m->forward(input, at::ones_like(input)))));
  json config = json::parse(af::test::slurp(dir.file("hf/config.json")));
  CHECK(config["architectures"] == json::array({"Gemma3ForCausalLM"}));
  auto tok = af::text::load_tokenizer(dir.file("hf"));
  json generation = json::parse(af::test::slurp(dir.file("hf/generation_config.json")));
  CHECK(generation["eos_token_id"] == json(af::text::stop_tokens(*tok)));
  CHECK(fs::exists(dir.file("hf/tokenizer.model")));
  CHECK(af::test::slurp(dir.file("hf/Modelfile")).find("FROM .\n") == 0);
}

TEST_CASE("export refuses what llama.cpp cannot run as astforge does, and adapters that are not there") {
  TempDir dir;
  Student s = make_student(dir);
  // Another attention scale than 1/sqrt(head_dim): llama.cpp's gemma3 has no key for it.
  json config = json::parse(af::test::slurp(s.base + "/config.json"));
  config["query_pre_attn_scalar"] = 64;
  fs::copy(s.base, dir.file("scaled"), fs::copy_options::recursive);
  std::ofstream(dir.file("scaled/config.json")) << config.dump();
  auto r =
      run_tool("export", {"--model", dir.file("scaled"), "--adapter", "null", "--output-dir", dir.file("x")});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("query_pre_attn_scalar") != std::string::npos);
  CHECK_FALSE(fs::exists(dir.file("x")));
  // gguf-lora of a whole model (no adapter in it).
  r = run_tool("export", {"--model", s.base, "--adapter", s.base, "--format", "gguf-lora", "--output-dir",
                          dir.file("y")});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("not a LoRA adapter") != std::string::npos);
  CHECK_FALSE(fs::exists(dir.file("y")));
  // An adapter trained on another base: its shapes do not fit.
  {
    TempDir other;
    af::model::ScratchSpec spec;
    spec.vocab_size = 300;
    spec.hidden_size = 32;
    spec.num_layers = 8;
    spec.num_heads = 2;
    spec.head_dim = 16;
    spec.intermediate_size = 64;
    std::vector<std::string> texts(80, "orders above 10 and below 20 Schema: Request:");
    af::model::build_scratch_model(spec, texts, other.file("m"), 3);
    auto m = af::model::load_model(other.file("m"), at::TensorOptions().dtype(at::kFloat));
    af::model::LoraSettings ls;
    af::model::add_lora(*m, ls, 1);
    af::model::save_adapter(*m, ls, dir.file("foreign"));
  }
  r = run_tool("export",
               {"--model", s.base, "--adapter", dir.file("foreign"), "--output-dir", dir.file("z")});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("shape") != std::string::npos);
  CHECK_FALSE(fs::exists(dir.file("z")));
}

// ggml's own encoders, from the fixture's libggml-base.so.
struct Ggml {
  void* handle = nullptr;
  size_t (*quantize_chunk)(int type, const float* src, void* dst, int64_t start, int64_t nrows,
                           int64_t n_per_row, const float* imatrix) = nullptr;
  void (*to_fp16)(const float*, uint16_t*, int64_t) = nullptr;
  void (*to_bf16)(const float*, uint16_t*, int64_t) = nullptr;
};

Ggml load_ggml() {
  fs::path lib = fs::path(af::test::node_llama_cpp()).parent_path().parent_path().parent_path() /
                 "@node-llama-cpp/linux-x64/bins/linux-x64/libggml-base.so";
  Ggml g;
  g.handle = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  REQUIRE_MESSAGE(g.handle != nullptr, dlerror());
  g.quantize_chunk = reinterpret_cast<decltype(g.quantize_chunk)>(dlsym(g.handle, "ggml_quantize_chunk"));
  g.to_fp16 = reinterpret_cast<decltype(g.to_fp16)>(dlsym(g.handle, "ggml_fp32_to_fp16_row"));
  g.to_bf16 = reinterpret_cast<decltype(g.to_bf16)>(dlsym(g.handle, "ggml_fp32_to_bf16_row"));
  REQUIRE((g.quantize_chunk && g.to_fp16 && g.to_bf16));
  return g;
}

TEST_CASE("q8_0, float16 and bfloat16 are bit-exact to ggml's own encoders") {
  Ggml ggml = load_ggml();
  // Weights of every scale, exact halves (roundf ties), zeros, a block of zeros, subnormals, huge values.
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x;
  for (int i = 0; i < 32 * 64; ++i) x.push_back(normal(rng) * std::pow(10.0f, static_cast<float>(i % 9 - 6)));
  for (int i = 0; i < 32; ++i) x.push_back(0.0f);
  for (int i = 0; i < 32; ++i) x.push_back(static_cast<float>(i - 16) * 0.5f);
  // max 127 makes the scale exactly 1: x.5 reaches roundf as an exact tie (away from zero, not to even).
  for (int i = 0; i < 32; ++i) x.push_back(i == 0 ? 127.0f : static_cast<float>(i - 16) + 0.5f);
  for (int i = 0; i < 32; ++i) x.push_back(i % 2 ? 1e-7f : -6.1e-5f);
  for (int i = 0; i < 32; ++i) x.push_back(i % 2 ? 70000.0f : 65519.0f - static_cast<float>(i));
  const auto n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> theirs(static_cast<size_t>(n / 32 * 34));
  ggml.quantize_chunk(8 /* GGML_TYPE_Q8_0 */, x.data(), theirs.data(), 0, n / 32, 32, nullptr);
  CHECK(af::model::quantize_q8_0(x.data(), x.size()) == theirs);
  std::vector<uint16_t> h(x.size()), b(x.size());
  ggml.to_fp16(x.data(), h.data(), n);
  ggml.to_bf16(x.data(), b.data(), n);
  size_t fp16_same = 0, bf16_same = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    fp16_same += af::model::fp32_to_fp16(x[i]) == h[i] ? 1 : 0;
    bf16_same += af::model::fp32_to_bf16(x[i]) == b[i] ? 1 : 0;
  }
  CHECK(fp16_same == x.size());
  CHECK(bf16_same == x.size());
}
