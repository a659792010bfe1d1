// Command-line parsing: subcommands, options, --help and --version; hands off
// to the command functions.
#pragma once

namespace gapwatch {

int run_cli(int argc, char** argv);

}  // namespace gapwatch
