// UTF-8 validation and positions.
#include <doctest/doctest.h>

#include "core/utf8.h"

TEST_CASE("valid UTF-8 passes, and the first bad byte is located") {
  CHECK_FALSE(af::first_invalid_utf8("plain ascii").has_value());
  CHECK_FALSE(af::first_invalid_utf8("caf\xc3\xa9 \xf0\x9f\x98\x80").has_value());
  CHECK(af::first_invalid_utf8("ab\xff").value() == 2);
  CHECK(af::first_invalid_utf8("\xc0\xaf").value() == 0);          // overlong '/'
  CHECK(af::first_invalid_utf8("x\xed\xa0\x80").value() == 1);     // a UTF-16 surrogate
  CHECK(af::first_invalid_utf8("\xf4\x90\x80\x80").value() == 0);  // above U+10FFFF
  CHECK(af::first_invalid_utf8("ok\xe2\x82").value() == 2);        // truncated sequence
}

TEST_CASE("text positions are 1-based lines and columns") {
  auto p = af::text_pos_of("ab\ncd\nef", 7);
  CHECK(p.line == 3);
  CHECK(p.column == 2);
  CHECK(af::utf8_length("caf\xc3\xa9") == 4);
}
