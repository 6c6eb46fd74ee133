// maps.cc — see maps.h.
#include "frontd/maps.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "frontd/address.h"

namespace filterd::frontd {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::expected<std::string, std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(path + ": cannot open");
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return std::unexpected(path + ": read error");
  return s.str();
}

}  // namespace

std::expected<TextMap, std::string> TextMap::parse(std::string_view text, std::string_view name) {
  TextMap out;
  // Logical lines: a physical line that starts with white space continues
  // the previous one (postmap(5)).
  std::string logical;
  int logical_line = 0;
  auto flush = [&]() -> std::expected<void, std::string> {
    std::string_view l = trim(logical);
    if (l.empty()) return {};
    size_t sp = l.find_first_of(" \t");
    std::string where = std::string(name) + ":" + std::to_string(logical_line);
    if (sp == std::string_view::npos) return std::unexpected(where + ": expected 'key value'");
    std::string key = ascii_lower(l.substr(0, sp));
    std::string value(trim(l.substr(sp)));
    if (!out.entries_.emplace(key, value).second) {
      return std::unexpected(where + ": duplicate key '" + key + "'");
    }
    return {};
  };
  int n = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++n;
    if (trim(line).empty() || trim(line).front() == '#') continue;
    if (is_space(line.front()) && !logical.empty()) {
      logical += ' ';
      logical += trim(line);
      continue;
    }
    if (auto r = flush(); !r) return std::unexpected(r.error());
    logical = std::string(line);
    logical_line = n;
  }
  if (auto r = flush(); !r) return std::unexpected(r.error());
  return out;
}

std::expected<TextMap, std::string> TextMap::load(const std::string& path) {
  auto text = read_file(path);
  if (!text) return std::unexpected(text.error());
  return parse(*text, path);
}

std::optional<std::string> TextMap::find(std::string_view key) const {
  auto it = entries_.find(ascii_lower(key));
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> TextMap::find_address(std::string_view address) const {
  if (auto v = find(address)) return v;
  Address a = split_address(address);
  if (a.domain.empty()) return std::nullopt;
  return find("@" + a.domain);
}

std::expected<std::string, std::string> map_path(std::string_view spec) {
  std::string_view path = spec;
  for (std::string_view type : {"texthash:", "hash:"}) {
    if (spec.starts_with(type)) path = spec.substr(type.size());
  }
  if (path.empty() || path.front() != '/') {
    return std::unexpected("expected texthash:/PATH, hash:/PATH or /PATH, got '" +
                           std::string(spec) + "'");
  }
  return std::string(path);
}

std::expected<DomainList, std::string> DomainList::parse(std::string_view spec) {
  DomainList out;
  auto add_word = [&](std::string_view w) { out.domains_.insert(ascii_lower(w)); };
  while (!spec.empty()) {
    size_t b = spec.find_first_not_of(" \t\r\n,");
    if (b == std::string_view::npos) break;
    spec.remove_prefix(b);
    size_t e = spec.find_first_of(" \t\r\n,");
    std::string_view word = spec.substr(0, e);
    spec = e == std::string_view::npos ? std::string_view() : spec.substr(e);
    if (word.starts_with("texthash:") || word.starts_with("hash:")) {
      auto path = map_path(word);
      if (!path) return std::unexpected(path.error());
      auto map = TextMap::load(*path);
      if (!map) return std::unexpected(map.error());
      for (const auto& [key, value] : map->entries()) add_word(key);
    } else if (word.front() == '/') {
      auto text = read_file(std::string(word));
      if (!text) return std::unexpected(text.error());
      std::istringstream lines(*text);
      for (std::string line; std::getline(lines, line);) {
        line = line.substr(0, line.find('#'));
        std::istringstream words(line);
        for (std::string w; words >> w;) add_word(w);
      }
    } else if (word.find(':') != std::string_view::npos) {
      return std::unexpected("unsupported table '" + std::string(word) +
                             "' (use names, /file or texthash:/file)");
    } else {
      add_word(word);
    }
  }
  return out;
}

bool DomainList::contains(std::string_view domain) const {
  return domains_.contains(ascii_lower(domain));
}

std::expected<MapFile, std::string> MapFile::open(std::string_view spec) {
  auto path = map_path(spec);
  if (!path) return std::unexpected(path.error());
  MapFile m;
  m.path_ = *path;
  auto r = m.reload(true);
  if (!r) return std::unexpected(r.error());
  return m;
}

std::expected<bool, std::string> MapFile::reload(bool force) {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return std::unexpected(path_ + ": cannot stat");
  if (!force && st.st_mtim.tv_sec == mtime_.tv_sec && st.st_mtim.tv_nsec == mtime_.tv_nsec &&
      st.st_size == size_) {
    return false;
  }
  auto map = TextMap::load(path_);
  if (!map) return std::unexpected(map.error());
  map_ = std::make_shared<const TextMap>(std::move(*map));
  mtime_ = st.st_mtim;
  size_ = st.st_size;
  return true;
}

}  // namespace filterd::frontd
