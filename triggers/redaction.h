// Redaction: replacing secret values in text with ***. A Redactor holds the
// secrets of one configuration (monitor/daemon/logging.cpp collects them) and
// is what every sink applies: the log, what the state database stores, what
// the HTTP API and the status page serve. redact() does the same for a few
// secrets known only at run time (an access token an executor obtained).
// Pure; a Redactor is immutable once built, so it is safe from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace gapwatch {

// Secrets shorter than this are left alone: replacing "x" everywhere would
// garble every line and protect nothing. The configuration warns about them.
inline constexpr std::size_t kShortestSecret = 4;

// `text` with each secret replaced by ***: every occurrence of every secret is
// found before anything is replaced, and overlapping ones become one ***.
std::string redact(std::string text, const std::vector<std::string>& secrets);

class Redactor {
 public:
  // Masks nothing.
  Redactor() = default;
  // Masks each of `secrets` (those of kShortestSecret characters or more) as
  // written and as it travels: percent-encoded (a URL, a form) and escaped
  // in a JSON string once and twice (a body, and a body echoed inside a JSON
  // answer).
  explicit Redactor(const std::vector<std::string>& secrets);

  // `text` with every secret replaced by ***.
  std::string redact(std::string text) const;

  // What is masked, each form once, longest first.
  const std::vector<std::string>& secrets() const { return m_secrets; }

 private:
  std::vector<std::string> m_secrets;
};

}  // namespace gapwatch
