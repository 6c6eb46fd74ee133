// rules_directives.cc — one configuration directive at a time, as the
// setting handlers of Conf.pm (and the MIMEHeader and ReplaceTags plugins)
// parse them. Each rejection names the rule and says why.
#include <charconv>
#include <cmath>

#include "spam/rules_expr.h"
#include "spam/rules_internal.h"

namespace filterd::spam::detail {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}
bool is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Splits "NAME rest": rest is empty when there is no white space after NAME.
std::pair<std::string_view, std::string_view> split_first(std::string_view v) {
  size_t i = 0;
  while (i < v.size() && !is_space(v[i])) ++i;
  std::string_view first = v.substr(0, i);
  while (i < v.size() && is_space(v[i])) ++i;
  return {first, v.substr(i)};
}

std::vector<std::string> words(std::string_view v) {
  std::vector<std::string> out;
  while (!v.empty()) {
    auto [w, rest] = split_first(v);
    if (!w.empty()) out.emplace_back(w);
    v = rest;
  }
  return out;
}

// Constants.pm IS_RULENAME, and Parser.pm add_test's length limit.
bool valid_rule_name(std::string_view n) {
  if (n.empty() || n.size() > 100 || (n[0] >= '0' && n[0] <= '9')) return false;
  for (char c : n)
    if (!is_word(c)) return false;
  return true;
}

// /^-?\d+(?:\.\d+)?$/ (score) or /^[+-]?\d+(?:\.\d*)?\z/ (numeric settings).
std::optional<double> number(std::string_view s, bool setting) {
  std::string_view t = s;
  if (!t.empty() && (t[0] == '-' || (setting && t[0] == '+'))) t.remove_prefix(1);
  size_t i = 0;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
  if (i == 0) return std::nullopt;
  if (i < t.size()) {
    if (t[i] != '.') return std::nullopt;
    size_t j = i + 1;
    while (j < t.size() && t[j] >= '0' && t[j] <= '9') ++j;
    if (j != t.size() || (!setting && j == i + 1)) return std::nullopt;
  }
  return std::strtod(std::string(s).c_str(), nullptr);
}

// Named captures make a rule run first (Parser.pm parse_captures).
bool has_named_capture(std::string_view re) {
  for (size_t i = re.find("(?"); i != std::string_view::npos; i = re.find("(?", i + 1)) {
    size_t j = i + 2;
    if (j < re.size() && re[j] == 'P') ++j;
    if (j + 1 < re.size() && (re[j] == '<' || re[j] == '\'') && re[j + 1] >= 'A' &&
        re[j + 1] <= 'Z')
      return true;
  }
  return false;
}

struct Ctx {
  ConfigState& st;
  const Where& w;
  std::string_view key;
  bool bad(std::string_view rule, std::string_view category, std::string reason) {
    st.diagnose(w, rule, category, std::string(key) + ": " + std::move(reason));
    return true;
  }
};

bool set_pattern(Ctx& c, Rule& r, std::string_view text) {
  auto re = read_perl_regexp(text);
  if (!re) return !c.bad(r.name, "bad regexp", re.error() + " in '" + std::string(text) + "'");
  r.pattern = std::move(*re);
  if (has_named_capture(r.pattern.source)) c.st.capture_rules.insert(r.name);
  return true;
}

bool set_eval(Ctx& c, Rule& r, std::string_view fn) {
  size_t open = fn.find('(');
  bool ok = open != std::string_view::npos && open > 0 && fn.back() == ')';
  for (size_t i = 0; ok && i < open; ++i) ok = is_word(fn[i]);
  if (!ok) return !c.bad(r.name, "bad eval", "'" + std::string(fn) + "' is not fn(args)");
  r.eval.function = std::string(fn.substr(0, open));
  r.eval.raw_args = std::string(fn.substr(open + 1, fn.size() - open - 2));
  auto args = parse_eval_args(r.eval.raw_args);
  if (!args) return !c.bad(r.name, "bad eval", "cannot parse arguments '" + r.eval.raw_args + "'");
  r.eval.args = std::move(*args);
  return true;
}

// header NAME Hdr[:mod[:mod]] =~ /re/ [if-unset: x]  |  exists:Hdr
bool set_header_test(Ctx& c, Rule& r, std::string_view v, bool mime) {
  if (v.starts_with("exists:") && !mime) {
    std::string_view h = v.substr(7);
    if (!h.empty() && h.back() == ':') h.remove_suffix(1);
    bool ok = !h.empty();
    for (char ch : h) ok = ok && (is_word(ch) || ch == '.' || ch == '-');
    if (!ok) return !c.bad(r.name, "bad header", "invalid header name in '" + std::string(v) + "'");
    r.header.name = std::string(h);
    r.header.exists = true;
    return true;
  }
  size_t i = 0;
  auto name_char = [&](char ch) {
    return mime ? ch != ':' && !is_space(ch) : is_word(ch) || ch == '.' || ch == '-';
  };
  while (i < v.size() && name_char(v[i])) ++i;
  if (i == 0) return !c.bad(r.name, "bad header", "no header name in '" + std::string(v) + "'");
  r.header.name = std::string(v.substr(0, i));
  if (i + 1 < v.size() && v[i] == ':' && v[i + 1] >= 'a' && v[i + 1] <= 'z') {
    for (int n = 0; n < 2 && i + 1 < v.size() && v[i] == ':' && v[i + 1] >= 'a' && v[i + 1] <= 'z';
         ++n) {
      size_t j = i + 1;
      while (j < v.size() && v[j] >= 'a' && v[j] <= 'z') ++j;
      r.header.modifiers.emplace_back(v.substr(i + 1, j - i - 1));
      i = j;
    }
  } else if (i < v.size() && v[i] == ':') {
    ++i;
  }
  while (i < v.size() && is_space(v[i])) ++i;
  if (i + 1 >= v.size() || (v[i] != '=' && v[i] != '!') || v[i + 1] != '~')
    return !c.bad(r.name, "bad header", "expected =~ or !~ in '" + std::string(v) + "'");
  r.header.negate = v[i] == '!';
  i += 2;
  while (i < v.size() && is_space(v[i])) ++i;
  std::string_view pat = v.substr(i);
  if (pat.empty()) return !c.bad(r.name, "bad header", "no pattern");
  static constexpr std::string_view kMods[] = {"raw", "addr",  "name",  "host", "domain",
                                               "ip",  "revip", "first", "last"};
  for (const auto& m : r.header.modifiers) {
    bool known =
        mime ? m == "raw" : std::find(std::begin(kMods), std::end(kMods), m) != std::end(kMods);
    if (!known) return !c.bad(r.name, "bad header", "unknown header modifier ':" + m + "'");
  }
  if (mime && r.header.modifiers.size() > 1)
    return !c.bad(r.name, "bad header", "mimeheader takes only :raw");
  // s/\s+\[if-unset:\s+(.+)\]$//
  if (pat.back() == ']') {
    for (size_t at = pat.find("[if-unset:"); at != std::string_view::npos;
         at = pat.find("[if-unset:", at + 1)) {
      size_t body = at + 10;
      if (at == 0 || !is_space(pat[at - 1]) || body >= pat.size() || !is_space(pat[body])) continue;
      while (body < pat.size() && is_space(pat[body])) ++body;
      if (body + 1 >= pat.size()) continue;  // (.+) needs a character before ']'
      r.header.if_unset = std::string(pat.substr(body, pat.size() - 1 - body));
      size_t end = at;
      while (end > 0 && is_space(pat[end - 1])) --end;
      pat = pat.substr(0, end);
      break;
    }
  }
  return set_pattern(c, r, pat);
}

bool set_meta(Ctx& c, Rule& r, std::string_view v) {
  r.meta = std::string(v);
  for (std::string_view bad : {"::", "->", "$", "@", "%", ";", "{", "}"}) {
    if (v.find(bad) != std::string_view::npos)
      return !c.bad(r.name, "bad meta",
                    "'" + std::string(bad) + "' not allowed in '" + r.meta + "'");
  }
  auto tokens = tokenize_expression(v, {"rules_matching"});
  if (!tokens) return !c.bad(r.name, "bad meta", tokens.error() + " in '" + r.meta + "'");
  for (const auto& t : *tokens) {
    using K = ExprToken::Kind;
    switch (t.kind) {
      case K::kName:
        if (!valid_rule_name(t.text))
          return !c.bad(r.name, "bad meta", "invalid token '" + t.text + "' in '" + r.meta + "'");
        r.meta_tokens.push_back({MetaToken::Kind::kRule, t.text});
        break;
      case K::kNumber:
        r.meta_tokens.push_back({MetaToken::Kind::kNumber, t.text});
        break;
      case K::kOperator:
        r.meta_tokens.push_back({MetaToken::Kind::kOperator, t.text});
        break;
      case K::kCall:
        if (t.argument.find(':') != std::string::npos ||
            (t.argument[0] >= '0' && t.argument[0] <= '9'))
          return !c.bad(r.name, "bad meta", "invalid glob '" + t.argument + "'");
        r.meta_tokens.push_back({MetaToken::Kind::kRulesMatching, t.argument});
        break;
    }
  }
  // Parser.pm is_meta_valid: every rule 0, the expression must evaluate.
  auto ok = evaluate_expression(*tokens, [](const ExprToken&) { return 0.0; });
  if (!ok) return !c.bad(r.name, "bad meta", ok.error() + " in '" + r.meta + "'");
  return true;
}

bool define_rule(Ctx& c, std::string_view v) {
  auto [name, rest] = split_first(v);
  if (name.empty() || rest.empty())
    return c.bad(name, "bad directive",
                 rest.empty() && !name.empty() ? "missing test" : "missing rule name");
  if (!valid_rule_name(name))
    return c.bad(name, "bad rule name",
                 "'" + std::string(name) + "' is not [_a-zA-Z][_a-zA-Z0-9]{0,99}");
  Rule r;
  r.name = std::string(name);
  const std::string_view k = c.key;
  std::string_view eval = rest.starts_with("eval:")                       ? rest.substr(5)
                          : k == "header" && rest.starts_with("rbleval:") ? rest.substr(8)
                                                                          : std::string_view{};
  bool has_eval = !eval.empty() || rest == "eval:" || rest == "rbleval:";
  bool ok;
  if (k == "meta") {
    r.type = RuleType::kMeta;
    if (rest.find('*') != std::string_view::npos) {
      size_t s = rest.find('*');
      size_t t = s + 1;
      while (t < rest.size() && is_space(rest[t])) ++t;
      if (t < rest.size() && rest[t] == '*') return c.bad(name, "bad meta", "'**' operator");
    }
    ok = set_meta(c, r, rest);
  } else if (k == "mimeheader") {
    r.type = RuleType::kMimeHeader;
    ok = set_header_test(c, r, rest, true);
  } else if (has_eval && k != "uri") {
    ok = set_eval(c, r, eval);
    if (k == "header")
      r.type = r.eval.function.starts_with("check_rbl") || r.eval.function.starts_with("check_dns")
                   ? RuleType::kRblEval
                   : RuleType::kHeaderEval;
    else if (k == "body")
      r.type = RuleType::kBodyEval;
    else if (k == "rawbody")
      r.type = RuleType::kRawBodyEval;
    else
      r.type = RuleType::kFullEval;
  } else if (k == "header") {
    r.type = RuleType::kHeader;
    ok = set_header_test(c, r, rest, false);
  } else {
    r.type = k == "body"      ? RuleType::kBody
             : k == "rawbody" ? RuleType::kRawBody
             : k == "full"    ? RuleType::kFull
                              : RuleType::kUri;
    ok = set_pattern(c, r, rest);
  }
  if (ok) c.st.define(std::move(r), c.w);
  return true;
}

bool set_score(Ctx& c, std::string_view v) {
  auto w = words(v);
  if (w.size() != 2 && w.size() != 5)
    return c.bad(w.empty() ? "" : w[0], "bad score", "requires a rule name and 1 or 4 scores");
  std::array<double, 4> s{};
  bool relative = false;
  for (size_t i = 1; i < w.size(); ++i) {
    std::string_view t = w[i];
    if (t.size() > 2 && t.front() == '(' && t.back() == ')') {
      relative = true;
      t = t.substr(1, t.size() - 2);
    }
    auto n = number(t, false);
    if (!n) return c.bad(w[0], "bad score", "'" + w[i] + "' is not a number");
    s[i - 1] = *n + 0.0;  // Perl: "-0" + 0.0 is 0
  }
  if (w.size() == 2) s = {s[0], s[0], s[0], s[0]};
  auto it = c.st.scores.find(w[0]);
  if (relative) {
    if (it == c.st.scores.end())
      return c.bad(w[0], "bad score", "relative score without a previous score");
    for (int i = 0; i < 4; ++i) it->second[i] += s[i];
  } else {
    c.st.scores[w[0]] = s;
  }
  return true;
}

// "NAME value" settings kept per name (describe, tflags, replace_tag ...).
bool set_keyed(Ctx& c, std::map<std::string, std::string, std::less<>>& m, std::string_view v) {
  auto [k, rest] = split_first(v);
  if (k.empty() || rest.empty()) return c.bad(k, "bad directive", "missing value");
  m[std::string(k)] = std::string(rest);
  return true;
}

}  // namespace

bool apply_directive(ConfigState& st, std::string_view key, std::string_view v, const Where& w) {
  Ctx c{st, w, key};
  if (key == "header" || key == "body" || key == "rawbody" || key == "full" || key == "uri" ||
      key == "meta" || key == "mimeheader")
    return define_rule(c, v);
  if (key == "score") return set_score(c, v);
  if (key == "describe") return set_keyed(c, st.descriptions, v);
  if (key == "tflags") return set_keyed(c, st.tflags, v);
  if (key == "replace_tag") return set_keyed(c, st.replace_tag, v);
  if (key == "replace_pre") return set_keyed(c, st.replace_pre, v);
  if (key == "replace_post") return set_keyed(c, st.replace_post, v);
  if (key == "replace_inter") return set_keyed(c, st.replace_inter, v);
  if (key == "replace_start" || key == "replace_end") {
    if (v.empty()) return c.bad("", "bad directive", "missing value");
    (key == "replace_start" ? st.replace_start : st.replace_end) = std::string(v);
    return true;
  }
  if (key == "replace_rules") {
    for (auto& r : words(v)) st.replace_rules.insert(r);
    if (v.empty()) c.bad("", "bad directive", "missing rule names");
    return true;
  }
  if (key == "priority") {
    auto [name, n] = split_first(v);
    int p = 0;
    auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), p);
    if (!valid_rule_name(name) || n.empty() || ec != std::errc{} || end != n.data() + n.size())
      return c.bad(name, "bad directive", "expected 'priority NAME integer'");
    st.priorities[std::string(name)] = p;
    return true;
  }
  if (key == "required_score" || key == "required_hits") {
    auto n = number(v, true);
    if (!n) return c.bad("", "bad directive", "'" + std::string(v) + "' is not a number");
    st.out.required_score = *n;
    return true;
  }
  if (key == "test") {
    auto [name, rest] = split_first(v);
    auto [verdict, text] = split_first(rest);
    if (name.empty() || (verdict != "ok" && verdict != "fail"))
      return c.bad(name, "bad directive", "expected 'test NAME ok|fail text'");
    st.out.regression_tests.push_back({std::string(name), verdict == "ok", std::string(text)});
    return true;
  }
  if (key == "reuse") {
    auto names = words(v);
    if (names.empty() || !valid_rule_name(names[0]))
      return c.bad("", "bad directive", "expected 'reuse NAME [OLD...]'");
    if (!st.index.contains(names[0])) {
      Rule r;
      r.name = names[0];
      r.type = RuleType::kEmpty;
      st.define(std::move(r), w);
    }
    return true;
  }
  if (key == "loadplugin" || key == "tryplugin") {
    auto [module, path] = split_first(v);
    bool ok = !module.empty();
    for (char ch : module) ok = ok && (is_word(ch) || ch == ':');
    if (!ok) return c.bad("", "bad directive", "invalid plugin name '" + std::string(module) + "'");
    std::string m(module);
    if (m == "Mail::SpamAssassin::Plugin::Dmarc") m = "Mail::SpamAssassin::Plugin::DMARC";
    if (m == "Mail::SpamAssassin::Plugin::WhiteListSubject")
      m = "Mail::SpamAssassin::Plugin::WelcomeListSubject";
    st.out.plugins_loaded.insert(std::move(m));
    return true;
  }
  if (key == "enable_compat") {
    bool ok = !v.empty() && v.size() <= 128;
    for (char ch : v) ok = ok && is_word(ch);
    if (!ok) return c.bad("", "bad directive", "invalid compat flag '" + std::string(v) + "'");
    st.compat.insert(std::string(v));
    return true;
  }
  if (key == "redirector_pattern") {
    auto re = read_perl_regexp(v);
    if (!re) return c.bad("", "bad regexp", re.error() + " in '" + std::string(v) + "'");
    st.out.redirector_patterns.push_back(std::move(*re));
    return true;
  }
  if (key == "util_rb_tld" || key == "util_rb_2tld" || key == "util_rb_3tld") {
    auto& list = key == "util_rb_tld"    ? st.out.util_rb_tld
                 : key == "util_rb_2tld" ? st.out.util_rb_2tld
                                         : st.out.util_rb_3tld;
    auto names = words(v);
    if (names.empty()) return c.bad("", "bad directive", "missing value");
    for (auto& n : names) {
      for (char& ch : n) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (key == "util_rb_tld" && n.find('.') != std::string::npos)
        return c.bad("", "bad directive", "'" + n + "' is not a top-level domain");
      list.push_back(std::move(n));
    }
    return true;
  }
  return false;
}

}  // namespace filterd::spam::detail
