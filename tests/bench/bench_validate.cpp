// Benchmark: JSON Schema validation throughput of lib/jsonschema on the DSL schemas (d_02) and an instance
// file of {"schema_id", "instance"} lines. Schemas are compiled once; the figure is instances validated per
// second.
#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <map>

#include "core/jsonl_reader.h"
#include "jsonschema/schema.h"

int main(int argc, char** argv) {
  CLI::App app("lib/jsonschema throughput", "bench_validate");
  std::string schemas_path, instances_path;
  int repeats = 3;
  app.add_option("--schemas", schemas_path, "d_02_final_schemas.jsonl")->required();
  app.add_option("--instances", instances_path, "JSONL of {schema_id, instance}")->required();
  app.add_option("--repeats", repeats, "Passes (the best is reported)");
  CLI11_PARSE(app, argc, argv);

  std::map<std::string, af::jsonschema::Schema> schemas;
  for (const auto& row : af::read_jsonl(schemas_path)) {
    schemas.emplace(row["schema_id"].get<std::string>(), af::jsonschema::Schema::compile(row["schema"]));
  }
  std::vector<std::pair<const af::jsonschema::Schema*, nlohmann::json>> work;
  for (auto& row : af::read_jsonl(instances_path)) {
    work.emplace_back(&schemas.at(row["schema_id"].get<std::string>()), std::move(row["instance"]));
  }
  double best = 1e300;
  size_t valid = 0;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    valid = 0;
    for (const auto& [schema, instance] : work) valid += schema->is_valid(instance);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::cout << nlohmann::json{{"validator", "astforge"},
                              {"instances", work.size()},
                              {"valid", valid},
                              {"seconds", best},
                              {"per_second", static_cast<double>(work.size()) / best}}
                   .dump()
            << "\n";
  return 0;
}
