#include "triggers/webhook_preset.h"

#include <type_traits>

namespace gapwatch {

namespace {

void add(const Template& text, std::set<std::string>& names) {
  const auto used = text.variables();
  names.insert(used.begin(), used.end());
}

void add(const std::optional<JsonTemplate>& shape, std::set<std::string>& names) {
  if (shape) {
    collect_json_variables(shape->shape, names);
  }
}

template <typename... Kinds>
struct Overloaded : Kinds... {
  using Kinds::operator()...;
};
// Implicit in C++20; clang 14 (scripts/lint) still needs it spelled out.
template <typename... Kinds>
Overloaded(Kinds...) -> Overloaded<Kinds...>;

}  // namespace

std::string_view preset_name(const PresetSpec& preset) {
  return std::visit(
      Overloaded{
          [](const AirflowDagRunSpec& spec) -> std::string_view {
            return spec.api == AirflowDagRunSpec::Api::v1 ? "airflow2" : "airflow3";
          },
          [](const AirflowBackfillSpec&) -> std::string_view { return "airflow3_backfill"; },
          [](const PrefectSpec&) -> std::string_view { return "prefect"; },
          [](const DagsterSpec&) -> std::string_view { return "dagster"; },
          [](const AdfSpec&) -> std::string_view { return "adf"; },
      },
      preset);
}

Expected<PresetRequest> build_preset_request(const PresetSpec& preset,
                                             const BackfillRequest& request) {
  return std::visit(
      Overloaded{
          [&](const AirflowDagRunSpec& spec) { return build_airflow_request(spec, request); },
          [&](const AirflowBackfillSpec& spec) { return build_airflow_request(spec, request); },
          [&](const PrefectSpec& spec) { return build_prefect_request(spec, request); },
          [&](const DagsterSpec& spec) { return build_dagster_request(spec, request); },
          [&](const AdfSpec& spec) { return build_adf_request(spec, request); },
      },
      preset);
}

DispatchOutcome classify_preset_response(const PresetSpec& preset,
                                         const HttpClientResponse& response) {
  return std::visit(
      Overloaded{
          [&](const AirflowDagRunSpec& spec) { return classify_airflow_response(spec, response); },
          [&](const AirflowBackfillSpec& spec) {
            return classify_airflow_response(spec, response);
          },
          [&](const PrefectSpec& spec) { return classify_prefect_response(spec, response); },
          [&](const DagsterSpec& spec) { return classify_dagster_response(spec, response); },
          [&](const AdfSpec& spec) { return classify_adf_response(spec, response); },
      },
      preset);
}

std::optional<PresetRequest> preset_follow_up(const PresetSpec& preset,
                                              const BackfillRequest& request,
                                              const HttpClientResponse& answer) {
  if (const auto* dag_run = std::get_if<AirflowDagRunSpec>(&preset)) {
    return airflow_follow_up(*dag_run, request, answer);
  }
  if (const auto* backfill = std::get_if<AirflowBackfillSpec>(&preset)) {
    return airflow_follow_up(*backfill, request, answer);
  }
  return std::nullopt;  // the other presets' answers speak for themselves
}

DispatchOutcome classify_preset_follow_up(const PresetSpec& preset, const BackfillRequest& request,
                                          const HttpClientResponse& answer,
                                          const HttpClientResponse& follow_up) {
  if (const auto* dag_run = std::get_if<AirflowDagRunSpec>(&preset)) {
    return classify_airflow_follow_up(*dag_run, request, answer, follow_up);
  }
  if (const auto* backfill = std::get_if<AirflowBackfillSpec>(&preset)) {
    return classify_airflow_follow_up(*backfill, request, answer, follow_up);
  }
  return classify_preset_response(preset, answer);
}

std::optional<RunRef> preset_run(const PresetSpec& preset, const BackfillRequest& request,
                                 const HttpClientResponse& accepted) {
  return std::visit(
      Overloaded{
          [&](const AirflowDagRunSpec& spec) { return airflow_run(spec, request, accepted); },
          [&](const AirflowBackfillSpec& spec) { return airflow_run(spec, request, accepted); },
          [&](const PrefectSpec& spec) { return prefect_run(spec, request, accepted); },
          [&](const DagsterSpec& spec) { return dagster_run(spec, request, accepted); },
          [&](const AdfSpec& spec) { return adf_run(spec, request, accepted); },
      },
      preset);
}

Expected<PresetRequest> build_run_poll(const PresetSpec& preset, const BackfillRequest& request,
                                       const RunRef& run) {
  return std::visit(
      Overloaded{
          [&](const AirflowDagRunSpec& spec) { return build_airflow_run_poll(spec, request, run); },
          [&](const AirflowBackfillSpec& spec) {
            return build_airflow_run_poll(spec, request, run);
          },
          [&](const PrefectSpec& spec) { return build_prefect_run_poll(spec, request, run); },
          [&](const DagsterSpec& spec) { return build_dagster_run_poll(spec, request, run); },
          [&](const AdfSpec& spec) { return build_adf_run_poll(spec, request, run); },
      },
      preset);
}

RunPoll classify_run_poll(const PresetSpec& preset, const HttpClientResponse& response) {
  return std::visit(
      Overloaded{
          [&](const AirflowDagRunSpec& spec) { return classify_airflow_run_poll(spec, response); },
          [&](const AirflowBackfillSpec& spec) {
            return classify_airflow_run_poll(spec, response);
          },
          [&](const PrefectSpec& spec) { return classify_prefect_run_poll(spec, response); },
          [&](const DagsterSpec& spec) { return classify_dagster_run_poll(spec, response); },
          [&](const AdfSpec& spec) { return classify_adf_run_poll(spec, response); },
      },
      preset);
}

void collect_preset_variables(const PresetSpec& preset, std::set<std::string>& names) {
  std::visit(Overloaded{
                 [&](const AirflowDagRunSpec& spec) {
                   add(spec.dag_id, names);
                   add(spec.dag_run_id, names);
                   add(spec.conf, names);
                 },
                 [&](const AirflowBackfillSpec& spec) {
                   add(spec.dag_id, names);
                   add(spec.dag_run_conf, names);
                 },
                 [&](const PrefectSpec& spec) {
                   add(spec.deployment_id, names);
                   add(spec.flow_run_name, names);
                   add(spec.parameters, names);
                   for (const Template& tag : spec.tags) {
                     add(tag, names);
                   }
                 },
                 [&](const DagsterSpec& spec) {
                   add(spec.repository_location, names);
                   add(spec.repository, names);
                   add(spec.partition_set, names);
                   add(spec.job, names);
                   add(spec.run_config, names);
                   for (const auto& [key, value] : spec.tags) {
                     add(value, names);
                   }
                 },
                 [&](const AdfSpec& spec) {
                   add(spec.subscription_id, names);
                   add(spec.resource_group, names);
                   add(spec.factory, names);
                   add(spec.pipeline, names);
                   add(spec.parameters, names);
                 },
             },
             preset);
}

}  // namespace gapwatch
