// eval_header_rcvd.cc — HeaderEval's tests over the Received headers and
// dates: shifted dates, forged free-mail Received trails, list gateways
// that strip Received headers.
#include <algorithm>
#include <cmath>

#include "spam/eval_internal.h"
#include "spam/eval_util.h"
#include "spam/ip_patterns.h"
#include "spam/perl_re.h"

namespace filterd::spam::eval {
namespace {

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  size_t b = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == '\n') {
      out.push_back(s.substr(b, i - b));
      b = i + 1;
    }
  return out;
}

std::string squeeze(std::string s) {
  RX(R"(\s+)").replace(s, " ", true);
  return s;
}

// HeaderEval::_get_received_header_times: the dates of the Received
// headers (top first), a leading local handover and fetchmail's line set
// aside as the fetch time.
std::vector<long long> received_times(const EvalContext& c) {
  std::vector<std::string> received;
  for (auto& l : lines_of(get(c, "Received")))
    if (RX(R"(\S)").search(l)) received.push_back(std::move(l));
  if (received.empty()) return {};
  if (RX(R"(\bfrom (?:localhost\s|(?:\S+ ){1,2}\S*\b127\.0\.0\.1\b))").search(received[0]) ||
      RX(R"(qmail \d+ invoked by uid \d+)").search(received[0])) {
    // The fetchmail line follows: both are local; otherwise keep it.
    if (received.size() > 1 &&
        RX(R"(\bby localhost with \w+ \(fetchmail-[\d.]+)").search(received[1]))
      received.erase(received.begin(), received.begin() + 2);
  } else if (RX(R"(\bby localhost with \w+ \(fetchmail-[\d.]+)").search(received[0])) {
    received.erase(received.begin());
  }
  std::vector<long long> out;
  std::vector<std::string> g;
  for (const auto& r : received)
    if (RX(R"((\s.?\d+ \S\S\S \d+ \d+:\d+:\d+ \S+))").search(r, g))
      if (auto t = parse_rfc822_date(g[1])) out.push_back(*t);
  return out;
}

// HeaderEval::_check_date_diff: Date (or Resent-Date) minus the Received
// date nearest to it, 0 when either is missing.
long long compute_date_diff(const EvalContext& c);

long long date_diff(const EvalContext& c) {
  if (!c.date_diff_memo) c.date_diff_memo = compute_date_diff(c);
  return *c.date_diff_memo;
}

long long compute_date_diff(const EvalContext& c) {
  std::optional<long long> date;
  for (const char* name : {"Resent-Date", "Date"}) {
    for (const auto& v : header_values(c, name)) {
      if (!v.empty()) date = parse_rfc822_date(v);
      if (date) break;
    }
    if (date) break;
  }
  if (!date) return 0;
  const std::vector<long long> times = received_times(c);
  if (times.empty()) return 0;
  std::vector<long long> diffs;
  for (long long t : times) diffs.push_back(*date - t);
  if (diffs.size() > 1 && diffs.back() == 0) diffs.pop_back();
  std::stable_sort(diffs.begin(), diffs.end(),
                   [](long long a, long long b) { return std::llabs(a) < std::llabs(b); });
  return diffs[0];
}

// HeaderEval::check_for_msn_groups_headers: a genuine MSN Groups message.
bool msn_groups(const EvalContext& c) {
  std::vector<std::string> g;
  if (!RXI(R"(<(\S+)\@groups\.msn\.com>)").search(get(c, "To"), g)) return false;
  const std::string list = g[1];
  if (!RX(R"(from mail pickup service by ((?:p\d\d\.)groups\.msn\.com)\b)")
           .search(get(c, "Received"), g))
    return false;
  const std::string server = g[1];
  if (list == "notifications")
    return PerlRe("^<\\S+\\@" + quotemeta(server) + ">").search(get(c, "Message-Id"));
  if (!PerlRe("^<" + quotemeta(list) + "-\\S+\\@groups\\.msn\\.com>").search(get(c, "Message-Id")))
    return false;
  return PerlRe(quotemeta(list) + "-bounce\\@groups\\.msn\\.com")
      .search(get(c, "EnvelopeFrom:addr"));
}

struct Hotmail {
  bool forged = false, missing = false;
};

// HeaderEval::_check_for_forged_hotmail_received_headers: a Hotmail HELO
// or source without Hotmail's own Received trail (forged), or a hotmail.com
// From without any (missing).
Hotmail hotmail(const EvalContext& c) {
  Hotmail out;
  const std::string rcvd = squeeze(get(c, "Received"));
  if (RX(R"(from mail pickup service by hotmail\.com with Microsoft SMTPSVC;)").search(rcvd))
    return out;
  if (msn_groups(c)) return out;
  const auto ip_hdr = c.text.get("X-Originating-Ip");
  const auto orig_hdr = c.text.get("X-OriginatorOrg");
  const bool ip = ip_hdr && RX(R"({IP})").search(*ip_hdr);
  const bool orig = orig_hdr && RX(R"(hotmail\.com|msonline\-outlook)").search(*orig_hdr);
  if (gated_through_received_hdr_remover(c, {})) return out;
  if ((ip && RX(R"(from (?:\S*\.)?hotmail.com \(\S+\.hotmail(?:\.msn)?\.com[ \)])").search(rcvd)) ||
      (orig &&
       RX(R"(from \S*\.outbound\.protection\.outlook\.com \(\S+\.outbound\.protection\.outlook\.com[ \)])")
           .search(rcvd)) ||
      (orig && RX(R"(from \S*\.(?:eur|nam)prd\d+\.prod\.outlook\.com \({IP}\))").search(rcvd)) ||
      (ip && RX(R"(from \S*\.hotmail.com \(\[{IP}\][ \):])").search(rcvd)) ||
      (ip && RX(R"(from \S+ by \S+\.hotmail(?:\.msn)?\.com with HTTP\;)").search(rcvd)) ||
      (ip && RX(R"(from \[66\.218.\S+\] by \S+\.yahoo\.com)").search(rcvd)))
    return out;
  if (RX(R"((?:from |HELO |helo=)\S*hotmail\.com\b)").search(rcvd))
    out.forged = true;
  else if (RXI(R"(\bhotmail\.com$)").search(get(c, "From:addr")))
    out.missing = true;
  return out;
}

}  // namespace

// check_for_shifted_date(min, max): Date minus the nearest Received date
// is in [min, max) hours ("undef": no bound).
double check_for_shifted_date(const EvalContext& c, Args args) {
  if (args.size() < 2) return 0;
  const double diff = static_cast<double>(date_diff(c));
  return (args[0] == "undef" || diff >= 3600 * std::atof(args[0].c_str())) &&
         (args[1] == "undef" || diff < 3600 * std::atof(args[1].c_str()));
}

// A list that strips Received headers (ezmlm's, MSN Groups) relayed the
// message, or it has no Received header at all.
double gated_through_received_hdr_remover(const EvalContext& c, Args) {
  const auto list = c.text.get("Mailing-List");
  if (list && RX(R"((?m)^contact \S+\@\S+\; run by ezmlm$)").search(*list)) {
    if (RX(R"((?m)^mailing list \S+\@\S+)").search(get(c, "Delivered-To")) &&
        RX(R"(qmail \d+ invoked (?:from network|by .{3,20})\); \d+ ... \d+)")
            .search(get(c, "Received")))
      return 1;
  }
  const auto rcvd = c.text.get("Received");
  if (!rcvd) return 1;
  return RX(R"(from groups\.msn\.com \(\S+\.msn\.com )").search(*rcvd);
}

// A Received line claims Hotmail but the trail is not Hotmail's.
double check_for_forged_hotmail_received_headers(const EvalContext& c, Args) {
  return hotmail(c).forged;
}

// From hotmail.com without any Hotmail Received trail.
double check_for_no_hotmail_received_headers(const EvalContext& c, Args) {
  return hotmail(c).missing;
}

// From eudoramail.com without the whowhere.com relay and X-Sender-Ip.
double check_for_forged_eudoramail_received_headers(const EvalContext& c, Args) {
  if (!RXI(R"(\beudoramail\.com$)").search(get(c, "From:addr"))) return 0;
  const std::string rcvd = squeeze(get(c, "Received"));
  const auto ip_hdr = c.text.get("X-Sender-Ip");
  const bool ip = ip_hdr && RX(R"({IP})").search(*ip_hdr);
  if (gated_through_received_hdr_remover(c, {})) return 0;
  if (RX(R"(by \S*whowhere.com\;)").search(rcvd) && ip) return 0;
  return 1;
}

// From yahoo.com but no relay or Received line of Yahoo's own.
double check_for_forged_yahoo_received_headers(const EvalContext& c, Args) {
  const std::string from = get(c, "From:addr");
  if (!RXI(R"(\byahoo\.com$)").search(from)) return 0;
  std::string rcvd = get(c, "Received");
  if (!get(c, "Resent-From").empty() && !get(c, "Resent-To").empty()) {
    const std::string x = get(c, "X-Received");
    if (!x.empty()) rcvd = x;
  }
  rcvd = squeeze(rcvd);
  if (gated_through_received_hdr_remover(c, {})) return 0;
  if (RX(R"( rdns=\S+\.yahoo\.com )").search(Relays::join(c.relays.trusted)) ||
      RX(R"(^[^\]]+ rdns=\S+\.yahoo\.com )").search(Relays::join(c.relays.untrusted)))
    return 0;
  if (RX(R"(by web\S+\.mail\S*\.yahoo\.com via HTTP)").search(rcvd) ||
      RX(R"(by sonic\S+\.consmr\.mail\S*\.yahoo\.com with HTTP)").search(rcvd) ||
      RX(R"(by smtp\S+\.yahoo\.com with SMTP)").search(rcvd) ||
      RX(R"(from \[{IP}\] by \S+\.(?:groups|scd|dcn)\.yahoo\.com with NNFMP)").search(rcvd))
    return 0;
  if (RX(R"(\bmailer\d+\.bulk\.scd\.yahoo\.com\b)").search(rcvd) &&
      RXI(R"(\@reply\.yahoo\.com$)").search(from))
    return 0;
  if (RX(R"(by \w+\.\w+\.yahoo\.com \(\d+\.\d+\.\d+/\d+\.\d+\.\d+\)(?: with ESMTP)? id \w+)")
          .search(rcvd))
    return 0;
  return 1;
}

// From juno.com without Juno's relay, X-Originating-IP and X-Mailer.
double check_for_forged_juno_received_headers(const EvalContext& c, Args) {
  if (!RXI(R"(\bjuno\.com$)").search(get(c, "From:addr"))) return 0;
  if (gated_through_received_hdr_remover(c, {})) return 0;
  const std::string xorig = get(c, "X-Originating-IP"), xmailer = get(c, "X-Mailer"),
                    rcvd = get(c, "Received");
  if (!xorig.empty()) {
    if (!RX(R"(from.*\b(?:juno|untd)\.com.*[\[\(]{IP}[\]\)].*by)").search(rcvd) &&
        !RX(R"( cookie\.(?:juno|untd)\.com )").search(rcvd))
      return 1;
    if (xmailer.find("Juno ") == std::string::npos) return 1;
  } else {
    if (RX(R"(from.*\bmail\.com.*\[{IP}\].*by)").search(rcvd)) {
      if (!RX(R"(\bmail\.com)").search(xmailer)) return 1;
    } else if (RX(R"(from (webmail\S+\.untd\.com) \(\1 \[{IP}\]\) by)").search(rcvd)) {
      if (!RX(R"(^Webmail Version \d)").search(xmailer)) return 1;
    } else {
      return 1;
    }
    if (!RX(R"({IP})").search(xorig)) return 1;
  }
  return 0;
}

// From gmail.com without Google's X-Received / submission trail or long
// X-Gm-Message-State and X-Google-Smtp-Source headers.
double check_for_forged_gmail_received_headers(const EvalContext& c, Args) {
  if (!RXI(R"(\bgmail\.com$)").search(get(c, "From:addr"))) return 0;
  const std::string xgms = get(c, "X-Gm-Message-State"), xss = get(c, "X-Google-Smtp-Source"),
                    xrcvd = get(c, "X-Received"), rcvd = get(c, "Received");
  if (RX(R"(by 10\.\S+ with SMTP id \S+)").search(xrcvd) ||
      RX(R"(by 2002\:a\d\d\:\w+\:\S+ with SMTP id \S+)").search(xrcvd) ||
      RX(R"(by smtp\.googlemail\.com with ESMTPSA id \S+)").search(rcvd))
    return 0;
  // Perl's length counts characters; the values are ASCII in practice.
  if (xgms.size() >= 60 && xss.size() >= 60) return 0;
  return 1;
}

// The Message-ID cannot be judged: a list (Lyris, ezmlm) or an MTA
// (iPlanet, "/CWT/DCE)") rewrote it.
double check_messageid_not_usable(const EvalContext& c, Args) {
  if (RXI(R"(<mailto:(?:leave-\S+|\S+-unsubscribe)\@\S+>$)").search(get(c, "List-Unsubscribe")))
    return 1;
  if (gated_through_received_hdr_remover(c, {})) return 1;
  const std::string rcvd = get(c, "Received");
  return RX(R"(/CWT/DCE\))").search(rcvd) || RX(R"(iPlanet Messaging Server)").search(rcvd);
}

}  // namespace filterd::spam::eval
