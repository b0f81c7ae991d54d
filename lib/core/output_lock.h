// One writer per output folder. Two runs of a stage on one folder (a user starting it twice, or an orphan of
// a killed runner still going) would interleave rows and tear lines; instead the second fails at once, naming
// the first by its pid. The lock is an flock, which the kernel drops when its holder dies however it dies, so
// a killed writer never leaves a folder locked.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace af {

/// The lock file's name inside a locked folder (removed when the lock is released).
inline constexpr const char* kOutputLockName = ".astforge.lock";

/// An exclusive claim on an output folder for as long as it lives.
class OutputLock {
 public:
  /// Creates `dir` if needed and locks it for `holder` (a tool and stage, e.g. "ds-build samples"). Throws a
  /// usage error naming the holder and its pid when another process holds it. A process may lock a folder it
  /// already holds: the claims are shared and the last one releases. Once locked, temporary files and folders
  /// left in `dir` by writers that are gone (`*.tmp-PID`, `*.tmp.PID`) are removed, each with a log line.
  OutputLock(const std::string& dir, std::string_view holder);
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

  /// The folder held.
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

/// Locks the folder that holds `file` (its parent; "." for a bare name).
std::unique_ptr<OutputLock> lock_folder_of(const std::string& file, std::string_view holder);

/// Locks the folders that hold `files` (each once), for a stage that writes several.
std::vector<std::unique_ptr<OutputLock>> lock_folders_of(const std::vector<std::string>& files,
                                                         std::string_view holder);

/// Removes the temporary files and folders in `dir` whose writer (the PID in `NAME.tmp-PID` or
/// `NAME.tmp.PID`) is no longer running; returns how many it removed. Only safe under an OutputLock of `dir`.
size_t remove_stale_temporaries(const std::string& dir);

}  // namespace af
