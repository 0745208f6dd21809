package postgres

import (
	"reflect"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"empty", "", nil},
		{"comments only", "-- a\n/* b */\n", nil},
		{"two", "SELECT 1;\nSELECT 2;\n", []string{"SELECT 1;", "SELECT 2;"}},
		{"no final semicolon", "SELECT 1;\nSELECT 2\n", []string{"SELECT 1;", "SELECT 2\n"}},
		{"leading comment skipped", "-- x;\nSELECT 1;", []string{"SELECT 1;"}},
		{"comment inside kept", "SELECT /* ; */ 1 -- ;\n;", []string{"SELECT /* ; */ 1 -- ;\n;"}},
		{"nested comment", "SELECT /* a /* ; */ ; */ 1;", []string{"SELECT /* a /* ; */ ; */ 1;"}},
		{"string", "SELECT 'a;''b';SELECT 2;", []string{"SELECT 'a;''b';", "SELECT 2;"}},
		{"escape string", `SELECT E'a\';b';SELECT 2;`, []string{`SELECT E'a\';b';`, "SELECT 2;"}},
		{"backslash in plain string", `SELECT 'a\';SELECT 2;`, []string{`SELECT 'a\';`, "SELECT 2;"}},
		{"quoted identifier", `SELECT 1 AS "a;""b";SELECT 2;`, []string{`SELECT 1 AS "a;""b";`, "SELECT 2;"}},
		{"dollar quote", "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\nSELECT 2;",
			[]string{"CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;", "SELECT 2;"}},
		{"tagged dollar quote", "DO $body$ BEGIN PERFORM 1; $x$ $body$;SELECT 2;", []string{"DO $body$ BEGIN PERFORM 1; $x$ $body$;", "SELECT 2;"}},
		{"parameter is not a quote", "PREPARE p AS SELECT $1;SELECT 2;", []string{"PREPARE p AS SELECT $1;", "SELECT 2;"}},
		{"begin atomic", "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END;\nSELECT 3;",
			[]string{"CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END;", "SELECT 3;"}},
		{"begin outside routine splits", "BEGIN;SELECT 1;END;", []string{"BEGIN;", "SELECT 1;", "END;"}},
		{"unterminated string runs to end", "SELECT 'a;\nSELECT 2;", []string{"SELECT 'a;\nSELECT 2;"}},
		{"empty statements", ";;SELECT 1;", []string{";", ";", "SELECT 1;"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, st := range splitStatements(tt.src) {
				if tt.src[st.Offset:st.Offset+len(st.Text)] != st.Text {
					t.Errorf("statement %q is not at offset %d", st.Text, st.Offset)
				}
				got = append(got, st.Text)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("split(%q)\n got %q\nwant %q", tt.src, got, tt.want)
			}
		})
	}
}

func TestErrorLine(t *testing.T) {
	src := "-- header\nCREATE TABLE a (id int);\n\nCREATE TABLE é (\n  id int\n  name text\n);\n"
	stmts := splitStatements(src)
	if len(stmts) != 2 {
		t.Fatalf("got %d statements, want 2", len(stmts))
	}
	tests := []struct {
		name     string
		st       statement
		position int
		want     int
	}{
		{"no position: statement's first line", stmts[1], 0, 4},
		{"first statement", stmts[0], 0, 2},
		{"position counts characters, not bytes", stmts[1], len([]rune("CREATE TABLE é (\n  id int\n  ")) + 1, 6},
		{"position on the first character", stmts[1], 1, 4},
		{"position past the end stays in the statement", stmts[1], 1000, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errorLine(src, tt.st, tt.position); got != tt.want {
				t.Errorf("errorLine(position %d) = %d, want %d", tt.position, got, tt.want)
			}
		})
	}
}
