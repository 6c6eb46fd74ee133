// notify.h — notifications from templates: the admin notice, the recipient
// warning, and the human-readable text (and Subject) of the sender DSN, in
// the admin's language (etc/templates/LANG/, described in its README).
//
// A template is a header section (at least Subject:), a blank line and a
// body, with ${name} placeholders (placeholder_names()) and $$ for "$". A
// body line that starts with ${?name} is kept, without that prefix, only
// when the value of name is non-empty. One admin_notice serves every
// category: ${category} and ${category_text} (the language's phrase for
// it, from the file "categories") carry the difference, and the config
// picks the admin address per category.
//
// Security: template text is config (checked at load: UTF-8, no control
// characters, known placeholders only); values come from the mail and are
// hostile. Every value is made one line of valid UTF-8 without control
// characters and bounded in length before substitution, so it can neither
// add a header line nor break the body's line structure. Composed messages
// have CRLF line ends only, no line over 998 bytes (RFC 5322 §2.1.1) and
// Auto-Submitted: auto-generated (RFC 3834 §5) so autoresponders stay
// quiet.
//
// Pure except load_templates(), which reads files at start-up.
#pragma once

#include <cstddef>
#include <expected>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/mail_text.h"  // unstructured_field, crlf_text, original_subject

namespace filterd::policy {

// Template files are config; bounded so a wrong path cannot load a disk image.
inline constexpr size_t kMaxTemplateBytes = 64 * 1024;
// Longest header name a template may use (RFC 5322 allows more; 64 keeps
// the first line of a folded field short).
inline constexpr size_t kMaxTemplateHeaderName = 64;

// Bounds on substituted values, so a hostile message cannot make a notice
// huge; for the config to override. No line grows past 998 bytes either
// way (long body lines are wrapped).
struct NoticeLimits {
  size_t max_value_bytes = 500;        // any one value, "..." appended when cut
  size_t max_recipients_bytes = 2000;  // ${recipients}, the list can be long
};

// "mail_id", "category", ... : every placeholder a template may use.
std::span<const std::string_view> placeholder_names();

// "INFECTED", "BANNED", ... : the categories the "categories" file must name.
std::span<const std::string_view> notice_categories();

struct Template {
  // In template order, placeholders unexpanded, folded lines joined.
  // Includes Subject; never From, To, Date, Message-ID, Auto-Submitted or
  // MIME fields (compose_notice() sets those).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // LF line ends, placeholders unexpanded
};

// Parses a template. Errors read "ORIGIN:LINE: what", e.g.
// "en/admin_notice:7: unknown placeholder ${foo}".
std::expected<Template, std::string> parse_template(std::string_view text, std::string_view origin);

// category → phrase ("INFECTED" → "virus found"), for ${category_text}.
using CategoryTexts = std::map<std::string, std::string, std::less<>>;

// Parses a "categories" file: "CATEGORY: phrase" lines, # comments, blank
// lines. Every notice_categories() entry must be there, nothing else.
std::expected<CategoryTexts, std::string> parse_category_texts(std::string_view text,
                                                               std::string_view origin);

struct TemplateSet {
  Template admin_notice, recipient_warning, sender_dsn;
  CategoryTexts category_texts;
};

// Reads DIR/{admin_notice,recipient_warning,sender_dsn,categories}.
// For start-up and reload; errors name the file (and line).
std::expected<TemplateSet, std::string> load_templates(const std::string& dir);

// The phrase for `category`, or the category itself if there is none.
std::string category_text(const TemplateSet& set, std::string_view category);

// Placeholder name → value, as taken from the mail (unsanitised). Missing
// names expand to "".
using Values = std::map<std::string, std::string, std::less<>>;

// The body with placeholders replaced: CRLF line ends, none over 998 bytes.
std::string render_text(const Template& t, const Values& values, const NoticeLimits& limits = {});

// The Subject with placeholders replaced, as one line of UTF-8 text
// (for DsnInput::subject; compose_notice encodes it itself).
std::string render_subject(const Template& t, const Values& values,
                           const NoticeLimits& limits = {});

struct NoticeHeaders {
  std::string from;            // From: field, "Content-filter at HOST <postmaster@HOST>"
  std::string to;              // To: field
  std::string date;            // RFC 5322 date-time, "now" (rfc5322_date)
  std::string hostname;        // right-hand side of the Message-ID
  std::string mail_id;         // the message the notice is about
  std::string message_id_tag;  // tells notices of one message apart: "ADMIN", "RCPT1"
};

// The whole notice, an RFC 5322 message with CRLF line ends, ready for
// deliver(): the given headers, Message-ID <NOTICE-TAG-MAILID@HOST>, the
// template's headers (Subject RFC 2047-encoded when needed), MIME fields,
// Auto-Submitted, and render_text() as a text/plain UTF-8 body.
std::string compose_notice(const Template& t, const Values& values, const NoticeHeaders& h,
                           const NoticeLimits& limits = {});

}  // namespace filterd::policy
