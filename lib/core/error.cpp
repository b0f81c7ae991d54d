#include "core/error.h"

#include <utility>

namespace af {

Error::Error(ExitCode code, std::string message, std::string hint)
    : std::runtime_error(std::move(message)), code_(code), hint_(std::move(hint)) {}

std::string Error::describe() const {
  std::string out = what();
  if (!hint_.empty()) out += "\n  hint: " + hint_;
  return out;
}

Error usage_error(std::string message, std::string hint) {
  return Error(ExitCode::Usage, std::move(message), std::move(hint));
}
Error runtime_error(std::string message, std::string hint) {
  return Error(ExitCode::Runtime, std::move(message), std::move(hint));
}
Error interrupted_error(std::string message, std::string hint) {
  return Error(ExitCode::Interrupted, std::move(message), std::move(hint));
}

}  // namespace af
