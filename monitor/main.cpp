// gapwatch: the executable is only the command line; everything else lives in
// the libraries that the tests link too.
#include "monitor/cli.h"

int main(int argc, char** argv) { return gapwatch::run_cli(argc, argv); }
