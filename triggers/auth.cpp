// Auth: token requests and the reading of token endpoints' answers (see
// auth.h). Pure; thread-safe.
#include "triggers/auth.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "triggers/response_body.h"
#include "triggers/template.h"
#include "triggers/webhook_signature.h"

namespace gapwatch {

namespace {

// A token goes into an Authorization header: printable ASCII only, so that a
// hostile endpoint cannot add header lines.
bool usable_token(std::string_view token) {
  return !token.empty() &&
         std::all_of(token.begin(), token.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

// A token endpoint's answer that holds a usable access_token.
struct TokenAnswer {
  nlohmann::json document;
  std::string access_token;
};

Expected<nlohmann::json> token_document(const HttpClientResponse& response, std::string_view what) {
  if (response.status < 200 || response.status >= 300) {
    const std::string message = error_message(response.body);
    return fail(message.empty()
                    ? fmt::format("{} answered HTTP {}", what, response.status)
                    : fmt::format("{} answered HTTP {}: {}", what, response.status, message));
  }
  nlohmann::json document = parse_json_body(response.body);
  if (!document.is_object()) {
    // The body is not quoted: it may hold a token in some unexpected shape.
    return fail(fmt::format("{} answered HTTP {} without a JSON object", what, response.status));
  }
  return document;
}

Expected<std::string> access_token_of(const nlohmann::json& document, std::string_view what) {
  const auto found = document.find("access_token");
  if (found == document.end() || !found->is_string()) {
    return fail(fmt::format("{} answered without an access_token", what));
  }
  std::string token = found->get<std::string>();
  if (!usable_token(token)) {
    return fail(
        fmt::format("{} answered with an access_token that is empty or not printable "
                    "ASCII",
                    what));
  }
  return token;
}

// The answer of `what` (named in errors): a successful status and a JSON
// object with an access_token fit for an Authorization header.
Expected<TokenAnswer> read_token_answer(const HttpClientResponse& response, std::string_view what) {
  auto document = token_document(response, what);
  if (!document) {
    return std::unexpected(document.error());
  }
  auto token = access_token_of(*document, what);
  if (!token) {
    return std::unexpected(token.error());
  }
  return TokenAnswer{std::move(*document), std::move(*token)};
}

// base64url (RFC 4648 §5) without padding, as in JWTs.
Expected<std::string> base64url_decode(std::string_view text) {
  std::string standard(text);
  std::replace(standard.begin(), standard.end(), '-', '+');
  std::replace(standard.begin(), standard.end(), '_', '/');
  while (standard.size() % 4 != 0) {
    standard += '=';
  }
  return base64_decode(standard);
}

}  // namespace

bool uses_access_token(const AuthSpec& auth) {
  return std::holds_alternative<OAuth2ClientCredentials>(auth) ||
         std::holds_alternative<AirflowLogin>(auth);
}

std::string token_endpoint(const AuthSpec& auth) {
  if (const auto* oauth2 = std::get_if<OAuth2ClientCredentials>(&auth)) {
    return oauth2->token_url;
  }
  if (const auto* login = std::get_if<AirflowLogin>(&auth)) {
    return login->token_url;
  }
  return {};
}

std::string basic_authorization(std::string_view username, std::string_view password) {
  return "Basic " + base64_encode(fmt::format("{}:{}", username, password));
}

HttpClientRequest token_request(const OAuth2ClientCredentials& credentials) {
  HttpClientRequest request;
  request.method = "POST";
  request.url = credentials.token_url;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  std::string form = "grant_type=client_credentials";
  if (!credentials.scope.empty()) {
    form += "&scope=" + percent_encode(credentials.scope);
  }
  if (credentials.client_authentication == OAuth2ClientCredentials::ClientAuthentication::basic) {
    request.headers.emplace_back("Authorization",
                                 basic_authorization(percent_encode(credentials.client_id),
                                                     percent_encode(credentials.client_secret)));
  } else {
    form += "&client_id=" + percent_encode(credentials.client_id);
    form += "&client_secret=" + percent_encode(credentials.client_secret);
  }
  request.body = std::move(form);
  return request;
}

HttpClientRequest token_request(const AirflowLogin& login) {
  HttpClientRequest request;
  request.method = "POST";
  request.url = login.token_url;
  request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  // Built as a JSON value: quotes or backslashes in a password stay data.
  request.body = nlohmann::json{{"username", login.username}, {"password", login.password}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  return request;
}

Expected<AccessToken> parse_oauth2_token_response(const HttpClientResponse& response, Instant now) {
  constexpr std::string_view kWhat = "the token endpoint";
  auto answer = read_token_answer(response, kWhat);
  if (!answer) {
    return std::unexpected(answer.error());
  }
  const nlohmann::json& document = answer->document;
  if (const auto type = document.find("token_type"); type != document.end() && type->is_string()) {
    std::string lower = type->get<std::string>();
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower != "bearer") {
      return fail(fmt::format("{} issued a '{}' token; only bearer tokens are supported", kWhat,
                              type->get<std::string>()));
    }
  }
  // expires_in is a number of seconds (RFC 6749 §5.1); Azure AD v1 endpoints
  // send it as a string.
  std::chrono::seconds lifetime = kDefaultTokenLifetime;
  if (const auto expires = document.find("expires_in"); expires != document.end()) {
    double seconds = -1;
    if (expires->is_number()) {
      seconds = expires->get<double>();
    } else if (expires->is_string()) {
      const std::string text = expires->get<std::string>();
      if (!text.empty() &&
          std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
          text.size() <= 9) {
        seconds = std::stod(text);
      }
    }
    if (!(seconds >= 0) || !std::isfinite(seconds)) {
      return fail(fmt::format("{} answered with an invalid expires_in", kWhat));
    }
    lifetime = std::chrono::seconds{static_cast<std::int64_t>(std::min(seconds, 1e9))};
  }
  return AccessToken{std::move(answer->access_token), now + lifetime};
}

Expected<AccessToken> parse_airflow_token_response(const HttpClientResponse& response,
                                                   Instant now) {
  auto answer = read_token_answer(response, "the Airflow login");
  if (!answer) {
    return std::unexpected(answer.error());
  }
  // Airflow states the lifetime only inside the JWT.
  const Instant expires_at = jwt_expiry(answer->access_token).value_or(now + kDefaultTokenLifetime);
  return AccessToken{std::move(answer->access_token), expires_at};
}

std::optional<Instant> jwt_expiry(std::string_view jwt) {
  const std::size_t first = jwt.find('.');
  const std::size_t second = first == std::string_view::npos ? first : jwt.find('.', first + 1);
  if (second == std::string_view::npos) {
    return std::nullopt;
  }
  const auto payload = base64url_decode(jwt.substr(first + 1, second - first - 1));
  if (!payload) {
    return std::nullopt;
  }
  const nlohmann::json claims = parse_json_body(*payload);
  if (!claims.is_object() || !claims.contains("exp") || !claims["exp"].is_number()) {
    return std::nullopt;
  }
  const double exp = claims["exp"].get<double>();
  if (!std::isfinite(exp) || exp < 0 || exp > 1e11) {
    return std::nullopt;
  }
  return Instant{std::chrono::seconds{static_cast<std::int64_t>(exp)}};
}

}  // namespace gapwatch
