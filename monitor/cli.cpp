#include "monitor/cli.h"

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "monitor/commands.h"

namespace gapwatch {

namespace {

void setup_logging(bool verbose) {
  auto logger = spdlog::stderr_color_mt("gapwatch");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  logger->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  spdlog::set_default_logger(logger);
}

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
  setup_logging(verbose);

  if (validate->parsed()) {
    return validate_command(validate_path);
  }
  if (check->parsed()) {
    return check_command(check_options);
  }
  if (explain->parsed()) {
    return explain_command(explain_options, inline_params);
  }
  return kExitInvalid;
}

}  // namespace gapwatch
