// admin.cc — see admin.h.
#include "frontd/admin.h"

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "frontd/auth.h"
#include "frontd/header_checks.h"
#include "frontd/local_directory.h"
#include "frontd/queue_store.h"
#include "frontd/tls.h"

namespace filterd::frontd {
namespace {

struct Report {
  std::ostream& out;
  int errors = 0;
  void ok(const std::string& what) { out << "ok:      " << what << "\n"; }
  void warn(const std::string& what) { out << "warning: " << what << "\n"; }
  void error(const std::string& what) {
    out << "error:   " << what << "\n";
    ++errors;
  }
};

std::string mode_owner(const struct stat& st) {
  std::ostringstream s;
  const passwd* pw = getpwuid(st.st_uid);
  s << std::oct << std::setw(4) << std::setfill('0') << (st.st_mode & 07777) << " "
    << (pw ? pw->pw_name : std::to_string(st.st_uid));
  return s.str();
}

void check_dir(Report& r, const std::string& what, const std::string& dir, const std::string& owner,
               bool private_dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    r.warn(what + " " + dir + " does not exist yet (frontd creates it)");
    return;
  }
  if (!S_ISDIR(st.st_mode)) return r.error(what + " " + dir + " is not a directory");
  if (!owner.empty()) {
    const passwd* pw = getpwnam(owner.c_str());
    if (pw != nullptr && st.st_uid != pw->pw_uid) {
      return r.error(what + " " + dir + " is owned by " + mode_owner(st) + ", not " + owner);
    }
  }
  if (private_dir && (st.st_mode & 077) != 0) {
    return r.warn(what + " " + dir + " is readable by others (" + mode_owner(st) +
                  "): queued mail is private");
  }
  r.ok(what + " " + dir + " (" + mode_owner(st) + ")");
}

}  // namespace

std::string pid_file(const Config& config) {
  return config.queue_directory + "/frontd.pid";
}

int run_check(const Config& c, std::ostream& out) {
  Report r{out};
  r.ok("configuration loads (myhostname " + c.myhostname + ")");
  auto dir = LocalDirectory::open(c.virtual_mailbox_domains, c.virtual_mailbox_maps);
  if (!dir) {
    r.error(dir.error());
  } else {
    const DirectorySnapshot snap = dir->snapshot();
    r.ok("virtual_mailbox_domains: " + std::to_string(snap.domains->size()) + " domains");
    if (snap.domains->size() == 0) r.warn("no virtual_mailbox_domains: frontd accepts no mail");
    if (snap.mailboxes) {
      r.ok("virtual_mailbox_maps: " + std::to_string(snap.mailboxes->size()) + " mailboxes");
      for (const auto& [key, value] : snap.mailboxes->entries()) {
        if (!value.ends_with('/')) {
          r.warn("virtual_mailbox_maps: " + key + " -> " + value +
                 " has no trailing /: frontd delivers only to Maildir (mail would be deferred)");
        }
      }
    } else if (snap.domains->size() > 0) {
      r.error("virtual_mailbox_maps is empty: every local recipient would be rejected");
    }
  }
  if (!c.header_checks.empty()) {
    auto hc = HeaderChecks::load(c.header_checks);
    if (hc) {
      r.ok("header_checks: " + std::to_string(hc->size()) + " rules");
    } else {
      r.error("header_checks: " + hc.error());
    }
  }
  if (!c.tls_cert_file.empty() || !c.tls_key_file.empty()) {
    auto tls = make_tls_context(c.tls_cert_file, c.tls_key_file);
    if (tls) {
      r.ok("TLS certificate and key " + c.tls_cert_file);
    } else {
      r.error(tls.error());
    }
  }
  if (!c.sasl_path.empty()) {
    boost::asio::thread_pool pool(1);
    auto a = make_authenticator(c.sasl_type, c.sasl_path, pool);
    pool.join();
    if (a) {
      r.ok("SASL backend " + (*a)->describe());
    } else {
      r.error(a.error());
    }
  }
  check_dir(r, "queue_directory", c.queue_directory, c.mail_owner, true);
  check_dir(r, "virtual_mailbox_base", c.virtual_mailbox_base, c.mailbox_owner ? "" : c.mail_owner,
            false);
  if (c.mailbox_owner && !c.mail_owner.empty()) {
    const passwd* pw = getpwnam(c.mail_owner.c_str());
    if (pw != nullptr && pw->pw_uid != c.mailbox_owner->uid) {
      r.warn("mail_owner " + c.mail_owner + " is not virtual_uid_maps' uid " +
             std::to_string(c.mailbox_owner->uid) +
             ": frontd cannot give delivered mail to that uid after dropping root");
    }
  }
  if (!c.content_filter) r.warn("no content_filter: mail is delivered unscanned");
  if (c.smtp_listen.empty() && c.submission_listen.empty() && c.smtps_listen.empty()) {
    r.warn("no smtp, submission or smtps listener");
  }
  out << (r.errors == 0 ? "frontd check: no errors\n"
                        : "frontd check: " + std::to_string(r.errors) + " error(s)\n");
  return r.errors == 0 ? 0 : 1;
}

int run_sasl_report(const Config& c, std::ostream& out) {
  out << "backends: passwd_file dovecot\n";
  out << "mechanisms: PLAIN LOGIN\n";
  if (c.sasl_path.empty()) {
    out << "configured: none (set smtpd_sasl_type and smtpd_sasl_path)\n";
    return 0;
  }
  out << "configured: " << c.sasl_type << ":" << c.sasl_path << "\n";
  std::string where;
  if (!c.submission_listen.empty()) where += " submission";
  if (!c.smtps_listen.empty()) where += " smtps";
  if (c.smtp_sasl_auth_enable) where += " smtp";
  out << "offered on:" << (where.empty() ? " (no service)" : where)
      << (c.tls_auth_only ? " (after TLS only)" : "") << "\n";
  return 0;
}

int run_queue_list(const Config& c, std::ostream& out) {
  PosixIo io;
  struct stat st {};
  if (::stat((c.queue_directory + "/queue").c_str(), &st) != 0) {
    out << "frontd: queue_directory " << c.queue_directory << " has no queue\n";
    return 1;
  }
  auto store = QueueStore::open(c.queue_directory, io);
  if (!store) {
    out << "frontd: " << store.error() << "\n";
    return 1;
  }
  std::vector<std::string> problems;
  std::vector<QueueEntry> entries = store->list(problems);
  for (const auto& p : problems) out << "warning: " << p << "\n";
  if (entries.empty()) {
    out << "Mail queue is empty\n";
    return 0;
  }
  std::sort(entries.begin(), entries.end(), [](const QueueEntry& a, const QueueEntry& b) {
    return a.header.arrival_ms < b.header.arrival_ms;
  });
  out << "-Queue ID-   --Size-- ----Arrival Time---- --Stage-- -Sender/Recipient-------\n";
  unsigned long long total = 0;
  for (const QueueEntry& e : entries) {
    const std::time_t t = static_cast<std::time_t>(e.header.arrival_ms / 1000);
    char when[32];
    std::strftime(when, sizeof when, "%a %b %d %H:%M:%S", std::localtime(&t));
    total += e.header.size;
    out << std::left << std::setw(12) << e.header.id << " " << std::right << std::setw(8)
        << e.header.size << " " << when << " " << std::left << std::setw(9)
        << (e.header.stage == Stage::kFilter ? "filter" : "deliver") << " "
        << (e.header.envelope.sender.empty() ? "MAILER-DAEMON" : e.header.envelope.sender) << "\n";
    if (!e.status.reason.empty()) out << std::string(53, ' ') << "(" << e.status.reason << ")\n";
    for (size_t i = 0; i < e.header.envelope.recipients.size(); ++i) {
      if (e.status.done.contains(i)) continue;
      out << std::string(53, ' ') << e.header.envelope.recipients[i].address << "\n";
    }
  }
  out << "-- " << (total + 1023) / 1024 << " Kbytes in " << entries.size() << " Request"
      << (entries.size() == 1 ? "" : "s") << ".\n";
  return 0;
}

int run_queue_flush(const Config& c, std::ostream& out) {
  std::ifstream in(pid_file(c));
  long pid = 0;
  if (!(in >> pid) || pid <= 1) {
    out << "frontd: no running frontd (" << pid_file(c) << " missing or empty)\n";
    return 1;
  }
  // Never signal a recycled pid: it must be a frontd.
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  if (!(comm >> name) || name != "frontd") {
    out << "frontd: pid " << pid << " from " << pid_file(c) << " is not a running frontd\n";
    return 1;
  }
  if (::kill(static_cast<pid_t>(pid), SIGUSR1) != 0) {
    out << "frontd: cannot signal pid " << pid << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  out << "frontd: queue flush requested (pid " << pid << ")\n";
  return 0;
}

}  // namespace filterd::frontd
