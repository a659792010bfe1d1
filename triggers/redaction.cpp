#include "triggers/redaction.h"

#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

#include "triggers/template.h"  // percent_encode

namespace gapwatch {

namespace {

// `text` as the inside of a JSON string (without the quotes).
std::string json_escaped(const std::string& text) {
  const std::string quoted =
      nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return quoted.substr(1, quoted.size() - 2);
}

}  // namespace

std::string redact(std::string text, const std::vector<std::string>& secrets) {
  // Replacing one secret at a time would leave the rest of a longer or
  // overlapping secret in clear: find all spans first, then merge them.
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

Redactor::Redactor(const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.size() < kShortestSecret) {
      continue;
    }
    m_secrets.push_back(secret);
    m_secrets.push_back(percent_encode(secret));
    const std::string once = json_escaped(secret);
    m_secrets.push_back(once);
    m_secrets.push_back(json_escaped(once));
  }
  // Longest first; equal lengths by value, so that duplicates are adjacent.
  std::sort(m_secrets.begin(), m_secrets.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  m_secrets.erase(std::unique(m_secrets.begin(), m_secrets.end()), m_secrets.end());
}

std::string Redactor::redact(std::string text) const {
  return gapwatch::redact(std::move(text), m_secrets);
}

}  // namespace gapwatch
