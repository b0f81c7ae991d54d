// Running independent jobs on a bounded number of threads.
#pragma once
#include <cstddef>
#include <functional>

namespace af {

/// Calls fn(0..n-1) on at most `workers` threads. The first exception stops the handing out of new jobs,
/// waits for running ones, and is rethrown.
void parallel_for(size_t n, size_t workers, const std::function<void(size_t)>& fn);

}  // namespace af
