#include "triggers/webhook_signature.h"

#include <cstdint>
#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using testing::error_of;
using testing::value_of;

constexpr std::string_view kId = "0123456789abcdef0123456789abcdef";
constexpr std::int64_t kTimestamp = 1764028800;  // 2025-11-25T00:00:00Z
constexpr std::string_view kBody = R"({"table":"events"})";

std::string sign(std::string_view secret, std::string_view id, std::int64_t timestamp,
                 std::string_view body) {
  return value_of(webhook_signature(secret, id, timestamp, body));
}

TEST_CASE("a whsec_ secret signs like the Standard Webhooks reference implementation") {
  // The test vector of the standard-webhooks libraries; the expected value was
  // recomputed independently with Python's hmac module.
  CHECK(sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
             R"({"test": 2432232314})") == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

// base64("a signing secret of 28 bytes").
constexpr std::string_view kSecret = "whsec_YSBzaWduaW5nIHNlY3JldCBvZiAyOCBieXRlcw==";

TEST_CASE("a secret without the whsec_ prefix is base64 too, as the reference libraries read it") {
  // Python's Webhook(secret), Go's NewWebhook(secret) and JavaScript's new
  // Webhook(secret) all strip an optional whsec_ and base64-decode the rest.
  CHECK(sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
             R"({"test": 2432232314})") == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST_CASE("an empty body is signed as id.timestamp. with nothing after the last dot") {
  // printf '<id>.<timestamp>.' | openssl dgst -sha256 -mac HMAC -macopt hexkey:<key> -binary | base64
  CHECK(sign(kSecret, kId, kTimestamp, "") == "v1,JzA91BlYeDx7vF+QbnRACnkD4Dlvns38jbFHiJzw24w=");
}

TEST_CASE("the signature covers the id, the timestamp and the body") {
  const std::string reference = sign(kSecret, kId, kTimestamp, kBody);
  CHECK(sign(kSecret, "another-id", kTimestamp, kBody) != reference);
  CHECK(sign(kSecret, kId, kTimestamp + 1, kBody) != reference);
  CHECK(sign(kSecret, kId, kTimestamp, R"({"table":"other"})") != reference);
  CHECK(sign("whsec_YW5vdGhlciBzZWNyZXQgb2YgMjggYnl0ZXMuLg==", kId, kTimestamp, kBody) !=
        reference);
}

TEST_CASE("a secret that is not base64 is an error, not a key made of its text") {
  CHECK(error_of(signing_key("whsec_notbase64!")) ==
        "the signing secret must be base64 (after an optional whsec_ prefix), as every Standard "
        "Webhooks library decodes it: invalid base64: length is not a multiple of 4");
  CHECK(error_of(signing_key("plain-secret")).ends_with("decodes it: invalid base64"));
  CHECK(error_of(webhook_signature("whsec_ab$=", kId, kTimestamp, kBody))
            .ends_with("decodes it: invalid base64"));
}

TEST_CASE("a signing key is 24 to 64 bytes, as the Standard Webhooks spec has it") {
  CHECK(value_of(signing_key("whsec_" + base64_encode(std::string(24, 'k')))).size() == 24);
  CHECK(value_of(signing_key(base64_encode(std::string(64, 'k')))).size() == 64);
  CHECK(error_of(signing_key("whsec_" + base64_encode(std::string(23, 'k')))) ==
        "the signing secret decodes to 23 bytes; Standard Webhooks secrets are 24 to 64 bytes");
  CHECK(error_of(signing_key(base64_encode(std::string(65, 'k'))))
            .starts_with("the signing secret decodes to 65 bytes"));
  CHECK(error_of(signing_key("whsec_")).starts_with("the signing secret decodes to 0 bytes"));
}

TEST_CASE("base64_encode pads to a multiple of four characters") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
}

TEST_CASE("base64_encode handles binary bytes") {
  CHECK(base64_encode(std::string_view("\x00\xff\xfe\x01", 4)) == "AP/+AQ==");
}

TEST_CASE("base64_decode drops the bytes that padding stands for") {
  CHECK(value_of(base64_decode("")) == "");
  CHECK(value_of(base64_decode("Zg==")) == "f");
  CHECK(value_of(base64_decode("Zm8=")) == "fo");
  CHECK(value_of(base64_decode("Zm9v")) == "foo");
  CHECK(value_of(base64_decode("Zm9vYmFy")) == "foobar");
}

TEST_CASE("base64_decode keeps zero bytes") {
  CHECK(value_of(base64_decode("AP/+AQ==")) == std::string("\x00\xff\xfe\x01", 4));
  CHECK(value_of(base64_decode("AAAA")) == std::string(3, '\0'));
}

TEST_CASE("base64_decode rejects text that is not base64") {
  CHECK(error_of(base64_decode("Zg=")) == "invalid base64: length is not a multiple of 4");
  CHECK(error_of(base64_decode("Zm9v!A==")) == "invalid base64");
  CHECK(error_of(base64_decode("Zm 9")) == "invalid base64");
}

TEST_CASE("base64_decode rejects whitespace instead of decoding it as zero bytes") {
  CHECK(error_of(base64_decode("Zg==\n\n\n\n")) == "invalid base64");
  CHECK(error_of(base64_decode("Zg==    ")) == "invalid base64");
  CHECK(error_of(base64_decode("    Zg==")) == "invalid base64");
}

TEST_CASE("base64_decode accepts padding only at the end and at most two") {
  CHECK(error_of(base64_decode("Z===")) == "invalid base64");
  CHECK(error_of(base64_decode("====")) == "invalid base64");
  CHECK(error_of(base64_decode("Zg=A")) == "invalid base64");
  CHECK(error_of(base64_decode("Zg==Zg==")) == "invalid base64");
}

TEST_CASE("a whsec_ secret with a trailing newline is an error, not a different key") {
  CHECK(error_of(webhook_signature(std::string(kSecret) + "\n\n\n\n", kId, kTimestamp, kBody))
            .ends_with("decodes it: invalid base64"));
}

TEST_CASE("base64 round-trips every byte value") {
  std::string bytes;
  for (int value = 0; value < 256; ++value) {
    bytes += static_cast<char>(value);
  }
  CHECK(value_of(base64_decode(base64_encode(bytes))) == bytes);
}

}  // namespace
}  // namespace gapwatch
