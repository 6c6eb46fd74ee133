// eval_util.cc — see eval_util.h.
#include "spam/eval_util.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>

#include "decoders/ascii.h"
#include "spam/perl_re.h"

namespace filterd::spam::eval {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (month 1..12).
long long days_from_civil(long long y, unsigned m, unsigned d) {
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long long>(doe) - 719468;
}

// Util.pm's %TZ: zone abbreviations and their offsets.
struct Zone {
  const char* name;
  const char* offset;
};
constexpr Zone kZones[] = {
    {"UT", "+0000"},   {"UTC", "+0000"},  {"NDT", "-0230"},  {"AST", "-0400"},  {"ADT", "-0300"},
    {"NST", "-0330"},  {"EST", "-0500"},  {"EDT", "-0400"},  {"CST", "-0600"},  {"CDT", "-0500"},
    {"MST", "-0700"},  {"MDT", "-0600"},  {"PST", "-0800"},  {"PDT", "-0700"},  {"HST", "-1000"},
    {"AKST", "-0900"}, {"AKDT", "-0800"}, {"HADT", "-0900"}, {"HAST", "-1000"}, {"GMT", "+0000"},
    {"BST", "+0100"},  {"IST", "+0100"},  {"WET", "+0000"},  {"WEST", "+0100"}, {"CET", "+0100"},
    {"CEST", "+0200"}, {"EET", "+0200"},  {"EEST", "+0300"}, {"MSK", "+0300"},  {"MSD", "+0400"},
    {"MET", "+0100"},  {"MEZ", "+0100"},  {"MEST", "+0200"}, {"MESZ", "+0200"}, {"BRST", "-0200"},
    {"BRT", "-0300"},  {"AEST", "+1000"}, {"AEDT", "+1100"}, {"ACST", "+0930"}, {"ACDT", "+1030"},
    {"AWST", "+0800"}, {"NZST", "+1200"}, {"NZDT", "+1300"}, {"JST", "+0900"},  {"KST", "+0900"},
    {"HKT", "+0800"},  {"SGT", "+0800"},  {"PHT", "+0800"},  {"IDT", "+0300"},
};

long long to_number(const std::string& s) {
  long long v = 0;
  for (char ch : s.substr(0, 9))
    if (ch >= '0' && ch <= '9') v = v * 10 + (ch - '0');
  return v;
}

}  // namespace

std::string get(const EvalContext& c, std::string_view request) {
  return c.text.get(request).value_or("");
}

std::vector<std::string> header_values(const EvalContext& c, std::string_view name) {
  std::vector<std::string> out;
  const std::string n = decoders::ascii_lower(name);
  for (const auto& h : c.text.headers)
    if (decoders::iequals(h.name, n)) out.push_back(h.decoded);
  return out;
}

std::optional<long long> parse_rfc822_date(std::string_view date) {
  std::string s = " " + std::string(date.substr(0, 4096)) + " ";
  static const PerlRe comma(R"(, *)"), space(R"(\s+)");
  comma.replace(s, " ", true);
  space.replace(s, " ", true);
  static const PerlRe d1(R"( (\d+) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) )",
                         "i");
  static const PerlRe d2(
      R"( (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +(\d+) \d+:\d+:\d+ (\d{4}) )", "i");
  static const PerlRe d3(R"( (\d+) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{2,3}) )",
                         "i");
  std::vector<std::string> g;
  std::string day, mon, year;
  if (d1.search(s, g)) {
    day = g[1], mon = g[2], year = g[3];
    d1.replace(s, " ");
  } else if (d2.search(s, g)) {
    day = g[2], mon = g[1], year = g[3];
    d2.replace(s, " ");
  } else if (d3.search(s, g)) {
    day = g[1], mon = g[2], year = g[3];
    d3.replace(s, " ");
  } else {
    return std::nullopt;
  }
  long long yyyy = to_number(year);
  if (year.size() == 2 && yyyy < 50)
    yyyy += 2000;
  else if (year.size() != 4)
    yyyy += 1900;
  long long hh = 0, mm = 0, ss = 0;
  static const PerlRe hms(R"( (\d?\d):(\d\d)(:(\d\d))? )");
  if (hms.search(s, g)) {
    hh = to_number(g[1]), mm = to_number(g[2]), ss = to_number(g[4]);
    hms.replace(s, " ");
  }
  std::string tz;
  static const PerlRe numeric(R"( ([-+]\d{4}) )"), named(R"(\b([A-Z]{2,4}(?:-DST)?)\b)");
  if (numeric.search(s, g)) {
    tz = g[1];
  } else if (named.search(s, g)) {
    for (const Zone& z : kZones)
      if (g[1] == z.name) tz = z.offset;
  }
  static constexpr std::array<const char*, 12> kMonths = {"jan", "feb", "mar", "apr", "may", "jun",
                                                          "jul", "aug", "sep", "oct", "nov", "dec"};
  long long mmm = 0;
  const std::string lmon = lower(mon);
  for (size_t i = 0; i < kMonths.size(); ++i)
    if (lmon == kMonths[i]) mmm = static_cast<long long>(i) + 1;
  long long dd = to_number(day);
  ss = std::min(ss, 59LL), mm = std::min(mm, 59LL), hh = std::min(hh, 23LL);
  long long max_dd = 31;
  if (mmm == 4 || mmm == 6 || mmm == 9 || mmm == 11) max_dd = 30;
  if (mmm == 2) max_dd = (yyyy % 4 == 0 && (yyyy % 100 != 0 || yyyy % 400 == 0)) ? 29 : 28;
  if (dd > max_dd) {
    dd = 1;
    if (++mmm > 12) mmm = 1, ++yyyy;
  }
  yyyy = std::clamp(yyyy, 1970LL, 2037LL);
  if (dd < 1) return std::nullopt;  // Time::Local croaks on day 0
  long long t =
      days_from_civil(yyyy, static_cast<unsigned>(mmm), static_cast<unsigned>(dd)) * 86400 +
      hh * 3600 + mm * 60 + ss;
  if (tz.size() == 5) {
    const long long off = (to_number(tz.substr(1, 2)) * 60 + to_number(tz.substr(3, 2))) * 60;
    if (tz[0] == '-')
      t += off;
    else
      t = t < off ? 0 : t - off;
  }
  return t;
}

std::string_view pristine_body(std::string_view message) {
  for (size_t i = 0; i < message.size();) {
    const size_t nl = message.find('\n', i);
    if (nl == std::string_view::npos) return {};
    const std::string_view line = message.substr(i, nl - i);
    if (line.empty() || line == "\r") return message.substr(nl + 1);
    i = nl + 1;
  }
  return {};
}

std::string quotemeta(std::string_view s) {
  std::string out;
  for (char ch : s) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_') out += '\\';
    out += ch;
  }
  return out;
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t n = b < 0x80 ? 0 : (b >> 5) == 6 ? 1 : (b >> 4) == 14 ? 2 : (b >> 3) == 30 ? 3 : 9;
    if (n == 9 || (n && b < 0xc2) || i + n >= s.size() + (n ? 0 : 1)) return false;
    if (i + n > s.size() - 1 && n) return false;
    uint32_t cp = n ? b & (0x3f >> n) : b;
    for (size_t k = 1; k <= n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xc0) != 0x80) return false;
      cp = cp << 6 | (c & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n + 1;
  }
  return true;
}

std::string lower(std::string_view s) {
  return decoders::ascii_lower(s);
}

}  // namespace filterd::spam::eval
