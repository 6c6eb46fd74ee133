// eval_html.cc — Mail::SpamAssassin::Plugin::HTMLEval's tests over each
// rendered text/html part's facts (MessageText::html, HtmlFacts), and
// BodyEval's tests that read the rendered parts (RenderFacts).
#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>

#include "spam/eval_internal.h"
#include "spam/eval_util.h"
#include "spam/perl_re.h"

namespace filterd::spam::eval {
namespace {

double num(const std::string& s) {
  return std::atof(s.c_str());
}

// `$val $expr` for the expressions HTMLEval accepts
// (/^[\<\>\=\!\-\+ 0-9]+$/): a comparison operator and a number.
std::optional<bool> compare(double val, std::string_view expr) {
  for (char ch : expr)
    if (!(ch == '<' || ch == '>' || ch == '=' || ch == '!' || ch == '-' || ch == '+' || ch == ' ' ||
          (ch >= '0' && ch <= '9')))
      return std::nullopt;
  size_t i = 0;
  while (i < expr.size() && expr[i] == ' ') ++i;
  std::string op;
  while (i < expr.size() && (expr[i] == '<' || expr[i] == '>' || expr[i] == '=' || expr[i] == '!'))
    op += expr[i++];
  const std::string rest(expr.substr(i));
  char* end = nullptr;
  const double rhs = std::strtod(rest.c_str(), &end);
  if (end == rest.c_str()) return std::nullopt;
  for (const char* p = end; *p; ++p)
    if (*p != ' ') return std::nullopt;
  if (op == "<") return val < rhs;
  if (op == "<=") return val <= rhs;
  if (op == ">") return val > rhs;
  if (op == ">=") return val >= rhs;
  if (op == "==") return val == rhs;
  if (op == "!=") return val != rhs;
  return std::nullopt;
}

// Compiled html_text_match patterns, shared by all threads.
const PerlRe& pattern(const std::string& re) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<PerlRe>> cache;
  std::lock_guard lock(mutex);
  auto& slot = cache[re];
  if (!slot) slot = std::make_unique<PerlRe>(re);
  return *slot;
}

}  // namespace

double html_test(const EvalContext& c, Args args) {
  if (args.empty()) return 0;
  return std::ranges::any_of(c.text.html, [&](const HtmlFacts& h) { return h.test(args[0]); });
}

double html_eval(const EvalContext& c, Args args) {
  if (args.size() < 2) return 0;
  for (const HtmlFacts& h : c.text.html) {
    const auto v = h.number(args[0]);
    if (!v) continue;
    if (compare(*v, args[1]).value_or(false)) return 1;
  }
  return 0;
}

// html_range(name, min[, max]): min < value <= max ("inf" or no max: > min).
double html_range(const EvalContext& c, Args args) {
  if (args.size() < 2) return 0;
  const double min = num(args[1]);
  const bool open = args.size() < 3 || args[2] == "inf";
  for (const HtmlFacts& h : c.text.html) {
    const auto v = h.number(args[0]);
    if (!v) continue;
    if (open ? *v > min : *v > min && *v <= num(args[2])) return 1;
  }
  return 0;
}

double html_tag_balance(const EvalContext& c, Args args) {
  if (args.size() < 2) return 0;
  const std::string& tag = args[0];
  if (tag.empty() || !std::ranges::all_of(tag, [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) != 0;
      }))
    return 0;
  for (const HtmlFacts& h : c.text.html) {
    auto it = h.inside.find(tag);
    if (it == h.inside.end()) continue;
    if (compare(it->second, args[1]).value_or(false)) return 1;
  }
  return 0;
}

double html_tag_exists(const EvalContext& c, Args args) {
  if (args.empty()) return 0;
  return std::ranges::any_of(c.text.html,
                             [&](const HtmlFacts& h) { return h.inside.count(args[0]) > 0; });
}

// html_image_only(min, max): a part with an <img> whose HTML is
// min < length <= max characters.
double html_image_only(const EvalContext& c, Args args) {
  if (args.size() < 2) return 0;
  const double min = num(args[0]), max = num(args[1]);
  return std::ranges::any_of(c.text.html, [&](const HtmlFacts& h) {
    return h.inside.count("img") && h.length > min && h.length <= max;
  });
}

// html_image_ratio(min, max): visible characters per pixel of image.
double html_image_ratio(const EvalContext& c, Args args) {
  if (args.size() < 2) return 0;
  const double min = num(args[0]), max = num(args[1]);
  return std::ranges::any_of(c.text.html, [&](const HtmlFacts& h) {
    if (h.image_area <= 0) return false;
    const double ratio = h.non_space_len / h.image_area;
    return ratio > min && ratio <= max;
  });
}

double html_text_match(const EvalContext& c, Args args) {
  if (args.size() < 2) return 0;
  const PerlRe& re = pattern(args[1]);
  for (const HtmlFacts& h : c.text.html)
    if (const auto* list = h.strings(args[0]))
      for (const auto& s : *list)
        if (re.search(s)) return 1;
  return 0;
}

// html_title_subject_ratio(ratio): a <title> more than `ratio` times as
// long as the Subject.
double html_title_subject_ratio(const EvalContext& c, Args args) {
  if (args.empty()) return 0;
  const std::string subject = get(c, "Subject");
  if (subject.empty()) return 0;
  auto chars = [](const std::string& s) {
    return static_cast<double>(std::ranges::count_if(
        s, [](char ch) { return (static_cast<unsigned char>(ch) & 0xC0) != 0x80; }));
  };
  const double subject_len = chars(subject);
  for (const HtmlFacts& h : c.text.html) {
    double max = 0;
    for (const auto& t : h.title)
      if (!t.empty() && t != "0") max = std::max(max, chars(t) / subject_len);
    if (max > num(args[0])) return 1;
  }
  return 0;
}

// BodyEval multipart_alternative_difference(min, max): the share of the
// HTML alternative's words missing from the text alternative (percent).
double multipart_alternative_difference(const EvalContext& c, Args args) {
  if (args.size() < 2) return 0;
  const double d = c.text.render.madiff, min = num(args[0]);
  return (min == 0 || d > min) && (args[1] == "undef" || d <= num(args[1]));
}

// multipart_alternative_difference_count(ratio, minhtml): the text
// alternative has more than `ratio` times the HTML one's distinct words.
double multipart_alternative_difference_count(const EvalContext& c, Args args) {
  if (args.size() < 2) return 0;
  const RenderFacts& r = c.text.render;
  if (!(r.madiff_html > num(args[1]))) return 0;
  return r.madiff_text / r.madiff_html > num(args[0]);
}

// check_stock_info(min): distinct stock-tip labels ("Symbol:", "Target
// price:" ...) in the first text/plain part.
double check_stock_info(const EvalContext& c, Args args) {
  if (args.empty()) return 0;
  static const PerlRe re(
      R"((^trad(?:e|ing)date|company(?:name)?|s\w?(?:t\w?o\w?c\w?k|y\w?m(?:\w?b\w?o\w?l)?)|t(?:arget|icker)|(?:opening|current)p(?:rice)?|p(?:rojected|osition)|expectations|weeks?high|marketperformance|(?:year|week|month|day|price)(?:target|estimates?)|sector|r(?:ecommendation|ating))$)");
  std::vector<std::string> hits;
  std::vector<std::string> g;
  for (const auto& label : c.text.render.stock_labels)
    if (re.search(label, g) && std::ranges::find(hits, g[1]) == hits.end()) hits.push_back(g[1]);
  const double min = num(args[0]);
  return min == 0 || static_cast<double>(hits.size()) >= min;
}

// check_blank_line_ratio(min, max[, minlines]): percentage of blank lines
// in the decoded body (-1 below minlines lines).
double check_blank_line_ratio(const EvalContext& c, Args args) {
  if (args.size() < 2) return 0;
  double minlines = args.size() >= 3 ? num(args[2]) : 1;
  if (minlines < 1) minlines = 1;
  double lines = 0, blank = 0;
  for (const auto& chunk : c.text.rawbody) {
    // split(/^/m, $chunk, -1)
    for (size_t b = 0; b < chunk.size();) {
      size_t e = chunk.find('\n', b);
      e = e == std::string::npos ? chunk.size() : e + 1;
      ++lines;
      if (std::all_of(chunk.begin() + static_cast<long>(b), chunk.begin() + static_cast<long>(e),
                      [](char ch) { return std::isspace(static_cast<unsigned char>(ch)) != 0; }))
        ++blank;
      b = e;
    }
  }
  const double ratio = lines < minlines ? -1 : 100 * blank / lines;
  const double min = num(args[0]), max = num(args[1]);
  return (min == 0 && ratio <= max) || (ratio > min && ratio <= max);
}

// tvd_vertical_words(min, max): the highest percentage of spaces per
// non-space in a body line longer than 5 (letters written one per word).
double tvd_vertical_words(const EvalContext& c, Args args) {
  if (args.size() < 2) return 0;
  const double min = num(args[0]);
  double max = num(args[1]);
  if (max >= 100) max = 101;
  double value = -1;
  for (const auto& line : c.text.body) {
    // The body lines are UTF-8 octets (Message.pm encodes them).
    const double len = static_cast<double>(line.size());
    const double spaces = static_cast<double>(std::ranges::count(line, ' '));
    if (!(len > 5)) continue;
    const double nonspaces = len - spaces;
    const double pct = spaces > nonspaces || nonspaces == 0
                           ? 100
                           : static_cast<double>(static_cast<long>(100 * spaces / nonspaces));
    value = std::max(value, pct);
  }
  return value >= min && value < max;
}

}  // namespace filterd::spam::eval
