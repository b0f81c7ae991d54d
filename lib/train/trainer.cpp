#include "train/trainer.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/error.h"
#include "core/files.h"
#include "core/interrupt.h"
#include "core/jsonl_writer.h"
#include "core/log.h"
#include "core/progress.h"
#include "train/checkpoint.h"
#include "train/distributed.h"

namespace af::train {
namespace fs = std::filesystem;
using nlohmann::json;

int64_t total_steps_for(int64_t max_steps, double num_epochs, int64_t batches_per_epoch, int64_t grad_accum) {
  if (max_steps > 0) return max_steps;
  return std::max<int64_t>(
      1, static_cast<int64_t>(std::ceil(num_epochs * static_cast<double>(batches_per_epoch) /
                                        static_cast<double>(grad_accum))));
}

namespace {

// v rounded to `digits` decimals; dividing the rounded integer by a power of ten gives the double closest to
// the decimal, so the JSON shows "0.1234", not "0.12340000000000001".
double round_to(double v, int digits) {
  double scale = std::pow(10.0, digits);
  return std::round(v * scale) / scale;
}

// Keeps the metrics lines up to `step` (a resumed run rewrites what came after its checkpoint).
void truncate_metrics(const std::string& path, int64_t step) {
  if (!fs::exists(path)) return;
  std::ifstream in(path);
  std::string line, kept;
  while (std::getline(in, line)) {
    auto v = json::parse(line, nullptr, false);
    if (v.is_discarded() || !v.contains("step") || v["step"].get<int64_t>() > step) continue;
    kept += line + "\n";
  }
  write_file_atomic(path, kept);
}

// The global gradient norm of the trained tensors, clipped to `max_norm` when > 0 (as clip_grad_norm_ does).
double clip_gradients(const AdamW& optimizer, double max_norm) {
  at::NoGradGuard no_grad;
  double total = 0;
  for (const auto& p : optimizer.params())
    if (p.tensor->grad().defined()) total += p.tensor->grad().to(at::kDouble).pow(2).sum().item<double>();
  double norm = std::sqrt(total);
  if (max_norm > 0 && std::isfinite(norm) && norm > max_norm) {
    double scale = max_norm / (norm + 1e-6);
    for (const auto& p : optimizer.params())
      if (p.tensor->grad().defined()) p.tensor->mutable_grad().mul_(scale);
  }
  return norm;
}

// Steps whose loss is replaced by NaN, from ASTFORGE_FAULT_NONFINITE_STEPS ("3,4,5"): fault injection for the
// tests of the non-finite guard, as teacher-sim injects teacher faults. Unset in normal runs.
std::set<int64_t> injected_nonfinite_steps() {
  std::set<int64_t> steps;
  const char* env = std::getenv("ASTFORGE_FAULT_NONFINITE_STEPS");
  if (env == nullptr) return steps;
  std::string text = env;
  for (size_t start = 0; start < text.size();) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) steps.insert(std::stoll(text.substr(start, comma - start)));
    start = comma + 1;
  }
  return steps;
}

// The gradients of the trained tensors, each defined (zeros where a rank's micro-batches never reached a
// tensor), so every rank hands the same list to the collective.
std::vector<at::Tensor> gradients(const AdamW& optimizer) {
  std::vector<at::Tensor> grads;
  for (const auto& p : optimizer.params()) {
    if (!p.tensor->grad().defined()) p.tensor->mutable_grad() = at::zeros_like(*p.tensor);
    grads.push_back(p.tensor->grad());
  }
  return grads;
}

}  // namespace

int64_t train_loop(model::Gemma3& model, const std::optional<model::LoraSettings>& lora, AdamW& optimizer,
                   Objective& objective, const LoopSettings& s) {
  Distributed single(RankInfo{});
  Distributed& dist = s.distributed != nullptr ? *s.distributed : single;
  const bool main_rank = dist.is_main();
  const int world = dist.world_size();
  fs::create_directories(s.output_dir);
  std::string metrics_path = (fs::path(s.output_dir) / s.metrics_file).string();
  CheckpointParts parts{&model, &lora, &optimizer, s.tokenizer_dir};

  // State that a checkpoint carries.
  int64_t step = 0, data_epoch = 0, data_batch = 0, nonfinite_streak = 0, bad_evals = 0, skipped = 0;
  std::optional<double> best_metric, best_eval_for_stop, last_eval, last_window_loss;
  std::string best_checkpoint;
  double window_loss = 0;  // the logging window in progress, carried by checkpoints so lines match on resume
  int64_t window_steps = 0;
  json log_history = json::array();

  std::string resume_from = s.resume == "latest" ? latest_checkpoint(s.output_dir) : s.resume;
  if (s.resume == "latest" && resume_from.empty())
    log_info("no checkpoint in ", s.output_dir, ": starting fresh");
  if (!resume_from.empty()) {
    if (std::string problem = checkpoint_problem(resume_from); !problem.empty())
      throw usage_error(resume_from + " is not a whole checkpoint: " + problem,
                        "pass another --resume-from-checkpoint, or --resume to pick the latest whole one");
    json st = read_trainer_state(resume_from);
    step = st.at("global_step").get<int64_t>();
    data_epoch = st.at("data").at("epoch").get<int64_t>();
    data_batch = st.at("data").at("batch").get<int64_t>();
    nonfinite_streak = st.value("nonfinite_streak", int64_t{0});
    bad_evals = st.value("early_stop_bad_evals", int64_t{0});
    skipped = st.value("skipped_steps", int64_t{0});
    if (!st["best_metric"].is_null()) best_metric = st["best_metric"].get<double>();
    if (!st["best_eval_for_early_stop"].is_null())
      best_eval_for_stop = st["best_eval_for_early_stop"].get<double>();
    best_checkpoint =
        st.value("best_model_checkpoint", json("")).is_string() ? st.value("best_model_checkpoint", "") : "";
    log_history = st.value("log_history", json::array());
    window_loss = st.at("window").at("loss").get<double>();
    window_steps = st.at("window").at("steps").get<int64_t>();
    if (!st["last_eval"].is_null()) last_eval = st["last_eval"].get<double>();
    if (!st["last_window_loss"].is_null()) last_window_loss = st["last_window_loss"].get<double>();
    if (st.contains("objective_window") && !st["objective_window"].is_null())
      objective.restore_window(st["objective_window"]);
    load_checkpoint_weights(resume_from, model, lora);
    optimizer.load(resume_from);
    load_rng_state(resume_from);
    if (main_rank) truncate_metrics(metrics_path, step);
    log_info("resuming from ", resume_from, " (step ", step, " of ", s.total_steps, ")");
  } else if (main_rank) {
    write_file_atomic(metrics_path, "");
  }
  std::optional<JsonlWriter> metrics;
  if (main_rank) metrics.emplace(metrics_path, JsonlWriter::Mode::Append);
  // Every rank starts from rank 0's weights, whatever its own initialisation drew.
  if (world > 1) {
    std::vector<at::Tensor> weights;
    for (const auto& p : optimizer.params()) weights.push_back(*p.tensor);
    dist.broadcast_from_main(weights);
  }

  std::vector<std::vector<size_t>> batches = objective.epoch_batches(data_epoch);
  auto next_batch = [&]() {
    if (data_batch >= static_cast<int64_t>(batches.size())) {
      ++data_epoch;
      data_batch = 0;
      batches = objective.epoch_batches(data_epoch);
    }
    return batches[static_cast<size_t>(data_batch++)];
  };
  auto epoch_now = [&] {
    return round_to(static_cast<double>(data_epoch) +
                        static_cast<double>(data_batch) / static_cast<double>(s.batches_per_epoch),
                    4);
  };
  auto trainer_state = [&] {
    return json{{"global_step", step},
                {"max_steps", s.total_steps},
                {"epoch", epoch_now()},
                {"data", {{"epoch", data_epoch}, {"batch", data_batch}}},
                {"best_metric", best_metric ? json(*best_metric) : json(nullptr)},
                {"best_eval_for_early_stop", best_eval_for_stop ? json(*best_eval_for_stop) : json(nullptr)},
                {"best_model_checkpoint", best_checkpoint},
                {"metric_for_best_model", s.metric_for_best_model},
                {"nonfinite_streak", nonfinite_streak},
                {"skipped_steps", skipped},
                {"early_stop_bad_evals", bad_evals},
                {"window", {{"loss", window_loss}, {"steps", window_steps}}},
                {"last_eval", last_eval ? json(*last_eval) : json(nullptr)},
                {"last_window_loss", last_window_loss ? json(*last_window_loss) : json(nullptr)},
                {"objective_window", objective.window_state()},
                {"log_history", log_history}};
  };
  auto save = [&](const char* why) {
    std::string dir = (fs::path(s.output_dir) / checkpoint_name(step)).string();
    std::optional<double> metric = s.metric_for_best_model == "eval_loss" ? last_eval : last_window_loss;
    if (metric && (!best_metric || *metric < *best_metric)) {
      best_metric = metric;
      best_checkpoint = dir;
    }
    if (!main_rank) return;
    save_checkpoint(dir, parts, trainer_state());
    log_info("saved ", dir, " (", why, ")");
    if (s.save_total_limit > 0) rotate_checkpoints(s.output_dir, s.save_total_limit, best_checkpoint, dir);
  };

  install_interrupt_handlers();
  const std::set<int64_t> fault_steps = injected_nonfinite_steps();
  Progress progress("train", static_cast<uint64_t>(s.total_steps),
                    main_rank ? s.progress.mode : ProgressMode::Off, s.progress.interval_seconds);
  progress.advance(static_cast<uint64_t>(step));
  int64_t window_tokens = 0;
  auto window_start = std::chrono::steady_clock::now();
  bool stop_early = false;
  model.set_training(true);
  while (step < s.total_steps && !stop_early) {
    // The step's micro-batches, the same on every rank; rank r runs every world-th one, from the r-th. The
    // normaliser covers them all, so the summed gradients equal one process accumulating them all.
    std::vector<std::vector<size_t>> micro;
    for (int64_t i = 0; i < s.grad_accum * world; ++i) micro.push_back(next_batch());
    double norm_by = objective.normaliser(micro);
    double loss_sum = 0, step_tokens = 0;
    for (size_t i = static_cast<size_t>(dist.rank()); i < micro.size(); i += static_cast<size_t>(world)) {
      auto [loss, tokens] = objective.run(micro[i], norm_by, true);
      loss_sum += loss;
      step_tokens += static_cast<double>(tokens);
    }
    bool interrupted_here = interrupt_requested();
    if (world > 1) {
      dist.all_reduce_sum(gradients(optimizer));
      at::Tensor totals = at::tensor({loss_sum, step_tokens, interrupted_here ? 1.0 : 0.0}, at::kDouble);
      dist.all_reduce_sum({totals});
      loss_sum = totals[0].item<double>();
      step_tokens = totals[1].item<double>();
      interrupted_here = totals[2].item<double>() > 0;  // any rank's Ctrl-C stops every rank at this step
    }
    window_tokens += static_cast<int64_t>(step_tokens);
    double step_loss = loss_sum / norm_by;
    if (fault_steps.count(step + 1) != 0) step_loss = std::nan("");
    double grad_norm = clip_gradients(optimizer, s.max_grad_norm);
    double lr = s.schedule.at(step);
    if (!std::isfinite(step_loss) || !std::isfinite(grad_norm)) {
      ++nonfinite_streak;
      ++skipped;
      optimizer.zero_grad();
      log_warn("step ", step + 1, ": non-finite ", std::isfinite(step_loss) ? "gradient" : "loss",
               "; step skipped (", nonfinite_streak, " in a row)");
      ++step;
      if (nonfinite_streak >= s.nonfinite_patience) {
        save("non-finite values");
        throw runtime_error(
            "stopped at step " + std::to_string(step) + ": " + std::to_string(nonfinite_streak) +
                " steps in a row had a non-finite loss or gradient",
            "lower training.learning_rate, set max_grad_norm, or check the data; the checkpoint is saved");
      }
    } else {
      nonfinite_streak = 0;
      optimizer.step(lr);
      optimizer.zero_grad();
      ++step;
      window_loss += step_loss;
      ++window_steps;
    }
    progress.advance();
    if (step % s.logging_steps == 0 && window_steps > 0) {
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start).count();
      last_window_loss = window_loss / static_cast<double>(window_steps);
      json line = {{"step", step},
                   {"epoch", epoch_now()},
                   {"loss", round_to(*last_window_loss, 6)},
                   {"grad_norm", round_to(grad_norm, 6)},
                   {"learning_rate", s.schedule.at(step)},
                   {"tokens_per_second", round_to(static_cast<double>(window_tokens) / seconds, 2)}};
      for (const auto& [key, value] : objective.take_log_metrics()) line[key] = round_to(value, 6);
      if (metrics) {
        metrics->write(line);
        metrics->flush();
      }
      json history = line;
      history.erase("tokens_per_second");
      log_history.push_back(history);
      progress.set_status("loss " + std::to_string(*last_window_loss).substr(0, 6));
      window_loss = 0;
      window_steps = 0;
      window_tokens = 0;
      window_start = std::chrono::steady_clock::now();
    }
    if (s.eval_steps > 0 && (step % s.eval_steps == 0 || step == s.total_steps)) {
      model.set_training(false);
      auto t0 = std::chrono::steady_clock::now();
      // Rank 0 evaluates; the others take its figures, so every rank makes the same early-stop decision.
      std::map<std::string, double> m = main_rank ? objective.evaluate() : std::map<std::string, double>{};
      if (world > 1) {
        at::Tensor figures = at::tensor(
            {m.count("eval_loss") != 0 ? 1.0 : 0.0, m["eval_loss"], m["samples"], m["batches"]}, at::kDouble);
        dist.broadcast_from_main({figures});
        m.clear();
        if (figures[0].item<double>() > 0)
          m = {{"eval_loss", figures[1].item<double>()},
               {"samples", figures[2].item<double>()},
               {"batches", figures[3].item<double>()}};
      }
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      model.set_training(true);
      if (m.count("eval_loss") != 0) {
        last_eval = m["eval_loss"];
        json line = {{"step", step},
                     {"epoch", epoch_now()},
                     {"eval_loss", round_to(*last_eval, 6)},
                     {"eval_batches", static_cast<int64_t>(m["batches"])},
                     {"eval_runtime", round_to(seconds, 3)},
                     {"eval_samples_per_second", round_to(m["samples"] / seconds, 3)},
                     {"eval_steps_per_second", round_to(m["batches"] / seconds, 3)}};
        if (metrics) {
          metrics->write(line);
          metrics->flush();
        }
        log_history.push_back({{"step", step}, {"epoch", epoch_now()}, {"eval_loss", line["eval_loss"]}});
        log_info("step ", step, ": eval_loss ", *last_eval);
        if (!best_eval_for_stop || *last_eval < *best_eval_for_stop - s.early_stop_min_delta) {
          best_eval_for_stop = last_eval;
          bad_evals = 0;
        } else if (s.early_stop_patience > 0 && ++bad_evals >= s.early_stop_patience) {
          log_info("early stopping: eval_loss has not improved by ", s.early_stop_min_delta, " for ",
                   bad_evals, " evaluations");
          stop_early = true;
        }
      }
    }
    // One process also stops for a Ctrl-C that came during evaluation; ranks stop only at the agreed step.
    bool interrupted = world > 1 ? interrupted_here : interrupted_here || interrupt_requested();
    if (step % s.save_steps == 0 || stop_early || interrupted || step == s.total_steps)
      save(interrupted             ? "interrupted"
           : stop_early            ? "early stop"
           : step == s.total_steps ? "last step"
                                   : "save_steps");
    if (interrupted)
      throw interrupted_error("interrupted at step " + std::to_string(step) + "; the checkpoint is saved",
                              "run again with --resume to continue");
  }
  progress.finish();
  model.set_training(false);
  if (s.load_best_model_at_end && !best_checkpoint.empty() && fs::exists(best_checkpoint)) {
    log_info("loading the best checkpoint ", best_checkpoint, " (", s.metric_for_best_model, " ",
             *best_metric, ")");
    load_checkpoint_weights(best_checkpoint, model, lora);
  }
  std::string final_dir = (fs::path(s.output_dir) / "checkpoint-final").string();
  if (main_rank) save_final(final_dir, parts);
  dist.barrier();  // no rank reports done before checkpoint-final exists
  if (skipped > 0) log_warn(skipped, " steps were skipped for non-finite values");
  if (model.gradient_checkpointing()) {
    if (model.recomputed_layers() > 0) {
      log_info("gradient checkpointing recomputed ", model.recomputed_layers(),
               " layer forwards in backward");
    } else {
      log_info(
          "gradient checkpointing is on, but no layer was recomputed: shared-prefix batches run without it");
    }
  }
  log_info("done at step ", step, "; ", final_dir);
  return step;
}

}  // namespace af::train
