#include "dataset/pretty_copy.h"

#include <filesystem>

#include "config/resolve.h"
#include "core/files.h"

namespace af::dataset {

void write_pretty_copy(const config::Resolved& cfg, const std::string& output,
                       const std::vector<nlohmann::json>& rows) {
  const std::string path = cfg.get_string("dataset_generation.pretty_dir") + "/" +
                           std::filesystem::path(output).stem().string() + ".json";
  write_file_atomic(path, nlohmann::json(rows).dump(2) + "\n");
}

}  // namespace af::dataset
