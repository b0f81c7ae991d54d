#include "dataset/pretty_copy.h"

#include <filesystem>

#include "core/files.h"

namespace af::dataset {

void write_pretty_copy(const std::string& pretty_dir, const std::string& output,
                       const std::vector<nlohmann::json>& rows) {
  const std::string path = pretty_dir + "/" + std::filesystem::path(output).stem().string() + ".json";
  write_file_atomic(path, nlohmann::json(rows).dump(2) + "\n");
}

}  // namespace af::dataset
