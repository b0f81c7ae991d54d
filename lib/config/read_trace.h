// The read trace: which config keys a tool's code actually read, as opposed to the keys the field table says
// it consumes. Resolved::get records every read once tracing is on (after validation, so the cross-field
// rules do not count); a read of a key the tool does not declare is a programming error caught at once. With
// ASTFORGE_CONFIG_READ_TRACE=<file> in the environment, the reads are appended to that file when the process
// ends ("tool<TAB>key<TAB>direct|reference" lines), so tests can compare them with the table.
#pragma once
#include <map>
#include <string>
#include <string_view>

namespace af::config {

/// How a key reached the code: read by name, or through a "${key}" reference in a value that was read.
enum class ReadKind { Direct, Reference };

/// Records that `tool` read `key`. The first record arranges for the trace file to be written at exit.
void note_read(std::string_view tool, const std::string& key, ReadKind kind);

/// Every key this process read so far, with how (a Direct read wins over a Reference one).
std::map<std::string, ReadKind> reads_so_far();

/// Appends the reads to $ASTFORGE_CONFIG_READ_TRACE now (also done at exit); a no-op without the variable.
void flush_read_trace();

/// The name of the environment variable that asks for the trace file.
inline constexpr const char* kReadTraceEnv = "ASTFORGE_CONFIG_READ_TRACE";

}  // namespace af::config
