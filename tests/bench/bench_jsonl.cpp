// Benchmark: JSONL reading throughput (MB/s) on a generated file of >= 200 MB, pulling two fields from every
// line: simdjson On-Demand (af::for_each_jsonl) beside nlohmann_json, plus full validation (af::read_jsonl's
// DOM path, counted without keeping rows). Writes the figures as JSON.
#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "core/files.h"
#include "core/jsonl_reader.h"

namespace {

constexpr double kTargetMBps = 400.0;

// Rows shaped like d_04_training_corpus.jsonl: a long prompt (schema + query) and a canonical AST.
void generate(const std::string& path, uint64_t min_bytes) {
  std::mt19937_64 rng(42);
  std::ofstream out(path, std::ios::binary);
  const char* fields[] = {"price", "city", "rating", "created_at", "status", "title", "stock", "brand"};
  const char* ops[] = {"gt", "lt", "eq", "in", "contains", "between"};
  uint64_t written = 0;
  for (uint64_t i = 0; written < min_bytes; ++i) {
    nlohmann::json schema = {{"$schema", "https://json-schema.org/draft/2020-12/schema"}, {"type", "object"}};
    for (int k = 0; k < 12; ++k) {
      schema["properties"][std::string(fields[rng() % 8]) + std::to_string(k)] = {
          {"type", "string"},
          {"description", "A field of the domain, described for the reader " + std::to_string(rng())}};
    }
    nlohmann::json ast = {
        {"query",
         {{"filter", {{"field", fields[rng() % 8]}, {"op", ops[rng() % 6]}, {"value", rng() % 1000}}},
          {"limit", rng() % 50}}}};
    nlohmann::json row = {
        {"id", i},
        {"schema_id", "domain-" + std::to_string(rng() % 64)},
        {"language", rng() % 3 ? "en" : "fr"},
        {"prompt", "Schema:\n" + schema.dump() + "\nRequest: show items where price is above " +
                       std::to_string(rng() % 1000) + " sorted by rating"},
        {"completion", ast.dump()}};
    std::string line = row.dump() + "\n";
    out << line;
    written += line.size();
  }
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("JSONL reading benchmark", "bench_jsonl");
  std::string out_path = "build/bench/jsonl_read.json", work_dir = "build/bench";
  uint64_t megabytes = 200;
  int repeats = 3;
  app.add_option("--out", out_path, "Where the JSON figures go");
  app.add_option("--work-dir", work_dir, "Where the generated input file is kept");
  app.add_option("--mb", megabytes, "Size of the generated file in MB (at least 200 for the report)");
  app.add_option("--repeats", repeats, "Passes per reader (the best is reported)");
  CLI11_PARSE(app, argc, argv);

  std::filesystem::create_directories(work_dir);
  std::string input = work_dir + "/jsonl_bench_input.jsonl";
  uint64_t want = megabytes * 1000 * 1000;
  std::error_code ec;
  if (!std::filesystem::exists(input, ec) || std::filesystem::file_size(input) < want) {
    std::cerr << "bench_jsonl: generating " << megabytes << " MB of JSONL in " << input << "\n";
    generate(input, want);
  }
  const double mb = static_cast<double>(std::filesystem::file_size(input)) / 1e6;

  auto best_of = [&](auto&& pass) {
    double best = 1e300;
    uint64_t checksum = 0;
    for (int r = 0; r < repeats; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      checksum = pass();
      best = std::min(best, seconds_since(t0));
    }
    return std::make_pair(best, checksum);
  };

  // simdjson On-Demand: the pipeline's reader, pulling two fields per line.
  auto [t_simd, sum_simd] = best_of([&] {
    uint64_t sum = 0;
    af::for_each_jsonl(input, af::OnBadLine::Fail,
                       [&](const af::JsonlLine&, simdjson::ondemand::document& doc) {
                         sum += static_cast<uint64_t>(doc["id"].get_int64().value());
                         sum += doc["language"].get_string().value().size();
                       });
    return sum;
  });

  // nlohmann_json: parse each whole line, then read the same two fields.
  auto [t_nlohmann, sum_nlohmann] = best_of([&] {
    uint64_t sum = 0;
    std::ifstream in(input, std::ios::binary);
    std::string line;
    while (std::getline(in, line)) {
      auto row = nlohmann::json::parse(line);
      sum += row["id"].get<uint64_t>();
      sum += row["language"].get_ref<const std::string&>().size();
    }
    return sum;
  });

  // simdjson DOM: every byte of every line validated (the read_jsonl path), rows not kept.
  auto [t_dom, sum_dom] = best_of([&] {
    uint64_t sum = 0;
    simdjson::dom::parser parser;
    af::for_each_jsonl(input, af::OnBadLine::Fail,
                       [&](const af::JsonlLine& line, simdjson::ondemand::document&) {
                         auto doc = parser.parse(line.text.data(), line.text.size());
                         sum += static_cast<uint64_t>(int64_t(doc["id"]));
                         sum += std::string_view(doc["language"]).size();
                       });
    return sum;
  });

  if (sum_simd != sum_nlohmann || sum_simd != sum_dom) {
    std::cerr << "bench_jsonl: readers disagree (" << sum_simd << ", " << sum_nlohmann << ", " << sum_dom
              << ")\n";
    return 1;
  }
  double simd_mbps = mb / t_simd;
  nlohmann::json result = {
      {"benchmark", "jsonl_read"},
      {"input_mb", mb},
      {"fields_pulled_per_line", 2},
      {"repeats", repeats},
      {"simdjson_ondemand_mb_per_s", simd_mbps},
      {"simdjson_dom_full_validation_mb_per_s", mb / t_dom},
      {"nlohmann_json_mb_per_s", mb / t_nlohmann},
      {"speedup_simdjson_vs_nlohmann", t_nlohmann / t_simd},
      {"target_mb_per_s", kTargetMBps},
      {"target_met", simd_mbps >= kTargetMBps},
  };
  af::write_file_atomic(out_path, result.dump(2) + "\n");
  std::cout << result.dump(2) << "\n";
  return 0;
}
