// The trainer's parts: schedules as Hugging Face computes them, AdamW against its formula (decay skipped for
// norms and biases, state saved exactly), and the SFT data (masking, dropping, splitting, batching).
#include "support/torch_doctest.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "support/temp_dir.h"
#include "text/sp_tokenizer.h"
#include "train/adamw.h"
#include "train/schedule.h"
#include "train/sft_data.h"

using namespace af::train;

TEST_CASE("schedules: warmup, then linear, cosine or constant") {
  Schedule s{"linear", 1.0, 10, 110};
  CHECK(s.at(0) == 0.0);
  CHECK(s.at(5) == doctest::Approx(0.5));
  CHECK(s.at(10) == doctest::Approx(1.0));
  CHECK(s.at(60) == doctest::Approx(0.5));
  CHECK(s.at(110) == doctest::Approx(0.0));
  s.type = "cosine";
  CHECK(s.at(60) == doctest::Approx(0.5));
  CHECK(s.at(35) == doctest::Approx(0.5 * (1 + std::cos(M_PI * 0.25))));
  s.type = "constant_with_warmup";
  CHECK(s.at(5) == doctest::Approx(0.5));
  CHECK(s.at(100) == 1.0);
  s.type = "constant";
  CHECK(s.at(0) == 1.0);
  CHECK(warmup_from(50, 0.0, 1000) == 50);
  CHECK(warmup_from(50, 0.1, 1000) == 100);
  CHECK(warmup_from(0, 0.01, 150) == 2);  // ceil(1.5)
}

TEST_CASE("AdamW follows PyTorch's update, without decay on norms and biases, and resumes exactly") {
  CHECK(decays("model.layers.0.mlp.up_proj.weight"));
  CHECK(!decays("model.layers.0.input_layernorm.weight"));
  CHECK(!decays("model.norm.weight"));
  CHECK(!decays("base_model.model.model.layers.0.self_attn.q_proj.bias"));
  at::Tensor w = at::tensor({1.0f, -2.0f}), n = at::tensor({0.5f});
  AdamWSettings s{0.9, 0.99, 1e-8, 0.1};
  AdamW opt({{"w", &w, true}, {"n", &n, false}}, s);
  w.mutable_grad() = at::tensor({0.5f, -1.0f});
  n.mutable_grad() = at::tensor({2.0f});
  opt.step(0.01);
  // Step 1: m = 0.1 g, v = 0.01 g^2, m_hat = g, v_hat = g^2: the update is lr * sign(g) (plus decay).
  CHECK(w[0].item<float>() == doctest::Approx(1.0 * (1 - 0.001) - 0.01));
  CHECK(w[1].item<float>() == doctest::Approx(-2.0 * (1 - 0.001) + 0.01));
  CHECK(n[0].item<float>() == doctest::Approx(0.5 - 0.01));  // no decay
  af::test::TempDir dir;
  opt.save(dir.path());
  at::Tensor w2 = w.clone(), n2 = n.clone();
  AdamW again({{"w", &w2, true}, {"n", &n2, false}}, s);
  again.load(dir.path());
  CHECK(again.steps() == 1);
  for (auto* t : {&w, &w2}) t->mutable_grad() = at::tensor({0.1f, 0.2f});
  for (auto* t : {&n, &n2}) t->mutable_grad() = at::tensor({-1.0f});
  opt.step(0.01);
  again.step(0.01);
  CHECK(at::equal(w, w2));
  CHECK(at::equal(n, n2));
}

namespace {
// A tiny corpus and a tokenizer trained on it.
struct Corpus {
  af::test::TempDir dir;
  std::string path;
  std::unique_ptr<af::text::SpTokenizer> tok;
  Corpus() {
    std::string text;
    std::vector<std::string> texts;
    for (int i = 0; i < 40; ++i) {
      std::string prompt = "Request: orders above " + std::to_string(i);
      std::string completion = "{\"op\":\"above\",\"value\":" + std::to_string(i) + "}";
      if (i == 7) prompt += std::string(400, 'x');  // one row far too long
      nlohmann::json row = {{"id", "r" + std::to_string(i)}, {"prompt", prompt}, {"completion", completion}};
      text += row.dump() + "\n";
      texts.push_back(prompt);
      texts.push_back(completion);
    }
    path = dir.write("corpus.jsonl", text);
    af::text::SpTokenizer::train(texts, 300, dir.file("tok.model"));
    tok = std::make_unique<af::text::SpTokenizer>(af::text::SpTokenizer::load(dir.file("tok.model")));
  }
};
}  // namespace

TEST_CASE(
    "SFT data: a row far longer in bytes than max_seq_length tokens could hold is dropped untokenized") {
  Corpus c;
  // 64 tokens of at most longest_token_bytes each, 4 times over: a 4 MiB completion is far past that.
  std::string huge =
      nlohmann::json{{"id", "huge"}, {"prompt", "Request: x"}, {"completion", std::string(4 << 20, 'y')}}
          .dump();
  std::ifstream in(c.path);
  std::stringstream rows;
  rows << in.rdbuf();
  std::string path = c.dir.write("huge.jsonl", rows.str() + huge + "\n");
  DataSettings s;
  s.max_seq_length = 64;
  s.val_split = 0;
  SftData d = load_sft_data(path, *c.tok, s);
  CHECK(d.rows == 41);
  CHECK(d.dropped_too_long == 2);  // row 7 and the huge one
  CHECK(d.dropped_untokenized == 1);
  CHECK(af::text::longest_token_bytes(*c.tok) < 64);
}

TEST_CASE("SFT data: rows that do not fit are dropped and counted, the split is seeded") {
  Corpus c;
  DataSettings s;
  s.max_seq_length = 64;
  s.val_split = 0.1;
  s.seed = 3;
  SftData d = load_sft_data(c.path, *c.tok, s);
  CHECK(d.rows == 40);
  CHECK(d.dropped_too_long == 1);
  CHECK(d.dropped_untokenized == 0);  // 400 bytes: tokenized, then found too long
  CHECK(d.eval.size() == 3);          // 10% of 39
  CHECK(d.train.size() == 36);
  for (const auto& e : d.train) CHECK(e.id != "r7");
  SftData again = load_sft_data(c.path, *c.tok, s);
  CHECK(again.eval[0].id == d.eval[0].id);
  s.eval_max_samples = 2;
  s.max_samples = 20;
  SftData capped = load_sft_data(c.path, *c.tok, s);
  CHECK(capped.rows == 20);
  CHECK(capped.eval.size() == 2);
  s.val_split = 0;
  CHECK(load_sft_data(c.path, *c.tok, s).eval.empty());
  std::string bad = c.dir.write("bad.jsonl", "{\"prompt\":\"p\",\"completion\":\"c\"}\n{\"prompt\":\"p\"}\n");
  CHECK_THROWS_WITH_AS(load_sft_data(bad, *c.tok, s), doctest::Contains("bad.jsonl:2: a corpus row needs"),
                       af::Error);
}

TEST_CASE("batches: targets are the next tokens of the completion span only, padding is masked") {
  Corpus c;
  DataSettings s;
  s.max_seq_length = 64;
  s.val_split = 0;
  SftData d = load_sft_data(c.path, *c.tok, s);
  Batch b = make_batch(d.train, {0, 1}, 0);
  const Example& e = d.train[0];
  int64_t supervised = 0;
  for (size_t t = 0; t < e.ids.size(); ++t) {
    int64_t target = b.targets[0][static_cast<int64_t>(t)].item<int64_t>();
    bool in_span = t + 1 >= e.completion_begin && t + 1 < e.completion_end;
    CHECK(target == (in_span ? e.ids[t + 1] : -100));
    supervised += in_span;
  }
  CHECK(supervised == static_cast<int64_t>(e.supervised()));
  // The last supervised target is <end_of_turn>: the model learns to stop.
  CHECK(e.ids[e.completion_end - 1] == c.tok->token_to_id("<end_of_turn>"));
  CHECK(b.supervised == static_cast<int64_t>(d.train[0].supervised() + d.train[1].supervised()));
  int64_t longest = std::max(d.train[0].ids.size(), d.train[1].ids.size());
  CHECK(b.ids.size(1) == longest);
  CHECK(b.mask.sum().item<int64_t>() == b.tokens);
}

TEST_CASE("epoch batches are a seeded permutation, grouping by length cuts padding") {
  Corpus c;
  DataSettings s;
  s.max_seq_length = 64;
  s.val_split = 0;
  SftData d = load_sft_data(c.path, *c.tok, s);
  auto a = epoch_batches(d.train, 4, 1, 0, {}), b = epoch_batches(d.train, 4, 1, 0, {});
  CHECK(a == b);
  CHECK(epoch_batches(d.train, 4, 1, 1, {}) != a);
  std::vector<size_t> seen;
  for (const auto& batch : a) seen.insert(seen.end(), batch.begin(), batch.end());
  std::sort(seen.begin(), seen.end());
  CHECK(seen.size() == d.train.size());
  CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
  auto padding = [&](const std::vector<std::vector<size_t>>& batches) {
    int64_t pad = 0;
    for (const auto& batch : batches) {
      Batch m = make_batch(d.train, batch, 0);
      pad += m.ids.numel() - m.tokens;
    }
    return pad;
  };
  CHECK(padding(epoch_batches(d.train, 4, 1, 0, {true, false})) <= padding(a));
}
