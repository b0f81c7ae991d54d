// README's "Reference run" numbers are the ones a real run of today's dev config produced: the section is
// what `report --reference-run` generates from docs/reference-run/, and that run's resolved config is what
// configs/defaults.dev.yaml resolves to now (change the dev config, and this fails until the run is redone
// with scripts/reference-run.sh).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "support/run_tool.h"
#include "support/temp_dir.h"

using af::test::run_tool;
using af::test::slurp;
using json = nlohmann::json;

namespace {
const std::string kRoot = ASTFORGE_SOURCE_DIR;
}

TEST_CASE("README's reference run section is generated from docs/reference-run") {
  auto generated = run_tool("report", {"--reference-run", "docs/reference-run"});
  REQUIRE_MESSAGE(generated.exit_code == 0, generated.err);
  std::string readme = slurp(kRoot + "/README.md");
  const std::string begin = "<!-- reference-run:begin -->\n", end = "<!-- reference-run:end -->";
  size_t a = readme.find(begin), b = readme.find(end);
  REQUIRE(a != std::string::npos);
  REQUIRE(b != std::string::npos);
  std::string section = readme.substr(a + begin.size(), b - a - begin.size());
  bool fresh = section == generated.out;
  CHECK_MESSAGE(fresh, "README's Reference run section is stale: run scripts/reference-run.sh --readme-only");
}

TEST_CASE("the reference run used today's dev config") {
  auto resolved = run_tool("cfg-resolve", {"--config", "configs/defaults.dev.yaml", "-o", "-"});
  REQUIRE_MESSAGE(resolved.exit_code == 0, resolved.err);
  json now = json::parse(resolved.out)["config"];
  json then = json::parse(slurp(kRoot + "/docs/reference-run/run_config.json"))["config"];
  bool same = now == then;
  CHECK_MESSAGE(same,
                "configs/defaults.dev.yaml changed since the reference run: run scripts/reference-run.sh");
  // The summary evaluated the dev eval set with the dev student.
  json sft = json::parse(slurp(kRoot + "/docs/reference-run/sft_evaluation_summary.json"));
  CHECK(sft["samples"].get<int>() > 0);
  CHECK(sft["adapter"] == then["alignment"]["adapter"]);
}
