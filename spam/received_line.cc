// received_line.cc — parse_received_line: one Received header into a relay,
// restating Metadata::Received::parse_received_line's cascade of known MTA
// formats (SpamAssassin 4.0.1). The first format that matches decides the
// fields; lines that are local handovers are kIgnored, lines no format
// fits (and that name no IP and `by`) are kUnparseable.
#include <cctype>
#include <vector>

#include "spam/ip_patterns.h"
#include "spam/perl_re.h"
#include "spam/received.h"

namespace filterd::spam {
namespace {

constexpr size_t kMaxLine = 8192;  // longer Received lines are cut

struct Fields {
  std::string ip, helo, rdns, by, id, ident, auth;
  std::optional<std::string> envfrom;
  bool looked_up_dns = false;
};

// Exim's "(helo=X ident=Y)" comment, as the parser reads it.
void exim_sub(std::string sub, Fields& f) {
  std::vector<std::string> g;
  if (RX(R"(helo=(\S+))").search(sub, g)) {
    f.helo = g[1];
    RX(R"(helo=(\S+))").replace(sub, "");
  }
  if (RX(R"(ident=(\S*))").search(sub, g)) f.ident = g[1];
}

// The formats after "from ", in the parser's order. Returns kRelay when one
// matched (`f` filled), kIgnored for a known non-relay, kUnparseable when no
// format fits (the caller then tries the generic [IP] + by fallback).
ReceivedLine::Kind parse_from(std::string& s, Fields& f, ReceivedLine& out) {
  using K = ReceivedLine::Kind;
  std::vector<std::string> g;
  auto m = [&](const PerlRe& re) { return re.search(s, g); };

  if (m(RXI(R"((?:return-path:? |envelope-(?:sender|from)[ =])(\S+)\b)"))) f.envfrom = g[1];
  if (m(RX(R"( \((?:SquirrelMail|NaSMail) authenticated user )")) &&
      m(RX(R"(({IP})\b(?![.-]).{10,80}by (\S+) with HTTP)"))) {
    f.ip = g[1], f.by = g[2];
    return K::kRelay;
  }
  if (m(RX(R"(aol\.com)")) && m(RX(R"(with HTTP \(WebMailUI\))")) &&
      m(RX(R"(({IP}) by (\S+) \({IP}\) with HTTP \(WebMailUI\))"))) {
    f.ip = g[1], f.by = g[2];
    return K::kRelay;
  }
  if (m(RX(R"( SMTPSVC)"))) {
    if (m(RX(R"(^(\S*) \(\[({IP})\][^\)]{0,40}\) by (\S+) with Microsoft SMTPSVC)"))) {
      f.helo = g[1], f.ip = g[2], f.by = g[3];
      return K::kRelay;
    }
    if (m(RX(R"(^mail pickup service by (\S+) with Microsoft SMTPSVC$)"))) return K::kIgnored;
  } else if (
      m(RX(
          R"( with (?:Microsoft SMTP Server|mapi id) (?:\([^\)]+\) )?\d+\.\d+\.\d+\.\d+(?:$| ))"))) {
    if (m(RX(R"(^(\S+) \(\[?({IP})(?:%[A-Z0-9._~-]*)?\]?\) by (\S+) )"))) {
      f.helo = g[1], f.ip = g[2], f.by = g[3], f.id.clear();
      return K::kRelay;
    }
  } else if (m(RX(R"(\[XMail )"))) {
    if (m(RX(R"(^(\S+) \((\[?{IP}\]?)(?::\d+)\) by (\S+)(?: \(\S+\))? with \[XMail)"))) {
      f.helo = g[1], f.ip = g[2], f.by = g[3];
      if (m(RX(R"( id <(\S+)>)"))) f.id = g[1];
      if (m(RX(R"( from <(\S+)>)"))) f.envfrom = g[1];
      return K::kRelay;
    }
  } else if (m(RX(R"(\(ecelerity\b)"))) {
    if (m(RX(R"(^\(\[({IP}):\d+\] helo=(\S+)\) by (\S+) )"))) {
      f.ip = g[1], f.helo = g[2], f.by = g[3];
      return K::kRelay;
    }
    if (m(RX(R"(^\S+ \(\[({IP}):\d+\]\) by (\S+) )"))) {
      f.ip = g[1], f.by = g[2];
      return K::kRelay;
    }
  } else if (m(RX(R"(Exim)"))) {
    if (m(RX(R"(\bwith local(?:-\S+)? )"))) return K::kIgnored;
    if (m(RX(R"(^\[({IP})\] \((.*?)\) by (\S+) )"))) {
      f.ip = g[1], f.by = g[3];
      exim_sub(g[2], f);
      return K::kRelay;
    }
    if (m(RX(R"(^(\S+) \(\[({IP})\](.*?)\) by (\S+) )"))) {
      f.rdns = g[1], f.ip = g[2], f.by = g[4], f.helo = f.rdns;
      exim_sub(g[3], f);
      return K::kRelay;
    }
    if (m(RX(R"(^(\S+) \[({IP})\](:\d+)? by (\S+) )"))) {
      f.rdns = g[1], f.ip = g[2], f.helo = g[1], f.by = g[4];
      return K::kRelay;
    }
    if (m(RX(R"(^(\S+) )"))) f.rdns = g[1];
    if (m(RX(R"( \((\S+)\) )"))) f.helo = g[1];
    if (m(RX(R"( \[({IP})(?:\.\d+)?\] )"))) f.ip = g[1];
    if (m(RX(R"(by (\S+) )"))) {
      f.by = g[1];
      if (!f.ip.empty()) return K::kRelay;
    }
  } else if (m(RX(R"( \(Postfix\) with)"))) {
    if (m(RX(R"(^(\S+) \((\S+) \[({IP})\]\) by (\S+) )")) ||
        m(RX(R"(^(\S+) \((\S+)\[({IP})\]\) by (\S+) )"))) {
      f.looked_up_dns = true;
      f.helo = g[1], f.rdns = g[2], f.ip = g[3], f.by = g[4];
      if (f.rdns == "unknown") f.rdns.clear();
      return K::kRelay;
    }
  } else if (m(RX(R"(\(Scalix SMTP Relay)"))) {
    if (m(RX(R"(^(\S+) \( ?({IP})\) by (\S+))"))) {
      f.helo = g[1], f.ip = g[2], f.by = g[3];
      return K::kRelay;
    }
  } else if (m(RX(R"( \(Lotus Domino )"))) {
    if (m(RX(R"(^(\S+) \(\[({IP})\]\) by (\S+) \(Lotus)"))) {
      f.looked_up_dns = false;
      f.helo = g[1], f.ip = g[2], f.by = g[3];
      return K::kRelay;
    }
  }

  if (m(RX(R"(\bwith HTTP\b)")) && m(RX(R"(^({IP}) \(\[{IP}\]\) by (\S+))"))) {
    f.ip = g[1], f.by = g[2];
    return K::kRelay;
  }
  if (!m(RX(R"( by \S+ \(qmail-\S+\) with )")) &&
      m(RX(R"(^(\S+) \((\S+) \[({IP})\].*\) by (\S+) \()"))) {
    f.looked_up_dns = true;
    f.helo = g[1], f.rdns = g[2], f.ip = g[3], f.by = g[4];
    std::vector<std::string> h;
    if (RX(R"(^IDENT:([^\@]*)\@)").search(f.rdns, h)) {
      f.ident = h[1];
      RX(R"(^IDENT:([^\@]*)\@)").replace(f.rdns, "");
    }
    if (RX(R"(^([^\@]*)\@)").search(f.rdns, h)) {
      f.ident = h[1];
      RX(R"(^([^\@]*)\@)").replace(f.rdns, "");
    }
    return K::kRelay;
  }
  if (m(RX(R"(^(\S+) \((\S+) \[({IP})\]\) by (\S+) with \S+ \()"))) {
    f.looked_up_dns = true;
    f.rdns = g[2], f.ip = g[3], f.helo = g[1], f.by = g[4];
    return K::kRelay;
  }
  if (m(RX(R"(^(\S+) \(\[({IP})\] helo=(\S+)\) by (\S+) with )"))) {
    f.rdns = g[1], f.ip = g[2], f.helo = g[3], f.by = g[4];
    return K::kRelay;
  }
  if (m(RX(R"(^(\S+) \(<unknown\S*>\[({IP})\]\) by (\S+) )"))) {
    f.helo = g[1], f.ip = g[2], f.by = g[3];
    return K::kRelay;
  }
  if (m(RX(R"(^(\S+) \((\S+\.\S+)\[({IP})\]\) by (\S+) )"))) {
    f.looked_up_dns = true;
    f.helo = g[1], f.rdns = g[2], f.ip = g[3], f.by = g[4];
    return K::kRelay;
  }
  if (m(RX(R"(^(\S+) \((\S*)\@\[({IP})\].*\) by (\S+) \()"))) {
    f.looked_up_dns = true;
    f.helo = g[1], f.ip = g[3], f.by = g[4], f.ident = g[2];
    return K::kRelay;
  }
  if (m(RX(R"(by (\S+\.hotmail\.msn\.com) )"))) {
    f.by = g[1];
    if (m(RX(R"(^({IP}) )"))) f.ip = g[1];
    return K::kRelay;
  }
  if (m(RX(
          R"(^(\S+) \((?:HELO|EHLO) (\S*)\) \(({IP})\) by (\S+) \(qpsmtpd/\S+\) with (?:ESMTP|SMTP))")) ||
      m(RX(R"(^(\S+) \(LHLO (\S*)\) \(({IP})\) by (\S+) with LMTP)")) ||
      m(RX(
          R"(^(\S+) \((?:HELO|EHLO) (\S*)\) \[({IP})\] by (\S+) \([^\)]+\) with (?:ESMTP|SMTP))"))) {
    f.rdns = g[1], f.helo = g[2], f.ip = g[3], f.by = g[4];
    return K::kRelay;
  }
  if (m(RX(R"(^(\S+) \(\[({IP})\]\) by (\S+) via smtpd \(for \S+\) with SMTP\()"))) {
    f.helo = g[1], f.ip = g[2], f.by = g[3];
    return K::kRelay;
  }
  // qmail and its relatives.
  if (m(RX(
          R"(^\S+( \((?:HELO|EHLO) \S*\))? \((\S+\@)?\[?{IP}\]?\)( \(envelope-sender <\S+>\))? by \S+( \(.+\))* with (.* )?(SMTP|QMQP)(?! id ))"))) {
    if (m(RX(
            R"(^(\S+) \((?:HELO|EHLO) ([^ \(\)]*)\) \((\S*)\@\[?({IP})\]?\)( \(envelope-sender <\S+>\))? by (\S+))"))) {
      f.rdns = g[1], f.helo = g[2], f.ident = g[3], f.ip = g[4], f.by = g[6];
    } else if (
        m(RX(
            R"(^(\S+) \((?:HELO|EHLO) ([^ \(\)]*)\) \(\[?({IP})\]?\)( \(envelope-sender <\S+>\))? by (\S+))"))) {
      f.rdns = g[1], f.helo = g[2], f.ip = g[3], f.by = g[5];
    } else if (m(RX(R"(^(\S+) \((\S*)\@\[?({IP})\]?\)( \(envelope-sender <\S+>\))? by (\S+))"))) {
      f.helo = f.rdns = g[1], f.ident = g[2], f.ip = g[3], f.by = g[5];
    } else if (m(RX(R"(^(\S+) \(\[?({IP})\]?\)( \(envelope-sender <\S+>\))? by (\S+))"))) {
      f.helo = f.rdns = g[1], f.ip = g[2], f.by = g[4];
    }
    if (f.rdns != "unknown")
      f.looked_up_dns = true;
    else
      f.rdns.clear();
    return K::kRelay;
  }
  if (m(RX(R"( via HTTP$)")) && m(RX(R"(^\[({IP})\] by (\S+) via HTTP$)"))) {
    f.ip = g[1], f.by = g[2];
    return K::kRelay;
  }
  if (m(RX(R"(^(\S+) \( \[({IP})\]\).*? by (\S+) )"))) {
    f.ip = g[2], f.by = g[3];
    return K::kRelay;
  }
  if (m(RX(R"(^\((\S+) \[({IP})\]\) by (\S+) )"))) {
    f.helo = g[1], f.ip = g[2], f.by = g[3];
    return K::kRelay;
  }
  if (m(RX(R"(^\[({IP})\] by (\S+) )")) || m(RX(R"(^\(\[?({IP})\]?\) by (\S+) )"))) {
    f.ip = g[1], f.by = g[2];
    return K::kRelay;
  }
  if (m(RX(R"(^(\S+) \[({IP})\] by (\S+) \[{IP}\] with )"))) {
    f.looked_up_dns = true;
    f.helo = g[1], f.ip = g[2], f.by = g[3];
    return K::kRelay;
  }
  if (m(RX(R"(^(\S+) \[\(({IP})\)\] by (\S+) \({IP}\) )"))) {
    f.helo = g[1], f.ip = g[2], f.by = g[3];
    return K::kRelay;
  }
  if (m(RX(R"(^(\S+) \(\[({IP})\]\) by (\S+) \()"))) {  // sendmail
    f.looked_up_dns = true;
    f.helo = g[1], f.ip = g[2], f.by = g[3];
    return K::kRelay;
  }
  if (m(RX(R"(^(\S+) \((\S+) \[({IP})\]\).*? by (\S+)\b)"))) {        // sendmail
    if (g[2] != "softdnserr") f.looked_up_dns = true, f.rdns = g[2];  // couriertcpd's
    f.helo = g[1], f.ip = g[3], f.by = g[4];
    return K::kRelay;
  }
  if (m(RX(R"(^(\S+) \(\[({IP})(?:[.:]\d+)?\]\).*? by (\S+) )"))) {
    f.looked_up_dns = true;
    f.helo = g[1], f.ip = g[2], f.by = g[3];
    return K::kRelay;
  }
  if (m(RX(R"(^(\S+) \((\S+) \[({IP})\]\)(?: \(authenticated bits=\d+\))? by (\S+) \()"))) {
    f.looked_up_dns = true;
    f.helo = g[1], f.rdns = g[2], f.ip = g[3], f.by = g[4];
    return K::kRelay;
  }
  if (m(RX(R"(with (?:POP3|IMAP))"))) {
    out.pop_fetcher = true;
    return K::kIgnored;
  }
  if (m(RX(R"(^(\S+) \((?:HELO|EHLO) ([^\)]*)\) \((\S*@)?\[?({IP})\]?\).* by (\S+) )"))) {
    f.looked_up_dns = true;
    f.rdns = g[1], f.helo = g[2], f.ident = g[3], f.ip = g[4], f.by = g[5];
    if (f.ident.ends_with('@')) f.ident.pop_back();
    return K::kRelay;
  }
  if (m(RX(R"(^(\S+) \((\S*@)?\[?({IP})\]?\).* by (\S+) )"))) {
    f.looked_up_dns = true;
    f.rdns = f.helo = g[1], f.ident = g[2], f.ip = g[3], f.by = g[4];
    if (f.ident.ends_with('@')) f.ident.pop_back();
    return K::kRelay;
  }
  return K::kUnparseable;  // continued in parse_from_rest
}

// The formats after the generic ones (still after "from ").
ReceivedLine::Kind parse_from_rest(std::string& s, Fields& f, ReceivedLine& out) {
  using K = ReceivedLine::Kind;
  std::vector<std::string> g;
  auto m = [&](const PerlRe& re) { return re.search(s, g); };
  auto ip_by = [&](size_t ip, size_t by) {
    f.ip = g[ip], f.by = g[by];
    return K::kRelay;
  };
  if (m(RX(R"( with http for )")) && m(RX(R"(^\[({IP})\] by (\S+) with http for )")))
    return ip_by(1, 2);
  if (m(RX(R"( via smap )")) && m(RX(R"(^(\S+)\(({IP})\) by (\S+) via smap )"))) {
    f.looked_up_dns = true;
    f.rdns = g[1];
    return ip_by(2, 3);
  }
  if (m(RX(R"(^(\S+)\(({IP}), (?:HELO|EHLO) (\S*)\) by (\S+) via smap )"))) {
    f.looked_up_dns = true;
    f.rdns = g[1], f.helo = g[3];
    return ip_by(2, 4);
  }
  if (m(RX(R"( \(Post)")) && m(RX(R"(^\[({IP})\] by (\S+) \(Post)"))) return ip_by(1, 2);
  if (m(RX(R"( \(ArGoSoft)")) && m(RX(R"(^\[({IP})\] by (\S+) \(ArGoSoft)"))) return ip_by(1, 2);
  if (m(RX(R"(^({IP}) by (\S+) \((?:SMTPL|InterScan)\b)"))) return ip_by(1, 2);
  if (m(RX(R"( with BSMTP)")) && m(RX(R"(^\S+ by \S+ with BSMTP)"))) return K::kIgnored;
  if (m(RX(R"(^(\S+) \((\S+) \[({IP})\]\) by (\S+) with )"))) {
    f.looked_up_dns = true;
    f.helo = g[1], f.rdns = g[2];
    return ip_by(3, 4);
  }
  if (m(RX(R"(^(\S+) \((?:HELO|EHLO) (\S*)\) \((?:(\S+)\@)?({IP}).*?\) by (\S+) with )"))) {
    f.looked_up_dns = true;
    f.rdns = g[1], f.helo = g[2], f.ident = g[3];
    return ip_by(4, 5);
  }
  if (m(RX(R"(^\[({IP})\] \((?:account \S+ )?(?:HELO|EHLO) (\S*)\) by (\S+) \()"))) {
    f.helo = g[2];
    return ip_by(1, 3);
  }
  if (m(RX(R"( \(CommuniGate Pro)")) && m(RX(R"(^(\S+) \(\[({IP})\] verified\) by (\S+) \()"))) {
    f.looked_up_dns = true;
    f.rdns = f.helo = g[1];
    return ip_by(2, 3);
  }
  if (m(RX(R"(^\(\[({IP})\]\) by (\S+) with )"))) return ip_by(1, 2);
  if (m(RX(R"(^([^\d]\S+) \(({IP})\) by (\S+) )"))) {
    f.helo = g[1];
    return ip_by(2, 3);
  }
  if (m(RX(R"(^\S+ \(\S+\) by \S+ \(Content Technologies )"))) return K::kIgnored;
  if (m(RX(R"(^(\S+) \(\[({IP})\] \[(\S+)\]\) by (\S+) with )"))) {
    f.helo = g[1];
    return ip_by(2, 4);
  }
  if (m(RX(R"(^({IP}) by (\S+) with )"))) return ip_by(1, 2);
  if (m(RX(R"(^(\S+) \((\S+)\[({IP})\]\) by (\S+) )"))) {
    f.looked_up_dns = true;
    f.helo = g[1], f.rdns = g[2];
    return ip_by(3, 4);
  }
  if (m(RX(R"(^\[({IP})\]\S+ \((?:HELO|EHLO) (\S*)\) by (\S+) )")) ||
      m(RX(R"(^({IP}) \((?:HELO|EHLO) (\S*)\) by (\S+) )"))) {
    f.helo = g[2];
    return ip_by(1, 3);
  }
  if (m(RX(R"(^(\S+) \[({IP})\] by (\S+) )"))) {
    f.helo = g[1];
    return ip_by(2, 3);
  }
  if (m(RX(R"(^(\S+)\(({IP})\) by (\S+) )"))) {
    f.rdns = g[1];
    return ip_by(2, 3);
  }
  if (m(RX(R"(^\[({IP})\] by (\S+) \(MailGate )"))) return ip_by(1, 2);
  if (m(RX(R"(^(\S+) \(unverified \[({IP})\]\) by (\S+) )"))) {
    f.helo = g[1];
    return ip_by(2, 3);
  }
  if (m(RX(R"(^({IP}) \([A-Za-z][^\)]+\) by (\S+) with )"))) return ip_by(1, 2);
  if (m(RX(R"(^\[({IP})\] \(([^\)]+)\) by (\S+) )"))) {
    f.ip = g[1], f.by = g[3];
    exim_sub(g[2], f);
    return K::kRelay;
  }
  if (m(RX(R"(^(\S+) \((?:\S+\@)?({IP})\) by (\S+) with )"))) {
    f.rdns = g[1];
    return ip_by(2, 3);
  }
  if (m(RX(R"re(^(\S+)\(({IP})\)(?:, claiming to be "(\S+)")? via \S+ by (\S+),)re"))) {
    f.rdns = g[1], f.helo = g[3];
    if (g[1] != "UNKNOWN") f.looked_up_dns = true;
    return ip_by(2, 4);
  }
  if (m(RX(R"(^(\S+) \((\S+)@({IP}) with login\) by (\S+\.yahoo\.com) with SMTP)"))) {
    f.helo = g[1];
    return ip_by(3, 4);
  }
  if (m(RX(R"(^X-Originating-IP: ({IP})$)"))) {
    f.ip = g[1], f.by.clear();
    return K::kRelay;
  }
  // Known local or internal handovers.
  const PerlRe* ignored[] = {
      &RX(R"(^\S+ \([^\s\@]+\@{LOCALHOST}\) by \S+ \()"),
      &RX(R"(^\S+ \S+ by \S+ with local-e?smtp )"),
      &RX(R"(^127\.0\.0\.1 \(AVG SMTP \S+ \[\S+\]\))"),
      &RX(R"(^\S+\@\S+ by \S+ by uid \S+ )"),
      &RX(R"(^\S+\@\S+ by \S+ )"),
      &RX(R"(^Unknown/Local \()"),
      &RX(R"(^{LOCALHOST} \((?:\S+\@)?{LOCALHOST}[\)\[])"),
      &RX(R"(^\S+ \((?:\S+\@)?{LOCALHOST}\) )"),
      &RX(R"(^\S+ \(\S+\@\S+ \[{LOCALHOST}\]\) )"),
      &RX(R"(^\(AUTH: \S+\) by \S+ with )"),
      &RX(R"(^localhost \(localhost \[\[UNIX: localhost\]\]\) by )"),
      &RX(R"(^\S+\.amazon\.com by \S+\.amazon\.com with ESMTP \(peer crosscheck: )"),
      &RX(R"(^[^\.]+ by \S+ with Novell_GroupWise)"),
      &RX(R"(^no\.name\.available by \S+ via smtpd \(for )"),
  };
  for (const PerlRe* re : ignored)
    if (m(*re)) return K::kIgnored;
  if (m(RX(R"(^\S+ by \S+ \(.{0,100}\) with qmail-scanner)"))) {
    if (f.envfrom) {
      std::string e = *f.envfrom;
      RX(R"(^\s*<*)").replace(e, "", true);
      RX(R"(>*\s*$)").replace(e, "", true);
      RX(R"([\s\000\#\[\]\(\)\<\>\|])").replace(e, "!", true);
      out.qmail_scanner_envfrom = e;
    } else {
      out.qmail_scanner_envfrom = std::nullopt;
    }
    return K::kIgnored;
  }
  const PerlRe* ignored2[] = {
      &RX(R"(^\S+ by \S+ with local)"),
      &RX(R"(^\S+ \(\[unix socket\]\) by \S+ \(Cyrus v[0-9]*?\.[0-9]*?\.[0-9]*?\) with LMTPA)"),
      &RX(R"(^\S+ by \S+ (?:with|via|for|\())"),
      &RX(R"(^\S+ (?:(?:with|via|for) \S+|\(unverified\)) by\b)"),
      &RX(R"(^\S+ \(unknown\) by \S+ \(SG\) with \b)"),
      &RX(R"(^\S+ \(\S+ \[local\]\) by \S+ \(OpenSMTPD\) with \b)"),
      &RX(R"(\(LSMTP for)"),
      &RX(R"(^\(\[{LOCALHOST}\]\) with MailEnable )"),
      &RX(R"(^facebook\.com \([^\)]+\) by facebook\.com with Thrift id \S+$)"),
      &RX(R"(^\S+ named \S+ by gmailapi\.google\.com with HTTPREST$)"),
      &RX(R"(^\S+ id \S+$)"),
      &RX(R"(^\[<.*? \(Jetsend)"),
  };
  for (const PerlRe* re : ignored2)
    if (m(*re)) return K::kIgnored;
  if (f.helo.empty() && m(RX(R"(^(\S+)[^-A-Za-z0-9\.])"))) f.helo = g[1];
  return K::kUnparseable;
}

}  // namespace

ReceivedLine parse_received_line(std::string_view line_in) {
  using K = ReceivedLine::Kind;
  ReceivedLine out;
  std::string s(line_in.substr(0, kMaxLine));
  RX(R"(\s+)").replace(s, " ", true);
  if (s.starts_with(' ')) s.erase(0, 1);
  if (s.ends_with(' ')) s.pop_back();
  while (RX(R"(\s?;$)").replace(s, "")) {
  }
  std::vector<std::string> g;
  auto m = [&](const PerlRe& re) { return re.search(s, g); };
  out.kind = K::kIgnored;
  if (!m(RXI(R"(^\(?from )"))) return out;
  if (m(RX(R"(\bwith local for\b)"))) return out;
  if (m(RXI(R"(^from (\S+) by [^\s;]+ ?;)")) && !RX(R"(^\[[\d.]+\]$)").search(g[1])) return out;
  // The date at the end goes.
  RX(R"([\s;]+(?:(?:Mon|T(?:ue|hu)|Wed|Fri|S(?:at|un)), )?\d+ (?:J(?:an|u[nl])|Feb|Ma[ry]|A(?:pr|ug)|Sep|Oct|Nov|Dec) \d+ \d+:\d+(?::\d+)? \S+$)")
      .replace(s, "");
  RX(R"(\)by )").replace(s, ") by ");

  Fields f;
  if (m(RX(R"( id <?([^\s<>;]{3,}))"))) f.id = g[1];
  if (m(RX(R"(\bhelo=([-A-Za-z0-9\.\^+_&:=?!@%*\$\\/]+)(?:[^-A-Za-z0-9\.\^+_&:=?!@%*\$\\/]|$))")))
    f.helo = g[1];
  else if (
      m(RX(
          R"(\b(?:HELO|EHLO) ([-A-Za-z0-9\.\^+_&:=?!@%*\$\\/]+)(?:[^-A-Za-z0-9\.\^+_&:=?!@%*\$\\/]|$))")))
    f.helo = g[1];
  if (m(RX(R"( by (\S+)(?:[^-A-Za-z0-9\;\.]|$))"))) f.by = g[1];

  // How the sender authenticated, if the line says.
  if (m(RX(R"( by )")) &&
      m(RXI(R"( with ((?:ES|L|UTF8S|UTF8L)MTPS?A|ASMTP|HTTP[SU]?)(?: |;|$))"))) {
    f.auth = g[1];
  } else if (
      m(RX(
          R"( by mx\.google\.com with ESMTPS id [a-z0-9]{1,4}sm[0-9]{2,9}[a-z]{3}\.[0-9]{1,3}\.[0-9]{4}\.(?:[0-6][0-9]\.){4}[0-6][0-9])")) &&
      m(RX(R"(\(version=([^ ]+) cipher=([^\)]+)\))"))) {
    f.auth = "GMail - transport=" + g[1] + " cipher=" + g[2];
  } else if (
      m(RX(
          R"(^from .*?(?:\]\)|\)\]) \(AUTH: (LOGIN|PLAIN|DIGEST-MD5|CRAM-MD5) \S+(?:, .*?)?\) by )"))) {
    f.auth = g[1];
  } else if (m(RX(R"(authenticated)")) &&
             m(RX(R"(^from .*?(?:\](?: \([^)]*\))?\)|\)\]) .*?\(.*?authenticated.*?\).*? by)"))) {
    f.auth = "Sendmail";
  } else if (
      m(RX(
          R"(from \S* \((?:HELO|EHLO) (\S*)\) \[({IP})\] by (mail\.gmx\.(?:net|com)) \([^\)]+\) with ((?:ESMTP|SMTP)))"))) {
    f.auth = "GMX (" + g[4] + " / " + g[3] + ")";
  } else if (m(RX(R"( \(authenticated as )")) &&
             m(RX(
                 R"(\) by .+ \(\d{1,2}\.\d\.\d{3}(?:\.\d{1,3})?\) \(authenticated as .+\) id )"))) {
    f.auth = "CriticalPath";
  } else if (m(RX(R"(\) \(Authenticated sender: \S+\) by \S+ \(([^\)]+)\) with )"))) {
    f.auth = g[1] == "Postfix" ? g[1] : "Postfix (" + g[1] + ")";
  } else if (m(RX(R"(CommuniGate Pro (HTTP|SMTP|XIMSS|IMAP))")) && m(RX(R"( \(account )"))) {
    f.auth = "Communigate";
  } else if (m(RX(R"( with Microsoft Exchange Server HTTP-DAV\b)"))) {
    f.auth = "HTTP-DAV";
  } else if (m(RX(R"( by )")) && m(RXI(R"( \(via (HTTP.?)\)(?: |;|$))"))) {
    f.auth = g[1];
  }

  K kind = K::kUnparseable;
  if (s.starts_with("from ")) {
    s.erase(0, 5);
    kind = parse_from(s, f, out);
    if (kind == K::kUnparseable) kind = parse_from_rest(s, f, out);
    if (kind == K::kIgnored) {
      out.kind = kind;
      return out;
    }
  } else if (s.starts_with("FROM ")) {
    s.erase(0, 5);
    if (m(RX(
            R"(^(\S+) \((\S+) \[({IP})\]\) BY (\S+) (?:\([^\)]+\) WITH SMTP )?ID <?(\S+?)>?(?: FOR <[^>]+>)?$)"))) {
      f.looked_up_dns = true;
      f.helo = g[1], f.rdns = g[2], f.ip = g[3], f.by = g[4], f.id = g[5];
      if (f.rdns == "unverified") f.rdns.clear();
      kind = K::kRelay;
    }
  } else if (s.starts_with("(from ")) {
    s.erase(0, 6);
    if (m(RX(R"(^(\S*) \[({IP})\]\) by (\S+) \(NAVGW .*?\) with )"))) {
      f.helo = g[1], f.ip = g[2], f.by = g[3];
      kind = K::kRelay;
    } else if (m(RX(R"(^\S+\@localhost\) by \S+ )")) ||
               m(RX(R"(^[^\s\@]+\@[^)]+\) by \S+\(jqueuemail\) id [^\s;]+)"))) {
      out.kind = K::kIgnored;
      return out;
    }
  }
  if (kind != K::kRelay) {
    if (f.ip.empty() && m(RX(R"(\[({IP})\])"))) f.ip = g[1];
    if (f.ip.empty() || f.by.empty()) {
      out.kind = K::kUnparseable;
      return out;
    }
  }

  // Clean-up of what was found.
  RX(R"(\.+\z)").replace(f.rdns, "");
  if (RXI(R"(^unknown$)").search(f.rdns) || f.rdns.starts_with('[')) f.rdns.clear();
  RXI(R"(^ipv6:)").replace(f.ip, "");
  if (f.ip.starts_with('[')) f.ip.erase(0, 1);
  if (f.ip.ends_with(']')) f.ip.pop_back();
  RXI(R"(%[A-Z0-9._~-]*\z)").replace(f.ip, "");
  RXI(R"(^0*:0*:(?:0*:)*ffff:(\d+\.\d+\.\d+\.\d+)$)").replace(f.ip, "$1");
  if (f.by.ends_with(';')) f.by.pop_back();
  const PerlRe& strip = RX(R"([\s\000\#\[\]\(\)\<\>\|])");
  for (std::string* v : {&f.ip, &f.rdns, &f.helo, &f.by, &f.ident}) strip.replace(*v, "!", true);
  if (f.envfrom) {
    RX(R"(^\s*<*)").replace(*f.envfrom, "", true);
    RX(R"(>*\s*$)").replace(*f.envfrom, "", true);
    strip.replace(*f.envfrom, "!", true);
  }

  Relay& r = out.relay;
  r.ip = f.ip, r.by = f.by, r.helo = f.helo, r.id = f.id, r.ident = f.ident;
  r.envfrom = f.envfrom, r.auth = f.auth, r.rdns = f.rdns;
  auto lower = [](std::string v) {
    for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return v;
  };
  r.lc_by = lower(r.by), r.lc_helo = lower(r.helo), r.lc_rdns = lower(r.rdns);
  if (r.rdns.empty()) (f.looked_up_dns ? r.no_reverse_dns : r.rdns_not_in_headers) = true;
  static const PerlRe kPrivate(ip_patterns::kIpPrivate);
  r.ip_private = kPrivate.search(r.ip);
  out.kind = K::kRelay;
  return out;
}

}  // namespace filterd::spam
