#include "student/allocator.h"

#include <malloc.h>

#include <cstdlib>
#include <cstring>

namespace af::student {

void keep_freed_memory() {
  const char* keep_default = std::getenv("ASTFORGE_MALLOC_DEFAULT");
  if (keep_default != nullptr && std::strcmp(keep_default, "1") == 0) return;
#ifdef M_MMAP_MAX
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, -1);  // as an unsigned size: the largest, so the heap is never trimmed
#endif
}

}  // namespace af::student
