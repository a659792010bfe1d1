// Loading `webhook: {preset: …}` and `auth:` from YAML: what each preset's keys
// become, the defaults, and every misuse reported at its line and column.
#include "monitor/config/preset_config.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <doctest/doctest.h>

#include "monitor/config/config.h"
#include "monitor/daemon/logging.h"

namespace gapwatch {
namespace {

using Environment = std::map<std::string, std::string>;

EnvironmentLookup lookup_in(Environment environment) {
  return [environment =
              std::move(environment)](const std::string& name) -> std::optional<std::string> {
    const auto found = environment.find(name);
    if (found == environment.end()) {
      return std::nullopt;
    }
    return found->second;
  };
}

// A config whose only executor, `orchestrator`, has `webhook` as its webhook
// mapping (indented by six spaces, starting on line 8); one rule uses it with
// params dag and deployment.
std::string with_webhook(std::string_view webhook) {
  return std::string(R"(version: 1
warehouses:
  - name: shop
    connection: "Driver=X"
executors:
  - name: orchestrator
    webhook:
)") + std::string(webhook) +
         R"(rules:
  - name: orders
    table: orders
    check: row_count
    timestamp_column: created_at
    partition: {every: 1h, lookback: 2d}
    fail: {min: 1}
    backfill: {executor: orchestrator, params: {dag: orders_ingest, deployment: d-1}}
)";
}

std::string joined(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const ConfigError& error : errors) {
    out += out.empty() ? "" : "\n";
    out += error.format();
  }
  return out;
}

WebhookSpec webhook_of(std::string_view webhook, const Environment& environment = {}) {
  const ConfigResult result =
      load_config_text(with_webhook(webhook), "gapwatch.yaml", lookup_in(environment));
  REQUIRE_MESSAGE(result.has_value(), (result ? std::string() : joined(result.error())));
  REQUIRE(result->executors.size() == 1);
  return std::get<WebhookSpec>(result->executors.front().kind);
}

std::string errors_of(std::string_view webhook) {
  const ConfigResult result =
      load_config_text(with_webhook(webhook), "gapwatch.yaml", lookup_in({}));
  REQUIRE_FALSE(result.has_value());
  return joined(result.error());
}

TEST_CASE("preset config: airflow2 with defaults and basic auth") {
  const WebhookSpec webhook = webhook_of(R"(      preset: airflow2
      base_url: https://airflow.example.com/
      dag_id: "{dag}"
      auth: {basic: {username: admin, password: "${AIRFLOW_PASSWORD}"}}
)",
                                         {{"AIRFLOW_PASSWORD", "pw-from-env"}});
  REQUIRE(webhook.preset.has_value());
  const auto& spec = std::get<AirflowDagRunSpec>(*webhook.preset);
  CHECK(spec.api == AirflowDagRunSpec::Api::v1);
  CHECK(spec.base_url == "https://airflow.example.com");  // trailing '/' dropped
  CHECK(spec.dag_id.text() == "{dag}");
  CHECK(spec.dag_run_id.text() == "gapwatch-{request_id}");
  CHECK(spec.logical_date == AirflowDagRunSpec::LogicalDate::none);
  CHECK_FALSE(spec.conf.has_value());
  const auto& basic = std::get<BasicAuth>(webhook.auth);
  CHECK(basic.username == "admin");
  CHECK(basic.password == "pw-from-env");
  CHECK(preset_name(*webhook.preset) == "airflow2");
}

TEST_CASE("preset config: airflow2 sends the data interval only from airflow_version 2.9") {
  const auto interval_of = [](std::string_view version_line) {
    const WebhookSpec webhook =
        webhook_of("      preset: airflow2\n      base_url: http://x\n      dag_id: d\n" +
                   std::string(version_line));
    return std::get<AirflowDagRunSpec>(*webhook.preset).data_interval;
  };
  CHECK(interval_of("") == AirflowDagRunSpec::DataInterval::left_out);
  CHECK(interval_of("      airflow_version: 2.8.4\n") == AirflowDagRunSpec::DataInterval::left_out);
  CHECK(interval_of("      airflow_version: 2.9\n") == AirflowDagRunSpec::DataInterval::window);
  CHECK(interval_of("      airflow_version: 2.10.5\n") == AirflowDagRunSpec::DataInterval::window);
  CHECK(interval_of("      airflow_version: \"2.10\"\n") ==
        AirflowDagRunSpec::DataInterval::window);
  // Airflow 3 always takes them: airflow_version is airflow2's key only.
  CHECK(std::get<AirflowDagRunSpec>(*webhook_of("      preset: airflow3\n      base_url: http://x\n"
                                                "      dag_id: d\n")
                                         .preset)
            .data_interval == AirflowDagRunSpec::DataInterval::window);
  CHECK(errors_of("      preset: airflow2\n      base_url: http://x\n      dag_id: d\n"
                  "      airflow_version: 3.0\n") ==
        "gapwatch.yaml:11:24: error: executors[0].webhook.airflow_version: airflow_version '3.0' "
        "is not an Airflow 2 version such as 2.9 or 2.10.5 (for Airflow 3 use preset: airflow3)");
  CHECK(errors_of("      preset: airflow2\n      base_url: http://x\n      dag_id: d\n"
                  "      airflow_version: 2.x\n") ==
        "gapwatch.yaml:11:24: error: executors[0].webhook.airflow_version: airflow_version '2.x' "
        "is not an Airflow 2 version such as 2.9 or 2.10.5 (for Airflow 3 use preset: airflow3)");
}

TEST_CASE("preset config: airflow3 logs in at {base_url}/auth/token with username and password") {
  const WebhookSpec webhook = webhook_of(R"(      preset: airflow3
      base_url: http://127.0.0.1:8080
      dag_id: orders_ingest
      logical_date: window_start
      conf: {table: "{table}", full: true}
      username: admin
      password: secret-pw
)");
  const auto& spec = std::get<AirflowDagRunSpec>(*webhook.preset);
  CHECK(spec.api == AirflowDagRunSpec::Api::v2);
  CHECK(spec.logical_date == AirflowDagRunSpec::LogicalDate::window_start);
  REQUIRE(spec.conf.has_value());
  CHECK(spec.conf->shape == nlohmann::json{{"table", "{table}"}, {"full", true}});
  const auto& login = std::get<AirflowLogin>(webhook.auth);
  CHECK(login.token_url == "http://127.0.0.1:8080/auth/token");
  CHECK(login.username == "admin");
  CHECK(login.password == "secret-pw");
}

TEST_CASE("preset config: airflow3_backfill, prefect, dagster and adf") {
  SUBCASE("airflow3_backfill") {
    const WebhookSpec webhook = webhook_of(R"(      preset: airflow3_backfill
      base_url: http://airflow
      dag_id: "{dag}"
      reprocess_behavior: failed
      max_active_runs: 3
      auth: {bearer: astro-token-123}
)");
    const auto& spec = std::get<AirflowBackfillSpec>(*webhook.preset);
    CHECK(spec.reprocess_behavior == "failed");
    CHECK(spec.max_active_runs == 3);
    CHECK(std::get<BearerAuth>(webhook.auth).token == "astro-token-123");
  }
  SUBCASE("prefect") {
    const WebhookSpec webhook = webhook_of(R"(      preset: prefect
      api_url: https://api.prefect.cloud/api/accounts/a/workspaces/w
      deployment_id: "{deployment}"
      parameters: {start: "{window_start}"}
      tags: [gapwatch, "{rule}"]
      auth: {bearer: pnu_key}
)");
    const auto& spec = std::get<PrefectSpec>(*webhook.preset);
    CHECK(spec.api_url == "https://api.prefect.cloud/api/accounts/a/workspaces/w");
    CHECK(spec.flow_run_name.text() == "gapwatch-{rule}-{window_start}");
    REQUIRE(spec.tags.size() == 2);
    CHECK(spec.tags[1].text() == "{rule}");
  }
  SUBCASE("dagster assets, hourly in a zone") {
    const WebhookSpec webhook = webhook_of(R"(      preset: dagster
      base_url: https://acme.dagster.cloud/prod
      api_token: user-token-1
      assets: [raw/events, [marts, orders]]
      partition_every: 1h
      partition_timezone: Europe/Berlin
      tags: {dagster/priority: "3"}
)");
    const auto& spec = std::get<DagsterSpec>(*webhook.preset);
    CHECK(spec.target == DagsterSpec::Target::assets);
    CHECK(spec.assets ==
          std::vector<std::vector<std::string>>{{"raw", "events"}, {"marts", "orders"}});
    CHECK(spec.partitions.every == std::chrono::seconds{3600});
    CHECK(spec.partitions.format == "%Y-%m-%d-%H:%M");
    CHECK(spec.partitions.zone != nullptr);
    CHECK(spec.api_token == "user-token-1");
    REQUIRE(spec.tags.size() == 1);
    CHECK(spec.tags[0].first == "dagster/priority");
  }
  SUBCASE("dagster job, daily by default") {
    const WebhookSpec webhook = webhook_of(R"(      preset: dagster
      base_url: http://dagster:3000
      repository_location: analytics
      job: orders_job
      run_config: {ops: {load: {config: {table: "{table}"}}}}
)");
    const auto& spec = std::get<DagsterSpec>(*webhook.preset);
    CHECK(spec.target == DagsterSpec::Target::job);
    CHECK(spec.repository.text() == "__repository__");
    CHECK(spec.partitions.format == "%Y-%m-%d");
    CHECK(spec.run_config.has_value());
  }
  SUBCASE("adf with Entra ID credentials") {
    const WebhookSpec webhook = webhook_of(R"(      preset: adf
      subscription_id: sub-1
      resource_group: rg
      factory: f
      pipeline: "reload_{table}"
      tenant_id: contoso.onmicrosoft.com
      client_id: app-1
      client_secret: entra-secret-1
)");
    const auto& spec = std::get<AdfSpec>(*webhook.preset);
    CHECK(spec.management_url == "https://management.azure.com");
    const auto& credentials = std::get<OAuth2ClientCredentials>(webhook.auth);
    CHECK(credentials.token_url ==
          "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
    CHECK(credentials.scope == "https://management.azure.com/.default");
    CHECK(credentials.client_secret == "entra-secret-1");
  }
}

TEST_CASE("preset config: base URLs are configurable, for tests on loopback") {
  const WebhookSpec webhook = webhook_of(R"(      preset: adf
      management_url: http://127.0.0.1:4000
      login_url: http://127.0.0.1:4001/
      subscription_id: s
      resource_group: r
      factory: f
      pipeline: p
      tenant_id: t
      client_id: c
      client_secret: s3
)");
  CHECK(std::get<AdfSpec>(*webhook.preset).management_url == "http://127.0.0.1:4000");
  CHECK(std::get<OAuth2ClientCredentials>(webhook.auth).token_url ==
        "http://127.0.0.1:4001/t/oauth2/v2.0/token");
}

TEST_CASE("preset config: oauth2_client_credentials on a plain webhook") {
  const WebhookSpec webhook = webhook_of(R"(      url: "https://api.example.com/backfill"
      auth:
        oauth2_client_credentials:
          token_url: https://idp.example.com/oauth/token
          client_id: gapwatch
          client_secret: oauth-secret-1
          scope: backfill.write
          client_authentication: basic
)");
  CHECK_FALSE(webhook.preset.has_value());
  const auto& credentials = std::get<OAuth2ClientCredentials>(webhook.auth);
  CHECK(credentials.token_url == "https://idp.example.com/oauth/token");
  CHECK(credentials.scope == "backfill.write");
  CHECK(credentials.client_authentication == OAuth2ClientCredentials::ClientAuthentication::basic);
}

TEST_CASE("preset config: an unknown preset, and unknown preset keys, at their place") {
  CHECK(errors_of("      preset: airflow4\n      base_url: http://x\n") ==
        "gapwatch.yaml:8:15: error: executors[0].webhook.preset: 'airflow4' is not one of "
        "airflow2, airflow3, airflow3_backfill, prefect, dagster, adf (did you mean 'airflow3'?)");
  CHECK(errors_of("      preset: prefect\n      api_url: http://x/api\n      deployment_id: d\n"
                  "      deploymentid: d\n") ==
        "gapwatch.yaml:11:7: error: executors[0].webhook.deploymentid: unknown key "
        "'deploymentid' (did you mean 'deployment_id'?)");
  // airflow2 has no login: username is Airflow 3's. The keys listed are the
  // preset's, without the plain webhook's url, method, body and success_codes.
  CHECK(errors_of("      preset: airflow2\n      base_url: http://x\n      dag_id: d\n"
                  "      username: admin\n") ==
        "gapwatch.yaml:11:7: error: executors[0].webhook.username: unknown key 'username' "
        "(expected one of: preset, headers, auth, signing_secret, timeout, tls_verify, "
        "poll_every, run_timeout, base_url, dag_id, dag_run_id, logical_date, conf, airflow_version)");
}

TEST_CASE("preset config: poll_every and run_timeout follow the preset's runs") {
  const std::string airflow = "      preset: airflow2\n      base_url: http://x\n      dag_id: d\n";
  WebhookSpec webhook = webhook_of(airflow);
  CHECK(webhook.poll_every == std::chrono::seconds{30});
  CHECK(webhook.run_timeout == std::chrono::hours{24});
  webhook = webhook_of(airflow + "      poll_every: 2m\n      run_timeout: 6h\n");
  CHECK(webhook.poll_every == std::chrono::minutes{2});
  CHECK(webhook.run_timeout == std::chrono::hours{6});
  CHECK(errors_of(airflow + "      poll_every: 1s\n") ==
        "gapwatch.yaml:11:19: error: executors[0].webhook.poll_every: poll_every must be at least "
        "5s: an orchestrator's API is not to be polled faster");
  CHECK(errors_of(airflow + "      run_timeout: 0s\n").find(
            "gapwatch.yaml:11:20: error: executors[0].webhook.run_timeout") == 0);
}

TEST_CASE("preset config: what the preset builds cannot be given") {
  CHECK(errors_of("      preset: airflow3\n      base_url: http://x\n      dag_id: d\n"
                  "      url: http://y\n      success_codes: [200]\n") ==
        "gapwatch.yaml:11:12: error: executors[0].webhook.url: url is set by the airflow3 "
        "preset; leave it out\n"
        "gapwatch.yaml:12:22: error: executors[0].webhook.success_codes: success_codes is set "
        "by the airflow3 preset; leave it out");
}

TEST_CASE("preset config: required keys and value checks") {
  CHECK(errors_of("      preset: airflow3\n") ==
        "gapwatch.yaml:8:7: error: executors[0].webhook: missing required key 'base_url'\n"
        "gapwatch.yaml:8:7: error: executors[0].webhook: missing required key 'dag_id'");
  CHECK(errors_of("      preset: airflow3\n      base_url: ftp://x\n      dag_id: d\n") ==
        "gapwatch.yaml:9:17: error: executors[0].webhook.base_url: base_url must start with "
        "http:// or https://");
  CHECK(errors_of("      preset: airflow3\n      base_url: http://x/?a=1\n      dag_id: d\n")
            .find("an address without spaces, query, fragment") != std::string::npos);
  CHECK(errors_of("      preset: airflow3\n      base_url: http://x\n      dag_id: d\n"
                  "      logical_date: today\n")
            .starts_with("gapwatch.yaml:11:21: error: executors[0].webhook.logical_date: 'today' "
                         "is not one of none, window_start, window_end"));
  CHECK(errors_of("      preset: airflow3\n      base_url: http://x\n      dag_id: d\n"
                  "      username: admin\n") ==
        "gapwatch.yaml:8:7: error: executors[0].webhook: give both username and password "
        "(Airflow's /auth/token login), or neither");
  CHECK(errors_of("      preset: airflow3\n      base_url: http://x\n      dag_id: d\n"
                  "      conf: [a]\n") ==
        "gapwatch.yaml:11:13: error: executors[0].webhook.conf: conf must be a mapping");
  CHECK(errors_of("      preset: airflow3_backfill\n      base_url: http://x\n      dag_id: d\n"
                  "      reprocess_behavior: all\n")
            .starts_with("gapwatch.yaml:11:27: error: executors[0].webhook.reprocess_behavior: "
                         "'all' is not one of none, failed, completed"));
}

TEST_CASE("preset config: template variables in preset keys are checked like any other") {
  CHECK(errors_of("      preset: airflow3\n      base_url: http://x\n      dag_id: \"{dagg}\"\n") ==
        "gapwatch.yaml:10:15: error: executors[0].webhook.dag_id: unknown template variable "
        "{dagg}: not a built-in variable, and rule 'orders' defines no such backfill.params key");
  CHECK(errors_of("      preset: prefect\n      api_url: http://x/api\n      deployment_id: d\n"
                  "      parameters: {a: \"{nope}\"}\n")
            .starts_with("gapwatch.yaml:11:23: error: executors[0].webhook.parameters.a: unknown "
                         "template variable {nope}"));
}

TEST_CASE("preset config: dagster needs exactly one target, and its keys fit it") {
  CHECK(errors_of("      preset: dagster\n      base_url: http://d\n") ==
        "gapwatch.yaml:8:7: error: executors[0].webhook: missing the target: give "
        "partition_set, assets or job");
  CHECK(errors_of("      preset: dagster\n      base_url: http://d\n      job: j\n"
                  "      assets: [a]\n      repository_location: l\n") ==
        "gapwatch.yaml:8:7: error: executors[0].webhook: give one of partition_set, assets and "
        "job");
  CHECK(errors_of("      preset: dagster\n      base_url: http://d\n      job: j\n") ==
        "gapwatch.yaml:8:7: error: executors[0].webhook: missing required key "
        "'repository_location'");
  CHECK(errors_of("      preset: dagster\n      base_url: http://d\n      assets: [a]\n"
                  "      repository: r\n") ==
        "gapwatch.yaml:11:19: error: executors[0].webhook.repository: repository is not used "
        "with assets (asset keys are global)");
  CHECK(errors_of("      preset: dagster\n      base_url: http://d\n      assets: [a//b]\n")
            .find("an asset key is a path like my/asset") != std::string::npos);
  CHECK(errors_of("      preset: dagster\n      base_url: http://d\n      assets: [a]\n"
                  "      partition_every: 7m\n")
            .find("partition_every is whole minutes dividing a day") != std::string::npos);
  CHECK(errors_of("      preset: dagster\n      base_url: http://d\n      assets: [a]\n"
                  "      partition_format: \"%Y-%W\"\n")
            .find("partition_format uses %Y %m %d %H %M %S") != std::string::npos);
  CHECK(errors_of("      preset: dagster\n      base_url: http://d\n      assets: [a]\n"
                  "      tags: {\"bad key\": x}\n")
            .find("invalid tag key 'bad key'") != std::string::npos);
}

TEST_CASE("preset config: adf credentials come all three together") {
  CHECK(errors_of("      preset: adf\n      subscription_id: s\n      resource_group: r\n"
                  "      factory: f\n      pipeline: p\n      client_id: c\n") ==
        "gapwatch.yaml:8:7: error: executors[0].webhook: give tenant_id, client_id and "
        "client_secret together (an Entra ID app registration), or an auth block");
}

TEST_CASE("preset config: auth blocks are checked") {
  CHECK(errors_of("      url: http://x\n      auth: {}\n") ==
        "gapwatch.yaml:9:13: error: executors[0].webhook.auth: give one of basic, bearer and "
        "oauth2_client_credentials");
  CHECK(errors_of("      url: http://x\n      auth: {bearer: a, basic: {username: u, password: "
                  "p}}\n")
            .find("give only one of") != std::string::npos);
  CHECK(errors_of("      url: http://x\n      auth: {basic: {username: \"a:b\", password: p}}\n")
            .find("username cannot contain ':'") != std::string::npos);
  CHECK(errors_of("      url: http://x\n      auth: {basic: {username: u}}\n")
            .find("missing required key 'password'") != std::string::npos);
  CHECK(errors_of("      url: http://x\n      auth: {token: t}\n").find("unknown key 'token'") !=
        std::string::npos);
  CHECK(errors_of("      url: http://x\n      auth: {oauth2_client_credentials: {token_url: "
                  "http://i, client_id: c}}\n")
            .find("missing required key 'client_secret'") != std::string::npos);
}

TEST_CASE("preset config: two sources of credentials are refused") {
  CHECK(errors_of("      preset: airflow3\n      base_url: http://x\n      dag_id: d\n"
                  "      username: u\n      password: p\n      auth: {bearer: t0ken}\n")
            .find("already authenticate; give one or the other") != std::string::npos);
  CHECK(errors_of("      url: http://x\n      headers: {authorization: \"Bearer x\"}\n"
                  "      auth: {bearer: t0ken}\n") ==
        "gapwatch.yaml:9:16: error: executors[0].webhook.headers: an Authorization header "
        "conflicts with the credentials, which set it; give one or the other");
}

TEST_CASE("preset config: every credential is a secret to redact") {
  const ConfigResult result = load_config_text(R"(version: 1
warehouses:
  - name: shop
    connection: "Driver=X"
executors:
  - name: first
    webhook:
      preset: adf
      subscription_id: s
      resource_group: r
      factory: f
      pipeline: p
      tenant_id: t
      client_id: app
      client_secret: "entra&secret/1"
  - name: second
    webhook:
      preset: dagster
      base_url: http://d
      api_token: dagster-token-1
      assets: [a]
  - name: third
    webhook:
      preset: airflow3
      base_url: http://a
      dag_id: d
      username: admin
      password: "air\"flow-pw"
  - name: fourth
    webhook:
      url: http://x
      auth: {basic: {username: admin, password: basic-pw-1}}
  - name: fifth
    webhook:
      url: http://x
      auth: {bearer: bearer-pat-1}
rules:
  - name: orders
    table: orders
    check: row_count
    timestamp_column: created_at
    partition: {every: 1h, lookback: 2d}
    fail: {min: 1}
)",
                                               "gapwatch.yaml", lookup_in({}));
  REQUIRE_MESSAGE(result.has_value(), (result ? std::string() : joined(result.error())));
  // As masked: the Redactor adds the encoded forms.
  const std::vector<std::string> secrets = Redactor(config_secrets(*result)).secrets();
  const auto has = [&](std::string_view secret) {
    return std::find(secrets.begin(), secrets.end(), secret) != secrets.end();
  };
  CHECK(has("entra&secret/1"));
  CHECK(has("entra%26secret%2F1"));  // as sent in the token request form
  CHECK(has("dagster-token-1"));
  CHECK(has("air\"flow-pw"));
  CHECK(has("air\\\"flow-pw"));  // as sent in Airflow's JSON login
  CHECK(has("basic-pw-1"));
  CHECK(has("YWRtaW46YmFzaWMtcHctMQ=="));  // base64 of admin:basic-pw-1
  CHECK(has("bearer-pat-1"));
  CHECK_FALSE(has("app"));
  CHECK_FALSE(has("admin"));
  const std::string line = redact(
      "token request client_secret=entra%26secret%2F1 for admin; Basic YWRtaW46YmFzaWMtcHctMQ==",
      secrets);
  CHECK(line == "token request client_secret=*** for admin; ***");
}

}  // namespace
}  // namespace gapwatch
