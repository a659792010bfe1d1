// Redaction: replacing secret values in text (log lines, captured output,
// response bodies) with ***. Used by logging for the configuration's secrets
// and by executors for credentials they obtain at run time (access tokens),
// which the configuration cannot know. Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

namespace gapwatch {

// `text` with each secret replaced by ***. Secrets shorter than four
// characters are left alone: replacing "x" everywhere would garble every line
// and protect nothing.
std::string redact(std::string text, const std::vector<std::string>& secrets);

}  // namespace gapwatch
