// eval-teacher: the student answers the eval set; each answer is parsed, validated, compared with the target
// and judged by the teacher.
#include "config/cli.h"
#include "student/eval_teacher.h"

int main(int argc, char** argv) {
  using namespace af::config;
  return run_main("eval-teacher", [&] {
    ToolCli cli(
        Tool::EvalTeacher, "eval-teacher",
        "Generate with the student on the eval set, validate each answer against its schema, compare\n"
        "it with the stored target and have the teacher judge it. Writes evaluation_results.jsonl\n"
        "(resumable) and evaluation_summary.json.");
    if (auto code = cli.parse(argc, argv)) return *code;
    Resolved cfg = cli.resolve_for_run();
    const af::student::EvalSettings s = af::student::eval_settings(cfg);
    if (cli.dry_run()) return cli.print_dry_run(cfg, s.to_json());
    af::student::run_eval_teacher(s);
    return 0;
  });
}
