// glibc's malloc hands every block over 32 MB to mmap and returns it on free, so each large activation of a
// training step is page-faulted in afresh (a third of the step went to the kernel on the dev student).
// Keeping freed memory in the heap for reuse removes that; peak memory is unchanged.
#pragma once

namespace af::student {

/// Serves large blocks from the heap and never trims it (glibc: M_MMAP_MAX 0, M_TRIM_THRESHOLD max). Call
/// before the model is loaded. ASTFORGE_MALLOC_DEFAULT=1 keeps glibc's behaviour.
void keep_freed_memory();

}  // namespace af::student
