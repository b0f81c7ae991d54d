// Errors that carry the exit-code class a tool maps them to, and a hint that says what to do.
#pragma once
#include <stdexcept>
#include <string>

namespace af {

/// Exit codes shared by every tool (DESIGN.md "Conventions").
enum class ExitCode : int { Ok = 0, Runtime = 1, Usage = 2, Interrupted = 130 };

/// An error with an exit-code class, a message (what went wrong, with file:line when known) and a hint.
class Error : public std::runtime_error {
 public:
  Error(ExitCode code, std::string message, std::string hint = {});
  ExitCode code() const { return code_; }
  const std::string& hint() const { return hint_; }
  /// The message followed by the hint on its own line (when there is one).
  std::string describe() const;

 private:
  ExitCode code_;
  std::string hint_;
};

/// Bad flags, bad config, bad usage: exit 2.
Error usage_error(std::string message, std::string hint = {});
/// A failure while doing the work (I/O, a malformed input file, a server that stays down): exit 1.
Error runtime_error(std::string message, std::string hint = {});
/// The user interrupted; a resumable state was left behind: exit 130.
Error interrupted_error(std::string message, std::string hint = {});

}  // namespace af
