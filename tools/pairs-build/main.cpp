// pairs-build: DPO preference pairs (teacher AST chosen, student AST rejected) from evaluation results.
#include <filesystem>

#include "config/cli.h"
#include "core/error.h"
#include "core/jsonl_writer.h"
#include "core/log.h"
#include "eval/pairs.h"

int main(int argc, char** argv) {
  using namespace af::config;
  return run_main("pairs-build", [&] {
    ToolCli cli(
        Tool::PairsBuild, "pairs-build",
        "Build DPO preference pairs from eval-teacher's records: prompt_text, the teacher's AST (chosen)\n"
        "and the student's (rejected). Writes dpo_pairs.jsonl and a summary line on stderr.");
    if (auto code = cli.parse(argc, argv)) return *code;
    std::optional<Resolved> cfg = cli.resolve_for_run();
    if (!cfg) return 0;
    const std::string in = cfg->get_string("alignment.eval_results");
    const std::string out = cfg->get_string("alignment.pairs_out");
    if (!std::filesystem::exists(in))
      throw af::usage_error("evaluation results not found: " + in, "run eval-teacher (with a teacher) first");
    af::eval::PairSettings s;
    s.only_rejected = cfg->get_bool("alignment.only_rejected");
    s.max_pairs = cfg->is_null("alignment.max_pairs") ? -1 : cfg->get_int("alignment.max_pairs");
    af::eval::PairsResult r = af::eval::build_pairs(in, s);
    auto parent = std::filesystem::path(out).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    af::write_jsonl_atomic(out, r.pairs);
    std::string skipped;
    for (const auto& [reason, n] : r.skipped)
      skipped += (skipped.empty() ? "" : ", ") + std::to_string(n) + " " + reason;
    af::log_info(r.pairs.size(), " pairs from ", r.records, " records -> ", out,
                 skipped.empty() ? "" : "; skipped: " + skipped);
    if (r.pairs.empty()) af::log_warn("no pairs: train-dpo has nothing to learn from these results");
    return 0;
  });
}
