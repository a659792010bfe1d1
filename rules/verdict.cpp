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

std::vector<Window> merge_windows(const std::vector<BucketVerdict>& buckets,
                                  const std::vector<SegmentVerdict>& segments) {
  std::vector<Window> windows;
  bool open = false;
  std::uint32_t open_segment = 0;
  for (const BucketVerdict& bucket : buckets) {
    const bool failing = bucket.status && *bucket.status != Status::pass;
    if (!failing) {
      open = false;
      continue;
    }
    if (open && open_segment == bucket.segment && windows.back().status == *bucket.status &&
        windows.back().end == bucket.start) {
      windows.back().end = bucket.end;
    } else {
      SegmentKey segment;
      if (bucket.segment < segments.size()) {
        segment = segments[bucket.segment].key;
      }
      windows.emplace_back(bucket.start, bucket.end, *bucket.status, std::move(segment));
      open = true;
      open_segment = bucket.segment;
    }
  }
  return windows;
}

}  // namespace gapwatch
