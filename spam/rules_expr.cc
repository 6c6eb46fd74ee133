// rules_expr.cc — see rules_expr.h. A recursive-descent evaluator; the
// depth of nesting is bounded so a hostile rule file cannot exhaust the
// stack.
#include "spam/rules_expr.h"

#include <cmath>
#include <cstdint>

namespace filterd::spam {
namespace {

// Deepest nesting of parentheses and unary operators accepted; the stock
// rules nest at most 6 deep.
constexpr int kMaxExpressionDepth = 64;

bool is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}

class Evaluator {
 public:
  Evaluator(const std::vector<ExprToken>& tokens,
            const std::function<double(const ExprToken&)>& value_of)
      : t_(tokens), value_of_(value_of) {}

  std::expected<double, std::string> run() {
    if (t_.empty()) return std::unexpected("empty expression");
    if (t_.size() == 2 && is_op(0, "(") && is_op(1, ")")) return 0.0;
    double v = ternary();
    if (error_.empty() && pos_ < t_.size()) fail("unexpected '" + t_[pos_].text + "'");
    if (!error_.empty()) return std::unexpected(error_);
    return v;
  }

 private:
  bool is_op(size_t i, std::string_view op) const {
    return i < t_.size() && t_[i].kind == ExprToken::Kind::kOperator && t_[i].text == op;
  }
  bool take(std::string_view op) {
    if (!error_.empty() || !is_op(pos_, op)) return false;
    ++pos_;
    return true;
  }
  double fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    return 0;
  }

  double ternary() {
    double c = logical_or();
    if (take("?")) {
      double a = ternary();
      if (!take(":")) return fail("expected ':'");
      double b = ternary();
      return c != 0 ? a : b;
    }
    return c;
  }
  double logical_or() {
    double v = logical_and();
    while (take("||")) {
      double r = logical_and();
      v = v != 0 ? v : r;
    }
    return v;
  }
  double logical_and() {
    double v = bit_xor();
    while (take("&&")) {
      double r = bit_xor();
      v = v == 0 ? v : r;
    }
    return v;
  }
  double bit_xor() {
    double v = equality();
    while (take("^")) {
      double r = equality();
      v = static_cast<double>(static_cast<int64_t>(v) ^ static_cast<int64_t>(r));
    }
    return v;
  }
  double equality() {
    double v = relational();
    for (;;) {
      if (take("=="))
        v = v == relational() ? 1 : 0;
      else if (take("!="))
        v = v != relational() ? 1 : 0;
      else
        return v;
    }
  }
  double relational() {
    double v = additive();
    for (;;) {
      if (take("<="))
        v = v <= additive() ? 1 : 0;
      else if (take(">="))
        v = v >= additive() ? 1 : 0;
      else if (take("<"))
        v = v < additive() ? 1 : 0;
      else if (take(">"))
        v = v > additive() ? 1 : 0;
      else
        return v;
    }
  }
  double additive() {
    double v = multiplicative();
    for (;;) {
      if (take("+"))
        v += multiplicative();
      else if (take("-"))
        v -= multiplicative();
      else
        return v;
    }
  }
  double multiplicative() {
    double v = unary();
    for (;;) {
      if (take("*")) {
        v *= unary();
      } else if (take("/")) {
        double d = unary();
        if (d == 0) return fail("division by zero possible");
        v /= d;
      } else {
        return v;
      }
    }
  }
  double unary() {
    if (++depth_ > kMaxExpressionDepth) return fail("expression nested too deep");
    double v;
    if (take("!"))
      v = unary() == 0 ? 1 : 0;
    else if (take("-"))
      v = -unary();
    else if (take("+"))
      v = unary();
    else
      v = primary();
    --depth_;
    return v;
  }
  double primary() {
    if (!error_.empty()) return 0;
    if (pos_ >= t_.size()) return fail("expected operand at end");
    const ExprToken& tok = t_[pos_];
    switch (tok.kind) {
      case ExprToken::Kind::kNumber:
        ++pos_;
        return std::strtod(tok.text.c_str(), nullptr);
      case ExprToken::Kind::kName:
      case ExprToken::Kind::kCall:
        ++pos_;
        return value_of_(tok);
      case ExprToken::Kind::kOperator:
        break;
    }
    if (take("(")) {
      double v = ternary();
      if (!take(")")) return fail("missing ')'");
      return v;
    }
    return fail("expected operand at '" + tok.text + "'");
  }

  const std::vector<ExprToken>& t_;
  const std::function<double(const ExprToken&)>& value_of_;
  size_t pos_ = 0;
  int depth_ = 0;
  std::string error_;
};

}  // namespace

std::expected<std::vector<ExprToken>, std::string> tokenize_expression(
    std::string_view s, std::initializer_list<std::string_view> calls) {
  static constexpr std::string_view kTwo[] = {"&&", "||", ">=", "<=", "==", "!="};
  static constexpr std::string_view kOne = "!^><+-*/()?:";
  std::vector<ExprToken> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (is_space(c)) {
      ++i;
      continue;
    }
    if (is_digit(c) || (c == '.' && i + 1 < s.size() && is_digit(s[i + 1]))) {
      size_t j = i;
      while (j < s.size() && (is_digit(s[j]) || s[j] == '.')) ++j;
      std::string_view n = s.substr(i, j - i);
      size_t dot = n.find('.');
      if (n.front() == '.' || n.back() == '.' ||
          (dot != std::string_view::npos && n.find('.', dot + 1) != std::string_view::npos))
        return std::unexpected("bad number '" + std::string(n) + "'");
      out.push_back({ExprToken::Kind::kNumber, std::string(n), {}});
      i = j;
      continue;
    }
    if (is_word(c)) {
      size_t j = i;
      while (j < s.size() &&
             (is_word(s[j]) || (s[j] == ':' && j + 1 < s.size() && s[j + 1] == ':' &&
                                j + 2 < s.size() && is_word(s[j + 2])))) {
        j += s[j] == ':' ? 2 : 1;
      }
      std::string name(s.substr(i, j - i));
      size_t k = j;
      while (k < s.size() && is_space(s[k])) ++k;
      bool is_call = false;
      for (auto call : calls) is_call = is_call || name == call;
      if (is_call && k < s.size() && s[k] == '(') {
        size_t close = s.find(')', k);
        if (close == std::string_view::npos) return std::unexpected("unclosed " + name + "(");
        std::string_view arg = s.substr(k + 1, close - k - 1);
        while (!arg.empty() && is_space(arg.front())) arg.remove_prefix(1);
        while (!arg.empty() && is_space(arg.back())) arg.remove_suffix(1);
        bool ok = !arg.empty();
        for (char a : arg) ok = ok && (is_word(a) || a == ':' || a == '*' || a == '?');
        if (!ok)
          return std::unexpected("bad argument to " + name + "(): '" + std::string(arg) + "'");
        out.push_back({ExprToken::Kind::kCall, std::move(name), std::string(arg)});
        i = close + 1;
        continue;
      }
      out.push_back({ExprToken::Kind::kName, std::move(name), {}});
      i = j;
      continue;
    }
    bool two = false;
    for (auto op : kTwo) {
      if (s.substr(i, 2) == op) {
        out.push_back({ExprToken::Kind::kOperator, std::string(op), {}});
        i += 2;
        two = true;
        break;
      }
    }
    if (two) continue;
    if (kOne.find(c) != std::string_view::npos) {
      out.push_back({ExprToken::Kind::kOperator, std::string(1, c), {}});
      ++i;
      continue;
    }
    return std::unexpected("unknown token '" + std::string(s.substr(i, 8)) + "'");
  }
  return out;
}

std::expected<double, std::string> evaluate_expression(
    const std::vector<ExprToken>& tokens, const std::function<double(const ExprToken&)>& value_of) {
  return Evaluator(tokens, value_of).run();
}

}  // namespace filterd::spam
