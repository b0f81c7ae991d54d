#include "teachersim/settings.h"

#include "config/resolve.h"
#include "config/run_settings.h"

namespace af::teachersim {

SimSettings sim_settings(const config::Resolved& cfg) {
  SimSettings s;
  s.bind = cfg.get_string("teacher_sim.bind");
  s.port = static_cast<int>(cfg.get_int("teacher_sim.port"));
  s.port_file = config::optional_string(cfg, "teacher_sim.port_file");
  s.lexicon_dir = cfg.get_string("teacher_sim.lexicon_dir");
  s.operator_catalog = cfg.get_string("dataset_generation.operator_catalog");
  s.seed = config::run_seed(cfg);
  s.faults.fail_rate = cfg.get_double("teacher_sim.fail_rate");
  s.faults.garbage_rate = cfg.get_double("teacher_sim.garbage_rate");
  s.faults.drop_rate = cfg.get_double("teacher_sim.drop_rate");
  s.faults.invalid_rate = cfg.get_double("teacher_sim.invalid_rate");
  s.faults.delay_ms = static_cast<int>(cfg.get_int("teacher_sim.delay_ms"));
  return s;
}

nlohmann::json SimSettings::to_json() const {
  return {{"listen", bind + ":" + (port == 0 ? std::string("<a free port>") : std::to_string(port))},
          {"port_file", port_file ? nlohmann::json(*port_file) : nlohmann::json(nullptr)},
          {"lexicon_dir", lexicon_dir},
          {"operator_catalog", operator_catalog},
          {"seed", seed},
          {"faults",
           {{"fail_rate", faults.fail_rate},
            {"garbage_rate", faults.garbage_rate},
            {"drop_rate", faults.drop_rate},
            {"invalid_rate", faults.invalid_rate},
            {"delay_ms", faults.delay_ms}}}};
}

}  // namespace af::teachersim
