// eval_header.cc — Mail::SpamAssassin::Plugin::HeaderEval's tests.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <regex>

#include "spam/eval_internal.h"
#include "spam/eval_util.h"
#include "spam/perl_re.h"

namespace filterd::spam::eval {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

// A message without To: (or Apparently-To:).
double check_for_missing_to_header(const EvalContext& c, Args) {
  return get(c, "To").empty() && get(c, "Apparently-To").empty() ? 1 : 0;
}

// A subject of at least two words and ten characters whose letters are all
// upper case; reply/forward prefixes do not count, and subjects in charsets
// that have no case (Constants::CHARSETS_LIKELY_TO_FP_AS_CAPS) never hit.
double subject_is_all_caps(const EvalContext& c, Args) {
  static const std::regex kPrefix(R"(^(?:(?:Re|Fwd|Fw|Aw|Antwort|WG|SV|VB|VS|VL):\s*)+)",
                                  std::regex::icase);
  static const std::regex kNoCaseCharset(
      R"(=\?[-_a-z0-9]*(?:koi|jp|jis|euc|gb|big5|isoir|cp1251|windows-1251|georgianps|pt154|tis)[-_a-z0-9]*\?)",
      std::regex::icase);
  const std::string full = get(c, "Subject");
  std::string subject(trim(full));
  subject = std::regex_replace(subject, kPrefix, "", std::regex_constants::format_first_only);
  if (subject.find_first_of(" \t\r\n\f\v") == std::string::npos || subject.size() < 10) return 0;
  if (std::regex_search(get(c, "Subject:raw"), kNoCaseCharset)) return 0;
  bool letters = false;
  for (unsigned char ch : subject) {
    if (!std::isalpha(ch)) continue;
    letters = true;
    if (std::islower(ch)) return 0;
  }
  return letters ? 1 : 0;
}

namespace {

// The second-level domain ("example.com") after the last '@' of an address.
std::string second_level_domain(const std::string& addr) {
  static const PerlRe at(R"(\@([^@]*)\z)"), sld(R"(^.+\.([^\.]+\.[^\.]+)$)");
  std::vector<std::string> g;
  if (!at.search(addr, g)) return "";
  std::string d = g[1];
  sld.replace(d, "$1");
  return d;
}

// HeaderEval::_check_recipients: the first To/Cc (then Bcc) addresses,
// consecutive duplicates dropped, at most 256; `similar` is the share of
// address pairs with the same first two characters of user and of host
// (hosts counted only when the full hosts differ).
struct Recipients {
  bool sorted = false;
  double similar = 0;
};
Recipients check_recipients(const EvalContext& c) {
  std::vector<std::string> inputs;
  for (const char* request : {"ToCc:addr", "Bcc:addr"}) {
    if (auto v = c.text.get(request)) {
      size_t b = 0;
      for (size_t i = 0; i <= v->size(); ++i)
        if (i == v->size() || (*v)[i] == '\n') {
          inputs.push_back(v->substr(b, i - b));
          b = i + 1;
        }
    }
    if (inputs.size() >= 5) break;
  }
  std::vector<std::string> address;
  std::string previous;
  for (const auto& cur : inputs) {
    if (cur.empty() || cur == "0") break;  // Perl's `while (my $x = shift)` ends on a false value
    if (lower(cur) != lower(previous)) address.push_back(previous = cur);
    if (address.size() == 256) break;
  }
  Recipients r;
  std::vector<std::string> sorted = address;
  std::sort(sorted.begin(), sorted.end());
  r.sorted = address.size() >= 7 && sorted == address;
  if (address.size() >= 5) {
    std::vector<std::string> user, fqhn, host;
    for (const auto& a : address) {
      user.push_back(a.substr(0, 2));
      const size_t at = a.find('@');
      fqhn.push_back(at == std::string::npos ? "" : a.substr(at + 1));
      host.push_back(fqhn.back().substr(0, 2));
    }
    // Perl's map { m/\@(.*)/ } drops addresses without '@', shifting the
    // host list against the user list.
    std::vector<std::string> f2, h2;
    for (size_t i = 0; i < address.size(); ++i)
      if (address[i].find('@') != std::string::npos) f2.push_back(fqhn[i]), h2.push_back(host[i]);
    double hits = 0, combinations = 0;
    for (size_t i = 0; i < address.size(); ++i)
      for (size_t j = i + 1; j < address.size(); ++j) {
        if (user[i] == user[j]) ++hits;
        const std::string hi = i < h2.size() ? h2[i] : "", hj = j < h2.size() ? h2[j] : "";
        const std::string fi = i < f2.size() ? f2[i] : "", fj = j < f2.size() ? f2[j] : "";
        if (hi == hj && fi != fj) ++hits;
        ++combinations;
      }
    r.similar = hits / combinations;
  }
  return r;
}

bool in_range(double value, const std::string& min, const std::string& max, double unit) {
  return (min == "undef" || value >= unit * std::atof(min.c_str())) &&
         (max == "undef" || value < unit * std::atof(max.c_str()));
}

}  // namespace

// An Outlook-style Message-ID ("<XXXXtttttttt$...$...@") whose time token
// is off by 250 or more units from both the Date and the last Received date.
double check_outlook_message_id(const EvalContext& c, Args) {
  static const PerlRe id(R"(^<[0-9a-f]{4}([0-9a-f]{8})\$[0-9a-f]{8}\$[0-9a-f]{8}\@)");
  std::vector<std::string> g;
  if (!id.search(get(c, "MESSAGEID"), g)) return 0;
  const double token = static_cast<double>(std::stoull(g[1], nullptr, 16));
  constexpr double x = 0.0023283064365387, y = 27111902.8329849, fudge = 250;
  auto expected = [&](std::optional<long long> t) {
    return std::trunc(static_cast<double>(t.value_or(0)) * x + y);
  };
  if (std::abs(token - expected(parse_rfc822_date(get(c, "Date")))) < fudge) return 0;
  static const PerlRe rcvd(R"((\s.?\d+ \S\S\S \d+ \d+:\d+:\d+ \S+).*?$)");
  const std::string received = get(c, "Received");
  std::optional<long long> t;
  // Perl leaves $_ as the whole Received text when the pattern fails.
  t = rcvd.search(received, g) ? parse_rfc822_date(g[1]) : parse_rfc822_date(received);
  return std::abs(token - expected(t)) >= fudge;
}

// The second-level domains of From and of the envelope sender differ.
double check_equal_from_domains(const EvalContext& c, Args) {
  const std::string from = second_level_domain(get(c, "From:addr"));
  if (from.empty()) return 0;
  const std::string env = second_level_domain(get(c, "EnvelopeFrom:addr"));
  if (env.empty()) return 0;
  return lower(from) != lower(env);
}

// The envelope sender is the From address (case-insensitively).
double check_for_matching_env_and_hdr_from(const EvalContext& c, Args) {
  return lower(get(c, "EnvelopeFrom:addr")) == lower(get(c, "From:addr"));
}

// similar_recipients(min, max): the recipients' similarity ratio is in
// [min, max) ("undef": no bound).
double similar_recipients(const EvalContext& c, Args args) {
  if (args.size() < 2) return 0;
  return in_range(check_recipients(c).similar, args[0], args[1], 1);
}

// At least seven recipients, in sorted order.
double sorted_recipients(const EvalContext& c, Args) {
  return check_recipients(c).sorted;
}

// check_header_count_range(name, min, max): the number of distinct values
// of header `name` is in [min, max].
double check_header_count_range(const EvalContext& c, Args args) {
  if (args.size() < 3) return 0;
  std::vector<std::string> values = header_values(c, args[0]);
  std::vector<std::string> uniq;
  for (auto& v : values)
    if (std::find(uniq.begin(), uniq.end(), v) == uniq.end()) uniq.push_back(std::move(v));
  const double n = static_cast<double>(uniq.size());
  return n >= std::atof(args[1].c_str()) && n <= std::atof(args[2].c_str());
}

// check_illegal_chars(header, ratio, count): the raw header has at least
// `count` control or 8-bit bytes making at least `ratio` of it (valid UTF-8
// without control characters is fine; one of ¢ £ ® in a Subject is free).
double check_illegal_chars(const EvalContext& c, Args args) {
  if (args.size() < 3) return 0;
  std::string header = args[0];
  if (!header.ends_with(":raw")) header += ":raw";
  const auto value = c.text.get(header);
  if (!value || std::all_of(value->begin(), value->end(),
                            [](unsigned char ch) { return std::isspace(ch) != 0; }))
    return 0;
  const std::string& s = *value;
  auto ctrl = [](unsigned char ch) {
    return ch <= 0x08 || ch == 0x0b || ch == 0x0c || (ch >= 0x0e && ch <= 0x1f);
  };
  const bool high = std::any_of(s.begin(), s.end(), [](unsigned char ch) { return ch >= 0x80; });
  if (high && valid_utf8(s) && std::none_of(s.begin(), s.end(), ctrl)) return 0;
  double illegal = 0;
  for (unsigned char ch : s)
    if (ctrl(ch) || ch >= 0x7f) ++illegal;
  if (illegal > 0 && lower(header) == "subject:raw") {
    const auto exempt = std::count_if(s.begin(), s.end(), [](unsigned char ch) {
      return ch == 0xa2 || ch == 0xa3 || ch == 0xae;
    });
    if (exempt == 1) --illegal;
  }
  return illegal / static_cast<double>(s.size()) >= std::atof(args[1].c_str()) &&
         illegal >= std::atof(args[2].c_str());
}

// A Message-ID "<28 capitals.X>" whose X is the From address, quoted name
// and all ("Name" <X>).
double check_ratware_name_id(const EvalContext& c, Args) {
  static const PerlRe mid(R"(<[A-Z]{28}\.([^>]+?)>)");
  std::vector<std::string> g;
  if (!mid.search(get(c, "MESSAGEID"), g)) return 0;
  const PerlRe from(R"(\"[^\"]+\"\s*<)" + quotemeta(g[1]) + ">");
  return from.search(get(c, "From"));
}

// A header line (but address and id fields) with an unfilled mailer
// template, "%FIELD".
double check_unresolved_template(const EvalContext& c, Args) {
  static const PerlRe tmpl(R"(%[A-Z][A-Z_-])"),
      exempt(
          R"(^(?:X-VMS-To|X-UIDL|X-Face|To|Cc|From|Subject|References|In-Reply-To|(?:X-|Resent-|X-Original-)?Message-Id):)",
          "i");
  const std::string all = get(c, "ALL");
  size_t b = 0;
  for (size_t i = 0; i <= all.size(); ++i) {
    if (i < all.size() && all[i] != '\n') continue;
    const std::string line = all.substr(b, i - b);
    b = i + 1;
    if (tmpl.search(line) && !exempt.search(line)) return 1;
  }
  return 0;
}

}  // namespace filterd::spam::eval
