// destiny.cc — see destiny.h.
#include "policy/destiny.h"

#include <cctype>
#include <string>

namespace filterd::policy {

std::optional<Destiny> parse_destiny(std::string_view s) {
  std::string u;
  for (char c : s) u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (u.starts_with("D_")) u.erase(0, 2);
  if (u == "PASS") return Destiny::kPass;
  if (u == "DISCARD") return Destiny::kDiscard;
  if (u == "BOUNCE") return Destiny::kBounce;
  if (u == "REJECT") return Destiny::kReject;
  if (u == "TEMPFAIL") return Destiny::kTempfail;
  return std::nullopt;
}

std::string_view destiny_name(Destiny d) {
  switch (d) {
    case Destiny::kPass:
      return "D_PASS";
    case Destiny::kDiscard:
      return "D_DISCARD";
    case Destiny::kBounce:
      return "D_BOUNCE";
    case Destiny::kReject:
      return "D_REJECT";
    case Destiny::kTempfail:
      return "D_TEMPFAIL";
  }
  return "D_TEMPFAIL";
}

std::string_view category_log_name(Category c) {
  switch (c) {
    case Category::kClean:
      return "CLEAN";
    case Category::kOversized:
      return "OVERSIZED";
    case Category::kBadHeader:
      return "BAD-HEADER";
    case Category::kSpammy:
      return "SPAMMY";
    case Category::kSpam:
      return "SPAM";
    case Category::kUnchecked:
      return "UNCHECKED";
    case Category::kBanned:
      return "BANNED";
    case Category::kVirus:
      return "INFECTED";
  }
  return "UNCHECKED";
}

std::string_view category_key(Category c) {
  switch (c) {
    case Category::kClean:
      return "clean";
    case Category::kOversized:
      return "oversized";
    case Category::kBadHeader:
      return "bad_header";
    case Category::kSpammy:
      return "spammy";
    case Category::kSpam:
      return "spam";
    case Category::kUnchecked:
      return "unchecked";
    case Category::kBanned:
      return "banned";
    case Category::kVirus:
      return "virus";
  }
  return "unchecked";
}

}  // namespace filterd::policy
