// report: report.md (training curves, evaluation rates, DPO curves, worst failures) and alignment_report.md.
#include "config/cli.h"
#include "core/log.h"
#include "report/reference_run.h"
#include "report/report.h"

#include <iostream>

int main(int argc, char** argv) {
  using namespace af::config;
  return run_main("report", [&] {
    ToolCli cli(
        Tool::Report, "report",
        "Write report.md with gnuplot plots (SVG, PNG) from the training metrics, the evaluation\n"
        "summary and records, and the DPO metrics; and alignment_report.md comparing the SFT and DPO\n"
        "evaluations when both exist. Missing inputs are named in the report, not fatal.");
    std::string reference_dir;
    cli.app()
        .add_option(
            "--reference-run", reference_dir,
            "Print README's \"Reference run\" section from a reference run's files (docs/reference-run)")
        ->check(CLI::ExistingDirectory);
    if (auto code = cli.parse(argc, argv)) return *code;
    if (!reference_dir.empty()) {
      std::cout << af::report::reference_run_section(reference_dir);
      return 0;
    }
    Resolved cfg = cli.resolve_for_run();
    const af::report::ReportSettings s = af::report::report_settings_from(cfg);
    if (cli.dry_run()) return cli.print_dry_run(cfg, s.to_json());
    af::report::ReportOutcome out = af::report::write_reports(s);
    for (const auto& m : out.missing) af::log_info("not found (left out of the report): ", m);
    for (const auto& p : out.problems) af::log_warn(p);
    af::log_info("wrote ", out.report_path, " (", out.plots.size(), " plot images)",
                 out.alignment_report_path.empty() ? "" : " and " + out.alignment_report_path);
    return 0;
  });
}
