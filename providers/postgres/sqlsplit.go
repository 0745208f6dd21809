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
	sp := splitter{src: src, start: -1}
	i, n := 0, len(src)
	for i < n {
		c := src[i]
		switch {
		case c == '-' && i+1 < n && src[i+1] == '-':
			i = skipLineComment(src, i)
		case c == '/' && i+1 < n && src[i+1] == '*':
			i = skipBlockComment(src, i)
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == ';':
			i = sp.semicolon(i)
		case c == '\'':
			sp.begin(i)
			escapes := i > 0 && (src[i-1] == 'E' || src[i-1] == 'e') && !(i > 1 && isIdentChar(src[i-2]))
			i = skipQuoted(src, i+1, '\'', escapes)
		case c == '"':
			sp.begin(i)
			i = skipQuoted(src, i+1, '"', false)
		case c == '$' && !(i > 0 && isIdentChar(src[i-1])):
			sp.begin(i)
			i = skipDollar(src, i)
		case isIdentStart(c):
			i = sp.word(i)
		default:
			sp.begin(i)
			_, size := utf8.DecodeRuneInString(src[i:])
			i += size
		}
	}
	if sp.start >= 0 {
		sp.out = append(sp.out, statement{Text: src[sp.start:], Offset: sp.start})
	}
	return sp.out
}

// splitter is the state of splitStatements between tokens.
type splitter struct {
	src     string
	out     []statement
	start   int      // offset of the current statement's first token, -1 before it
	words   []string // first words of the current statement, upper case
	depth   int      // BEGIN ... END depth inside a CREATE FUNCTION body
	routine bool     // the statement is CREATE [OR REPLACE] FUNCTION/PROCEDURE
}

// begin marks a token at offset at; the first one starts the statement.
func (sp *splitter) begin(at int) {
	if sp.start < 0 {
		sp.start = at
	}
}

// semicolon takes the semicolon at i, which ends the statement unless it
// is inside a routine's BEGIN ... END body, and returns the offset after it.
func (sp *splitter) semicolon(i int) int {
	sp.begin(i)
	i++
	if sp.depth > 0 {
		return i
	}
	sp.out = append(sp.out, statement{Text: sp.src[sp.start:i], Offset: sp.start})
	sp.start, sp.words, sp.depth, sp.routine = -1, nil, 0, false
	return i
}

// word takes the identifier or keyword at i, keeping count of a routine
// body's BEGIN, CASE and END, and returns the offset after it.
func (sp *splitter) word(i int) int {
	sp.begin(i)
	j := i
	for j < len(sp.src) && isIdentChar(sp.src[j]) {
		j++
	}
	w := strings.ToUpper(sp.src[i:j])
	if len(sp.words) < 4 {
		sp.words = append(sp.words, w)
		sp.routine = isRoutine(sp.words)
	}
	if sp.routine {
		switch {
		case w == "BEGIN":
			sp.depth++
		case w == "CASE" && sp.depth > 0:
			sp.depth++
		case w == "END" && sp.depth > 0:
			sp.depth--
		}
	}
	return j
}

// skipLineComment returns the offset of the end of the line of the --
// comment at i.
func skipLineComment(src string, i int) int {
	for i < len(src) && src[i] != '\n' {
		i++
	}
	return i
}

// skipBlockComment returns the offset just past the /* */ comment at i,
// nested ones included, or the end of src.
func skipBlockComment(src string, i int) int {
	level := 0
	for i < len(src) {
		if src[i] == '/' && i+1 < len(src) && src[i+1] == '*' {
			level++
			i += 2
			continue
		}
		if src[i] == '*' && i+1 < len(src) && src[i+1] == '/' {
			level--
			i += 2
			if level == 0 {
				return i
			}
			continue
		}
		i++
	}
	return i
}

// skipDollar returns the offset just past the dollar-quoted text at i (or
// the end of src when it is not closed), or i+1 when the $ at i opens no
// tag.
func skipDollar(src string, i int) int {
	tag, ok := dollarTag(src[i:])
	if !ok {
		return i + 1
	}
	end := strings.Index(src[i+len(tag):], tag)
	if end < 0 {
		return len(src)
	}
	return i + len(tag) + end + len(tag)
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
