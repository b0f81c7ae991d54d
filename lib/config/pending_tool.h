// The shared main of a pipeline tool whose work has not landed yet: full --help and --dry-run over its
// config keys, and a clear "not implemented yet" (exit 1) otherwise, never a silent success.
#pragma once
#include <string>

#include "config/field.h"

namespace af::config {

/// Runs the tool's command line; `pending` names the issue that implements the work.
int run_pending_tool(int argc, const char* const* argv, Tool tool, const std::string& description,
                     const std::string& pending);

}  // namespace af::config
