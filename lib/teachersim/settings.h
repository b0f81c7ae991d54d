// teacher-sim's settings (teacher_sim.*, the operator catalog, run.seed), read from the config in one place.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "teachersim/server.h"

namespace af::config {
class Resolved;
}

namespace af::teachersim {

/// Where teacher-sim listens, what it answers from, and the faults it injects.
struct SimSettings {
  std::string bind = "127.0.0.1";
  int port = 0;  // 0: a free port
  std::optional<std::string> port_file;
  std::string lexicon_dir, operator_catalog;
  uint64_t seed = 0;
  Faults faults;

  nlohmann::json to_json() const;
};

/// Reads every key teacher-sim consumes.
SimSettings sim_settings(const config::Resolved& cfg);

}  // namespace af::teachersim
