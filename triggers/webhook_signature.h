// Standard Webhooks signatures (https://www.standardwebhooks.com):
// "v1," + base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")). The key is the
// signing secret base64-decoded, with or without its "whsec_" prefix: every
// reference library (standard-webhooks/standard-webhooks libraries/python
// webhooks.py, libraries/go webhook.go, libraries/javascript src/index.ts)
// strips an optional prefix and decodes the rest, so a receiver given the same
// secret text verifies. Pure; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "rules/error.h"

namespace gapwatch {

constexpr std::size_t kMinSigningKeyBytes = 24;
constexpr std::size_t kMaxSigningKeyBytes = 64;

}  // namespace gapwatch

namespace gapwatch {

// The HMAC key a signing secret stands for: "whsec_<base64>" or "<base64>",
// padded standard base64 (the form all the reference libraries decode; Go's
// rejects unpadded text) of 24 to 64 bytes (spec/standard-webhooks.md,
// "Signing secret: between 24 bytes and 64 bytes"). The error says why not.
Expected<std::string> signing_key(std::string_view secret);

// Errors when signing_key(secret) does.
Expected<std::string> webhook_signature(std::string_view secret, std::string_view id,
                                        std::int64_t timestamp, std::string_view body);

std::string base64_encode(std::string_view bytes);
Expected<std::string> base64_decode(std::string_view text);

}  // namespace gapwatch
