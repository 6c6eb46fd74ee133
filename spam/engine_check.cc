// engine_check.cc — RuleEngine::check: one message through every active
// rule, then the metas, then the score. See engine.h.
#include <algorithm>
#include <cmath>

#include "decoders/ascii.h"
#include "spam/engine.h"
#include "spam/engine_internal.h"

namespace filterd::spam {
namespace {

constexpr size_t kNoRule = static_cast<size_t>(-1);

// Plugin::MIMEHeader: one value per MIME part, the message itself first
// (Node::find_parts): the part's last such field, decoded with a final
// newline, else [if-unset: ...] or ""; `:raw` takes it as written, "" when
// missing.
std::vector<std::string> mime_header_values(const MessageText& text, const PatternClass& c) {
  std::vector<std::string> out;
  auto one = [&](const std::vector<TextHeader>& headers) {
    const TextHeader* last = nullptr;
    for (const auto& h : headers) {
      if (decoders::iequals(h.name, c.request)) last = &h;
    }
    if (last)
      out.push_back(c.raw ? last->raw : last->decoded + "\n");
    else
      out.push_back(c.raw ? "" : c.if_unset.value_or(""));
  };
  one(text.headers);
  for (const auto& part : text.part_headers) one(part);
  return out;
}

// Hit values of one pattern class into `value` (by rule index).
void match_class(const PatternClass& c, const MessageText& text, const std::vector<bool>& negated,
                 const std::vector<bool>& active, std::vector<double>& value) {
  std::vector<std::string_view> views;
  std::optional<std::string> header;
  std::vector<std::string> mime_values;
  switch (c.source) {
    case Source::kBody:
      views.assign(text.body.begin(), text.body.end());
      break;
    case Source::kBodyNoSubject:
      if (!text.body.empty()) views.assign(text.body.begin() + 1, text.body.end());
      break;
    case Source::kRawBody:
      views.assign(text.rawbody.begin(), text.rawbody.end());
      break;
    case Source::kFull:
      views.push_back(text.full);
      break;
    case Source::kUri:
      views.assign(text.uris.begin(), text.uris.end());
      break;
    case Source::kHeader:
      // Check.pm: a missing header is [if-unset: ...]'s text, else undef,
      // which Perl matches as "" (so /^$/ hits and !~ /x/ hits).
      header = text.get(c.request);
      views.push_back(header ? *header : c.if_unset ? *c.if_unset : std::string_view());
      break;
    case Source::kMimeHeader:
      mime_values = mime_header_values(text, c);
      views.assign(mime_values.begin(), mime_values.end());
      break;
  }
  if (!views.empty()) {
    for (const Hit& h : c.set->match(views).hits) value[h.id] = h.count;
  }
  for (uint32_t id : c.ids) {
    if (negated[id] && active[id]) value[id] = value[id] != 0 ? 0 : 1;
  }
}

}  // namespace

CheckResult RuleEngine::check(const CheckInput& input) const {
  const Impl& e = *impl_;
  TextOptions options;
  options.limits = e.text_limits;
  if (!e.tlds.empty()) options.tlds = &e.tlds;
  // DKIM domains are "noclean" URIs (PerMsgStatus::_process_dkim_uri_list):
  // for URI blocklists only, never seen by uri rules.
  options.parse_dkim_uris = false;
  MessageText text = build_message_text(input.message, options);
  if (input.envelope_from) text.set_envelope_from(*input.envelope_from);
  const Relays relays = parse_relays(text.headers, e.trust);
  text.set_relays({Relays::join(relays.trusted), Relays::join(relays.untrusted),
                   Relays::join(relays.internal), Relays::join(relays.external),
                   relays.last_trusted_index, relays.last_internal_index,
                   !relays.untrusted.empty() ? relays.untrusted.front().envfrom
                   : !relays.trusted.empty() ? relays.trusted.back().envfrom
                                             : std::nullopt});

  const auto& rules = e.rules.rules;
  std::vector<double> value(rules.size(), 0);
  for (const auto& c : e.classes) match_class(c, text, e.negated, e.active, value);
  for (const auto& x : e.exists) value[x.rule] = text.get(x.request) ? 1 : 0;
  const EvalContext context{text, input.message, e.rules, input.now, relays, e.eval_config};
  for (const auto& ev : e.evals) value[ev.rule] = ev.function(context, rules[ev.rule].eval.args);

  std::vector<double> slots(e.slot_rule.size(), 0);
  for (size_t s = 0; s < slots.size(); ++s) {
    size_t r = e.slot_rule[s];
    if (r != kNoRule && e.active[r] && rules[r].type != RuleType::kMeta) slots[s] = value[r];
  }
  e.metas.evaluate(slots);
  for (size_t s = 0; s < slots.size(); ++s) {
    size_t r = e.slot_rule[s];
    if (r != kNoRule && e.active[r] && rules[r].type == RuleType::kMeta) value[r] = slots[s];
  }

  CheckResult result;
  result.required_score = e.required_score;
  result.truncated = std::move(text.truncated);
  for (size_t i = 0; i < rules.size(); ++i) {
    if (value[i] == 0 || !e.active[i]) continue;
    if (rules[i].counts_toward_score()) {
      result.hits.push_back({rules[i].name, rules[i].scores[e.score_set], value[i]});
      result.score += rules[i].scores[e.score_set];
    } else {
      result.subrules.push_back(rules[i].name);
    }
  }
  // PerMsgStatus::check rounds the sum to three decimals.
  result.score = std::round(result.score * 1000) / 1000;
  std::ranges::sort(result.hits, {}, &RuleHit::name);
  std::ranges::sort(result.subrules);
  return result;
}

}  // namespace filterd::spam
