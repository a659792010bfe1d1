// Auth: the credentials a webhook sends, as validated configuration, and the
// pure halves of obtaining access tokens: the request to a token endpoint and
// the reading of its answer. Basic and bearer credentials are sent as they
// are; OAuth2 client credentials (RFC 6749 §4.4, e.g. Microsoft Entra ID) and
// Airflow 3's login (POST /auth/token with a username and password, answered
// with a JWT) yield tokens that TokenCache keeps until shortly before they
// expire. Values are secrets: nothing here logs them. Pure; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "rules/error.h"
#include "rules/time.h"
#include "triggers/http_transport.h"

namespace gapwatch {

struct BasicAuth {
  std::string username;
  std::string password;
};

struct BearerAuth {
  std::string token;
};

struct OAuth2ClientCredentials {
  // How the client proves who it is to the token endpoint (RFC 6749 §2.3.1).
  enum class ClientAuthentication {
    request_body,  // client_id and client_secret as form fields (client_secret_post)
    basic,         // HTTP Basic with the form-encoded id and secret (client_secret_basic)
  };
  std::string token_url;
  std::string client_id;
  std::string client_secret;
  std::string scope;  // empty: none sent
  ClientAuthentication client_authentication = ClientAuthentication::request_body;
};

struct AirflowLogin {
  std::string token_url;  // {base_url}/auth/token
  std::string username;
  std::string password;
};

using AuthSpec =
    std::variant<std::monostate, BasicAuth, BearerAuth, OAuth2ClientCredentials, AirflowLogin>;

struct AccessToken {
  std::string value;
  Instant expires_at;
};

// A token endpoint that states no lifetime gets this one, so the token is
// fetched again soon rather than used until it is refused.
constexpr std::chrono::seconds kDefaultTokenLifetime{300};

// Whether `auth` obtains tokens from an endpoint (and so needs a TokenCache).
bool uses_access_token(const AuthSpec& auth);
// Where tokens come from, for messages; empty without one.
std::string token_endpoint(const AuthSpec& auth);

// "Basic <base64 of username:password>".
std::string basic_authorization(std::string_view username, std::string_view password);

// The request that obtains a token. Method, URL, headers and body only: the
// caller sets the timeout and TLS verification.
HttpClientRequest token_request(const OAuth2ClientCredentials& credentials);
HttpClientRequest token_request(const AirflowLogin& login);

// Reads a token endpoint's answer received at `now`. An answer that is not a
// success, or holds no usable token, is an error carrying the endpoint's own
// message (OAuth2 error_description, Airflow detail) but never a token.
Expected<AccessToken> parse_oauth2_token_response(const HttpClientResponse& response, Instant now);
Expected<AccessToken> parse_airflow_token_response(const HttpClientResponse& response, Instant now);

// The "exp" claim of a JWT (its payload is read, not verified: the token is
// only passed on).
std::optional<Instant> jwt_expiry(std::string_view jwt);

}  // namespace gapwatch
