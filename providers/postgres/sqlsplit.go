package postgres

import (
	"strings"
	"unicode/utf8"
)

// statement is one SQL statement of a migration file: its text, from its
// first token through its terminating semicolon, and the byte offset of
// that text in the file.
type statement struct {
	Text   string
	Offset int
}

// splitStatements splits a SQL script into statements the way psql does:
// semicolons inside string constants ('...', E'...'), quoted identifiers,
// dollar-quoted bodies, comments (nested /* */ included) and the BEGIN ATOMIC
// ... END body of a CREATE FUNCTION or PROCEDURE do not end a statement.
// Leading whitespace and comments belong to no statement; a script with only
// those has none. An unterminated quote or comment runs to the end of the
// script, so the server reports it.
func splitStatements(src string) []statement {
	var out []statement
	start := -1        // offset of the current statement's first token, -1 before it
	var words []string // first words of the current statement, upper case
	depth := 0         // BEGIN ... END depth inside a CREATE FUNCTION body
	routine := false   // the statement is CREATE [OR REPLACE] FUNCTION/PROCEDURE
	i := 0
	n := len(src)
	begin := func(at int) {
		if start < 0 {
			start = at
		}
	}
	for i < n {
		c := src[i]
		switch {
		case c == '-' && i+1 < n && src[i+1] == '-':
			for i < n && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < n && src[i+1] == '*':
			level := 0
			for i < n {
				if src[i] == '/' && i+1 < n && src[i+1] == '*' {
					level++
					i += 2
					continue
				}
				if src[i] == '*' && i+1 < n && src[i+1] == '/' {
					level--
					i += 2
					if level == 0 {
						break
					}
					continue
				}
				i++
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == ';':
			begin(i)
			i++
			if depth > 0 {
				continue
			}
			out = append(out, statement{Text: src[start:i], Offset: start})
			start, words, depth, routine = -1, nil, 0, false
		case c == '\'':
			begin(i)
			escapes := i > 0 && (src[i-1] == 'E' || src[i-1] == 'e') && !(i > 1 && isIdentChar(src[i-2]))
			i = skipQuoted(src, i+1, '\'', escapes)
		case c == '"':
			begin(i)
			i = skipQuoted(src, i+1, '"', false)
		case c == '$' && !(i > 0 && isIdentChar(src[i-1])):
			begin(i)
			if tag, ok := dollarTag(src[i:]); ok {
				end := strings.Index(src[i+len(tag):], tag)
				if end < 0 {
					i = n
				} else {
					i += len(tag) + end + len(tag)
				}
			} else {
				i++
			}
		case isIdentStart(c):
			begin(i)
			j := i
			for j < n && isIdentChar(src[j]) {
				j++
			}
			w := strings.ToUpper(src[i:j])
			if len(words) < 4 {
				words = append(words, w)
				routine = isRoutine(words)
			}
			if routine {
				switch {
				case w == "BEGIN":
					depth++
				case w == "CASE" && depth > 0:
					depth++
				case w == "END" && depth > 0:
					depth--
				}
			}
			i = j
		default:
			begin(i)
			_, size := utf8.DecodeRuneInString(src[i:])
			i += size
		}
	}
	if start >= 0 {
		out = append(out, statement{Text: src[start:], Offset: start})
	}
	return out
}

// isRoutine reports whether a statement's first words create a function or
// procedure, whose SQL-standard body (BEGIN ATOMIC ... END) holds semicolons.
func isRoutine(words []string) bool {
	if len(words) < 2 || words[0] != "CREATE" {
		return false
	}
	rest := words[1:]
	if len(rest) >= 2 && rest[0] == "OR" && rest[1] == "REPLACE" {
		rest = rest[2:]
	}
	return len(rest) > 0 && (rest[0] == "FUNCTION" || rest[0] == "PROCEDURE")
}

// skipQuoted returns the offset just past the closing quote of a quoted
// text that starts at i (after the opening quote). A doubled quote is part
// of the text; with escapes, so is a backslash-escaped character.
func skipQuoted(src string, i int, quote byte, escapes bool) int {
	for i < len(src) {
		switch {
		case escapes && src[i] == '\\':
			i += 2
		case src[i] == quote:
			if i+1 < len(src) && src[i+1] == quote {
				i += 2
				continue
			}
			return i + 1
		default:
			i++
		}
	}
	return len(src)
}

// dollarTag returns the opening tag ("$$" or "$name$") at the start of s.
func dollarTag(s string) (string, bool) {
	for j := 1; j < len(s); j++ {
		c := s[j]
		if c == '$' {
			return s[:j+1], true
		}
		if !(isIdentStart(c) || (j > 1 && c >= '0' && c <= '9')) {
			return "", false
		}
	}
	return "", false
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func isIdentChar(c byte) bool {
	return isIdentStart(c) || (c >= '0' && c <= '9') || c == '$'
}

// lineAt returns the 1-based line of byte offset off in src.
func lineAt(src string, off int) int {
	if off > len(src) {
		off = len(src)
	}
	return strings.Count(src[:off], "\n") + 1
}

// errorLine returns the line in src of an error in st: position is
// PostgreSQL's 1-based character offset into st.Text, or 0 when the server
// gave none (the statement's first line is returned then).
func errorLine(src string, st statement, position int) int {
	off := 0
	if position > 0 {
		runes := 0
		for off < len(st.Text) && runes < position-1 {
			_, size := utf8.DecodeRuneInString(st.Text[off:])
			off += size
			runes++
		}
	}
	return lineAt(src, st.Offset+off)
}
