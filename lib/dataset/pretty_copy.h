// The readable copies of a stage's outputs (dataset_generation.pretty_dir/<stem>.json), in one place.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace af::dataset {

/// Writes `rows` (the content of the JSONL file `output`) as one indented JSON array in `pretty_dir`
/// (dataset_generation.pretty_dir), named after `output`.
void write_pretty_copy(const std::string& pretty_dir, const std::string& output,
                       const std::vector<nlohmann::json>& rows);

}  // namespace af::dataset
