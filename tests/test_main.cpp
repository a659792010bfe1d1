// The test programs' main: doctest, and the command executor's supervise-run
// mode (the executor starts this very binary again to supervise a command).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "triggers/run_supervisor.h"

int main(int argc, char** argv) {
  if (gapwatch::is_supervise_run(argc, argv)) {
    return gapwatch::supervise_run(argc, argv);
  }
  return doctest::Context(argc, argv).run();
}
