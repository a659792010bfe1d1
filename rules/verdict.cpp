#include "rules/verdict.h"

namespace gapwatch {

std::string_view to_string(Status status) {
  switch (status) {
    case Status::pass:
      return "pass";
    case Status::warn:
      return "warn";
    case Status::fail:
      return "fail";
    case Status::error:
      return "error";
  }
  return "?";
}

Status worse(Status a, Status b) { return static_cast<int>(a) >= static_cast<int>(b) ? a : b; }

Status judge_value(const Thresholds& thresholds, double value) {
  if (thresholds.fail.violated_by(value)) {
    return Status::fail;
  }
  if (thresholds.warn && thresholds.warn->violated_by(value)) {
    return Status::warn;
  }
  return Status::pass;
}

Verdict error_verdict(std::string message) {
  Verdict verdict;
  verdict.status = Status::error;
  verdict.message = message;
  verdict.error = std::move(message);
  return verdict;
}

std::vector<Window> merge_windows(const std::vector<BucketVerdict>& buckets) {
  std::vector<Window> windows;
  bool open = false;
  for (const BucketVerdict& bucket : buckets) {
    const bool failing = bucket.status && *bucket.status != Status::pass;
    if (!failing) {
      open = false;
      continue;
    }
    if (open && windows.back().status == *bucket.status && windows.back().end == bucket.start) {
      windows.back().end = bucket.end;
    } else {
      windows.push_back(Window{bucket.start, bucket.end, *bucket.status});
      open = true;
    }
  }
  return windows;
}

}  // namespace gapwatch
