// clamav_engine.cc — VirusScanner on an in-process libclamav engine.
//
// A CompiledEngine is one loaded and compiled cl_engine, immutable once
// built. ClamavEngine holds the current one in an atomic shared_ptr: scan()
// takes a reference for the duration of the scan, reload() builds a new one
// and swaps it in; the last scan on the old engine frees it.
//
// Diagnostics: libclamav's own messages go to spdlog with the scan's label.
// Load and scan errors are returned; the caller logs them with its context
// (the message id). Nothing from the scanned data is logged.
#include "scanners/clamav_engine.h"

#include <clamav.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <utility>

namespace filterd::scanners {
namespace {

// What one scan collects through libclamav's callbacks.
struct ScanContext {
  std::string_view label;
  VirusScanResult result;
  bool out_of_memory = false;
};

// Called by libclamav for every match (several per scan in all-match mode).
void on_virus_found(int /*fd*/, const char* virname, void* context) {
  auto* ctx = static_cast<ScanContext*>(context);
  if (ctx == nullptr || virname == nullptr) return;
  auto& names = ctx->result.viruses;
  if (names.size() >= kMaxVirusNames || std::ranges::find(names, virname) != names.end()) return;
  try {  // this runs inside C code: nothing may propagate out of it
    names.emplace_back(virname);
  } catch (const std::bad_alloc&) {
    ctx->out_of_memory = true;
  }
}

// Routes libclamav's messages to spdlog. During a scan `context` is that
// scan's ScanContext; during a database load it is null.
void on_libclamav_message(enum cl_msg severity, const char* /*fullmsg*/, const char* msg,
                          void* context) {
  std::string_view text = msg != nullptr ? msg : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  std::string_view label = "-";
  if (context != nullptr) label = static_cast<const ScanContext*>(context)->label;
  // Errors about one scanned object (malformed PE, broken archive) are
  // expected with hostile mail; they are warnings for filterd.
  auto level = severity == CL_MSG_ERROR  ? spdlog::level::warn
               : severity == CL_MSG_WARN ? spdlog::level::info
                                         : spdlog::level::debug;
  spdlog::log(level, "libclamav [{}]: {}", label, text);
}

std::expected<void, ScanError> init_libclamav_once() {
  static std::once_flag once;
  static cl_error_t rc = CL_SUCCESS;
  std::call_once(once, [] {
    cl_set_clcb_msg(&on_libclamav_message);
    rc = cl_init(CL_INIT_DEFAULT);
  });
  if (rc != CL_SUCCESS) {
    return std::unexpected(
        ScanError{ScanError::Kind::kInternal, std::string("cl_init: ") + cl_strerror(rc)});
  }
  return {};
}

ScanError::Kind kind_of_scan_error(cl_error_t rc) {
  switch (rc) {
    case CL_EMAXSIZE:
    case CL_EMAXREC:
    case CL_EMAXFILES:
    case CL_ETIMEOUT:
      return ScanError::Kind::kLimit;
    default:
      return ScanError::Kind::kInternal;
  }
}

// Options for a mail gateway: every parser, default heuristics, every
// match, and over-limit data as a named finding instead of a silent clean.
cl_scan_options mail_gateway_scan_options() {
  cl_scan_options options{};
  options.general = CL_SCAN_GENERAL_ALLMATCHES | CL_SCAN_GENERAL_HEURISTICS;
  options.parse = ~0U;
  options.heuristic = CL_SCAN_HEURISTIC_EXCEEDS_MAX;
  return options;
}

struct EngineDeleter {
  void operator()(cl_engine* engine) const { cl_engine_free(engine); }
};
using EnginePtr = std::unique_ptr<cl_engine, EngineDeleter>;

// One loaded and compiled engine. Immutable after load(): shared read-only
// by every scanning thread.
class CompiledEngine {
 public:
  static std::expected<std::shared_ptr<const CompiledEngine>, ScanError> load(
      const std::string& db_dir, const ClamavLimits& limits) {
    EnginePtr engine(cl_engine_new());
    if (!engine) return std::unexpected(ScanError{ScanError::Kind::kInternal, "cl_engine_new"});
    const auto clamp = [](unsigned long long v) -> long long {
      return static_cast<long long>(std::min<unsigned long long>(v, LLONG_MAX));
    };
    const std::pair<cl_engine_field, long long> settings[] = {
        {CL_ENGINE_MAX_SCANSIZE, clamp(limits.max_scan_size)},
        {CL_ENGINE_MAX_FILESIZE, clamp(limits.max_file_size)},
        {CL_ENGINE_MAX_RECURSION, limits.max_recursion},
        {CL_ENGINE_MAX_FILES, limits.max_files},
        {CL_ENGINE_MAX_SCANTIME, limits.max_scan_time_ms},
    };
    for (const auto& [field, value] : settings) {
      if (cl_error_t rc = cl_engine_set_num(engine.get(), field, value); rc != CL_SUCCESS) {
        return std::unexpected(ScanError{ScanError::Kind::kInternal,
                                         std::string("cl_engine_set_num: ") + cl_strerror(rc)});
      }
    }
    if (!limits.temp_dir.empty()) {
      if (cl_error_t rc =
              cl_engine_set_str(engine.get(), CL_ENGINE_TMPDIR, limits.temp_dir.c_str());
          rc != CL_SUCCESS) {
        return std::unexpected(ScanError{ScanError::Kind::kInternal,
                                         std::string("cl_engine_set_str: ") + cl_strerror(rc)});
      }
    }
    cl_engine_set_clcb_virus_found(engine.get(), &on_virus_found);

    unsigned signatures = 0;
    if (cl_error_t rc = cl_load(db_dir.c_str(), engine.get(), &signatures, CL_DB_STDOPT);
        rc != CL_SUCCESS) {
      return std::unexpected(
          ScanError{ScanError::Kind::kUnavailable,
                    "cannot load signatures from " + db_dir + ": " + cl_strerror(rc)});
    }
    if (cl_error_t rc = cl_engine_compile(engine.get()); rc != CL_SUCCESS) {
      return std::unexpected(
          ScanError{ScanError::Kind::kUnavailable,
                    "cannot compile signatures from " + db_dir + ": " + cl_strerror(rc)});
    }
    return std::shared_ptr<const CompiledEngine>(new CompiledEngine(std::move(engine), signatures));
  }

  const cl_engine* get() const { return engine_.get(); }
  unsigned signatures() const { return signatures_; }

 private:
  CompiledEngine(EnginePtr engine, unsigned signatures)
      : engine_(std::move(engine)), signatures_(signatures) {}

  EnginePtr engine_;
  unsigned signatures_;
};

// A snapshot of the database directory's files, for change polling.
class DbDirStat {
 public:
  DbDirStat() = default;
  DbDirStat(const DbDirStat&) = delete;
  DbDirStat& operator=(const DbDirStat&) = delete;
  ~DbDirStat() { cl_statfree(&stat_); }

  std::expected<void, ScanError> init(const std::string& db_dir) {
    if (cl_error_t rc = cl_statinidir(db_dir.c_str(), &stat_); rc != CL_SUCCESS) {
      return std::unexpected(ScanError{ScanError::Kind::kUnavailable,
                                       "cannot stat " + db_dir + ": " + cl_strerror(rc)});
    }
    return {};
  }
  // 0: unchanged, 1: changed, anything else: cl_error_t of a failed check.
  int check() const { return cl_statchkdir(&stat_); }

 private:
  cl_stat stat_{};
};

// A large part on disk is read by libclamav itself (pread): with aging,
// its fmap keeps a few MB of the file in memory at a time, where scanning
// the mapping would fault every page of it into filterd's RSS.
off_t pread_part(void* handle, void* buf, size_t count, off_t offset) {
  return ::pread(static_cast<int>(reinterpret_cast<intptr_t>(handle)), buf, count, offset);
}

class ClamavEngine final : public VirusScanner {
 public:
  ClamavEngine(std::string db_dir, ClamavLimits limits)
      : db_dir_(std::move(db_dir)), limits_(limits) {}

  std::expected<VirusScanResult, ScanError> do_scan(std::string_view data, std::string_view name,
                                                    const ScanOptions& scan) override {
    std::shared_ptr<const CompiledEngine> engine = engine_.load();
    if (!engine) return std::unexpected(ScanError{ScanError::Kind::kUnavailable, "no engine"});
    if (data.empty()) return VirusScanResult{};

    cl_fmap_t* map =
        fd_holds(scan.fd, data.size())
            ? cl_fmap_open_handle(reinterpret_cast<void*>(static_cast<intptr_t>(scan.fd)), 0,
                                  data.size(), &pread_part, /*use_aging=*/1)
            : cl_fmap_open_memory(data.data(), data.size());
    if (map == nullptr) {
      return std::unexpected(ScanError{ScanError::Kind::kInternal, "cl_fmap_open failed"});
    }
    ScanContext ctx{.label = name};
    cl_scan_options options = mail_gateway_scan_options();
    const char* virname = nullptr;
    unsigned long scanned = 0;
    // The label reaches libclamav's log lines through ScanContext; it is
    // not passed as the file name, which libclamav treats as a path.
    cl_error_t rc =
        cl_scanmap_callback(map, nullptr, &virname, &scanned, engine->get(), &options, &ctx);
    cl_fmap_close(map);

    if (ctx.out_of_memory) {
      return std::unexpected(ScanError{ScanError::Kind::kInternal, "out of memory"});
    }
    if (rc == CL_VIRUS && ctx.result.viruses.empty() && virname != nullptr) {
      ctx.result.viruses.emplace_back(virname);  // callback did not fire; keep the answer
    }
    // A virus found before an error is a firmer answer than the error.
    if (rc == CL_CLEAN || rc == CL_VIRUS || ctx.result.infected()) return std::move(ctx.result);
    return std::unexpected(
        ScanError{kind_of_scan_error(rc), std::string("libclamav: ") + cl_strerror(rc)});
  }

  // Compiles a new engine from db_dir_ and puts it in service. Failures
  // are returned, not logged: the caller logs them with its context.
  std::expected<void, ScanError> reload() override {
    std::lock_guard loading(load_mu_);
    // The snapshot is taken before loading, so a file that changes while
    // the engine compiles is seen as a change by the next poll.
    auto stat = std::make_unique<DbDirStat>();
    std::expected<std::shared_ptr<const CompiledEngine>, ScanError> engine;
    if (auto statted = stat->init(db_dir_); statted) {
      engine = CompiledEngine::load(db_dir_, limits_);
    } else {
      engine = std::unexpected(statted.error());
    }
    if (!engine) return std::unexpected(engine.error());
    engine_.store(*engine);
    {
      std::lock_guard lock(stat_mu_);
      stat_ = std::move(stat);
    }
    spdlog::debug("clamav: loaded {} signatures from {}", (*engine)->signatures(), db_dir_);
    return {};
  }

  bool database_changed() override {
    std::lock_guard lock(stat_mu_);
    if (!stat_) return true;
    int rc = stat_->check();
    if (rc == 0) return false;
    if (rc != 1) {
      // An unreadable directory counts as a change: the reload reports why.
      spdlog::warn("clamav: cannot check {} for changes: {}", db_dir_,
                   cl_strerror(static_cast<cl_error_t>(rc)));
    }
    return true;
  }

  std::string describe() const override {
    std::shared_ptr<const CompiledEngine> engine = engine_.load();
    const unsigned signatures = engine ? engine->signatures() : 0;
    return std::string("ClamAV ") + cl_retver() + " (libclamav, " + std::to_string(signatures) +
           " signatures)";
  }

 private:
  const std::string db_dir_;
  const ClamavLimits limits_;
  std::atomic<std::shared_ptr<const CompiledEngine>> engine_;
  std::mutex load_mu_;  // one load at a time
  std::mutex stat_mu_;  // guards stat_ (cl_statchkdir is not thread-safe)
  std::unique_ptr<DbDirStat> stat_;
};

}  // namespace

std::expected<std::unique_ptr<VirusScanner>, ScanError> make_clamav_engine(std::string db_dir,
                                                                           ClamavLimits limits) {
  if (auto init = init_libclamav_once(); !init) return std::unexpected(init.error());
  auto scanner = std::make_unique<ClamavEngine>(std::move(db_dir), limits);
  if (auto loaded = scanner->reload(); !loaded) return std::unexpected(loaded.error());
  return scanner;
}

}  // namespace filterd::scanners
