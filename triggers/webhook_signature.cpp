#include "triggers/webhook_signature.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>

#include <fmt/format.h>

namespace gapwatch {

namespace {

bool in_base64_alphabet(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(bytes.data()),
                                     static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(length));
  return out;
}

Expected<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return fail("invalid base64: length is not a multiple of 4");
  }
  // EVP_DecodeBlock skips surrounding whitespace but still counts it as
  // output, so "Zg==\n\n\n\n" would decode to "f\0\0": a silently wrong key.
  // Accept the alphabet only, with at most two '=' at the end.
  const std::string_view data = text.substr(0, text.find_last_not_of('=') + 1);
  if (text.size() - data.size() > 2 || !std::all_of(data.begin(), data.end(), in_base64_alphabet)) {
    return fail("invalid base64");
  }
  std::string out(3 * (text.size() / 4) + 1, '\0');
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(text.data()),
                                     static_cast<int>(text.size()));
  if (length < 0) {
    return fail("invalid base64");
  }
  // EVP_DecodeBlock counts padding as output bytes.
  std::size_t size = static_cast<std::size_t>(length);
  for (std::size_t i = text.size(); i > 0 && text[i - 1] == '=' && size > 0; --i) {
    --size;
  }
  out.resize(size);
  return out;
}

Expected<std::string> signing_key(std::string_view secret) {
  constexpr std::string_view kPrefix = "whsec_";
  const std::string_view text = secret.starts_with(kPrefix) ? secret.substr(kPrefix.size()) : secret;
  auto key = base64_decode(text);
  if (!key) {
    return fail(fmt::format(
        "the signing secret must be base64 (after an optional whsec_ prefix), as every Standard "
        "Webhooks library decodes it: {}",
        key.error().message));
  }
  if (key->size() < kMinSigningKeyBytes || key->size() > kMaxSigningKeyBytes) {
    return fail(fmt::format(
        "the signing secret decodes to {} bytes; Standard Webhooks secrets are {} to {} bytes",
        key->size(), kMinSigningKeyBytes, kMaxSigningKeyBytes));
  }
  return key;
}

Expected<std::string> webhook_signature(std::string_view secret, std::string_view id,
                                        std::int64_t timestamp, std::string_view body) {
  auto key = signing_key(secret);
  if (!key) {
    return std::unexpected(key.error());
  }
  const std::string content = fmt::format("{}.{}.{}", id, timestamp, body);
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key->data(), static_cast<int>(key->size()),
           reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac.data(),
           &length) == nullptr) {
    return fail("HMAC-SHA256 failed");
  }
  return "v1," + base64_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), length));
}

}  // namespace gapwatch
