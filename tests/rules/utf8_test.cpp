#include "rules/utf8.h"

#include <doctest/doctest.h>

namespace gapwatch {
namespace {

TEST_CASE("utf8_sequence_length: well-formed sequences of one to four bytes") {
  CHECK(utf8_sequence_length("a") == 1);
  CHECK(utf8_sequence_length("\x7f") == 1);
  CHECK(utf8_sequence_length("\xc3\xa9tait") == 2);               // é
  CHECK(utf8_sequence_length("\xe2\x82\xac") == 3);               // €
  CHECK(utf8_sequence_length("\xf0\x9f\x98\x80") == 4);           // 😀
  CHECK(utf8_sequence_length("\xf4\x8f\xbf\xbf") == 4);           // U+10FFFF
}

TEST_CASE("utf8_sequence_length: malformed sequences are 0") {
  CHECK(utf8_sequence_length("\xe9t\xe9") == 0);                  // Latin-1 é
  CHECK(utf8_sequence_length("\xa9") == 0);                       // a stray continuation byte
  CHECK(utf8_sequence_length("\xc3") == 0);                       // cut
  CHECK(utf8_sequence_length("\xe2\x82") == 0);                   // cut
  CHECK(utf8_sequence_length("\xc3x") == 0);                      // not continued
  CHECK(utf8_sequence_length("\xc0\xaf") == 0);                   // overlong /
  CHECK(utf8_sequence_length("\xe0\x80\xaf") == 0);               // overlong /
  CHECK(utf8_sequence_length("\xed\xa0\x80") == 0);               // surrogate U+D800
  CHECK(utf8_sequence_length("\xf4\x90\x80\x80") == 0);           // U+110000
  CHECK(utf8_sequence_length("\xf8\x88\x80\x80\x80") == 0);       // five bytes
}

}  // namespace
}  // namespace gapwatch
