// Standard Webhooks signatures (https://www.standardwebhooks.com):
// "v1," + base64(HMAC-SHA256(secret, "<id>.<timestamp>.<body>")). A secret
// written "whsec_<base64>" is the base64-decoded key; any other secret is used
// as its bytes. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "rules/error.h"

namespace gapwatch {

Expected<std::string> webhook_signature(std::string_view secret, std::string_view id,
                                        std::int64_t timestamp, std::string_view body);

std::string base64_encode(std::string_view bytes);
Expected<std::string> base64_decode(std::string_view text);

}  // namespace gapwatch
