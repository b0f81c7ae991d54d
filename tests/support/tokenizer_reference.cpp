#include "support/tokenizer_reference.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/temp_dir.h"

namespace af::test {

std::string fixture_modules() {
  return std::string(ASTFORGE_SOURCE_DIR) + "/.fixtures/node_modules/";
}

std::vector<std::vector<int32_t>> reference_ids(const std::vector<std::string>& texts,
                                                const std::string& package) {
  TempDir dir;
  std::ofstream in(dir.file("in.jsonl"));
  for (const auto& t : texts) in << nlohmann::json(t).dump() << "\n";
  in.close();
  std::string cmd = "NODE_PATH=" + fixture_modules() + " node " + ASTFORGE_SOURCE_DIR +
                    "/tests/fixtures/tokenizer_reference.js " + package + " < " + dir.file("in.jsonl") +
                    " > " + dir.file("out.jsonl");
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::vector<std::vector<int32_t>> out;
  std::ifstream res(dir.file("out.jsonl"));
  std::string line;
  while (std::getline(res, line)) out.push_back(nlohmann::json::parse(line).get<std::vector<int32_t>>());
  return out;
}

}  // namespace af::test
