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

TEST_CASE("cuts count characters, never split one, and mark what was cut") {
  CHECK(af::utf8_first_chars("\xc3\xa9t\xc3\xa9", 2) == "\xc3\xa9t");
  CHECK(af::utf8_first_chars("ab", 5) == "ab");
  CHECK(af::utf8_last_chars("livr\xc3\xa9\x65", 2) == "\xc3\xa9\x65");
  CHECK(af::utf8_last_chars("\xf0\x9f\x98\x80", 1) == "\xf0\x9f\x98\x80");
  CHECK(af::utf8_shorten("short", 10) == "short");
  CHECK(af::utf8_shorten("abcd\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 7) == "abcd...");
  CHECK(af::utf8_shorten("abc\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 7) == "abc\xc3\xa9...");
  // Bytes that are not UTF-8 (a truncated "é", a stray 0xff) become U+FFFD.
  CHECK(af::utf8_valid("a\xc3") == "a\xef\xbf\xbd");
  CHECK(af::utf8_valid("\xff"
                       "b") ==
        "\xef\xbf\xbd"
        "b");
  CHECK(af::utf8_shorten("x\xff", 10) == "x\xef\xbf\xbd");
}
