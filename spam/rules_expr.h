// rules_expr.h — the small expression language SpamAssassin uses in `meta`
// rules and `if` conditions (Constants.pm ARITH_EXPRESSION_LEXER, evaluated
// by Perl): numbers, names, one-argument calls, ! && || ^ + - * / < > <=
// >= == != ( ) ?:, with Perl's precedence and Perl's values (&& and ||
// return an operand, comparisons 1 or 0).
//
// Unlike SpamAssassin's lexer, which skips characters it does not know,
// anything outside the language is an error, so a typo is reported rather
// than silently changing a rule.
#pragma once

#include <expected>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace filterd::spam {

struct ExprToken {
  enum class Kind { kNumber, kName, kOperator, kCall };
  Kind kind;
  std::string text;      // the number, name (may contain "::"), operator or call name
  std::string argument;  // kCall: the bare argument, [\w:*?]+
};

// Splits `text` into tokens; `calls` are the names that take one bare
// argument in parentheses ("plugin", "can", "has"; "rules_matching").
std::expected<std::vector<ExprToken>, std::string> tokenize_expression(
    std::string_view text, std::initializer_list<std::string_view> calls);

// Evaluates `tokens`; `value_of` gives the value of a kName or kCall token.
// Errors: syntax ("expected operand at ')'"), division by zero, empty.
// `()` alone is 0 (SpamAssassin's rule declaration form, bug 8061).
std::expected<double, std::string> evaluate_expression(
    const std::vector<ExprToken>& tokens, const std::function<double(const ExprToken&)>& value_of);

}  // namespace filterd::spam
