// Size limits on what astforge reads from users' files, checked before memory is taken for it: one hostile
// line or file must not drive a tool into the kernel's OOM killer (issue 22). README lists them.
#pragma once
#include <cstdint>

namespace af {

/// The most one JSONL record (one line of a dataset, a corpus, eval records, predict's input) may hold.
inline constexpr uint64_t kMaxLineBytes = uint64_t{16} << 20;

/// The most a JSONL file read whole into memory may hold (a training corpus, preference pairs, an eval set
/// and its records): held as JSON values it takes about 1.5 times this.
inline constexpr uint64_t kMaxJsonlFileBytes = uint64_t{256} << 20;

/// The most a JSON document read whole may hold (a schema file, `ds-build validate --document`).
inline constexpr uint64_t kMaxDocumentBytes = uint64_t{64} << 20;

}  // namespace af
