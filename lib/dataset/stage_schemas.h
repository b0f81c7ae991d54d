// `ds-build schemas`: d_01 domain specs -> d_02 final schemas (one per domain), each checked against the
// JSON Schema 2020-12 meta-schema before it is written.
#pragma once
#include <cstddef>

namespace af::config {
class Resolved;
}

namespace af::dataset {

/// Runs the stage with the resolved dataset_generation.* settings; returns the number of schemas written.
size_t run_schemas_stage(const config::Resolved& cfg);

}  // namespace af::dataset
