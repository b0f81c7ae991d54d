#include "jsonschema/exact_number.h"

#include <charconv>
#include <cmath>
#include <cstdint>

namespace af::jsonschema {
namespace {

using json = nlohmann::json;
__extension__ using u128 = unsigned __int128;

ExactNumber from_digits(bool negative, std::string digits, int exponent) {
  size_t lead = digits.find_first_not_of('0');
  if (lead == std::string::npos) return {};  // zero
  digits.erase(0, lead);
  while (digits.back() == '0') {
    digits.pop_back();
    ++exponent;
  }
  return {negative, digits, exponent};
}

// Digits of at most 38 characters as an integer (they always are: 64-bit integers and doubles).
u128 to_u128(const std::string& digits) {
  u128 v = 0;
  for (char c : digits) v = v * 10 + static_cast<unsigned>(c - '0');
  return v;
}

// (a * b) mod m without overflow, for a, b < m < 2^127.
u128 mul_mod(u128 a, u128 b, u128 m) {
  u128 r = 0;
  a %= m;
  while (b > 0) {
    if (b & 1) r = (r + a) % m;
    a = (a + a) % m;
    b >>= 1;
  }
  return r;
}

bool beyond_2_53(const json& v) {
  constexpr uint64_t k = uint64_t{1} << 53;
  if (v.is_number_unsigned()) return v.get<uint64_t>() > k;
  if (v.is_number_integer()) {
    int64_t i = v.get<int64_t>();
    return i > static_cast<int64_t>(k) || i < -static_cast<int64_t>(k);
  }
  return false;
}

}  // namespace

ExactNumber exact_number(const json& number) {
  if (number.is_number_unsigned()) return from_digits(false, std::to_string(number.get<uint64_t>()), 0);
  if (number.is_number_integer()) {
    int64_t i = number.get<int64_t>();
    uint64_t magnitude = i < 0 ? 0 - static_cast<uint64_t>(i) : static_cast<uint64_t>(i);
    return from_digits(i < 0, std::to_string(magnitude), 0);
  }
  double d = number.get<double>();
  char buf[64];
  // The shortest text that reads back as d, in scientific form: "d.ddde±x".
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string text(buf, res.ptr);
  bool negative = text.front() == '-';
  if (negative) text.erase(0, 1);
  size_t e = text.find('e');
  std::string mantissa = text.substr(0, e);
  int exponent = std::stoi(text.substr(e + 1));
  std::string digits;
  int fraction = 0;
  bool after_point = false;
  for (char c : mantissa) {
    if (c == '.') {
      after_point = true;
    } else {
      digits += c;
      fraction += after_point;
    }
  }
  return from_digits(negative, digits, exponent - fraction);
}

int compare_exact(const ExactNumber& a, const ExactNumber& b) {
  const bool a_zero = a.digits.empty(), b_zero = b.digits.empty();
  const int a_sign = a_zero ? 0 : (a.negative ? -1 : 1), b_sign = b_zero ? 0 : (b.negative ? -1 : 1);
  if (a_sign != b_sign) return a_sign < b_sign ? -1 : 1;
  if (a_sign == 0) return 0;
  // Magnitudes: first by the position of the leading digit, then digit by digit.
  int magnitude = 0;
  const long a_top = static_cast<long>(a.digits.size()) + a.exponent;
  const long b_top = static_cast<long>(b.digits.size()) + b.exponent;
  if (a_top != b_top) {
    magnitude = a_top < b_top ? -1 : 1;
  } else {
    const size_t n = std::max(a.digits.size(), b.digits.size());
    for (size_t i = 0; i < n && magnitude == 0; ++i) {
      char x = i < a.digits.size() ? a.digits[i] : '0', y = i < b.digits.size() ? b.digits[i] : '0';
      if (x != y) magnitude = x < y ? -1 : 1;
    }
  }
  return a_sign > 0 ? magnitude : -magnitude;
}

bool is_multiple_exact(const ExactNumber& a, const ExactNumber& b) {
  if (a.digits.empty()) return true;  // 0 is a multiple of everything
  const u128 A = to_u128(a.digits), B = to_u128(b.digits);
  const int d = a.exponent - b.exponent;  // a / b = (A / B) x 10^d
  if (d >= 0) {
    // B must divide A x 10^d: A x 10^d mod B, by squaring.
    u128 power = 1 % B, base = 10 % B;
    for (int k = d; k > 0; k >>= 1) {
      if (k & 1) power = mul_mod(power, base, B);
      base = mul_mod(base, base, B);
    }
    return mul_mod(A % B, power, B) == 0;
  }
  // B x 10^-d must divide A, which has at most 20 digits: beyond that it is larger than A.
  if (-d + static_cast<int>(b.digits.size()) > 38) return false;
  u128 divisor = B;
  for (int k = 0; k < -d; ++k) divisor *= 10;
  return A % divisor == 0;
}

bool needs_exact_compare(const json& a, const json& b) {
  return beyond_2_53(a) || beyond_2_53(b);
}

}  // namespace af::jsonschema
