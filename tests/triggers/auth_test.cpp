// Credentials and token endpoints: the requests that obtain tokens and the
// reading of the answers, with the time given.
#include "triggers/auth.h"

#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "tests/rules/support.h"
#include "triggers/webhook_signature.h"

namespace gapwatch {
namespace {

using nlohmann::json;
using testing::at;
using testing::error_of;
using testing::value_of;

HttpClientResponse answer(long status, std::string body) {
  return HttpClientResponse{status, std::move(body), ""};
}

std::string header(const HttpClientRequest& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) {
      return value;
    }
  }
  return "<absent>";
}

// A JWT with the given payload (the signature is not checked by gapwatch).
std::string jwt(const json& claims) {
  const auto url = [](std::string text) {
    std::string encoded = base64_encode(text);
    for (char& c : encoded) {
      c = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    while (!encoded.empty() && encoded.back() == '=') {
      encoded.pop_back();
    }
    return encoded;
  };
  return url(R"({"alg":"HS512","typ":"JWT"})") + "." + url(claims.dump()) + ".c2lnbmF0dXJl";
}

TEST_CASE("auth: basic_authorization is Basic with base64 of user:password") {
  CHECK(basic_authorization("admin", "s3cret") == "Basic YWRtaW46czNjcmV0");
  // RFC 7617: the password may contain ':'; only the first colon separates.
  CHECK(basic_authorization("a", "b:c") == "Basic " + base64_encode("a:b:c"));
}

TEST_CASE("auth: uses_access_token only for credentials that obtain tokens") {
  CHECK_FALSE(uses_access_token(AuthSpec{}));
  CHECK_FALSE(uses_access_token(BasicAuth{"u", "p"}));
  CHECK_FALSE(uses_access_token(BearerAuth{"t"}));
  CHECK(uses_access_token(OAuth2ClientCredentials{"https://idp/token", "id", "secret", "", {}}));
  CHECK(uses_access_token(AirflowLogin{"https://airflow/auth/token", "u", "p"}));
}

TEST_CASE("auth: the client-credentials request is a form with the secret in the body") {
  const OAuth2ClientCredentials credentials{"https://login.example/tenant/oauth2/v2.0/token",
                                            "client id",
                                            "se&cret=+/",
                                            "https://x/.default",
                                            {}};
  const HttpClientRequest request = token_request(credentials);
  CHECK(request.method == "POST");
  CHECK(request.url == credentials.token_url);
  CHECK(header(request, "Content-Type") == "application/x-www-form-urlencoded");
  CHECK(header(request, "Authorization") == "<absent>");
  // Every value percent-encoded: '&', '=' and '+' cannot add or change fields.
  CHECK(request.body ==
        "grant_type=client_credentials&scope=https%3A%2F%2Fx%2F.default"
        "&client_id=client%20id&client_secret=se%26cret%3D%2B%2F");
}

TEST_CASE("auth: client_secret_basic sends the encoded id and secret in the header only") {
  OAuth2ClientCredentials credentials{"https://idp/token", "my:id", "p w", "", {}};
  credentials.client_authentication = OAuth2ClientCredentials::ClientAuthentication::basic;
  const HttpClientRequest request = token_request(credentials);
  CHECK(request.body == "grant_type=client_credentials");  // no scope given: none sent
  CHECK(header(request, "Authorization") == "Basic " + base64_encode("my%3Aid:p%20w"));
}

TEST_CASE("auth: Airflow's login posts username and password as a JSON object") {
  const HttpClientRequest request =
      token_request(AirflowLogin{"http://airflow:8080/auth/token", "admin", "pa\"ss\\word"});
  CHECK(request.url == "http://airflow:8080/auth/token");
  CHECK(header(request, "Content-Type") == "application/json");
  CHECK(json::parse(*request.body) == json{{"username", "admin"}, {"password", "pa\"ss\\word"}});
}

TEST_CASE("auth: an OAuth2 token lasts expires_in seconds from receipt") {
  const Instant now = at("2026-11-24T12:00:00Z");
  SUBCASE("a number (RFC 6749)") {
    const AccessToken token = value_of(parse_oauth2_token_response(
        answer(200, R"({"token_type":"Bearer","expires_in":3599,"access_token":"eyJ0eXAi.x.y"})"),
        now));
    CHECK(token.value == "eyJ0eXAi.x.y");
    CHECK(token.expires_at == now + std::chrono::seconds{3599});
  }
  SUBCASE("a string (Azure AD v1 endpoints)") {
    const AccessToken token = value_of(parse_oauth2_token_response(
        answer(200, R"({"token_type":"bearer","expires_in":"600","access_token":"abc"})"), now));
    CHECK(token.expires_at == now + std::chrono::seconds{600});
  }
  SUBCASE("absent: a short default, so the token is fetched again soon") {
    const AccessToken token =
        value_of(parse_oauth2_token_response(answer(200, R"({"access_token":"abc"})"), now));
    CHECK(token.expires_at == now + kDefaultTokenLifetime);
  }
}

TEST_CASE("auth: an OAuth2 error answer carries the endpoint's description, never the body") {
  const Instant now = at("2026-11-24T12:00:00Z");
  CHECK(error_of(parse_oauth2_token_response(
            answer(401, R"({"error":"invalid_client","error_description":"AADSTS7000215: )"
                        R"(Invalid client secret provided.","error_codes":[7000215]})"),
            now)) ==
        "the token endpoint answered HTTP 401: invalid_client: AADSTS7000215: Invalid client "
        "secret provided.");
  CHECK(error_of(parse_oauth2_token_response(answer(503, "<html>busy</html>"), now)) ==
        "the token endpoint answered HTTP 503");
  // A success that is not JSON may hold a token in some other shape: not quoted.
  CHECK(error_of(parse_oauth2_token_response(answer(200, "access_token=abc123"), now)) ==
        "the token endpoint answered HTTP 200 without a JSON object");
}

TEST_CASE("auth: an OAuth2 answer without a usable bearer token is an error") {
  const Instant now = at("2026-11-24T12:00:00Z");
  CHECK(error_of(parse_oauth2_token_response(answer(200, R"({"token_type":"Bearer"})"), now)) ==
        "the token endpoint answered without an access_token");
  CHECK(error_of(parse_oauth2_token_response(answer(200, R"({"access_token":""})"), now))
            .find("empty or not printable") != std::string::npos);
  // A token with a line break would add a header line.
  CHECK(error_of(
            parse_oauth2_token_response(answer(200, R"({"access_token":"abc\r\nX-Evil: 1"})"), now))
            .find("not printable") != std::string::npos);
  CHECK(error_of(parse_oauth2_token_response(
            answer(200, R"({"access_token":"abc","token_type":"mac"})"), now)) ==
        "the token endpoint issued a 'mac' token; only bearer tokens are supported");
  CHECK(error_of(parse_oauth2_token_response(
                     answer(200, R"({"access_token":"abc","expires_in":-5})"), now))
            .find("invalid expires_in") != std::string::npos);
}

TEST_CASE("auth: jwt_expiry reads the exp claim of the payload") {
  CHECK(jwt_expiry(jwt({{"sub", "1"}, {"exp", 1795000000}})) ==
        Instant{std::chrono::seconds{1795000000}});
  CHECK_FALSE(jwt_expiry(jwt({{"sub", "1"}})).has_value());
  CHECK_FALSE(jwt_expiry(jwt({{"exp", "soon"}})).has_value());
  CHECK_FALSE(jwt_expiry("not-a-jwt").has_value());
  CHECK_FALSE(jwt_expiry("a.!!!.c").has_value());
}

TEST_CASE("auth: Airflow's token expires when its JWT says, else after the default") {
  const Instant now = at("2026-11-24T12:00:00Z");
  const std::string token = jwt({{"sub", "admin"}, {"exp", 1795000000}});
  const AccessToken read = value_of(
      parse_airflow_token_response(answer(201, json{{"access_token", token}}.dump()), now));
  CHECK(read.value == token);
  CHECK(read.expires_at == Instant{std::chrono::seconds{1795000000}});
  const AccessToken opaque =
      value_of(parse_airflow_token_response(answer(201, R"({"access_token":"opaque"})"), now));
  CHECK(opaque.expires_at == now + kDefaultTokenLifetime);
  CHECK(error_of(parse_airflow_token_response(
            answer(401, R"({"detail":"Invalid username or password"})"), now)) ==
        "the Airflow login answered HTTP 401: Invalid username or password");
}

}  // namespace
}  // namespace gapwatch
