// Reading answers: the plain webhook rules and the error messages of the
// supported systems' error bodies.
#include "triggers/response_outcome.h"

#include <doctest/doctest.h>

#include "triggers/response_body.h"

namespace gapwatch {
namespace {

HttpClientResponse answer(long status, std::string body = "") {
  return HttpClientResponse{status, std::move(body), ""};
}

TEST_CASE("response: plain rules accept 2xx, retry 408/429/5xx, reject the rest") {
  CHECK(classify_by_status(answer(200), {}).kind == DispatchOutcome::Kind::accepted);
  CHECK(classify_by_status(answer(204), {}).kind == DispatchOutcome::Kind::accepted);
  CHECK(classify_by_status(answer(408), {}).kind == DispatchOutcome::Kind::retry);
  CHECK(classify_by_status(answer(429), {}).kind == DispatchOutcome::Kind::retry);
  CHECK(classify_by_status(answer(503), {}).kind == DispatchOutcome::Kind::retry);
  CHECK(classify_by_status(answer(400), {}).kind == DispatchOutcome::Kind::rejected);
  CHECK(classify_by_status(answer(409), {}).kind == DispatchOutcome::Kind::rejected);
  const DispatchOutcome outcome = classify_by_status(answer(400, "bad dag_id"), {});
  CHECK(outcome.detail == "HTTP 400");
  CHECK(outcome.output == "bad dag_id");
}

TEST_CASE("response: success_codes replace 'any 2xx'") {
  CHECK(classify_by_status(answer(409), {200, 409}).kind == DispatchOutcome::Kind::accepted);
  CHECK(classify_by_status(answer(201), {200, 409}).kind == DispatchOutcome::Kind::rejected);
  CHECK(classify_by_status(answer(503), {200}).kind == DispatchOutcome::Kind::retry);
}

TEST_CASE("response: error_message reads each system's error shape") {
  CHECK(error_message(R"({"detail":"Deployment not found"})") == "Deployment not found");
  CHECK(error_message(R"({"detail":[{"loc":["body","x"],"msg":"Extra inputs are not permitted"},)"
                      R"({"loc":["body","logical_date"],"msg":"Field required"}]})") ==
        "body.x: Extra inputs are not permitted; body.logical_date: Field required");
  CHECK(error_message(R"({"detail":{"reason":"Unique constraint violation","message":"m"}})") ==
        "Unique constraint violation");
  CHECK(error_message(R"({"error":"invalid_client","error_description":"AADSTS7000215"})") ==
        "invalid_client: AADSTS7000215");
  CHECK(error_message(R"({"error":{"code":"NotFound","message":"no such pipeline"}})") ==
        "NotFound: no such pipeline");
  CHECK(error_message(R"({"exception_message":"Invalid request received.",)"
                      R"("exception_detail":[{"loc":["body"],"msg":"bad"}]})") == "body: bad");
  CHECK(error_message(R"({"message":"plain"})") == "plain");
  CHECK(error_message("<html>502</html>").empty());
  CHECK(error_message(R"({"detail":null})").empty());
  CHECK(error_message("[1,2]").empty());
}

TEST_CASE("response: error_message cuts long messages") {
  const std::string body = R"({"detail":")" + std::string(2000, 'x') + R"("})";
  CHECK(error_message(body).size() < 600);
}

}  // namespace
}  // namespace gapwatch
