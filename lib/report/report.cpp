#include "report/report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>
#include <type_traits>

#include "config/resolve.h"
#include "core/files.h"
#include "core/log.h"
#include "core/subprocess.h"
#include "report/failures.h"
#include "report/gnuplot.h"
#include "report/inputs.h"
#include "report/markdown.h"

namespace af::report {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The rates every summary carries, in the order tables and bar plots show them.
const std::vector<std::pair<std::string, std::string>> kRates = {{"parsed", "parsed"},
                                                                 {"schema_valid", "schema-valid"},
                                                                 {"exact_match", "exact match"},
                                                                 {"teacher_accept", "teacher accept"},
                                                                 {"semantic_pass", "semantic pass"}};

struct Inputs {
  JsonlInput training, dpo, results;
  JsonInput summary, dpo_summary;
};

// A series of `key` against step from metrics rows (rows without the key are skipped: eval lines
// interleave with training lines).
Series series_of(const std::vector<json>& rows, const std::string& key, const std::string& title) {
  Series s{title, {}};
  for (const json& r : rows)
    if (r.contains(key) && r[key].is_number())
      s.points.emplace_back(r["step"].get<double>(), r[key].get<double>());
  return s;
}

// One image per plot in the report: the first format (svg unless only png was asked for).
std::string image(const DrawnPlot& d, const std::string& alt) {
  if (d.files.empty()) return "";
  return "![" + alt + "](" + fs::path(d.files.front()).filename().string() + ")\n\n";
}

class Writer {
 public:
  Writer(const ReportSettings& s, ReportOutcome& outcome) : s_(s), outcome_(outcome) {}

  // Draws a plot (when gnuplot exists) and returns its Markdown image line.
  template <typename Plot>
  std::string plot(const Plot& p, const std::string& alt) {
    if (!gnuplot_) return "";
    if constexpr (std::is_same_v<Plot, LinePlot>) {
      if (!has_points(p)) return "";  // e.g. a run that logged no grad_norm
    }
    DrawnPlot d = draw(p, s_.out_dir, s_.plot_formats);
    if (!d.error.empty()) {
      outcome_.problems.push_back(d.error);
      return "";
    }
    outcome_.plots.insert(outcome_.plots.end(), d.files.begin(), d.files.end());
    return image(d, alt);
  }
  bool gnuplot_ = program_on_path("gnuplot");

 private:
  const ReportSettings& s_;
  ReportOutcome& outcome_;
};

std::string input_status(const JsonlInput& in, const char* unit) {
  if (!in.found) return "missing";
  std::string s = std::to_string(in.rows.size()) + " " + unit;
  if (!in.problems.empty()) s += ", " + std::to_string(in.problems.size()) + " malformed line(s) skipped";
  return s;
}

std::string input_status(const JsonInput& in) {
  if (!in.found) return "missing";
  return in.problem.empty() ? "found" : "unusable (see Problems)";
}

std::string training_section(const JsonlInput& training, Writer& w) {
  std::ostringstream md;
  md << "## Training (SFT)\n\n";
  if (training.rows.empty()) {
    md << "No training metrics" << (training.found ? " could be read" : "") << ": run train-sft "
       << "(`pipelines/runTraining.sh`) to fill this section.\n\n";
    return md.str();
  }
  Series loss = series_of(training.rows, "loss", "loss");
  Series eval_loss = series_of(training.rows, "eval_loss", "eval_loss");
  std::vector<std::vector<std::string>> rows;
  const json& last = training.rows.back();
  rows.push_back({"last step", last["step"].dump()});
  if (last.contains("epoch")) rows.push_back({"epoch", fixed(last["epoch"], 2)});
  if (!loss.points.empty())
    rows.push_back({"training loss (first → last)",
                    fixed(loss.points.front().second, 4) + " → " + fixed(loss.points.back().second, 4)});
  if (!eval_loss.points.empty()) {
    auto best = std::min_element(eval_loss.points.begin(), eval_loss.points.end(),
                                 [](auto& a, auto& b) { return a.second < b.second; });
    rows.push_back({"eval_loss (first → last)", fixed(eval_loss.points.front().second, 4) + " → " +
                                                    fixed(eval_loss.points.back().second, 4)});
    rows.push_back({"best eval_loss", fixed(best->second, 4) + " at step " + fixed(best->first, 0)});
  }
  std::vector<double> rates;
  for (const json& r : training.rows)
    if (r.contains("tokens_per_second") && r["tokens_per_second"].is_number())
      rates.push_back(r["tokens_per_second"].get<double>());
  if (!rates.empty()) {
    std::nth_element(rates.begin(), rates.begin() + static_cast<long>(rates.size() / 2), rates.end());
    rows.push_back({"tokens per second (median)", fixed(rates[rates.size() / 2], 0)});
  }
  md << table({"", "value"}, rows) << "\n";
  md << w.plot(LinePlot{"training_loss", "Loss", "step", "loss", {loss, eval_loss}, false}, "loss");
  md << w.plot(LinePlot{"learning_rate",
                        "Learning rate",
                        "step",
                        "learning rate",
                        {series_of(training.rows, "learning_rate", "learning_rate")},
                        false},
               "learning rate");
  md << w.plot(LinePlot{"grad_norm",
                        "Gradient norm (before clipping)",
                        "step",
                        "grad norm",
                        {series_of(training.rows, "grad_norm", "grad_norm")},
                        false},
               "gradient norm");
  return md.str();
}

// Constrained against unconstrained decoding of the same samples (eval-teacher with compare_constrained).
std::string constrained_section(const json& sft) {
  if (!sft.contains("constrained_comparison")) return "";
  const json& c = sft["constrained_comparison"];
  const json& on = c.value("constrained", json::object());
  const json& off = c.value("unconstrained", json::object());
  std::ostringstream md;
  md << "### Constrained decoding\n\nThe same samples decoded freely and under the schema (tokens that "
        "cannot "
        "lead to a valid document masked out). The teacher judged the evaluation's own mode only.\n\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& [rate, label] : kRates) {
    if (!on.contains(rate + "_rate") && !off.contains(rate + "_rate")) continue;
    rows.push_back({label, rate_cell(off, rate), rate_cell(on, rate)});
  }
  rows.push_back({"cut off at max_new_tokens", off.value("truncated_count", json()).dump(),
                  on.value("truncated_count", json()).dump()});
  rows.push_back({"generation ms per token", fixed(off.value("ms_per_token", json()), 2),
                  fixed(on.value("ms_per_token", json()), 2)});
  md << table({"rate", "unconstrained", "constrained"}, rows) << "\n";
  md << "Rows whose schema asked for something the constraint does not enforce: "
     << on.value("constraint_unenforced_count", json()).dump()
     << "; rows the constraint stopped (no token could continue): "
     << on.value("constraint_stopped_count", json()).dump() << ".\n\n";
  return md.str();
}

// Rates of one or two summaries: a table and a bar plot.
std::string rates_section(const json& sft, const json& dpo, Writer& w) {
  std::ostringstream md;
  std::vector<std::string> headers{"rate", "SFT"};
  if (!dpo.is_null()) headers.push_back("DPO");
  std::vector<std::vector<std::string>> rows;
  for (const auto& [rate, label] : kRates) {
    std::vector<std::string> row{label, rate_cell(sft, rate)};
    if (!dpo.is_null()) row.push_back(rate_cell(dpo, rate));
    rows.push_back(row);
  }
  std::vector<std::string> truncated{"cut off at max_new_tokens",
                                     sft.value("truncated_count", json()).dump()};
  if (!dpo.is_null()) truncated.push_back(dpo.value("truncated_count", json()).dump());
  rows.push_back(truncated);
  md << table(headers, rows) << "\n";
  if (sft.value("teacher_accept_rate", json()).is_null())
    md << "Teacher rates are n/a: nobody judged this evaluation (eval-teacher ran without a teacher or with "
          "`--no-judge`).\n\n";

  BarPlot bars{"eval_rates", "Evaluation rates", "% of samples", {}, {"SFT"}, {{}}, 100};
  if (!dpo.is_null()) {
    bars.groups.push_back("DPO");
    bars.values.emplace_back();
  }
  for (const auto& [rate, label] : kRates) {
    bars.categories.push_back(label);
    bars.values[0].push_back(rate_percent(sft, rate));
    if (!dpo.is_null()) bars.values[1].push_back(rate_percent(dpo, rate));
  }
  md << w.plot(bars, "evaluation rates");
  return md.str();
}

// Rates split by language or by query kind: a table and a grouped bar plot.
std::string split_section(const json& summary, const std::string& key, const std::string& title,
                          const std::string& noun, const std::string& plot_name, Writer& w) {
  if (!summary.contains(key) || !summary[key].is_object() || summary[key].empty()) return "";
  std::ostringstream md;
  md << "### " << title << "\n\n";
  std::vector<std::string> headers{noun, "samples"};
  for (const auto& [rate, label] : kRates) headers.push_back(label);
  std::vector<std::vector<std::string>> rows;
  BarPlot bars{plot_name, "Rates by " + noun, "% of samples", {}, {}, {}, 100};
  for (size_t i = 0; i < 4; ++i) {  // semantic pass stays in the table: four bars per group read best
    bars.groups.push_back(kRates[i].second);
    bars.values.emplace_back();
  }
  for (const auto& [name, obj] : summary[key].items()) {
    std::vector<std::string> row{cell(name), obj.value("samples", json()).dump()};
    for (const auto& [rate, label] : kRates) row.push_back(rate_cell(obj, rate));
    rows.push_back(row);
    bars.categories.push_back(name);
    for (size_t i = 0; i < 4; ++i) bars.values[i].push_back(rate_percent(obj, kRates[i].first));
  }
  md << table(headers, rows) << "\n";
  md << w.plot(bars, bars.title);
  return md.str();
}

std::string dpo_section(const JsonlInput& dpo, Writer& w) {
  std::ostringstream md;
  md << "## DPO alignment\n\n";
  if (dpo.rows.empty()) {
    md << "No DPO metrics" << (dpo.found ? " could be read" : "")
       << ": run `pipelines/runAlignment.sh` to align the student and fill this section.\n\n";
    return md.str();
  }
  const json& last = dpo.rows.back();
  std::vector<std::vector<std::string>> rows{{"last step", last["step"].dump()}};
  for (const char* key :
       {"loss", "nll_loss", "rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies"})
    if (last.contains(key)) rows.push_back({key, fixed(last[key], 4)});
  md << table({"", "last logged"}, rows) << "\n";
  LinePlot loss{"dpo_loss", "DPO loss", "step", "loss", {series_of(dpo.rows, "loss", "loss")}, false};
  if (last.contains("nll_loss"))  // RPO (alignment.rpo_alpha): the chosen answers' NLL, part of the loss
    loss.series.push_back(series_of(dpo.rows, "nll_loss", "chosen NLL per token (RPO)"));
  md << w.plot(loss, "DPO loss");
  md << w.plot(LinePlot{"dpo_rewards",
                        "DPO rewards",
                        "step",
                        "reward (beta x log-ratio)",
                        {series_of(dpo.rows, "rewards/chosen", "chosen"),
                         series_of(dpo.rows, "rewards/rejected", "rejected"),
                         series_of(dpo.rows, "rewards/margins", "margin")},
                        false},
               "DPO rewards and margins");
  md << w.plot(LinePlot{"dpo_accuracy",
                        "DPO reward accuracy (chosen above rejected)",
                        "step",
                        "accuracy",
                        {series_of(dpo.rows, "rewards/accuracies", "accuracy")},
                        false},
               "DPO reward accuracy");
  return md.str();
}

// JSON in a table cell as inline code; double backticks keep a stray backtick in the output from ending it.
std::string code(const std::string& text) {
  if (text.empty()) return "(empty)";
  return "`` " + cell(text, 200) + " ``";
}

std::string failures_section(const JsonlInput& results, size_t limit) {
  std::ostringstream md;
  md << "## Worst failures\n\n";
  if (results.rows.empty()) {
    md << "No evaluation records" << (results.found ? " could be read" : "")
       << ": run eval-teacher (`pipelines/runEvals.sh`) to list failures.\n\n";
    return md.str();
  }
  std::vector<Failure> worst = worst_failures(results.rows, limit);
  size_t total = 0;
  for (const json& r : results.rows) total += classify(r).severity > 0;
  if (worst.empty()) {
    md << "None: every one of the " << results.rows.size() << " samples matched its target.\n\n";
    return md.str();
  }
  md << "The " << worst.size() << " worst of " << total << " failed samples (of " << results.rows.size()
     << "): unparsable output first, then schema errors, teacher rejections and mismatches.\n\n";
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < worst.size(); ++i) {
    const json& r = *worst[i].record;
    auto str = [&](const char* key) {
      return r.contains(key) && r[key].is_string() ? r[key].get<std::string>() : std::string();
    };
    std::string teacher = str("teacher_canonical");
    std::string outcome = worst[i].outcome + (worst[i].detail.empty() ? "" : ": " + worst[i].detail);
    rows.push_back({std::to_string(i + 1),
                    cell(r["id"].is_string() ? r["id"].get<std::string>() : r["id"].dump()),
                    cell(outcome, 120), cell(str("query"), 160), code(str("raw_output")),
                    teacher.empty() ? "—" : code(teacher)});
  }
  md << table({"#", "id", "outcome", "query", "student output", "teacher AST"}, rows) << "\n";
  return md.str();
}

std::string inputs_section(const ReportSettings& s, const Inputs& in, ReportOutcome& outcome) {
  struct Row {
    const char* what;
    const std::string& path;
    std::string status;
    const char* remedy;
  };
  std::vector<Row> rows{
      {"SFT training metrics", s.training_metrics, input_status(in.training, "lines"), "run train-sft"},
      {"SFT evaluation summary", s.eval_summary, input_status(in.summary), "run eval-teacher"},
      {"SFT evaluation records", s.eval_results, input_status(in.results, "records"), "run eval-teacher"},
      {"DPO training metrics", s.dpo_metrics, input_status(in.dpo, "lines"), "run pipelines/runAlignment.sh"},
      {"DPO evaluation summary", s.dpo_eval_summary, input_status(in.dpo_summary),
       "run pipelines/runAlignment.sh"},
  };
  std::ostringstream md;
  md << "## Inputs\n\n";
  std::vector<std::vector<std::string>> cells;
  for (const Row& r : rows) {
    cells.push_back({r.what, "`" + cell(r.path) + "`",
                     r.status == "missing" ? "missing (" + std::string(r.remedy) + ")" : r.status});
    if (r.status == "missing") outcome.missing.push_back(std::string(r.what) + " (" + r.path + ")");
  }
  md << table({"input", "path", "status"}, cells) << "\n";
  return md.str();
}

std::string problems_section(const ReportOutcome& outcome) {
  if (outcome.problems.empty()) return "";
  std::ostringstream md;
  md << "## Problems\n\n";
  for (const auto& p : outcome.problems) md << "- " << cell(p, 400) << "\n";
  return md.str() + "\n";
}

std::string alignment_report(const ReportSettings& s, const json& sft, const json& dpo,
                             const std::string& bars) {
  std::ostringstream md;
  md << "# Alignment report — " << s.run_name << "\n\n"
     << "The SFT student against the DPO-aligned student on the same evaluation set.\n\n"
     << "- SFT: `" << s.eval_summary << "`\n- DPO: `" << s.dpo_eval_summary << "`\n\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& [rate, label] : kRates) {
    double a = rate_percent(sft, rate), b = rate_percent(dpo, rate);
    std::string change = std::isnan(a) || std::isnan(b) ? "n/a" : fixed(json(b - a), 1) + " pts";
    if (change.rfind("-", 0) != 0 && change != "n/a") change = "+" + change;
    rows.push_back({label, rate_cell(sft, rate), rate_cell(dpo, rate), change});
  }
  md << table({"rate", "SFT", "DPO", "change"}, rows) << "\n";
  double a = rate_percent(sft, "teacher_accept"), b = rate_percent(dpo, "teacher_accept");
  if (std::isnan(a) || std::isnan(b)) {
    md << "**Teacher accept:** not judged in both evaluations, so DPO cannot be compared on it.\n\n";
  } else if (b < a) {
    md << "**Teacher accept: DPO lowered it** (" << fixed(json(a), 1) << "% → " << fixed(json(b), 1)
       << "%). Check the pairs (`dpo_pairs.jsonl`), beta and the number of DPO steps.\n\n";
  } else {
    md << "**Teacher accept: DPO did not lower it** (" << fixed(json(a), 1) << "% → " << fixed(json(b), 1)
       << "%).\n\n";
  }
  md << bars;
  for (const char* split : {"by_language", "by_kind"}) {
    if (!sft.contains(split) || !dpo.contains(split)) continue;
    md << "## " << (std::string(split) == "by_language" ? "By language" : "By query kind") << "\n\n";
    std::vector<std::vector<std::string>> r2;
    for (const auto& [name, obj] : sft[split].items()) {
      json other = dpo[split].contains(name) ? dpo[split][name] : json();
      r2.push_back({cell(name), rate_cell(obj, "exact_match"), rate_cell(other, "exact_match"),
                    rate_cell(obj, "teacher_accept"), rate_cell(other, "teacher_accept")});
    }
    md << table({"", "exact match SFT", "exact match DPO", "teacher accept SFT", "teacher accept DPO"}, r2)
       << "\n";
  }
  return md.str();
}

}  // namespace

ReportSettings report_settings_from(const config::Resolved& cfg) {
  ReportSettings s;
  s.run_name = cfg.get_string("run.name");
  s.out_dir = cfg.get_string("report.out_dir");
  s.training_metrics = cfg.get_string("report.training_metrics");
  s.dpo_metrics = cfg.get_string("report.dpo_metrics");
  s.eval_summary = cfg.get_string("report.eval_summary");
  s.eval_results = cfg.get_string("report.eval_results");
  s.dpo_eval_summary = cfg.get_string("report.dpo_eval_summary");
  s.worst_failures = static_cast<size_t>(cfg.get_int("report.worst_failures"));
  s.plot_formats = cfg.get_list("report.plot_formats");
  return s;
}

nlohmann::json ReportSettings::to_json() const {
  return {{"title", run_name},
          {"reads",
           {{"training_metrics", training_metrics},
            {"dpo_metrics", dpo_metrics},
            {"eval_summary", eval_summary},
            {"eval_results", eval_results},
            {"dpo_eval_summary", dpo_eval_summary}}},
          {"writes", out_dir + "/report.md (and alignment_report.md with a DPO evaluation)"},
          {"worst_failures", worst_failures},
          {"plot_formats", plot_formats}};
}

ReportOutcome write_reports(const ReportSettings& s) {
  ReportOutcome outcome;
  fs::create_directories(s.out_dir);
  Inputs in{read_metrics(s.training_metrics), read_metrics(s.dpo_metrics), read_eval_results(s.eval_results),
            read_summary(s.eval_summary), read_summary(s.dpo_eval_summary)};
  for (const JsonlInput* j : {&in.training, &in.dpo, &in.results})
    outcome.problems.insert(outcome.problems.end(), j->problems.begin(), j->problems.end());
  for (const JsonInput* j : {&in.summary, &in.dpo_summary})
    if (!j->problem.empty()) outcome.problems.push_back(j->problem);

  Writer w(s, outcome);
  std::ostringstream md;
  md << "# astforge report — " << s.run_name << "\n\n";
  md << inputs_section(s, in, outcome);
  if (!w.gnuplot_ && !s.plot_formats.empty())
    outcome.problems.push_back(
        "gnuplot is not installed, so no plots were drawn (apt-get install gnuplot-nox)");
  md << training_section(in.training, w);

  md << "## Evaluation\n\n";
  std::string bars;
  if (in.summary.value.is_null()) {
    md << "No SFT evaluation summary: run eval-teacher (`pipelines/runEvals.sh`) to fill this section.\n\n";
  } else {
    const json& sft = in.summary.value;
    md << "Student `"
       << cell(sft.value("adapter", json("?")).is_string() ? sft["adapter"].get<std::string>() : "?")
       << "` on " << sft["samples"].dump() << " samples";
    if (sft.contains("teacher_model") && sft["teacher_model"].is_string())
      md << ", judged by `" << cell(sft["teacher_model"].get<std::string>()) << "`";
    md << ".\n\n";
    bars = rates_section(sft, in.dpo_summary.value, w);
    md << bars;
    md << constrained_section(sft);
    md << split_section(sft, "by_language", "By language", "language", "rates_by_language", w);
    md << split_section(sft, "by_kind", "By query kind", "query kind", "rates_by_kind", w);
  }
  md << dpo_section(in.dpo, w);
  md << failures_section(in.results, s.worst_failures);
  std::string problems = problems_section(outcome);
  outcome.report_path = (fs::path(s.out_dir) / "report.md").string();
  write_file_atomic(outcome.report_path, md.str() + problems);

  const fs::path alignment = fs::path(s.out_dir) / "alignment_report.md";
  if (!in.summary.value.is_null() && !in.dpo_summary.value.is_null()) {
    // The bar plot drawn above already shows SFT and DPO side by side; the alignment report reuses it.
    std::string image_line;
    if (size_t at = bars.find("!["); at != std::string::npos) image_line = bars.substr(at);
    outcome.alignment_report_path = alignment.string();
    write_file_atomic(outcome.alignment_report_path,
                      alignment_report(s, in.summary.value, in.dpo_summary.value, image_line));
  } else {
    // A stale comparison from an earlier run would contradict this report.
    std::error_code ec;
    fs::remove(alignment, ec);
  }
  return outcome;
}

}  // namespace af::report
