// main.cc — frontd, the bundled minimal MTA: wires config, logging, the
// local tables, the queue, the queue manager and the listeners.
//
// Usage: frontd [--config FILE] [--key=value ...]
//        frontd [--config FILE] check | -n | -a | queue list | queue flush
//        frontd [--config FILE] --check-config | --print-config
//        frontd --print-defaults | --hash-password | --help | --version
// Signals: SIGHUP re-reads virtual_mailbox_domains/maps and header_checks; SIGUSR1 makes every
// deferred message due now (queue flush); SIGTERM/SIGINT stop accepting,
// let transactions and deliveries in progress finish, and exit.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <iostream>

#include "filterd/logging.h"
#include "filterd/privileges.h"
#include "frontd/admin.h"
#include "frontd/auth.h"
#include "frontd/config.h"
#include "frontd/header_checks.h"
#include "frontd/local_directory.h"
#include "frontd/qmgr.h"
#include "frontd/queue_store.h"
#include "frontd/smtpd.h"
#include "frontd/tls.h"
#include "smtp/asio.h"

namespace {

namespace asio = boost::asio;
using filterd::frontd::Config;

constexpr const char* kUsage =
    "usage: frontd [--config FILE] [--key=value ...]\n"
    "       frontd [--config FILE] check | -n | -a | queue list | queue flush\n"
    "       frontd [--config FILE] --check-config | --print-config\n"
    "       frontd --print-defaults | --hash-password | --help | --version\n";
constexpr auto kShutdownGrace = std::chrono::seconds(30);
// How often map files are checked for changes (Postfix daemons notice a
// changed table within about this long, too).
constexpr auto kMapCheckInterval = std::chrono::seconds(5);

void log_all(const std::vector<std::string>& lines) {
  for (const auto& l : lines) spdlog::info("{}", l);
}

int run(const Config& config) {
  auto directory = filterd::frontd::LocalDirectory::open(config.virtual_mailbox_domains,
                                                         config.virtual_mailbox_maps);
  if (!directory) {
    spdlog::critical("{}", directory.error());
    return 1;
  }
  for (const char* sub : {"", "/queue", "/status", "/corrupt"}) {
    if (auto r = filterd::prepare_state_dir(config.queue_directory + sub, config.mail_owner); !r) {
      spdlog::critical("{}", r.error());
      return 1;
    }
  }
  asio::io_context io(1);
  asio::thread_pool disk(1);  // owns the QueueStore and all fsyncs
  filterd::frontd::Smtpd* smtpd_ptr = nullptr;
  filterd::frontd::PosixIo posix_io;
  auto store = filterd::frontd::QueueStore::open(config.queue_directory, posix_io);
  if (!store) {
    spdlog::critical("{}", store.error());
    return 1;
  }
  asio::thread_pool workers(1);  // password hashing and DNS stay off the I/O thread
  filterd::frontd::Qmgr qmgr(io, disk, workers, *store, config, *directory);
  std::shared_ptr<asio::ssl::context> tls;
  if (!config.tls_cert_file.empty() || !config.tls_key_file.empty()) {
    auto ctx = filterd::frontd::make_tls_context(config.tls_cert_file, config.tls_key_file);
    if (!ctx) {
      spdlog::critical("{}", ctx.error());
      return 1;
    }
    tls = *ctx;
  }
  std::unique_ptr<filterd::frontd::Authenticator> auth;
  if (!config.sasl_path.empty()) {
    auto a = filterd::frontd::make_authenticator(config.sasl_type, config.sasl_path, workers);
    if (!a) {
      spdlog::critical("{}", a.error());
      return 1;
    }
    auth = std::move(*a);
    spdlog::info("SASL: PLAIN LOGIN via {}", auth->describe());
  }
  filterd::frontd::Smtpd smtpd(io, config, *directory, qmgr, tls, auth.get());
  // header_checks: loaded now (an error stops start-up) and on SIGHUP (an
  // error keeps the old table).
  auto load_header_checks = [&](bool starting) {
    if (config.header_checks.empty()) return true;
    auto hc = filterd::frontd::HeaderChecks::load(config.header_checks);
    if (!hc) {
      if (starting) {
        spdlog::critical("header_checks: {}", hc.error());
      } else {
        spdlog::error("header_checks: {}; keeping the old rules", hc.error());
      }
      return false;
    }
    spdlog::info("header_checks: {} rules from {}", hc->size(), config.header_checks);
    smtpd.set_header_checks(std::make_shared<const filterd::frontd::HeaderChecks>(std::move(*hc)));
    return true;
  };
  if (!load_header_checks(true)) return 1;
  smtpd_ptr = &smtpd;
  try {
    smtpd.bind();
  } catch (const boost::system::system_error& e) {
    spdlog::critical("cannot listen: {}", e.what());
    return 1;
  }
  if (auto r = filterd::drop_privileges(config.mail_owner); !r) {
    spdlog::critical("{}", r.error());
    return 1;
  }
  const std::string pid_path = filterd::frontd::pid_file(config);
  if (auto r = posix_io.write_atomic(pid_path, std::to_string(::getpid()) + "\n", false); !r) {
    spdlog::warn("pid file: {} (frontd queue flush will not find this daemon)", r.error().what);
  }
  qmgr.start();
  smtpd.start();

  asio::steady_timer map_timer(io);
  std::function<void(boost::system::error_code)> check_maps = [&](boost::system::error_code ec) {
    if (ec) return;
    log_all(directory->refresh(false));
    map_timer.expires_after(kMapCheckInterval);
    map_timer.async_wait(check_maps);
  };
  map_timer.expires_after(kMapCheckInterval);
  map_timer.async_wait(check_maps);

  asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
  signals.add(SIGUSR1);
  asio::steady_timer grace(io);
  std::function<void(boost::system::error_code, int)> on_signal = [&](boost::system::error_code ec,
                                                                      int sig) {
    if (ec) return;
    if (sig == SIGHUP || sig == SIGUSR1) {
      if (sig == SIGHUP) {
        spdlog::info("SIGHUP: reloading tables");
        log_all(directory->refresh(true));
        load_header_checks(false);
      } else {
        qmgr.flush();
      }
      signals.async_wait(on_signal);
      return;
    }
    spdlog::info("signal {}: stopping ({} connections, {} deliveries active)", sig,
                 smtpd_ptr->active_connections(), qmgr.in_flight());
    smtpd.stop();
    qmgr.stop();
    map_timer.cancel();
    grace.expires_after(kShutdownGrace);
    grace.async_wait([&](boost::system::error_code) { io.stop(); });
    auto poll = std::make_shared<std::function<void()>>();
    auto tick = std::make_shared<asio::steady_timer>(io);
    *poll = [&, poll, tick] {
      if (smtpd.active_connections() == 0 && qmgr.in_flight() == 0) return io.stop();
      tick->expires_after(std::chrono::milliseconds(100));
      tick->async_wait([poll](boost::system::error_code) { (*poll)(); });
    };
    (*poll)();
  };
  signals.async_wait(on_signal);
  spdlog::info("frontd ready: {} (content_filter {})", config.myhostname,
               config.content_filter ? config.content_filter->str() : "none");
  io.run();
  disk.join();
  workers.join();
  (void)posix_io.remove(pid_path);
  spdlog::info("frontd stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  filterd::frontd::LoadOptions load;
  bool check = false, print = false;
  std::vector<std::string> command;  // "check", "queue list", "-a", ...
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage << "\n" << filterd::frontd::describe_options();
      return 0;
    } else if (a == "--version") {
      std::cout << "frontd 0.1.0\n";
      return 0;
    } else if (a == "--hash-password") {
      // Reads a password from stdin, prints a yescrypt hash for smtpd_sasl_path.
      std::string pw;
      std::getline(std::cin, pw);
      const std::string h = filterd::frontd::hash_password(pw);
      if (h.empty()) {
        std::cerr << "frontd: cannot hash the password\n";
        return 1;
      }
      std::cout << h << "\n";
      return 0;
    } else if (a == "--print-defaults") {
      std::cout << filterd::frontd::default_config_file();
      return 0;
    } else if (a == "--check-config") {
      check = true;
    } else if (a == "--print-config" || a == "-n") {
      print = true;
    } else if (a == "check" || a == "queue" || a == "list" || a == "flush" || a == "-a") {
      command.push_back(a);
    } else if (a == "--config" || a == "-c") {
      if (++i >= argc) {
        std::cerr << "frontd: --config needs a file\n" << kUsage;
        return 2;
      }
      load.config_file = argv[i];
    } else if (a.starts_with("--config=")) {
      load.config_file = a.substr(9);
    } else if (a.starts_with("--") && a.find('=') != std::string::npos) {
      load.overrides.push_back(a);
    } else {
      std::cerr << "frontd: unknown argument '" << a << "'\n" << kUsage;
      return 2;
    }
  }
  auto config = filterd::frontd::load_config(load);
  if (!config) {
    std::cerr << "frontd: " << config.error() << "\n";
    return 1;
  }
  if (check) {
    std::cout << "frontd: configuration OK\n";
    return 0;
  }
  if (!command.empty()) {
    std::string cmd;
    for (const auto& w : command) cmd += (cmd.empty() ? "" : " ") + w;
    if (cmd == "check") return filterd::frontd::run_check(*config, std::cout);
    if (cmd == "-a") return filterd::frontd::run_sasl_report(*config, std::cout);
    if (cmd == "queue list") return filterd::frontd::run_queue_list(*config, std::cout);
    if (cmd == "queue flush") return filterd::frontd::run_queue_flush(*config, std::cout);
    std::cerr << "frontd: unknown command '" << cmd << "'\n" << kUsage;
    return 2;
  }
  if (print) {
    std::cout << filterd::frontd::non_default_settings(load);
    return 0;
  }
  if (auto r = filterd::setup_logging(config->log, config->log_level, "frontd"); !r) {
    std::cerr << "frontd: " << r.error() << "\n";
    return 1;
  }
  if (config->relay_options.tls != filterd::smtp::ClientOptions::Tls::kNone) {
    auto ctx = filterd::frontd::make_client_tls_context();
    if (!ctx) {
      std::cerr << "frontd: " << ctx.error() << "\n";
      return 1;
    }
    config->relay_options.tls_context = *ctx;
  }
  return run(*config);
}
