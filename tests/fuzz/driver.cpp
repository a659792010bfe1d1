// The main of every fuzz target outside libFuzzer: replays each file named on
// the command line (a directory stands for the files in it, in name order)
// through LLVMFuzzerTestOneInput, or standard input when none is named. The
// test suite uses it to replay tests/fuzz/corpus/<target>/; AFL++ runs the
// same binary with the input file in place of @@. Single-threaded.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

void run(const std::string& bytes) {
  // A copy on the heap of exactly the input's size, so that AddressSanitizer
  // sees a read one past the end as the overflow it is.
  const std::vector<std::uint8_t> input(bytes.begin(), bytes.end());
  LLVMFuzzerTestOneInput(input.data(), input.size());
}

bool replay_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "cannot read " << path.string() << "\n";
    return false;
  }
  run(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    run(std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()));
    return 0;
  }
  std::size_t replayed = 0;
  bool ok = true;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path argument(argv[i]);
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(argument)) {
      for (const auto& entry : std::filesystem::directory_iterator(argument)) {
        if (entry.is_regular_file()) {
          files.push_back(entry.path());
        }
      }
      std::sort(files.begin(), files.end());
      if (files.empty()) {
        std::cerr << "no inputs in " << argument.string() << "\n";
        ok = false;
      }
    } else {
      files.push_back(argument);
    }
    for (const auto& file : files) {
      ok = replay_file(file) && ok;
      ++replayed;
    }
  }
  // Quiet under AFL++ (one input per run); a summary for the test log otherwise.
  if (argc > 2 || std::filesystem::is_directory(argv[1])) {
    std::cout << "replayed " << replayed << " inputs\n";
  }
  return ok ? 0 : 1;
}
