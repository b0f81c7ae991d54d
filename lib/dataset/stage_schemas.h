// `ds-build schemas`: d_01 domain specs -> d_02 final schemas (one per domain), each checked against the
// JSON Schema 2020-12 meta-schema before it is written.
#pragma once
#include <cstddef>

namespace af::dataset {

struct DatasetSettings;

/// Runs the stage with ds-build's settings; returns the number of schemas written.
size_t run_schemas_stage(const DatasetSettings& settings);

}  // namespace af::dataset
