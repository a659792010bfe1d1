// WebhookExecutor::dispatch over a scripted transport: credentials on the
// request, the token cache at work, token endpoint failures, a 401 dropping
// the token, presets judging bodies, and obtained tokens kept out of outcomes.
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "tests/triggers/preset_support.h"
#include "triggers/webhook_executor.h"

namespace gapwatch {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using testing::answer;
using testing::at;
using testing::templ;
using testing::three_hours;

// Answers requests from a script, by URL prefix, and records them.
class ScriptedTransport final : public HttpTransport {
 public:
  void on(std::string url_prefix, Expected<HttpClientResponse> response) {
    std::lock_guard lock(m_mutex);
    m_script.emplace_back(std::move(url_prefix), std::move(response));
  }

  Expected<HttpClientResponse> send(const HttpClientRequest& request,
                                    std::stop_token) const override {
    std::lock_guard lock(m_mutex);
    m_sent.push_back(request);
    for (auto it = m_script.begin(); it != m_script.end(); ++it) {
      if (request.url.starts_with(it->first)) {
        auto response = std::move(it->second);
        m_script.erase(it);
        return response;
      }
    }
    return fail("no scripted answer for " + request.url);
  }

  std::vector<HttpClientRequest> sent() const {
    std::lock_guard lock(m_mutex);
    return m_sent;
  }

 private:
  mutable std::mutex m_mutex;
  mutable std::deque<std::pair<std::string, Expected<HttpClientResponse>>> m_script;
  mutable std::vector<HttpClientRequest> m_sent;
};

std::string header(const HttpClientRequest& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) {
      return value;
    }
  }
  return "<absent>";
}

WebhookSpec adf_webhook() {
  AdfSpec adf;
  adf.management_url = "http://arm";
  adf.subscription_id = templ("sub");
  adf.resource_group = templ("rg");
  adf.factory = templ("f");
  adf.pipeline = templ("p");
  WebhookSpec spec;
  spec.preset = adf;
  spec.auth = OAuth2ClientCredentials{"http://login/tenant/oauth2/v2.0/token",
                                      "app",
                                      "client-secret-1",
                                      "https://management.azure.com/.default",
                                      {}};
  return spec;
}

const std::string kToken = R"({"token_type":"Bearer","expires_in":3600,"access_token":"tok-1"})";

TEST_CASE("webhook dispatch: a token is fetched once and sent as a bearer token") {
  ManualClock clock(at("2026-11-24T12:00:00Z"));
  auto transport = std::make_shared<ScriptedTransport>();
  transport->on("http://login/", answer(200, kToken));
  transport->on("http://arm/", answer(200, R"({"runId":"run-1"})"));
  transport->on("http://arm/", answer(200, R"({"runId":"run-2"})"));
  WebhookExecutor executor(adf_webhook(), clock, transport);
  CHECK(executor.dispatch(three_hours(), {}).detail == "HTTP 200: pipeline run run-1 created");
  clock.advance(seconds{600});
  CHECK(executor.dispatch(three_hours(), {}).kind == DispatchOutcome::Kind::accepted);
  const auto sent = transport->sent();
  REQUIRE(sent.size() == 3);
  CHECK(sent[0].url == "http://login/tenant/oauth2/v2.0/token");
  CHECK(header(sent[1], "Authorization") == "Bearer tok-1");
  CHECK(header(sent[2], "Authorization") == "Bearer tok-1");
  CHECK(header(sent[1], "Content-Type") == "application/json");
  CHECK(json::parse(*sent[1].body) ==
        json{{"window_start", "2026-11-24T10:00:00Z"}, {"window_end", "2026-11-24T13:00:00Z"}});
}

TEST_CASE("webhook dispatch: the token is fetched again a minute before it expires") {
  ManualClock clock(at("2026-11-24T12:00:00Z"));
  auto transport = std::make_shared<ScriptedTransport>();
  transport->on("http://login/", answer(200, kToken));
  transport->on("http://arm/", answer(200, "{}"));
  transport->on("http://login/",
                answer(200, R"({"token_type":"Bearer","expires_in":3600,"access_token":"tok-2"})"));
  transport->on("http://arm/", answer(200, "{}"));
  WebhookExecutor executor(adf_webhook(), clock, transport);
  static_cast<void>(executor.dispatch(three_hours(), {}));
  clock.advance(seconds{3540});
  static_cast<void>(executor.dispatch(three_hours(), {}));
  const auto sent = transport->sent();
  REQUIRE(sent.size() == 4);
  CHECK(header(sent[3], "Authorization") == "Bearer tok-2");
}

TEST_CASE("webhook dispatch: a token endpoint failure is a retry, and nothing is sent") {
  ManualClock clock(at("2026-11-24T12:00:00Z"));
  auto transport = std::make_shared<ScriptedTransport>();
  transport->on("http://login/",
                answer(401, R"({"error":"invalid_client","error_description":"AADSTS7000215: )"
                            R"(Invalid client secret provided."})"));
  WebhookExecutor executor(adf_webhook(), clock, transport);
  const DispatchOutcome outcome = executor.dispatch(three_hours(), {});
  CHECK(outcome.kind == DispatchOutcome::Kind::retry);
  CHECK(outcome.detail ==
        "cannot get an access token from http://login/tenant/oauth2/v2.0/token: the token "
        "endpoint answered HTTP 401: invalid_client: AADSTS7000215: Invalid client secret "
        "provided.");
  CHECK(transport->sent().size() == 1);
}

TEST_CASE("webhook dispatch: a 401 from the target drops the token and retries") {
  ManualClock clock(at("2026-11-24T12:00:00Z"));
  auto transport = std::make_shared<ScriptedTransport>();
  transport->on("http://login/", answer(200, kToken));
  transport->on("http://arm/", answer(401, R"({"error":{"code":"ExpiredAuthenticationToken",)"
                                           R"("message":"The access token expiry UTC time is )"
                                           R"(earlier than current UTC time."}})"));
  transport->on("http://login/",
                answer(200, R"({"token_type":"Bearer","expires_in":3600,"access_token":"tok-2"})"));
  transport->on("http://arm/", answer(200, R"({"runId":"r"})"));
  WebhookExecutor executor(adf_webhook(), clock, transport);
  const DispatchOutcome refused = executor.dispatch(three_hours(), {});
  CHECK(refused.kind == DispatchOutcome::Kind::retry);
  CHECK(refused.detail.starts_with("HTTP 401: ExpiredAuthenticationToken: "));
  CHECK(
      refused.detail.ends_with("(the access token was refused; the next delivery fetches a "
                               "new one)"));
  CHECK(executor.dispatch(three_hours(), {}).kind == DispatchOutcome::Kind::accepted);
  const auto sent = transport->sent();
  REQUIRE(sent.size() == 4);
  CHECK(header(sent[3], "Authorization") == "Bearer tok-2");
}

TEST_CASE("webhook dispatch: a target echoing the request does not leak the obtained token") {
  ManualClock clock(at("2026-11-24T12:00:00Z"));
  auto transport = std::make_shared<ScriptedTransport>();
  transport->on("http://login/",
                answer(200, R"({"token_type":"Bearer","access_token":"tok-very-secret-1"})"));
  transport->on("http://arm/", answer(400, R"({"error":{"code":"BadRequest","message":"bad header )"
                                           R"(Authorization: Bearer tok-very-secret-1"}})"));
  WebhookExecutor executor(adf_webhook(), clock, transport);
  const DispatchOutcome outcome = executor.dispatch(three_hours(), {});
  CHECK(outcome.kind == DispatchOutcome::Kind::rejected);
  CHECK(outcome.detail.find("tok-very-secret-1") == std::string::npos);
  CHECK(outcome.output.find("tok-very-secret-1") == std::string::npos);
  CHECK(outcome.output.find("***") != std::string::npos);
}

TEST_CASE("webhook dispatch: Airflow 3's login gives the JWT for the API call") {
  ManualClock clock(at("2026-11-24T12:00:00Z"));
  auto transport = std::make_shared<ScriptedTransport>();
  transport->on("http://airflow/auth/token", answer(201, R"({"access_token":"jwt-1"})"));
  transport->on("http://airflow/api/v2/", answer(409, R"({"detail":{"reason":"Unique )"
                                                      R"(constraint violation"}})"));
  transport->on("http://airflow/api/v2/", answer(200, R"({"state":"success"})"));
  AirflowDagRunSpec airflow;
  airflow.base_url = "http://airflow";
  airflow.dag_id = templ("{dag}");
  airflow.dag_run_id = templ("gapwatch-{request_id}");
  WebhookSpec spec;
  spec.preset = airflow;
  spec.auth = AirflowLogin{"http://airflow/auth/token", "admin", "pw"};
  WebhookExecutor executor(spec, clock, transport);
  const DispatchOutcome outcome = executor.dispatch(three_hours(), {});
  CHECK(outcome.kind == DispatchOutcome::Kind::accepted);
  CHECK(outcome.detail ==
        "HTTP 409: already accepted: dag run gapwatch-" + three_hours().id + " exists (success)");
  const auto sent = transport->sent();
  REQUIRE(sent.size() == 3);
  CHECK(json::parse(*sent[0].body) == json{{"username", "admin"}, {"password", "pw"}});
  CHECK(header(sent[1], "Authorization") == "Bearer jwt-1");
  CHECK(header(sent[1], "Idempotency-Key") == three_hours().id);
  CHECK(header(sent[2], "Authorization") == "Bearer jwt-1");  // the lookup of our run
}

TEST_CASE("webhook dispatch: basic and bearer credentials go in the Authorization header") {
  ManualClock clock(at("2026-11-24T12:00:00Z"));
  auto transport = std::make_shared<ScriptedTransport>();
  transport->on("http://hook", answer(200, ""));
  transport->on("http://hook", answer(200, ""));
  WebhookSpec spec;
  spec.url = templ("http://hook/{table}");
  spec.auth = BasicAuth{"admin", "s3cret"};
  static_cast<void>(WebhookExecutor(spec, clock, transport).dispatch(three_hours(), {}));
  spec.auth = BearerAuth{"pat-123"};
  static_cast<void>(WebhookExecutor(spec, clock, transport).dispatch(three_hours(), {}));
  const auto sent = transport->sent();
  REQUIRE(sent.size() == 2);
  CHECK(sent[0].url == "http://hook/events");
  CHECK(header(sent[0], "Authorization") == "Basic YWRtaW46czNjcmV0");
  CHECK(header(sent[1], "Authorization") == "Bearer pat-123");
}

TEST_CASE("webhook dispatch: a plain webhook keeps the status rules, and Retry-After") {
  ManualClock clock(at("2026-11-24T12:00:00Z"));
  auto transport = std::make_shared<ScriptedTransport>();
  transport->on("http://hook", HttpClientResponse{429, "slow down", "7"});
  transport->on("http://hook", answer(409, R"({"detail":"exists"})"));
  transport->on("http://hook", fail("Couldn't connect to server"));
  WebhookSpec spec;
  spec.url = templ("http://hook");
  WebhookExecutor executor(spec, clock, transport);
  const DispatchOutcome throttled = executor.dispatch(three_hours(), {});
  CHECK(throttled.kind == DispatchOutcome::Kind::retry);
  CHECK(throttled.detail == "HTTP 429");
  CHECK(throttled.retry_after == seconds{7});
  const DispatchOutcome conflict = executor.dispatch(three_hours(), {});
  CHECK(conflict.kind == DispatchOutcome::Kind::rejected);
  CHECK(conflict.detail == "HTTP 409");
  const DispatchOutcome refused = executor.dispatch(three_hours(), {});
  CHECK(refused.kind == DispatchOutcome::Kind::retry);
  CHECK(refused.detail == "Couldn't connect to server");
}

TEST_CASE("webhook dispatch: a Dagster error member with HTTP 200 is rejected") {
  ManualClock clock(at("2026-11-24T12:00:00Z"));
  auto transport = std::make_shared<ScriptedTransport>();
  transport->on("http://dagster/graphql",
                answer(200, R"({"data":{"launchPartitionBackfill":{"__typename":)"
                            R"("UnauthorizedError","message":"not allowed"}}})"));
  DagsterSpec dagster;
  dagster.base_url = "http://dagster";
  dagster.target = DagsterSpec::Target::assets;
  dagster.assets = {{"events"}};
  dagster.api_token = "agent:token-1";
  dagster.partitions.every = seconds{3600};
  dagster.partitions.format = "%Y-%m-%d-%H:%M";
  WebhookSpec spec;
  spec.preset = dagster;
  const DispatchOutcome outcome =
      WebhookExecutor(spec, clock, transport).dispatch(three_hours(), {});
  CHECK(outcome.kind == DispatchOutcome::Kind::rejected);
  CHECK(outcome.detail == "HTTP 200: UnauthorizedError: not allowed");
  CHECK(header(transport->sent()[0], "Dagster-Cloud-Api-Token") == "agent:token-1");
}

TEST_CASE("webhook dispatch: a request a preset cannot build is rejected before any token") {
  ManualClock clock(at("2026-11-24T12:00:00Z"));
  auto transport = std::make_shared<ScriptedTransport>();
  WebhookSpec spec = adf_webhook();
  std::get<AdfSpec>(*spec.preset).pipeline = templ("{unknown}");
  const DispatchOutcome outcome =
      WebhookExecutor(spec, clock, transport).dispatch(three_hours(), {});
  CHECK(outcome.kind == DispatchOutcome::Kind::rejected);
  CHECK(outcome.detail == "template variable 'unknown' has no value");
  CHECK(transport->sent().empty());
}

// An Airflow dag run preset at http://af with `auth`.
WebhookSpec airflow_webhook(AirflowDagRunSpec::Api api, AuthSpec auth) {
  AirflowDagRunSpec airflow;
  airflow.api = api;
  airflow.base_url = "http://af";
  airflow.dag_id = templ("{dag}");
  airflow.dag_run_id = templ("gapwatch-{request_id}");
  airflow.logical_date = AirflowDagRunSpec::LogicalDate::window_start;
  WebhookSpec spec;
  spec.preset = airflow;
  spec.auth = std::move(auth);
  return spec;
}

TEST_CASE("webhook dispatch: an Airflow 409 is followed by a lookup of our run, same credentials") {
  ManualClock clock(at("2026-11-24T12:00:00Z"));
  const WebhookSpec spec = airflow_webhook(AirflowDagRunSpec::Api::v1, BasicAuth{"airflow", "pw"});
  const BackfillRequest request = three_hours();
  const std::string ours = "gapwatch-" + request.id;
  const std::string conflict =
      R"({"detail":"DAGRun with DAG ID: 'events_ingest' and DAGRun logical date: '2026-11-24 )"
      R"(10:00:00+00:00' already exists","status":409,"title":"Conflict"})";
  auto transport = std::make_shared<ScriptedTransport>();
  transport->on("http://af/api/v1/dags/events_ingest/dagRuns", answer(409, conflict));
  transport->on("http://af/api/v1/dags/events_ingest/dagRuns/" + ours,
                answer(200, json{{"dag_run_id", ours}, {"state", "queued"}}.dump()));
  WebhookExecutor executor(spec, clock, transport);
  SUBCASE("ours: accepted, with the run") {
    const DispatchOutcome outcome = executor.dispatch(request, {});
    CHECK(outcome.kind == DispatchOutcome::Kind::accepted);
    CHECK(outcome.detail == "HTTP 409: already accepted: dag run " + ours + " exists (queued)");
    REQUIRE(outcome.run.has_value());
    CHECK(outcome.run->id == ours);
    const auto sent = transport->sent();
    REQUIRE(sent.size() == 2);
    CHECK(sent[1].method == "GET");
    CHECK(sent[1].url == "http://af/api/v1/dags/events_ingest/dagRuns/" + ours);
    CHECK_FALSE(sent[1].body.has_value());
    CHECK(header(sent[1], "Authorization") == header(sent[0], "Authorization"));
    CHECK(header(sent[1], "Accept") == "application/json");
  }
  SUBCASE("no answer to the lookup: retried") {
    auto silent = std::make_shared<ScriptedTransport>();
    silent->on("http://af/api/v1/dags/events_ingest/dagRuns", answer(409, conflict));
    WebhookExecutor lonely(spec, clock, silent);
    const DispatchOutcome outcome = lonely.dispatch(request, {});
    CHECK(outcome.kind == DispatchOutcome::Kind::retry);
    CHECK(outcome.detail ==
          "HTTP 409, and the follow-up GET http://af/api/v1/dags/events_ingest/"
          "dagRuns/" +
              ours +
              " failed: no scripted answer for "
              "http://af/api/v1/dags/events_ingest/dagRuns/" +
              ours);
  }
}

TEST_CASE("webhook dispatch: Airflow runs are polled with the delivery's credentials") {
  ManualClock clock(at("2026-11-24T12:00:00Z"));
  const WebhookSpec spec = airflow_webhook(AirflowDagRunSpec::Api::v2, BearerAuth{"jwt-1"});
  auto transport = std::make_shared<ScriptedTransport>();
  transport->on("http://af/api/v2/dags/events_ingest/dagRuns/gapwatch-x",
                answer(200, R"({"dag_run_id":"gapwatch-x","state":"failed","note":"bad input"})"));
  WebhookExecutor executor(spec, clock, transport);
  const auto poll = executor.poll_run(three_hours(), RunRef{"gapwatch-x", ""}, {});
  REQUIRE(poll.has_value());
  CHECK(poll->kind == RunPoll::Kind::state);
  CHECK(poll->state == RunState::failed);
  CHECK(poll->detail == "failed: bad input");
  const auto sent = transport->sent();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].method == "GET");
  CHECK(header(sent[0], "Authorization") == "Bearer jwt-1");
}

}  // namespace
}  // namespace gapwatch
