// eval_freemail.cc — Mail::SpamAssassin::Plugin::FreeMail's header tests:
// whether addresses in the header are at free-mail providers
// (freemail_domains in the rule files).
#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "spam/eval_internal.h"
#include "spam/eval_util.h"
#include "spam/perl_re.h"

namespace filterd::spam {

EvalConfig make_eval_config(const RuleSet& rules) {
  EvalConfig out;
  auto words = [&](const char* key, auto&& each) {
    auto it = rules.settings.find(key);
    if (it == rules.settings.end()) return;
    for (const auto& v : it->second) {
      std::istringstream in(v);
      for (std::string w; in >> w;) each(eval::lower(w));
    }
  };
  std::vector<std::string> wildcards;
  words("freemail_domains", [&](const std::string& d) {
    // Only [a-z0-9.*?-]; '*' and '?' make a wildcard pattern.
    if (!std::all_of(d.begin(), d.end(), [](char ch) {
          return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '*' ||
                 ch == '?' || ch == '-';
        }))
      return;
    if (d.find_first_of("*?") == std::string::npos) {
      out.freemail_domains.insert(d);
      return;
    }
    std::string re;
    for (char ch : d)
      re += ch == '.' ? "\\." : ch == '?' ? "." : ch == '*' ? "[^.]*" : std::string(1, ch);
    wildcards.push_back(re);
  });
  std::sort(wildcards.begin(), wildcards.end());
  for (const auto& w : wildcards)
    out.freemail_wildcards += (out.freemail_wildcards.empty() ? "" : "|") + w;
  if (!out.freemail_wildcards.empty())
    out.freemail_wildcards = "\\@(?:" + out.freemail_wildcards + ")$";
  auto welcome = [&](const std::string& w) {
    static const PerlRe valid(R"(\w[.@]\w)");
    if (valid.search(w)) out.freemail_welcomelist.insert(w);
  };
  words("freemail_welcomelist", welcome);
  words("freemail_whitelist", welcome);
  return out;
}

namespace eval {
namespace {

// A regexp from the rules (an eval's argument, the freemail wildcard list),
// compiled once per thread: compiling it per call cost more than the rest
// of the test (~30 us a message each).
const PerlRe& argument_re(const std::string& source) {
  thread_local std::unordered_map<std::string, std::unique_ptr<PerlRe>> compiled;
  std::unique_ptr<PerlRe>& re = compiled[source];
  if (!re) re = std::make_unique<PerlRe>(source);
  return *re;
}

// FreeMail::_is_freemail: a free-mail address, unless welcomelisted or a
// role/bounce address.
bool is_freemail(const EvalContext& c, const std::string& email) {
  if (email.empty()) return false;
  const auto& cfg = c.config;
  if (cfg.freemail_welcomelist.contains(email)) return false;
  const size_t at = email.rfind('@');
  const std::string domain = at == std::string::npos ? email : email.substr(at + 1);
  if (cfg.freemail_welcomelist.contains(domain)) return false;
  static const PerlRe role(
      R"(^(?:abuse|support|sales|info|helpdesk|contact|kontakt|(?:post|host|domain)master|undisclosed.*|request-[a-f0-9]{16}|bounced?-|[a-f0-9]{8}(?:\.[a-f0-9]{8}|-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12})|.+=.+=.+)\@)",
      "i");
  if (role.search(email)) return false;
  if (cfg.freemail_domains.contains(domain)) return true;
  if (cfg.freemail_wildcards.empty()) return false;
  return argument_re(cfg.freemail_wildcards).search(email);
}

std::vector<std::string> lines(const std::optional<std::string>& v) {
  std::vector<std::string> out;
  if (!v) return out;
  std::istringstream in(*v);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

bool available(const EvalContext& c) {
  return !c.config.freemail_domains.empty() || !c.config.freemail_wildcards.empty();
}

}  // namespace

// check_freemail_header(header[, regexp]): an address in the header is a
// free-mail one (matching `regexp`, if given).
double check_freemail_header(const EvalContext& c, Args args) {
  if (!available(c) || args.empty()) return 0;
  const PerlRe* re = args.size() > 1 ? &argument_re(args[1]) : nullptr;
  for (const auto& a : lines(c.text.get(args[0] + ":addr"))) {
    const std::string email = lower(a);
    if (is_freemail(c, email) && (!re || re->search(email))) return 1;
  }
  return 0;
}

// check_freemail_from([regexp]): one of the sender addresses
// (PerMsgStatus::all_from_addrs) is a free-mail one.
double check_freemail_from(const EvalContext& c, Args args) {
  if (!available(c)) return 0;
  const PerlRe* re = !args.empty() ? &argument_re(args[0]) : nullptr;
  std::vector<std::string> addrs = lines(c.text.get("Resent-From:first:addr"));
  if (addrs.empty()) {
    for (const char* h :
         {"From:addr", "Envelope-Sender:addr", "Resent-Sender:addr", "X-Envelope-From:addr"})
      for (auto& a : lines(c.text.get(h))) addrs.push_back(std::move(a));
    if (auto env = c.text.get("EnvelopeFrom:addr")) addrs.push_back(*env);
    for (auto& a : addrs) {  // "foo@bar..com": runs of dots squeezed
      a.erase(std::unique(a.begin(), a.end(), [](char x, char y) { return x == '.' && y == '.'; }),
              a.end());
    }
  }
  for (const auto& a : addrs) {
    const std::string email = lower(a);
    if (is_freemail(c, email) && (!re || re->search(email))) return 1;
  }
  return 0;
}

}  // namespace eval
}  // namespace filterd::spam
