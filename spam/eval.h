// eval.h — SpamAssassin's `eval:` tests that need no network, as C++
// functions over the message's texts.
//
//   header MISSING_HEADERS  eval:check_for_missing_to_header()
//   body   MIME_HTML_ONLY   eval:check_for_mime_html_only()
//
// Each function returns the rule's hit value: 0 for no hit, else (usually)
// 1. A rule whose function is not in the registry is reported once at
// start-up as "eval not implemented" and never hits; which functions exist is
// listed by implemented_evals() (and in the README).
//
// The functions are pure: they read the EvalContext and their arguments and
// keep no state between messages, so any number of threads may call them.
// Facts several functions need (the parsed Received chain, the MIME
// structure) are computed once per message, on first use, by the context.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "spam/mime_facts.h"
#include "spam/received.h"
#include "spam/rules.h"
#include "spam/text.h"

namespace filterd::spam {

// Settings of the rule files some eval: tests read, prepared once per rule
// set (make_eval_config) and shared by every message.
struct EvalConfig {
  // FreeMail: freemail_domains without wildcards (lower case), the
  // wildcard ones as one regexp over "@domain" ("" if none), and
  // freemail_welcomelist addresses and domains.
  std::unordered_set<std::string> freemail_domains;
  std::string freemail_wildcards;
  std::unordered_set<std::string> freemail_welcomelist;
};
EvalConfig make_eval_config(const RuleSet& rules);

struct EvalContext {
  EvalContext(const MessageText& text_, std::string_view message_, const RuleSet& rules_,
              std::chrono::system_clock::time_point now_, const Relays& relays_,
              const EvalConfig& config_)
      : text(text_),
        message(message_),
        rules(rules_),
        now(now_),
        relays(relays_),
        config(config_) {}

  const MessageText& text;
  std::string_view message;  // the raw message (as `full` rules see it)
  const RuleSet& rules;      // settings from the rule files
  std::chrono::system_clock::time_point now;
  const Relays& relays;  // the Received path, split by trust (received.h)
  const EvalConfig& config;

  // SpamAssassin's MIME facts (mime_facts.h), computed on first use. A
  // context belongs to one message and one thread.
  const MimeFacts& mime() const {
    if (!mime_) mime_ = compute_mime_facts(message);
    return *mime_;
  }

  // check_for_shifted_date's Date-minus-Received difference in seconds,
  // shared by its ten DATE_IN_* rules (eval_header_rcvd.cc fills it).
  mutable std::optional<long long> date_diff_memo;

 private:
  mutable std::optional<MimeFacts> mime_;
};

// `args` are the call's arguments as Parser.pm unpacks them (quotes removed).
using EvalFunction = double (*)(const EvalContext& context, std::span<const std::string> args);

// The function behind `name` ("check_for_missing_to_header"), or nullptr.
EvalFunction find_eval(std::string_view name);

// Every implemented function name, sorted.
std::vector<std::string_view> implemented_evals();

}  // namespace filterd::spam
