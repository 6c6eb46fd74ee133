// rules_condition.cc — `if` conditions (Parser.pm handle_conditional) and
// what they ask about: loaded plugins and SpamAssassin's capabilities.
#include <algorithm>

#include "spam/rules_expr.h"
#include "spam/rules_internal.h"

namespace filterd::spam {

const std::vector<std::string> kSpamAssassin4Capabilities = {
    // Conf.pm 4.0.1 feature_* / has_* / perl_min_version_*
    "Mail::SpamAssassin::Conf::feature_originating_ip_headers",
    "Mail::SpamAssassin::Conf::feature_dns_local_ports_permit_avoid",
    "Mail::SpamAssassin::Conf::feature_bayes_auto_learn_on_error",
    "Mail::SpamAssassin::Conf::feature_uri_host_listed",
    "Mail::SpamAssassin::Conf::feature_yesno_takes_args",
    "Mail::SpamAssassin::Conf::feature_bug6558_free",
    "Mail::SpamAssassin::Conf::feature_edns",
    "Mail::SpamAssassin::Conf::feature_dns_query_restriction",
    "Mail::SpamAssassin::Conf::feature_registryboundaries",
    "Mail::SpamAssassin::Conf::feature_geodb",
    "Mail::SpamAssassin::Conf::feature_dns_block_rule",
    "Mail::SpamAssassin::Conf::feature_compile_regexp",
    "Mail::SpamAssassin::Conf::feature_meta_rules_matching",
    "Mail::SpamAssassin::Conf::feature_subjprefix",
    "Mail::SpamAssassin::Conf::feature_bayes_stopwords",
    "Mail::SpamAssassin::Conf::feature_get_host",
    "Mail::SpamAssassin::Conf::feature_blocklist_welcomelist",
    "Mail::SpamAssassin::Conf::feature_welcomelist_blocklist",
    "Mail::SpamAssassin::Conf::feature_header_address_parser",
    "Mail::SpamAssassin::Conf::feature_local_tests_only",
    "Mail::SpamAssassin::Conf::feature_header_first_last",
    "Mail::SpamAssassin::Conf::feature_header_match_many",
    "Mail::SpamAssassin::Conf::feature_capture_rules",
    "Mail::SpamAssassin::Conf::has_tflags_nosubject",
    "Mail::SpamAssassin::Conf::has_tflags_nolog",
    "Mail::SpamAssassin::Conf::perl_min_version_5010000",
    // Plugins' has_* methods (true only while the plugin is loaded)
    "Mail::SpamAssassin::Plugin::BodyEval::has_check_body_length",
    "Mail::SpamAssassin::Plugin::BodyEval::has_plaintext_body_sig_ratio",
    "Mail::SpamAssassin::Plugin::MIMEEval::has_check_for_ascii_text_illegal",
    "Mail::SpamAssassin::Plugin::MIMEEval::has_check_abundant_unicode_ratio",
    "Mail::SpamAssassin::Plugin::MIMEEval::has_check_qp_ratio",
    "Mail::SpamAssassin::Plugin::MIMEHeader::has_all_header",
    "Mail::SpamAssassin::Plugin::MIMEHeader::has_tflags_range",
    "Mail::SpamAssassin::Plugin::MIMEHeader::has_tflags_concat",
    "Mail::SpamAssassin::Plugin::MIMEHeader::has_tflags_multiple",
    "Mail::SpamAssassin::Plugin::MIMEHeader::has_capture_rules",
    "Mail::SpamAssassin::Plugin::DKIM::has_arc",
    "Mail::SpamAssassin::Plugin::SPF::has_check_for_spf_errors",
    "Mail::SpamAssassin::Plugin::SPF::has_check_spf_skipped_noenvfrom",
    "Mail::SpamAssassin::Plugin::URIDetail::has_host_key",
    "Mail::SpamAssassin::Plugin::DNSEval::has_tflags_domains_only",
    "Mail::SpamAssassin::Plugin::DNSEval::has_tflags_ips_only",
    "Mail::SpamAssassin::Plugin::URIDNSBL::has_tflags_domains_only",
    "Mail::SpamAssassin::Plugin::URIDNSBL::has_subtest_for_ranges",
    "Mail::SpamAssassin::Plugin::URIDNSBL::has_uridnsbl_for_a",
    "Mail::SpamAssassin::Plugin::URIDNSBL::has_uridnsbl_a_ns",
    "Mail::SpamAssassin::Plugin::URIDNSBL::has_tflags_notrim",
    "Mail::SpamAssassin::Plugin::URIDNSBL::has_uridnsbl_skip_mailto",
    "Mail::SpamAssassin::Plugin::AskDNS::has_tag_header",
    "Mail::SpamAssassin::Plugin::ASN::has_asn_lookup_ipv6",
    "Mail::SpamAssassin::Plugin::ASN::has_asn_geodb",
    "Mail::SpamAssassin::Plugin::ASN::has_check_asn",
    "Mail::SpamAssassin::Plugin::ASN::has_check_asn_tag",
    "Mail::SpamAssassin::Plugin::DecodeShortURLs::has_short_url",
    "Mail::SpamAssassin::Plugin::DecodeShortURLs::has_autoclean",
    "Mail::SpamAssassin::Plugin::DecodeShortURLs::has_short_url_code",
    "Mail::SpamAssassin::Plugin::DecodeShortURLs::has_user_agent",
    "Mail::SpamAssassin::Plugin::DecodeShortURLs::has_get",
    "Mail::SpamAssassin::Plugin::DecodeShortURLs::has_clear",
    "Mail::SpamAssassin::Plugin::DecodeShortURLs::has_timeout",
    "Mail::SpamAssassin::Plugin::DecodeShortURLs::has_max_redirections",
    "Mail::SpamAssassin::Plugin::DecodeShortURLs::has_short_url_redir",
    "Mail::SpamAssassin::Plugin::HashBL::has_hashbl_bodyre",
    "Mail::SpamAssassin::Plugin::HashBL::has_hashbl_emails",
    "Mail::SpamAssassin::Plugin::HashBL::has_hashbl_uris",
    "Mail::SpamAssassin::Plugin::HashBL::has_hashbl_ignore",
    "Mail::SpamAssassin::Plugin::HashBL::has_hashbl_tag",
    "Mail::SpamAssassin::Plugin::HashBL::has_hashbl_sha256",
    "Mail::SpamAssassin::Plugin::HashBL::has_hashbl_attachments",
    "Mail::SpamAssassin::Plugin::OLEVBMacro::has_olemacro_redirect_uri",
    "Mail::SpamAssassin::Plugin::OLEVBMacro::has_olemacro_mhtml_uri",
    "Mail::SpamAssassin::Plugin::OLEVBMacro::has_olertfobject",
};

namespace detail {
namespace {

constexpr std::string_view kPluginPrefix = "Mail::SpamAssassin::Plugin::";

std::string canonical_plugin(std::string_view name) {
  if (name == "Mail::SpamAssassin::Plugin::Dmarc") return "Mail::SpamAssassin::Plugin::DMARC";
  if (name == "Mail::SpamAssassin::Plugin::WhiteListSubject")
    return "Mail::SpamAssassin::Plugin::WelcomeListSubject";
  return std::string(name);
}

}  // namespace

bool ConfigState::plugin_available(std::string_view name) const {
  std::string n = canonical_plugin(name);
  if (n == "Mail::SpamAssassin::Plugin::RaciallyCharged") return true;  // Parser.pm: removed in 4.1
  if (options.plugins) {
    return std::any_of(options.plugins->begin(), options.plugins->end(),
                       [&](const std::string& p) { return canonical_plugin(p) == n; });
  }
  return out.plugins_loaded.contains(n);
}

bool ConfigState::capability(std::string_view method) const {
  constexpr std::string_view kCompat = "Mail::SpamAssassin::Conf::compat_";
  if (method.starts_with(kCompat)) return compat.contains(method.substr(kCompat.size()));
  const auto& list = options.capabilities ? *options.capabilities : kSpamAssassin4Capabilities;
  if (std::find(list.begin(), list.end(), method) == list.end()) return false;
  if (method.starts_with(kPluginPrefix)) {
    size_t end = method.rfind("::");
    return plugin_available(method.substr(0, end));
  }
  return true;
}

std::expected<bool, std::string> evaluate_condition(std::string_view expr, const ConfigState& st) {
  auto tokens = tokenize_expression(expr, {"plugin", "can", "has"});
  if (!tokens) return std::unexpected(tokens.error());
  std::string unknown;
  auto value = [&](const ExprToken& t) -> double {
    if (t.kind == ExprToken::Kind::kCall) {
      if (t.text == "plugin") return st.plugin_available(t.argument) ? 1 : 0;
      if (t.argument.find("::") == std::string::npos)
        unknown = "no '::' in " + t.text + "(" + t.argument + ")";
      return st.capability(t.argument) ? 1 : 0;
    }
    if (t.text == "version") return st.options.version;
    if (t.text == "perl_version") return st.options.perl_version;
    if (t.text == "local_tests_only") return st.options.local_tests_only ? 1 : 0;
    // Perl takes any other class-like word as a string: true.
    if (t.text.size() < 2) unknown = "unparseable value '" + t.text + "'";
    return 1;
  };
  auto v = evaluate_expression(*tokens, value);
  if (!v) return std::unexpected(v.error());
  if (!unknown.empty()) return std::unexpected(unknown);
  return *v != 0;
}

}  // namespace detail
}  // namespace filterd::spam
