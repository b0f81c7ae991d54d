// doctest for files that use libtorch: torch's headers bring glog, whose CHECK macros abort the process and
// would silently replace doctest's. Torch comes first here, its macros are dropped, then doctest defines its
// own.
#pragma once
#include <ATen/ATen.h>

#undef CHECK
#undef CHECK_EQ
#undef CHECK_NE
#undef CHECK_LT
#undef CHECK_LE
#undef CHECK_GT
#undef CHECK_GE

#include <doctest/doctest.h>
