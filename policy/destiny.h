// destiny.h — what happens to a message for one recipient, and the content
// categories that decide it (amavisd-new's vocabulary, so admins moving from
// amavis recognise every word).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace filterd::policy {

enum class Destiny {
  kPass,      // D_PASS: deliver (possibly with edits)
  kDiscard,   // D_DISCARD: accept with 250, deliver nothing (quarantine keeps it)
  kBounce,    // D_BOUNCE: accept with 250, send a DSN to the sender
  kReject,    // D_REJECT: refuse with 5xx; the MTA bounces
  kTempfail,  // D_TEMPFAIL: refuse with 4xx; the MTA retries
};

// "D_PASS" ... "D_TEMPFAIL" (case-insensitive; the "D_" is optional).
std::optional<Destiny> parse_destiny(std::string_view s);
std::string_view destiny_name(Destiny d);

// Content categories in amavis's order of precedence: a higher value wins.
enum class Category {
  kClean,
  kOversized,  // larger than the recipient's message_size_limit
  kBadHeader,  // a malformed header section (see bad_header.h)
  kSpammy,     // spam score at or above the tag2 level
  kSpam,       // spam score at or above the kill level
  kUnchecked,  // could not be checked (encrypted, over limits, scanner failure)
  kBanned,     // a part matched a banned-file rule
  kVirus,
};
inline constexpr int kCategoryCount = static_cast<int>(Category::kVirus) + 1;

// The index of a category in per-category arrays.
constexpr size_t idx(Category c) {
  return static_cast<size_t>(c);
}

// amavis's log words: "CLEAN", "OVERSIZED", "BAD-HEADER", "SPAMMY", "SPAM",
// "UNCHECKED", "BANNED", "INFECTED".
std::string_view category_log_name(Category c);

// The config spelling of a category: "virus", "banned", "unchecked",
// "spam", "spammy", "bad_header", "oversized", "clean".
std::string_view category_key(Category c);

}  // namespace filterd::policy
