// The scenarios of the propagation test (propagation_behaviour_test.cpp): for each tool, tiny real inputs, a
// base configuration, and how one run is observed (files written, teacher requests, exit code, output). The
// inputs come from one shared fixture: a real ds-build run against teacher-sim, a tiny scratch student
// trained for two steps, a LoRA adapter on it, a judged evaluation, DPO pairs and a DPO run, built once per
// build tree (under a lock, so parallel test processes share it) and rebuilt when the tools change.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "config/field.h"
#include "support/propagation_check.h"

namespace af::test {

/// Where the shared fixture's files are.
struct Fixture {
  std::string dir;
  std::string ds;            // ds-build's outputs: d_01 ... d_06
  std::string sft_corpus;    // short rows from d_03: the schema's field list and a request; its AST
  std::string model;         // a tiny full student folder (config.json, model.safetensors, tokenizer.model)
  std::string adapter;       // a LoRA adapter on `model`
  std::string eval_set;      // d_05 with one row marked invalid
  std::string eval_results;  // a judged evaluation of model + adapter on eval_set
  std::string eval_summary;
  std::string pairs_results;  // the same records with one the teacher accepted, and their summary
  std::string pairs_summary;
  std::string dpo_pairs;  // preference pairs from the corpus
  std::string training_metrics, dpo_metrics;
  std::string predict_input;  // {id, schema, query} rows
};

/// The fixture, built on first use.
const Fixture& fixture();

/// The scenarios: a tool, and for train-sft a variant ("lora": LoRA on the fixture's student instead of a
/// scratch student trained whole).
Scenario scenario_for(config::Tool tool, const std::string& variant = "");

/// The scenario's base settings (dotted key -> value), which a probe's `with` and value override.
nlohmann::json base_settings(config::Tool tool, const std::string& variant = "");

/// The value `key` resolves to in the scenario's base with `with` applied (what a probe changes).
nlohmann::json scenario_value(config::Tool tool, const std::string& variant, const nlohmann::json& with,
                              const std::string& key);

/// A free loopback port, for probes of teacher_sim.port.
int free_port();

}  // namespace af::test
