// dsn.cc — see dsn.h.
#include "policy/dsn.h"

#include <ctime>

#include "policy/mail_text.h"
#include "smtp/command.h"

namespace filterd::policy {
namespace {

// Header and DSN fields must stay 7-bit single lines (RFC 3464 §2.1.1).
std::string clean_line(std::string_view s) {
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    out += (u < 32 || u > 126) ? ' ' : c;
  }
  return out;
}

std::string crlf_lines(std::string_view block) {
  std::string out;
  out.reserve(block.size() + block.size() / 40);
  for (size_t i = 0; i < block.size(); ++i) {
    if (block[i] == '\n' && (i == 0 || block[i - 1] != '\r')) out += '\r';
    out += block[i];
  }
  if (!out.ends_with("\r\n")) out += "\r\n";
  return out;
}

}  // namespace

bool failure_dsn_wanted(const smtp::Envelope& env, const smtp::Recipient& rcpt) {
  if (env.sender.empty()) return false;  // RFC 3464 §2: never bounce a bounce
  if (rcpt.notify.empty()) return true;
  return rcpt.notify.find("FAILURE") != std::string::npos;
}

std::string rfc5322_date(long long t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S %z", &tm);
  return buf;
}

std::string compose_dsn(const DsnInput& in) {
  const std::string boundary = "----------=_" + in.mail_id + "-DSN";
  const std::string host = clean_line(in.reporting_mta);
  std::string m;
  m += "From: Content-filter at " + host + " <MAILER-DAEMON@" + host + ">\r\n";
  m += "To: <" + clean_line(in.sender) + ">\r\n";
  if (in.subject.empty()) {
    m += "Subject: Undelivered mail returned to sender\r\n";
  } else {
    m += unstructured_field("Subject", in.subject);
  }
  m += "Date: " + in.date + "\r\n";
  m += "Message-ID: <DSN" + in.mail_id + "@" + host + ">\r\n";
  m += "Auto-Submitted: auto-replied\r\n";  // RFC 3834 §5
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: multipart/report; report-type=delivery-status;\r\n"
       " boundary=\"" +
       boundary + "\"\r\n";
  // RFC 2045 §6.4: a multipart holding an 8bit part is itself 8bit.
  const std::string human = crlf_text(in.human_text);
  const bool eight_bit = !is_ascii(human);
  if (eight_bit) m += "Content-Transfer-Encoding: 8bit\r\n";
  m += "\r\nThis is a MIME-encapsulated message.\r\n\r\n";

  m += "--" + boundary + "\r\n";
  if (human.empty()) {
    m += "Content-Type: text/plain; charset=us-ascii\r\n";
    m += "Content-Description: Notification\r\n\r\n";
    m += "This is the mail system at host " + host + ".\r\n\r\n";
    m += "Your message could not be delivered to one or more recipients.\r\n";
    m += "Reason: " + clean_line(in.reason) + "\r\n\r\n";
    for (const auto& r : in.recipients) {
      m += "<" + clean_line(r.address) + ">: " + clean_line(r.reply.one_line()) + "\r\n";
    }
  } else {
    m += "Content-Type: text/plain; charset=UTF-8\r\n";
    if (eight_bit) m += "Content-Transfer-Encoding: 8bit\r\n";
    m += "Content-Description: Notification\r\n\r\n";
    m += human;
  }
  m += "\r\n--" + boundary + "\r\n";
  m += "Content-Type: message/delivery-status\r\n";
  m += "Content-Description: Delivery report\r\n\r\n";
  m += "Reporting-MTA: dns; " + host + "\r\n";
  if (!in.envid.empty()) {
    auto envid = smtp::xtext_decode(in.envid);
    if (envid) m += "Original-Envelope-Id: " + clean_line(*envid) + "\r\n";
  }
  m += "Arrival-Date: " + in.arrival_date + "\r\n";
  for (const auto& r : in.recipients) {
    m += "\r\nFinal-Recipient: rfc822; " + clean_line(r.address) + "\r\n";
    if (size_t semi = r.orcpt.find(';'); semi != std::string::npos) {
      auto addr = smtp::xtext_decode(std::string_view(r.orcpt).substr(semi + 1));
      if (addr) {
        m += "Original-Recipient: " + clean_line(r.orcpt.substr(0, semi)) + "; " +
             clean_line(*addr) + "\r\n";
      }
    }
    m += "Action: failed\r\n";
    const std::string status = smtp::checked_status(r.reply.code, r.reply.status);
    m += "Status: " + status + "\r\n";
    m += "Diagnostic-Code: smtp; " + clean_line(r.reply.one_line()) + "\r\n";
    m += "Last-Attempt-Date: " + in.date + "\r\n";
  }
  m += "\r\n--" + boundary + "\r\n";
  m += "Content-Type: text/rfc822-headers\r\n";
  m += "Content-Description: Undelivered-message headers\r\n\r\n";
  m += crlf_lines(in.original_headers);
  m += "\r\n--" + boundary + "--\r\n";
  return m;
}

}  // namespace filterd::policy
