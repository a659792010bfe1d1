// FUZZ_CHECK: a property a fuzz target asserts about the code under test. A
// failure prints the property and aborts, which AFL++ and libFuzzer record as
// a crash with the input that caused it. Kept on in every build type.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                                          \
  do {                                                                                 \
    if (!(condition)) {                                                                \
      std::fprintf(stderr, "%s:%d: fuzz property failed: %s\n", __FILE__, __LINE__,    \
                   #condition);                                                        \
      std::abort();                                                                    \
    }                                                                                  \
  } while (false)
