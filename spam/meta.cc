// meta.cc — see meta.h. Expressions are parsed with a shunting-yard (no
// recursion, so no .cf line can exhaust the stack) into reverse Polish
// code; metas are ordered by an iterative depth-first search that reports
// cycles.
#include "spam/meta.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <expected>
#include <unordered_set>

namespace filterd::spam {
namespace {

using Code = MetaProgram::Op::Code;

struct Token {
  enum class Kind { kName, kNumber, kOp, kOpen, kClose } kind;
  std::string_view text;
};

constexpr std::string_view kOps[] = {"&&", "||", "<=", ">=", "==", "!=", "!",
                                     "<",  ">",  "+",  "-",  "*",  "/"};

// Tokens of `s`, or the offset of the first character that starts none.
std::expected<std::vector<Token>, size_t> tokenize(std::string_view s, size_t max_tokens) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    if (std::isspace(c)) {
      ++i;
      continue;
    }
    if (out.size() >= max_tokens) return std::unexpected(i);
    size_t j = i;
    if (std::isalpha(c) || c == '_') {
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      out.push_back({Token::Kind::kName, s.substr(i, j - i)});
    } else if (std::isdigit(c) || (c == '.' && i + 1 < s.size() && std::isdigit(s[i + 1]))) {
      while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) ++j;
      out.push_back({Token::Kind::kNumber, s.substr(i, j - i)});
    } else if (c == '(' || c == ')') {
      out.push_back({c == '(' ? Token::Kind::kOpen : Token::Kind::kClose, s.substr(i, 1)});
      j = i + 1;
    } else {
      for (std::string_view op : kOps) {
        if (s.substr(i).starts_with(op)) {
          out.push_back({Token::Kind::kOp, op});
          j = i + op.size();
          break;
        }
      }
      if (j == i) return std::unexpected(i);
    }
    i = j;
  }
  return out;
}

struct BinaryOp {
  std::string_view text;
  Code code;
  int precedence;
};
constexpr BinaryOp kBinary[] = {{"*", Code::kMul, 6}, {"/", Code::kDiv, 6},  {"+", Code::kAdd, 5},
                                {"-", Code::kSub, 5}, {"<", Code::kLt, 4},   {">", Code::kGt, 4},
                                {"<=", Code::kLe, 4}, {">=", Code::kGe, 4},  {"==", Code::kEq, 3},
                                {"!=", Code::kNe, 3}, {"&&", Code::kAnd, 2}, {"||", Code::kOr, 1}};
constexpr int kUnaryPrecedence = 7;

struct Pending {  // an operator or "(" waiting on the shunting-yard stack
  Code code;
  int precedence;  // 0 for "("
};

// Reverse Polish code of `expr`; names are resolved with `slot_of`.
std::expected<std::vector<MetaProgram::Op>, std::string> parse(
    std::string_view expr, size_t max_tokens,
    const std::function<size_t(std::string_view)>& slot_of) {
  auto tokens = tokenize(expr, max_tokens);
  if (!tokens) {
    return std::unexpected("unexpected character or too long at offset " +
                           std::to_string(tokens.error()));
  }
  std::vector<MetaProgram::Op> out;
  std::vector<Pending> stack;
  bool want_operand = true;
  auto flush = [&](int precedence) {  // pops operators that bind at least as tightly
    while (!stack.empty() && stack.back().precedence >= precedence && stack.back().precedence > 0) {
      out.push_back({stack.back().code});
      stack.pop_back();
    }
  };
  for (const Token& t : *tokens) {
    auto unexpected = [&] { return std::unexpected("unexpected '" + std::string(t.text) + "'"); };
    if (want_operand) {
      if (t.kind == Token::Kind::kName) {
        out.push_back({Code::kLoad, 0, slot_of(t.text)});
        want_operand = false;
      } else if (t.kind == Token::Kind::kNumber) {
        double v = 0;
        auto [end, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
        if (ec != std::errc() || end != t.text.data() + t.text.size()) return unexpected();
        out.push_back({Code::kPush, v});
        want_operand = false;
      } else if (t.kind == Token::Kind::kOpen) {
        stack.push_back({Code::kPush, 0});
      } else if (t.text == "!" || t.text == "-") {
        stack.push_back({t.text == "!" ? Code::kNot : Code::kNeg, kUnaryPrecedence});
      } else if (t.text != "+") {  // unary plus does nothing
        return unexpected();
      }
      continue;
    }
    if (t.kind == Token::Kind::kClose) {
      flush(1);
      if (stack.empty()) return std::unexpected("unbalanced ')'");
      stack.pop_back();
      continue;
    }
    const BinaryOp* op = nullptr;
    for (const auto& b : kBinary) {
      if (t.kind == Token::Kind::kOp && b.text == t.text) op = &b;
    }
    if (!op) return unexpected();
    flush(op->precedence);  // all binary operators are left-associative
    stack.push_back({op->code, op->precedence});
    want_operand = true;
  }
  if (want_operand) return std::unexpected(tokens->empty() ? "empty" : "ends without an operand");
  flush(1);
  if (!stack.empty()) return std::unexpected("unbalanced '('");
  return out;
}

bool truthy(double v) {
  return v != 0;
}

double run(const std::vector<MetaProgram::Op>& code, std::span<const double> values,
           std::vector<double>& stack) {
  stack.clear();
  for (const auto& op : code) {
    if (op.code == Code::kPush || op.code == Code::kLoad) {
      stack.push_back(op.code == Code::kPush ? op.number : values[op.slot]);
      continue;
    }
    double& a =
        op.code == Code::kNot || op.code == Code::kNeg ? stack.back() : stack[stack.size() - 2];
    double b = stack.back();
    switch (op.code) {
      case Code::kNot:
        a = truthy(a) ? 0 : 1;
        break;
      case Code::kNeg:
        a = -a;
        break;
      case Code::kMul:
        a *= b;
        break;
      case Code::kDiv:
        a = b == 0 ? 0 : a / b;
        break;
      case Code::kAdd:
        a += b;
        break;
      case Code::kSub:
        a -= b;
        break;
      case Code::kLt:
        a = a < b;
        break;
      case Code::kGt:
        a = a > b;
        break;
      case Code::kLe:
        a = a <= b;
        break;
      case Code::kGe:
        a = a >= b;
        break;
      case Code::kEq:
        a = a == b;
        break;
      case Code::kNe:
        a = a != b;
        break;
      case Code::kAnd:
        a = truthy(a) ? b : a;
        break;
      case Code::kOr:
        a = truthy(a) ? a : b;
        break;
      default:
        break;
    }
    if (op.code != Code::kNot && op.code != Code::kNeg) stack.pop_back();
  }
  return stack.empty() ? 0 : stack.back();
}

}  // namespace

std::optional<size_t> MetaProgram::slot(std::string_view name) const {
  auto it = slots_.find(std::string(name));
  if (it == slots_.end()) return std::nullopt;
  return it->second;
}

void MetaProgram::evaluate(std::span<double> values) const {
  std::vector<double> stack;
  for (const auto& c : order_) {
    double v = c.code.empty() ? 0 : run(c.code, values, stack);
    values[c.slot] = v == 0 || std::isnan(v) ? 0 : (v > 0 ? v : 1);
  }
}

void MetaProgram::evaluate(std::unordered_map<std::string, double>& hits) const {
  std::vector<double> values(names_.size(), 0);
  for (size_t i = 0; i < names_.size(); ++i) {
    if (auto it = hits.find(names_[i]); it != hits.end()) values[i] = it->second;
  }
  evaluate(std::span(values));
  for (const auto& c : order_) {
    if (values[c.slot] != 0) hits[names_[c.slot]] = values[c.slot];
  }
}

MetaProgram compile_metas(std::span<const MetaDef> metas,
                          const std::function<bool(std::string_view)>& is_known,
                          const MetaLimits& limits) {
  MetaProgram p;
  using Diag = MetaDiagnostic;
  auto slot_of = [&](std::string_view name) {
    auto [it, fresh] = p.slots_.try_emplace(std::string(name), p.names_.size());
    if (fresh) p.names_.emplace_back(name);
    return it->second;
  };
  // A later definition replaces an earlier one, as in SpamAssassin.
  std::unordered_map<size_t, size_t> meta_of_slot;  // slot -> index into `defs`
  std::vector<const MetaDef*> defs;
  for (const auto& m : metas) {
    auto [it, fresh] = meta_of_slot.try_emplace(slot_of(m.name), defs.size());
    if (fresh) {
      defs.push_back(&m);
    } else {
      defs[it->second] = &m;
    }
  }
  std::vector<MetaProgram::Compiled> compiled(defs.size());
  std::vector<std::vector<size_t>> deps(defs.size());  // indexes into defs
  std::unordered_set<std::string> reported;            // unknown names said once per meta
  for (size_t i = 0; i < defs.size(); ++i) {
    const MetaDef& m = *defs[i];
    compiled[i].slot = slot_of(m.name);
    if (m.expression.size() > limits.max_expression_bytes) {
      p.diagnostics_.push_back({Diag::Kind::kSyntax, m.name, "expression too long"});
      continue;
    }
    auto code = parse(m.expression, limits.max_tokens, slot_of);
    if (!code) {
      p.diagnostics_.push_back({Diag::Kind::kSyntax, m.name, code.error()});
      continue;
    }
    for (const auto& op : *code) {
      if (op.code != MetaProgram::Op::Code::kLoad) continue;
      if (auto it = meta_of_slot.find(op.slot); it != meta_of_slot.end()) {
        deps[i].push_back(it->second);
      } else if (!is_known(p.names_[op.slot])) {
        std::string msg = "unknown name " + p.names_[op.slot] + " (counts as 0)";
        if (reported.insert(m.name + '\n' + msg).second)
          p.diagnostics_.push_back({Diag::Kind::kUnknownName, m.name, msg});
      }
    }
    compiled[i].code = std::move(*code);
  }

  // Depth-first, iterative: 0 unseen, 1 on the path, 2 done.
  std::vector<int> state(defs.size(), 0);
  std::vector<std::pair<size_t, size_t>> path;  // (meta, next dependency to visit)
  for (size_t root = 0; root < defs.size(); ++root) {
    if (state[root]) continue;
    state[root] = 1;
    path.push_back({root, 0});
    while (!path.empty()) {
      auto& [node, next] = path.back();
      if (next == deps[node].size()) {
        state[node] = 2;
        p.order_.push_back(std::move(compiled[node]));
        path.pop_back();
        continue;
      }
      size_t dep = deps[node][next++];
      if (state[dep] == 0) {
        state[dep] = 1;
        path.push_back({dep, 0});
      } else if (state[dep] == 1) {  // a cycle: every meta on it is disabled
        std::string cycle;
        size_t from = 0;
        while (path[from].first != dep) ++from;
        for (size_t k = from; k < path.size(); ++k) cycle += defs[path[k].first]->name + " -> ";
        cycle += defs[dep]->name;
        for (size_t k = from; k < path.size(); ++k) {
          compiled[path[k].first].code.clear();
          p.diagnostics_.push_back(
              {Diag::Kind::kCycle, defs[path[k].first]->name, "cycle: " + cycle});
        }
      }
    }
  }
  return p;
}

}  // namespace filterd::spam
