// Command-line parsing with CLI11 (see cli.h). Main thread only.
#include "monitor/cli/cli.h"

#include <CLI/CLI.hpp>

#include "monitor/cli/commands.h"
#include "monitor/daemon/logging.h"

namespace gapwatch {

namespace {


void add_config_option(CLI::App* command, std::string& path) {
  command->add_option("-c,--config", path, "configuration file")->capture_default_str();
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"gapwatch: watches data warehouses for missing, late or broken data and heals it",
               "gapwatch"};
  app.set_version_flag("--version", std::string("gapwatch ") + GAPWATCH_VERSION);
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "log debug details");

  std::string validate_path = "gapwatch.yaml";
  CLI::App* validate = app.add_subcommand("validate", "check a configuration file, report all problems");
  add_config_option(validate, validate_path);

  CheckOptions check_options;
  CLI::App* check = app.add_subcommand("check", "evaluate rules once and print the results");
  add_config_option(check, check_options.config_path);
  check->add_option("--rule", check_options.rules, "only this rule (repeatable)");
  check->add_option("--now", check_options.now, "evaluate as if it were this instant (RFC 3339)");
  check->add_option("--output", check_options.output, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();

  CheckOptions explain_options;
  bool inline_params = false;
  CLI::App* explain = app.add_subcommand("explain", "print each rule's SQL and bound parameters");
  add_config_option(explain, explain_options.config_path);
  explain->add_option("--rule", explain_options.rules, "only this rule (repeatable)");
  explain->add_option("--now", explain_options.now, "plan as if it were this instant (RFC 3339)");
  explain->add_flag("--inline-params", inline_params,
                    "write parameters into the SQL as literals (to run it by hand)");

  RunOptions run_options;
  CLI::App* run = app.add_subcommand("run", "the daemon: evaluate rules on schedule, open incidents, "
                                            "dispatch backfills, verify and resolve");
  add_config_option(run, run_options.config_path);
  run->add_flag("--dry-run", run_options.dry_run,
                "detect and record incidents and requests, send nothing");
  run->add_flag("--until-healthy", run_options.until_healthy,
                "exit once every rule has been evaluated and nothing fails or is outstanding");
  run->add_option("--max-runtime", run_options.max_runtime_seconds,
                  "with --until-healthy: give up (exit 1) after this many seconds");

  IncidentsOptions incidents_options;
  CLI::App* incidents = app.add_subcommand("incidents", "list, show and act on incidents");
  incidents->require_subcommand(1);
  const auto add_incident_options = [&](CLI::App* command) {
    add_config_option(command, incidents_options.config_path);
    command->add_option("--state-db", incidents_options.state_path,
                        "the state database (default: monitor.state from the config)");
  };
  CLI::App* incidents_list = incidents->add_subcommand("list", "incidents, newest last");
  add_incident_options(incidents_list);
  incidents_list->add_option("--state", incidents_options.state_filter, "open or all")
      ->check(CLI::IsMember({"open", "all"}))
      ->capture_default_str();
  incidents_list->add_option("--output", incidents_options.output, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  CLI::App* incidents_show =
      incidents->add_subcommand("show", "one incident: windows, requests and history");
  add_incident_options(incidents_show);
  incidents_show->add_option("ID", incidents_options.id, "incident id")->required();
  incidents_show->add_option("--output", incidents_options.output, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  for (const auto& [name, help] :
       std::vector<std::pair<std::string, std::string>>{
           {"ack", "acknowledge: someone is on it"},
           {"resolve", "resolve by hand; pending requests are cancelled"},
           {"retry", "count attempts afresh and let an escalated incident dispatch again"}}) {
    CLI::App* action = incidents->add_subcommand(name, help);
    add_incident_options(action);
    action->add_option("ID", incidents_options.id, "incident id")->required();
    action->add_option("--by", incidents_options.who, "who acts (default: $USER)");
  }

  BackfillOptions backfill_options;
  CLI::App* backfill =
      app.add_subcommand("backfill", "request a backfill by hand, through the outbox and the "
                                     "rule's executor");
  add_config_option(backfill, backfill_options.config_path);
  backfill->add_option("--rule", backfill_options.rule, "the rule")->required();
  backfill->add_option("--from", backfill_options.from, "window start (RFC 3339)")->required();
  backfill->add_option("--to", backfill_options.to, "window end (RFC 3339)")->required();
  backfill->add_flag("--enqueue-only", backfill_options.enqueue_only,
                     "only queue it for the running daemon");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForVersion& version) {
    return app.exit(version);
  } catch (const CLI::ParseError& error) {
    app.exit(error);
    return kExitInvalid;
  }
  configure_logging("text", verbose ? "debug" : "info");

  if (validate->parsed()) {
    return validate_command(validate_path);
  }
  if (check->parsed()) {
    return check_command(check_options);
  }
  if (explain->parsed()) {
    return explain_command(explain_options,
                           inline_params ? ExplainParams::inline_literals : ExplainParams::listed);
  }
  if (run->parsed()) {
    run_options.verbose = verbose;
    return run_command(run_options);
  }
  if (incidents->parsed()) {
    for (CLI::App* action : incidents->get_subcommands()) {
      incidents_options.action = action->get_name();
    }
    return incidents_command(incidents_options);
  }
  if (backfill->parsed()) {
    return backfill_command(backfill_options);
  }
  return kExitInvalid;
}

}  // namespace gapwatch
