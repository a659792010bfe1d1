#include "triggers/redaction.h"

#include <algorithm>
#include <utility>

namespace gapwatch {

namespace {

constexpr std::size_t kShortestSecret = 4;

}  // namespace

std::string redact(std::string text, const std::vector<std::string>& secrets) {
  // Every occurrence of every secret is found in the original text before
  // anything is replaced, and overlapping ones are merged: replacing one at a
  // time would leave the rest of a longer or overlapping secret in clear.
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  for (const std::string& secret : secrets) {
    if (secret.size() < kShortestSecret) {
      continue;
    }
    for (std::size_t at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + 1)) {
      spans.emplace_back(at, at + secret.size());
    }
  }
  if (spans.empty()) {
    return text;
  }
  std::sort(spans.begin(), spans.end());
  std::string out;
  std::size_t copied = 0;
  for (std::size_t i = 0; i < spans.size();) {
    const std::size_t start = spans[i].first;
    std::size_t end = spans[i].second;
    for (++i; i < spans.size() && spans[i].first < end; ++i) {
      end = std::max(end, spans[i].second);
    }
    out.append(text, copied, start - copied);
    out += "***";
    copied = end;
  }
  out.append(text, copied);
  return out;
}

}  // namespace gapwatch
