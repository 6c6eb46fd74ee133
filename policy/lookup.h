// lookup.h — amavis's per-recipient lookups: the keys an envelope address is
// looked up under, tables of per-recipient settings keyed by them, and plain
// key sets such as local_domains.
//
// Keys (amavisd-new README.lookups, "hash lookups"), most specific first; for
// User+Foo@Sub.Example.COM with recipient_delimiter '+':
//
//   user+foo@sub.example.com   the address
//   user@sub.example.com       the address without its extension
//   user+foo@                  the local part, at any domain
//   user@                      the local part without extension, any domain
//   sub.example.com            the domain exactly
//   .sub.example.com           the domain and its subdomains
//   .example.com               a parent domain and its subdomains
//   .com
//   .                          every address
//
// So a table key "example.com" matches only that domain, ".example.com"
// matches example.com and every subdomain, "user@" matches that local part
// at any domain. Keys are lower-cased as a whole (amavis lower-cases the
// local part too: $localpart_is_case_sensitive is off by default); ASCII
// only, other bytes are kept. Trailing dots of the domain are dropped.
//
// Odd addresses, each a single defined case:
//   - the null sender ("" or "<>"): keys "<>" and ".". amavis looks it up
//     under "" which a map file cannot spell; "<>" is what SMTP shows.
//   - no '@' ("postmaster"): a local part without domain: "postmaster@", "."
//     (the bare word is not a key, or it would match a domain key).
//   - empty local part ("@example.com"): "@example.com", "@", then the
//     domain keys.
//   - a quoted local part ("\"j doe\"@x"): kept as given (quotes, backslashes;
//     no unquoting), lower-cased, never split at the delimiter.
//   - an address literal domain ("[192.0.2.1]"): the domain key, then "."
//     (not split at its dots, as amavis).
//   - the extension is split at the first delimiter after the first
//     character (amavis; "+foo@x" keeps "+foo"), never for postmaster,
//     mailer-daemon, double-bounce, nor, with delimiter '-', owner-* and
//     *-request (amavis split_localpart, Postfix's owner-/-request rule).
//   - at most kMaxDomainKeys dotted domain keys, the least specific ones
//     (amavis's sanity limit), so a hostile domain cannot make many keys.
//   - one enclosing pair of angle brackets is removed.
//
// Pure functions and immutable-after-load tables: a table is built at
// start-up (or reload) and then only read, from any number of threads.
#pragma once

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

namespace filterd::policy {

// amavis's limit on ".sub.example.com"-style keys per address ("." included).
// Not configurable on purpose: maps must match the same keys as in amavis.
inline constexpr size_t kMaxDomainKeys = 10;

// The keys `address` is looked up under, most specific first, no duplicates,
// never empty (the last is always "."). `recipient_delimiter` 0: no
// extension-stripped keys.
std::vector<std::string> lookup_keys(std::string_view address, char recipient_delimiter);

// A set of lookup keys, e.g. local_domains = "example.com .example.org".
// An address is in the set when any of its lookup keys is: ".example.org"
// takes example.org and its subdomains, "example.com" only that domain
// (amavis @local_domains_maps).
class LookupSet {
 public:
  // Keys separated by white space or commas. Errors name the bad key.
  static std::expected<LookupSet, std::string> parse(std::string_view text);

  // The set's key that matched `address` (its most specific one), for logs.
  std::optional<std::string> find(std::string_view address, char recipient_delimiter) const;
  bool contains(std::string_view address, char recipient_delimiter) const {
    return find(address, recipient_delimiter).has_value();
  }
  size_t size() const { return keys_.size(); }

 private:
  std::unordered_set<std::string> keys_;
};

// Per-recipient settings: which exist and what type each has is the
// caller's schema, so this module knows nothing of spam or viruses.
enum class SettingType { kBool, kNumber, kString };

struct SettingSpec {
  std::string name;  // "spam_lover"
  SettingType type;
};
using SettingSchema = std::vector<SettingSpec>;

// bool for kBool, double for kNumber, std::string for kString.
using SettingValue = std::variant<bool, double, std::string>;

struct ResolvedSetting {
  std::string name;
  SettingValue value;
  std::string key;  // the lookup key that supplied it: "user@", ".example.com"
};

// The settings that apply to one address. Owns its data: safe to keep after
// the table is replaced.
struct Resolved {
  std::vector<ResolvedSetting> settings;  // schema order; only those some key sets

  const ResolvedSetting* find(std::string_view name) const;
  // nullopt when no key sets `name` (or it is of another type).
  std::optional<bool> get_bool(std::string_view name) const;
  std::optional<double> get_number(std::string_view name) const;
  std::optional<std::string_view> get_string(std::string_view name) const;  // into *this
};

// Entries "KEY setting=value setting=value ...":
//
//   user@example.com  spam_lover=yes  spam_kill_level=12.5
//   .example.org      spam_subject_tag2="[SPAM] "   # a comment
//
// KEY is any lookup key above (also "<>", "."), lower-cased on load. A value
// is a bool (yes/no, true/false, on/off, 1/0, any case), a number (decimal,
// e.g. -3.5) or a string; a double-quoted value may hold spaces, with \" and
// \\ as the only escapes. '#' where a key or a setting would start begins a
// comment. A key whose quoted local part holds spaces is quoted as in SMTP.
//
// A later entry for a key already present merges into it: settings it names
// replace the earlier values, the others stay. Within one entry a setting
// may appear once.
//
// resolve() looks up each setting on its own (as amavis looks up each
// *_maps on its own): every setting comes from the most specific key that
// sets it, so "user@example.com spam_lover=yes" and ".example.com
// spam_kill_level=8" both apply to user@example.com.
class RecipientTable {
 public:
  // Throws std::invalid_argument if a name appears twice (a caller bug;
  // start-up only).
  explicit RecipientTable(SettingSchema schema);

  // Adds one entry, e.g. the value of a `recipient = KEY settings...` line.
  // Errors read "ORIGIN: reason" (origin is e.g. "filterd.conf:12"). On
  // error the table is unchanged.
  std::expected<void, std::string> add_entry(std::string_view entry, std::string_view origin);

  // Adds the entries of a map file's text, one per line; blank and comment
  // lines are skipped. Errors read "ORIGIN:LINE: reason". All or nothing: on
  // error the table is unchanged.
  std::expected<void, std::string> add_entries(std::string_view text, std::string_view origin);

  // The settings for `address`. About one hash probe per lookup key.
  Resolved resolve(std::string_view address, char recipient_delimiter) const;

  const SettingSchema& schema() const { return schema_; }
  size_t size() const { return entries_.size(); }  // distinct keys

 private:
  struct Entry {
    std::vector<std::pair<size_t, SettingValue>> values;  // schema index, sorted
  };
  struct ParsedEntry {
    std::string key;
    Entry entry;
  };
  std::expected<ParsedEntry, std::string> parse_entry(std::string_view line) const;
  void merge(ParsedEntry parsed);

  SettingSchema schema_;
  std::unordered_map<std::string, size_t> index_;  // setting name -> schema index
  std::unordered_map<std::string, Entry> entries_;
};

// Reads a map file into a new table. Errors read "PATH:LINE: reason", or
// "PATH: reason" if the file cannot be read. Start-up only (blocking I/O).
std::expected<RecipientTable, std::string> load_recipient_table(const std::string& path,
                                                                SettingSchema schema);

}  // namespace filterd::policy
