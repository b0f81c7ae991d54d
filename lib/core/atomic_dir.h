// Whole-folder writes: a folder is built beside its place and moved in whole, so a reader (or a resumed
// run) sees the old folder or the complete new one, never a half-written one.
#pragma once
#include <functional>
#include <string>

namespace af {

/// Builds `dir` by calling `fill` on an empty temporary folder next to it, then replaces `dir` with it.
/// When `fill` throws, the temporary folder is removed and the exception propagates; `dir` is untouched.
void write_dir_atomic(const std::string& dir, const std::function<void(const std::string& tmp)>& fill);

}  // namespace af
