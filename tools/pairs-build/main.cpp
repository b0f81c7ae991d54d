// pairs-build: DPO preference pairs (teacher AST chosen, student AST rejected) from evaluation results, plus
// the dataset's negatives.
#include <filesystem>

#include "config/cli.h"
#include "core/jsonl_writer.h"
#include "core/log.h"
#include "eval/pairs.h"

int main(int argc, char** argv) {
  using namespace af::config;
  return run_main("pairs-build", [&] {
    ToolCli cli(
        Tool::PairsBuild, "pairs-build",
        "Build DPO preference pairs from eval-teacher's records: prompt_text, the teacher's AST (chosen)\n"
        "and the student's (rejected), after checking the evaluation summary; then the dataset's\n"
        "negatives (d_06). Writes dpo_pairs.jsonl and a summary line on stderr.");
    if (auto code = cli.parse(argc, argv)) return *code;
    Resolved cfg = cli.resolve_for_run();
    const af::eval::PairsBuildSettings s = af::eval::pairs_build_settings(cfg);
    if (cli.dry_run()) return cli.print_dry_run(cfg, s.to_json());
    af::eval::PairsResult r = af::eval::build_all_pairs(s);
    auto parent = std::filesystem::path(s.pairs_out).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    af::write_jsonl_atomic(s.pairs_out, r.pairs);
    std::string skipped;
    for (const auto& [reason, n] : r.skipped)
      skipped += (skipped.empty() ? "" : ", ") + std::to_string(n) + " " + reason;
    af::log_info(r.pairs.size(), " pairs from ", r.records, " records",
                 r.from_dataset > 0 ? " and the dataset's negatives (" + std::to_string(r.from_dataset) + ")"
                                    : std::string(),
                 " -> ", s.pairs_out, skipped.empty() ? "" : "; skipped: " + skipped);
    if (r.pairs.empty()) af::log_warn("no pairs: train-dpo has nothing to learn from these results");
    return 0;
  });
}
